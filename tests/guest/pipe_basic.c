/* Pipes: pipe/pipe2 flags, 64 KiB default capacity, O_NONBLOCK EAGAIN and
 * partial writes, F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, EOF when the last
 * writer closes (also across fork), SIGPIPE/EPIPE when the last reader
 * closes, O_DIRECT packet mode, fstat, lseek, and a blocking writer and
 * reader moving 8 MiB through a pipe between processes. */
#include "proc.h"
#include <sys/ioctl.h>
#include <sys/stat.h>

static void flags(void)
{
    int p[2];
    EXPECT_EQ("pipe", pipe(p), 0);
    printf("  fds %d %d\n", p[0], p[1]);
    printf("  read end O_ACCMODE %d, write end O_ACCMODE %d\n", fcntl(p[0], F_GETFL) & O_ACCMODE, fcntl(p[1], F_GETFL) & O_ACCMODE);
    EXPECT_EQ("  FD_CLOEXEC off", fcntl(p[0], F_GETFD), 0);
    EXPECT_ERR("  write to the read end", write(p[0], "x", 1), EBADF);
    char c;
    EXPECT_ERR("  read from the write end", read(p[1], &c, 1), EBADF);
    EXPECT_ERR("  lseek on a pipe", lseek(p[0], 0, SEEK_CUR), ESPIPE);
    EXPECT_ERR("  pread on a pipe", pread(p[0], &c, 1, 0), ESPIPE);
    struct stat st;
    fstat(p[0], &st);
    CHECK("  fstat: S_ISFIFO", S_ISFIFO(st.st_mode));
    printf("  fstat mode %o size %ld\n", st.st_mode & 07777, (long)st.st_size);
    close(p[0]);
    close(p[1]);

    EXPECT_EQ("pipe2(O_CLOEXEC|O_NONBLOCK)", pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    EXPECT_EQ("  FD_CLOEXEC on both", fcntl(p[0], F_GETFD) + fcntl(p[1], F_GETFD), 2);
    CHECK("  O_NONBLOCK on both", (fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFL) & O_NONBLOCK));
    EXPECT_ERR("  read of an empty non-blocking pipe", read(p[0], &c, 1), EAGAIN);
    close(p[0]);
    close(p[1]);
    EXPECT_ERR("pipe2 with bad flags", pipe2(p, O_RDWR | 0x4000000), EINVAL);
    EXPECT_ERR("pipe with a bad pointer", syscall(SYS_pipe, (void *)8), EFAULT);
}

