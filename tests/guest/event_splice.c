/* splice, tee and vmsplice: file to pipe, pipe to file (with and without
 * offsets), pipe to pipe, tee's copy, vmsplice both ways, blocking and
 * SPLICE_F_NONBLOCK, and the argument checks. Files live in a scratch
 * directory under /tmp. */
#include "event.h"
#include <sys/uio.h>

static char path[160], path2[160];

static void file_and_pipe(void)
{
    int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "hello, splice world", 19);
    int p[2];
    pipe(p);
    loff_t off = 7;
    EXPECT_EQ("splice file (offset 7) to pipe, 6 bytes", splice(f, &off, p[1], NULL, 6, 0), 6);
    printf("offset after: %lld, file position untouched: %ld\n", (long long)off, (long)lseek(f, 0, SEEK_CUR));
    char buf[64] = {0};
    read(p[0], buf, sizeof buf);
    printf("pipe holds: %s\n", buf);
    lseek(f, 0, SEEK_SET);
    EXPECT_EQ("splice file (its position) to pipe", splice(f, NULL, p[1], NULL, 5, 0), 5);
    printf("file position after: %ld\n", (long)lseek(f, 0, SEEK_CUR));
    int g = open(path2, O_CREAT | O_RDWR | O_TRUNC, 0644);
    loff_t out = 3;
    EXPECT_EQ("splice pipe to file at offset 3", splice(p[0], NULL, g, &out, 100, 0), 5);
    printf("offset after: %lld\n", (long long)out);
    memset(buf, 0, sizeof buf);
    pread(g, buf, sizeof buf, 0);
    printf("file: [%c%c%c]%s\n", buf[0] ? buf[0] : '0', buf[1] ? buf[1] : '0', buf[2] ? buf[2] : '0', buf + 3);
    write(p[1], "more", 4);
    EXPECT_EQ("splice pipe to file at its position", splice(p[0], NULL, g, NULL, 100, 0), 4);
    printf("file position: %ld\n", (long)lseek(g, 0, SEEK_CUR));
    off = 100;
    EXPECT_EQ("splice from past the end of the file", splice(f, &off, p[1], NULL, 10, 0), 0);
    EXPECT_ERR("splice with an offset on the pipe", splice(p[0], &off, g, NULL, 1, 0), ESPIPE);
    EXPECT_ERR("splice file to file", splice(f, NULL, g, NULL, 1, 0), EINVAL);
    EXPECT_ERR("splice with flag 16", splice(f, NULL, p[1], NULL, 1, 16), EINVAL);
    EXPECT_ERR("splice from the write end", splice(p[1], NULL, g, NULL, 1, 0), EBADF);
    EXPECT_ERR("splice from a bad fd", splice(99, NULL, p[1], NULL, 1, 0), EBADF);
    EXPECT_EQ("splice of 0 bytes", splice(99, NULL, 98, NULL, 0, 0), 0);
    off = -1;
    EXPECT_ERR("splice at offset -1", splice(f, &off, p[1], NULL, 1, 0), EINVAL);
    int a = open(path2, O_WRONLY | O_APPEND);
    write(p[1], "x", 1);
    EXPECT_ERR("splice to an O_APPEND file", splice(p[0], NULL, a, NULL, 1, 0), EINVAL);
    close(a);
    EXPECT_ERR("splice a pipe into itself", splice(p[0], NULL, p[1], NULL, 1, 0), EINVAL);
    close(f);
    close(g);
}

