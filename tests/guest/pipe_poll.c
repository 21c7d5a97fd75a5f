/* poll, ppoll, select and pselect6 on pipes and FIFOs: readiness of empty,
 * non-empty, full and widowed pipes (POLLIN, POLLOUT, POLLHUP, POLLERR,
 * POLLNVAL), timeouts, blocking until another process writes, EINTR from a
 * handler even with SA_RESTART, ppoll's signal mask, select's fd_set
 * results and errors. */
#include "proc.h"
#include <poll.h>
#include <sys/select.h>

static const char *ev(short r)
{
    static char buf[4][96];
    static int slot;
    char *b = buf[slot++ & 3];
    b[0] = 0;
    if (r & POLLIN) strcat(b, "IN ");
    if (r & POLLPRI) strcat(b, "PRI ");
    if (r & POLLOUT) strcat(b, "OUT ");
    if (r & POLLERR) strcat(b, "ERR ");
    if (r & POLLHUP) strcat(b, "HUP ");
    if (r & POLLNVAL) strcat(b, "NVAL ");
    if (r & POLLRDNORM) strcat(b, "RDNORM ");
    if (r & POLLWRNORM) strcat(b, "WRNORM ");
    if (!b[0])
        strcpy(b, "-");
    else
        b[strlen(b) - 1] = 0;
    return b;
}

static void show(const char *label, int rfd, int wfd)
{
    struct pollfd f[2] = {{rfd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0}, {wfd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0}};
    int n = poll(f, 2, 0);
    printf("%-34s poll %d: read end [%s] write end [%s]\n", label, n, ev(f[0].revents), ev(f[1].revents));
}

static void readiness(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    show("empty pipe:", p[0], p[1]);
    write(p[1], "abc", 3);
    show("3 bytes in it:", p[0], p[1]);
    static char buf[65536];
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    show("full pipe:", p[0], p[1]);
    read_full(p[0], buf, 4096);
    show("full minus a page:", p[0], p[1]);
    close(p[1]);
    struct pollfd f = {p[0], POLLIN, 0};
    poll(&f, 1, 0);
    printf("%-34s read end [%s]\n", "data left, writer closed:", ev(f.revents));
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    poll(&f, 1, 0);
    printf("%-34s read end [%s]\n", "drained, writer closed:", ev(f.revents));
    f.events = 0;
    poll(&f, 1, 0);
    printf("%-34s read end [%s] (HUP is always reported)\n", "same, events 0:", ev(f.revents));
    close(p[0]);

    pipe(p);
    close(p[0]);
    f = (struct pollfd){p[1], POLLOUT, 0};
    poll(&f, 1, 0);
    printf("%-34s write end [%s]\n", "reader closed:", ev(f.revents));
    close(p[1]);

    struct pollfd bad[3] = {{999, POLLIN, 0}, {-1, POLLIN, 7}, {0, 0, 0}};
    int n = poll(bad, 3, 0);
    printf("closed fd 999, fd -1, events 0: poll %d [%s] [%s] [%s]\n", n, ev(bad[0].revents), ev(bad[1].revents), ev(bad[2].revents));
    EXPECT_EQ("poll with no fds and timeout 0", poll(NULL, 0, 0), 0);
    EXPECT_ERR("poll with a bad pointer", syscall(SYS_poll, (struct pollfd *)8, 1, 0), EFAULT);
    EXPECT_ERR("poll with too many fds", syscall(SYS_poll, bad, 1 << 30, 0), EINVAL);
}

static void blocking(void)
{
    int p[2];
    pipe(p);
    long long start = now_ns();
    struct pollfd f = {p[0], POLLIN, 0};
    EXPECT_EQ("poll 100 ms on an empty pipe times out", poll(&f, 1, 100), 0);
    CHECK("  waited at least 100 ms", (now_ns() - start) / 1000000 >= 99);
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        write(p[1], "!", 1);
        _exit(0);
    }
    start = now_ns();
    EXPECT_EQ("poll(-1) until a child writes", poll(&f, 1, -1), 1);
    printf("  revents [%s]\n", ev(f.revents));
    CHECK("  it blocked until then", (now_ns() - start) / 1000000 >= 50);
    wait_status(c, 0);
    char ch;
    read(p[0], &ch, 1);

    /* Woken by the last writer closing. */
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        _exit(0);
    }
    close(p[1]); /* the child holds the only write end now */
    f.revents = 0;
    EXPECT_EQ("poll(-1) until the last writer exits", poll(&f, 1, -1), 1);
    printf("  revents [%s]\n", ev(f.revents));
    wait_status(c, 0);
    close(p[0]);

    /* Two pipes, one becomes ready. */
    int a[2], b[2];
    pipe(a);
    pipe(b);
    c = xfork();
    if (c == 0) {
        sleep_ms(50);
        write(b[1], "b", 1);
        _exit(0);
    }
    struct pollfd two[2] = {{a[0], POLLIN, 0}, {b[0], POLLIN, 0}};
    EXPECT_EQ("poll on two pipes, the second gets data", poll(two, 2, 5000), 1);
    printf("  revents [%s] [%s]\n", ev(two[0].revents), ev(two[1].revents));
    wait_status(c, 0);
}