static void capacity(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    EXPECT_EQ("F_GETPIPE_SZ default", fcntl(p[1], F_GETPIPE_SZ), 65536);
    static char buf[1 << 20];
    memset(buf, 'z', sizeof buf);
    long total = 0, n;
    while ((n = write(p[1], buf, 4096)) > 0)
        total += n;
    int e = errno;
    printf("4096-byte writes until full: %ld bytes, then %s\n", total, errname(e));
    int avail = -1;
    ioctl(p[0], FIONREAD, &avail);
    EXPECT_EQ("FIONREAD", avail, total);
    EXPECT_ERR("write 1 byte to the full pipe", write(p[1], buf, 1), EAGAIN);
    EXPECT_ERR("F_SETPIPE_SZ 4096 below the data held", fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    /* A write of at most PIPE_BUF needs room for all of it; a larger one
     * is partial. */
    EXPECT_EQ("read 4096", read(p[0], buf, 4096), 4096);
    EXPECT_EQ("write 4096 (atomic) into 4096 free", write(p[1], buf, 4096), 4096);
    EXPECT_ERR("write 4096 more", write(p[1], buf, 4096), EAGAIN);
    EXPECT_EQ("read 8192", read_full(p[0], buf, 8192), 8192);
    n = write(p[1], buf, 100000);
    printf("write 100000 with 8192 free: %ld (partial)\n", n);
    /* Empty it. */
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    EXPECT_ERR("empty again", read(p[0], buf, 1), EAGAIN);
    total = 0;
    while ((n = write(p[1], buf, sizeof buf)) > 0)
        total += n;
    EXPECT_EQ("one big write fills exactly 64 KiB", total, 65536);
    while (read(p[0], buf, sizeof buf) > 0)
        ;

    EXPECT_EQ("F_SETPIPE_SZ 4096", fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
    EXPECT_EQ("  F_GETPIPE_SZ on the other end", fcntl(p[0], F_GETPIPE_SZ), 4096);
    total = 0;
    while ((n = write(p[1], buf, 100)) > 0)
        total += n;
    EXPECT_EQ("  100-byte writes fill it to (a 41st needs 100 free)", total, 4000);
    EXPECT_EQ("F_SETPIPE_SZ 100000 rounds up to a power of two pages", fcntl(p[1], F_SETPIPE_SZ, 100000), 131072);
    EXPECT_EQ("F_SETPIPE_SZ 1 gives one page", (read_full(p[0], buf, 4000), fcntl(p[1], F_SETPIPE_SZ, 1)), 4096);
    EXPECT_EQ("F_SETPIPE_SZ 1 MiB", fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
    total = 0;
    while ((n = write(p[1], buf, sizeof buf)) > 0)
        total += n;
    EXPECT_EQ("  holds 1 MiB", total, 1 << 20);
    EXPECT_ERR("F_SETPIPE_SZ -1", fcntl(p[1], F_SETPIPE_SZ, -1), EINVAL);
    int fd = open("/dev/null", O_RDONLY);
    EXPECT_ERR("F_GETPIPE_SZ on /dev/null", fcntl(fd, F_GETPIPE_SZ), EBADF);
    close(fd);
}

static void eof_and_epipe(void)
{
    int p[2];
    pipe(p);
    write(p[1], "abc", 3);
    close(p[1]);
    char buf[16];
    EXPECT_EQ("data written before the writer closed", read(p[0], buf, sizeof buf), 3);
    EXPECT_EQ("then EOF", read(p[0], buf, sizeof buf), 0);
    EXPECT_EQ("EOF again", read(p[0], buf, sizeof buf), 0);
    close(p[0]);

    /* A blocked reader wakes with EOF when the last writer, in another
     * process, closes. */
    pipe(p);
    pid_t c = xfork();
    if (c == 0) {
        close(p[0]);
        sleep_ms(50);
        write(p[1], "hi", 2);
        sleep_ms(50);
        _exit(0); /* closes the last write end */
    }
    close(p[1]);
    long n1 = read(p[0], buf, sizeof buf);
    long n2 = read(p[0], buf, sizeof buf);
    printf("blocked reader: %ld bytes, then %ld (EOF on the writer's exit)\n", n1, n2);
    wait_status(c, 0);
    close(p[0]);

    /* A writer whose reader has gone. */
    pipe(p);
    close(p[0]);
    c = xfork();
    if (c == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    printf("write with no reader, SIGPIPE default: %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        signal(SIGPIPE, SIG_IGN);
        errno = 0;
        long r = write(p[1], "x", 1);
        _exit(r < 0 && errno == EPIPE ? 0 : 1);
    }
    printf("write with no reader, SIGPIPE ignored (EPIPE): %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        block(SIGPIPE);
        errno = 0;
        long r = write(p[1], "x", 1);
        sigset_t pend;
        sigpending(&pend);
        _exit(r < 0 && errno == EPIPE && sigismember(&pend, SIGPIPE) ? 0 : 1);
    }
    printf("write with no reader, SIGPIPE blocked (EPIPE, pending): %s\n", status_str(wait_status(c, 0)));
    close(p[1]);

    /* A writer blocked on a full pipe gets EPIPE/SIGPIPE when the reader
     * closes. */
    pipe(p);
    c = xfork();
    if (c == 0) {
        close(p[0]);
        static char big[200000];
        write(p[1], big, sizeof big);
        _exit(0);
    }
    close(p[1]);
    sleep_ms(100);
    read_full(p[0], buf, 10);
    close(p[0]);
    printf("writer blocked on a full pipe, reader closes: %s\n", status_str(wait_status(c, 0)));
}

static void packet_mode(void)
{
    int p[2];
    EXPECT_EQ("pipe2(O_DIRECT)", pipe2(p, O_DIRECT), 0);
    CHECK("  O_DIRECT reads back", (fcntl(p[1], F_GETFL) & O_DIRECT) != 0);
    write(p[1], "first packet", 12);
    write(p[1], "second", 6);
    char buf[64] = {0};
    long n = read(p[0], buf, 5);
    printf("read 5 of a 12-byte packet: %ld '%.*s'\n", n, (int)n, buf);
    n = read(p[0], buf, sizeof buf);
    printf("next read gets the next packet (the rest was dropped): %ld '%.*s'\n", n, (int)n, buf);
    close(p[0]);
    close(p[1]);
    /* Without O_DIRECT, a stream. */
    pipe(p);
    write(p[1], "first packet", 12);
    write(p[1], "second", 6);
    n = read(p[0], buf, 5);
    n = read(p[0], buf, sizeof buf);
    printf("stream mode: after reading 5, the rest: %ld '%.*s'\n", n, (int)n, buf);
    close(p[0]);
    close(p[1]);
}

static void bulk(void)
{
    int p[2], back[2];
    pipe(p);
    pipe(back);
    const long total = 8 << 20;
    pid_t c = xfork();
    if (c == 0) {
        close(p[1]);
        unsigned long sum = 0, count = 0;
        static unsigned char buf[65536];
        long n;
        /* Odd-sized reads on purpose. */
        while ((n = read(p[0], buf, 3001)) > 0) {
            for (long i = 0; i < n; i++)
                sum = sum * 31 + buf[i];
            count += n;
        }
        write(back[1], &count, sizeof count);
        write(back[1], &sum, sizeof sum);
        _exit(0);
    }
    close(p[0]);
    static unsigned char chunk[70001];
    unsigned long want = 0;
    long sent = 0;
    while (sent < total) {
        long len = total - sent < (long)sizeof chunk ? total - sent : (long)sizeof chunk;
        for (long i = 0; i < len; i++) {
            chunk[i] = (unsigned char)((sent + i) * 7 + (sent + i) / 4096);
            want = want * 31 + chunk[i];
        }
        long n = write(p[1], chunk, len);
        if (n != len) {
            printf("blocking write returned %ld of %ld\n", n, len);
            vk_failures++;
            break;
        }
        sent += n;
    }
    close(p[1]);
    unsigned long count = 0, sum = 0;
    read_full(back[0], &count, sizeof count);
    read_full(back[0], &sum, sizeof sum);
    wait_status(c, 0);
    EXPECT_EQ("bytes through the pipe", count, total);
    CHECK("checksum matches", sum == want);
}

int main(void)
{
    reset_signals();
    section("pipe and pipe2 flags", flags);
    section("capacity, O_NONBLOCK and F_SETPIPE_SZ", capacity);
    section("EOF, SIGPIPE and EPIPE", eof_and_epipe);
    section("O_DIRECT packet mode", packet_mode);
    section("8 MiB between processes", bulk);
    return finish();
}