static void pipes(void)
{
    int a[2], b[2], c[2];
    pipe(a);
    pipe(b);
    pipe(c);
    write(a[1], "abcdef", 6);
    EXPECT_EQ("splice pipe to pipe, 4 of 6", splice(a[0], NULL, b[1], NULL, 4, 0), 4);
    EXPECT_EQ("tee 10 from b to c (b holds 4)", tee(b[0], c[1], 10, 0), 4);
    char buf[16] = {0};
    read(b[0], buf, sizeof buf);
    printf("b after tee still holds: %s\n", buf);
    memset(buf, 0, sizeof buf);
    read(c[0], buf, sizeof buf);
    printf("c got: %s\n", buf);
    EXPECT_ERR("tee from an empty pipe with SPLICE_F_NONBLOCK", tee(b[0], c[1], 1, SPLICE_F_NONBLOCK), EAGAIN);
    EXPECT_ERR("splice from an empty pipe with SPLICE_F_NONBLOCK", splice(b[0], NULL, c[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    EXPECT_ERR("tee a pipe to itself", tee(a[0], a[1], 1, 0), EINVAL);
    int f = open(path, O_RDONLY);
    EXPECT_ERR("tee from a file", tee(f, c[1], 1, 0), EINVAL);
    close(f);
    /* A blocked splice ends when another process writes; no writer left
     * means end of file. */
    pid_t k = xfork();
    if (k == 0) {
        sleep_ms(100);
        write(a[1], "late", 4);
        _exit(0);
    }
    long long t0 = now_ns();
    long n = splice(a[0], NULL, b[1], NULL, 100, 0);
    printf("blocked splice: %ld (\"ef\" was there already)\n", n);
    read(b[0], buf, sizeof buf);
    n = splice(a[0], NULL, b[1], NULL, 100, 0);
    printf("next splice waited for the writer: %ld, %s\n", n, ms_since(t0) >= 90 ? "yes" : "no");
    wait_status(k, 0);
    close(a[1]);
    EXPECT_EQ("splice from a pipe without writers", splice(a[0], NULL, b[1], NULL, 100, 0), 0);
    /* A full destination and SPLICE_F_NONBLOCK: EAGAIN. */
    int d[2];
    pipe(d);
    fcntl(d[1], F_SETFL, O_NONBLOCK);
    while (write(d[1], buf, sizeof buf) > 0)
        ;
    write(c[1], "z", 1);
    EXPECT_ERR("splice into a full pipe, SPLICE_F_NONBLOCK", splice(c[0], NULL, d[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
    close(d[0]);
    signal(SIGPIPE, SIG_IGN);
    EXPECT_ERR("splice into a pipe without readers", splice(c[0], NULL, d[1], NULL, 1, 0), EPIPE);
}

static void vm(void)
{
    int p[2];
    pipe(p);
    char one[] = "vm", two[] = "splice";
    struct iovec iov[2] = {{one, 2}, {two, 6}};
    EXPECT_EQ("vmsplice two buffers into the pipe", vmsplice(p[1], iov, 2, 0), 8);
    char out1[3] = {0}, out2[8] = {0};
    struct iovec rd[2] = {{out1, 2}, {out2, 7}};
    EXPECT_EQ("vmsplice out of the pipe", vmsplice(p[0], rd, 2, 0), 8);
    printf("read back: %s + %s\n", out1, out2);
    EXPECT_ERR("vmsplice out of an empty pipe, SPLICE_F_NONBLOCK", vmsplice(p[0], rd, 2, SPLICE_F_NONBLOCK), EAGAIN);
    EXPECT_EQ("vmsplice of no bytes", vmsplice(p[1], iov, 0, 0), 0);
    EXPECT_ERR("vmsplice with flag 16", vmsplice(p[1], iov, 2, 16), EINVAL);
    int f = open(path, O_RDONLY);
    EXPECT_ERR("vmsplice on a file", vmsplice(f, iov, 2, 0), EBADF);
    close(f);
    EXPECT_ERR("vmsplice from a bad iovec", vmsplice(p[1], (struct iovec *)8, 1, 0), EFAULT);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    snprintf(path, sizeof path, "%s/a", scratch());
    snprintf(path2, sizeof path2, "%s/b", scratch());
    section("splice between files and pipes", file_and_pipe);
    section("splice and tee between pipes", pipes);
    section("vmsplice", vm);
    remove_scratch();
    return finish();
}