static volatile int hits;
static void on_alarm(int s) { (void)s; hits++; }

static void interrupted(void)
{
    int p[2];
    pipe(p);
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    struct pollfd f = {p[0], POLLIN, 0};
    arm_timer_ms(100);
    EXPECT_ERR("poll interrupted by a handler (SA_RESTART does not restart poll)", poll(&f, 1, 5000), EINTR);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {5, 0};
    arm_timer_ms(100);
    EXPECT_ERR("select interrupted by a handler", select(p[0] + 1, &rs, NULL, NULL, &tv), EINTR);
    CHECK("  select updated the timeout (time left < 5 s)", tv.tv_sec < 5);

    /* ppoll: SIGUSR1 blocked normally, unblocked only while waiting. */
    set_handler(SIGUSR1, on_alarm, 0);
    block(SIGUSR1);
    raise(SIGUSR1);
    hits = 0;
    sigset_t during;
    sigemptyset(&during);
    struct timespec ts = {5, 0};
    EXPECT_ERR("ppoll with a pending signal unblocked by its mask", ppoll(&f, 1, &ts, &during), EINTR);
    EXPECT_EQ("  handler ran", hits, 1);
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK("  mask restored (SIGUSR1 blocked)", sigismember(&cur, SIGUSR1) == 1);
    raise(SIGUSR1);
    hits = 0;
    EXPECT_ERR("pselect likewise", pselect(p[0] + 1, &rs, NULL, NULL, &ts, &during), EINTR);
    EXPECT_EQ("  handler ran", hits, 1);
    struct timespec zero = {0, 0};
    raise(SIGUSR1);
    hits = 0;
    EXPECT_EQ("ppoll with the signal still blocked: timeout", ppoll(&f, 1, &zero, NULL), 0);
    EXPECT_EQ("  handler did not run", hits, 0);
    unblock(SIGUSR1);
    EXPECT_EQ("  runs once unblocked", hits, 1);
    struct timespec badts = {0, 1000000000};
    EXPECT_ERR("ppoll with tv_nsec 1e9", ppoll(&f, 1, &badts, NULL), EINVAL);
}

static void selects(void)
{
    int a[2], b[2];
    pipe(a);
    pipe(b);
    write(b[1], "x", 1);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(a[0], &rs);
    FD_SET(b[0], &rs);
    FD_SET(a[1], &ws);
    struct timeval tv = {0, 0};
    int n = select(b[1] + 1, &rs, &ws, NULL, &tv);
    printf("select: %d; a readable %d, b readable %d, a writable %d\n", n, FD_ISSET(a[0], &rs), FD_ISSET(b[0], &rs),
           FD_ISSET(a[1], &ws));
    FD_ZERO(&rs);
    FD_SET(a[0], &rs);
    tv = (struct timeval){0, 100000};
    long long start = now_ns();
    EXPECT_EQ("select 100 ms on an empty pipe", select(a[0] + 1, &rs, NULL, NULL, &tv), 0);
    CHECK("  waited at least 100 ms", (now_ns() - start) / 1000000 >= 99);
    CHECK("  timeout counted down to zero", tv.tv_sec == 0 && tv.tv_usec == 0);
    CHECK("  the set is cleared", !FD_ISSET(a[0], &rs));
    FD_ZERO(&rs);
    FD_SET(50, &rs);
    tv = (struct timeval){0, 0};
    EXPECT_ERR("select on a closed fd", select(51, &rs, NULL, NULL, &tv), EBADF);
    EXPECT_ERR("select with nfds -1", select(-1, NULL, NULL, NULL, &tv), EINVAL);
    tv = (struct timeval){-1, 0};
    EXPECT_ERR("select with a negative timeout", select(1, NULL, NULL, NULL, &tv), EINVAL);
    close(a[0]);
    FD_ZERO(&ws);
    FD_SET(a[1], &ws);
    tv = (struct timeval){0, 0};
    n = select(a[1] + 1, NULL, &ws, NULL, &tv);
    printf("select for write with the reader closed: %d, writable %d\n", n, FD_ISSET(a[1], &ws));
    close(b[1]);
    read(b[0], (char[1]){0}, 1);
    FD_ZERO(&rs);
    FD_SET(b[0], &rs);
    n = select(b[0] + 1, &rs, NULL, NULL, &tv);
    printf("select for read with the writer closed: %d, readable %d\n", n, FD_ISSET(b[0], &rs));
}

int main(void)
{
    reset_signals();
    section("readiness of pipes", readiness);
    section("blocking poll", blocking);
    section("EINTR, ppoll and pselect masks", interrupted);
    section("select", selects);
    return finish();
}
