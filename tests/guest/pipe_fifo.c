/* FIFOs made with mkfifo and mknod in /tmp: stat, open blocking until the
 * other end opens (across fork), O_NONBLOCK opens (reader succeeds, writer
 * gets ENXIO), O_RDWR, data flow, EOF and reopening, EEXIST, SIGPIPE. */
#include "proc.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>

static char path[256];

static void make(void)
{
    EXPECT_EQ("mkfifo", mkfifo(path, 0640), 0);
    struct stat st;
    EXPECT_EQ("stat", stat(path, &st), 0);
    CHECK("  S_ISFIFO", S_ISFIFO(st.st_mode));
    printf("  mode %o size %ld nlink %ld\n", st.st_mode & 07777, (long)st.st_size, (long)st.st_nlink);
    EXPECT_ERR("mkfifo again", mkfifo(path, 0640), EEXIST);
    char p2[300];
    snprintf(p2, sizeof p2, "%s/node", scratch());
    EXPECT_EQ("mknod S_IFIFO", mknod(p2, S_IFIFO | 0600, 0), 0);
    stat(p2, &st);
    CHECK("  S_ISFIFO", S_ISFIFO(st.st_mode));
    unlink(p2);
    EXPECT_ERR("mkfifo in a missing directory", mkfifo("/tmp/vk-no-such-dir/f", 0600), ENOENT);
}

static void nonblocking_opens(void)
{
    int r = open(path, O_RDONLY | O_NONBLOCK);
    CHECK("O_RDONLY|O_NONBLOCK with no writer opens", r >= 0);
    char c;
    EXPECT_EQ("  read with no writer ever: EOF", read(r, &c, 1), 0);
    int w = open(path, O_WRONLY | O_NONBLOCK);
    CHECK("O_WRONLY|O_NONBLOCK with a reader opens", w >= 0);
    EXPECT_ERR("  read with a writer and no data", read(r, &c, 1), EAGAIN);
    write(w, "q", 1);
    EXPECT_EQ("  data flows", read(r, &c, 1), 1);
    close(w);
    EXPECT_EQ("  EOF after the writer closes", read(r, &c, 1), 0);
    close(r);
    EXPECT_ERR("O_WRONLY|O_NONBLOCK with no reader", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
    int rw = open(path, O_RDWR);
    CHECK("O_RDWR opens at once", rw >= 0);
    write(rw, "xy", 2);
    char b[4];
    EXPECT_EQ("  reads its own data", read(rw, b, sizeof b), 2);
    close(rw);
    /* Data does not survive the last close. */
    r = open(path, O_RDONLY | O_NONBLOCK);
    w = open(path, O_WRONLY | O_NONBLOCK);
    write(w, "lost", 4);
    close(w);
    close(r);
    r = open(path, O_RDONLY | O_NONBLOCK);
    EXPECT_EQ("data from a previous opening is gone", read(r, b, sizeof b), 0);
    close(r);
}

static void blocking_opens(void)
{
    /* The reader opens first and blocks until the writer (a child,
     * 100 ms later) opens. */
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        int w = open(path, O_WRONLY);
        write(w, "hello fifo", 10);
        close(w);
        _exit(0);
    }
    long long start = now_ns();
    int r = open(path, O_RDONLY);
    long long waited = (now_ns() - start) / 1000000;
    CHECK("blocking O_RDONLY open returned once a writer opened", r >= 0);
    CHECK("  it waited for the writer", waited >= 50);
    char buf[32] = {0};
    long n = read_full(r, buf, sizeof buf - 1);
    printf("  read %ld '%s' then EOF\n", n, buf);
    close(r);
    wait_status(c, 0);

    /* The writer opens first and blocks until a reader opens. */
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        int rr = open(path, O_RDONLY);
        char b[32] = {0};
        long m = read_full(rr, b, sizeof b - 1);
        _exit(m == 5 && !strcmp(b, "world") ? 0 : 1);
    }
    start = now_ns();
    int w = open(path, O_WRONLY);
    waited = (now_ns() - start) / 1000000;
    CHECK("blocking O_WRONLY open returned once a reader opened", w >= 0);
    CHECK("  it waited for the reader", waited >= 50);
    write(w, "world", 5);
    close(w);
    printf("  reader child: %s\n", status_str(wait_status(c, 0)));

    /* A writer to a FIFO whose reader went away. */
    c = xfork();
    if (c == 0) {
        int rr = open(path, O_RDONLY);
        close(rr);
        _exit(0);
    }
    w = open(path, O_WRONLY);
    wait_status(c, 0);
    pid_t c2 = xfork();
    if (c2 == 0) {
        write(w, "x", 1);
        _exit(0);
    }
    printf("write after the reader closed: %s\n", status_str(wait_status(c2, 0)));
    close(w);

}

static void on_alarm(int s) { (void)s; }

static void interrupted_open(void)
{
    set_handler(SIGALRM, on_alarm, 0);
    arm_timer_ms(100);
    EXPECT_ERR("blocking open with no writer, interrupted by a timer", open(path, O_RDONLY), EINTR);
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    /* With SA_RESTART the open restarts; a child opens the other end
     * later. */
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(300);
        int w = open(path, O_WRONLY);
        close(w);
        _exit(0);
    }
    arm_timer_ms(100);
    int r = open(path, O_RDONLY);
    CHECK("blocking open interrupted with SA_RESTART completes", r >= 0);
    close(r);
    wait_status(c, 0);
}

int main(void)
{
    reset_signals();
    scratch();
    umask(022);
    snprintf(path, sizeof path, "%s/fifo", scratch());
    section("mkfifo and mknod", make);
    section("non-blocking opens", nonblocking_opens);
    section("blocking opens across fork", blocking_opens);
    section("interrupted open", interrupted_open);
    unlink(path);
    remove_scratch();
    return finish();
}
