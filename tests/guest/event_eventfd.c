/* eventfd: the counter, semaphore mode, overflow and blocking on both
 * sides, readiness through poll and epoll (level, edge, EPOLLEXCLUSIVE),
 * and what /proc shows of it. */
#include "event.h"
#include <sys/eventfd.h>

static uint64_t rd(int fd, int *err)
{
    uint64_t v = 0;
    errno = 0;
    long n = read(fd, &v, sizeof v);
    *err = n < 0 ? errno : 0;
    return n == 8 ? v : 0;
}

static void counter(void)
{
    int fd = eventfd(5, EFD_NONBLOCK);
    int err;
    CHECK("eventfd(5, EFD_NONBLOCK)", fd >= 0);
    uint64_t v = rd(fd, &err);
    printf("read: %llu (%s)\n", (unsigned long long)v, errname(err));
    rd(fd, &err);
    printf("read again: %s\n", errname(err));
    uint64_t add = 7;
    EXPECT_EQ("write 7", write(fd, &add, 8), 8);
    EXPECT_ERR("write 7 with a 16-byte buffer", write(fd, (uint64_t[]){7, 9}, 16), EINVAL);
    EXPECT_EQ("write 7", write(fd, &add, 8), 8);
    uint64_t two[2];
    EXPECT_EQ("read with a 16-byte buffer", read(fd, two, 16), 8);
    EXPECT_EQ("write 7", write(fd, &add, 8), 8);
    v = rd(fd, &err);
    printf("read after two writes: %llu\n", (unsigned long long)v);
    char small[4];
    EXPECT_ERR("read with a 4-byte buffer", read(fd, small, 4), EINVAL);
    EXPECT_ERR("write with a 4-byte buffer", write(fd, small, 4), EINVAL);
    uint64_t max = UINT64_MAX;
    EXPECT_ERR("write UINT64_MAX", write(fd, &max, 8), EINVAL);
    uint64_t big = UINT64_MAX - 1;
    EXPECT_EQ("write UINT64_MAX - 1", write(fd, &big, 8), 8);
    uint64_t one = 1;
    EXPECT_ERR("write 1 more (would reach the maximum)", write(fd, &one, 8), EAGAIN);
    printf("poll when full: %s\n", pollbits(poll_one(fd, POLLIN | POLLOUT, 0)));
    rd(fd, &err);
    printf("poll when empty: %s\n", pollbits(poll_one(fd, POLLIN | POLLOUT, 0)));
    EXPECT_EQ("write 0", write(fd, (uint64_t[]){0}, 8), 8);
    printf("poll after writing 0: %s\n", pollbits(poll_one(fd, POLLIN | POLLOUT, 0)));
    SHOW("lseek(fd, 10, SEEK_SET)", lseek(fd, 10, SEEK_SET));
    printf("F_GETFL: %#x\n", fcntl(fd, F_GETFL));
    printf("link: %s\n", fd_link(fd));
    EXPECT_EQ("write 3", write(fd, (uint64_t[]){3}, 8), 8);
    printf("fdinfo: %s\n", fdinfo_line(fd, "eventfd-count"));
    printf("fdinfo: %s\n", fdinfo_line(fd, "eventfd-semaphore"));
    close(fd);
    EXPECT_ERR("eventfd with a bad flag", eventfd(0, 4), EINVAL);
    fd = eventfd(0, EFD_CLOEXEC);
    printf("EFD_CLOEXEC gives FD_CLOEXEC: %d\n", fcntl(fd, F_GETFD));
    close(fd);
}

static void semaphore(void)
{
    int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    int err;
    for (int i = 0; i < 4; i++) {
        uint64_t v = rd(fd, &err);
        printf("semaphore read %d: %llu %s\n", i, (unsigned long long)v, errname(err));
    }
    printf("fdinfo: %s\n", fdinfo_line(fd, "eventfd-semaphore"));
    close(fd);
}

/* A blocked read ends when another process writes; a blocked write ends
 * when another process reads; poll and epoll wake for a writer. */
static void blocking(void)
{
    int fd = eventfd(0, 0);
    int err;
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        uint64_t v = 42;
        write(fd, &v, 8);
        _exit(0);
    }
    long long t0 = now_ns();
    uint64_t v = rd(fd, &err);
    printf("blocked read got %llu after the writer's 100 ms: %s\n", (unsigned long long)v, ms_since(t0) >= 90 ? "yes" : "no");
    wait_status(c, 0);

    uint64_t big = UINT64_MAX - 1;
    write(fd, &big, 8);
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        uint64_t got;
        read(fd, &got, 8);
        _exit(got == UINT64_MAX - 1 ? 0 : 1);
    }
    t0 = now_ns();
    uint64_t one = 1;
    long n = write(fd, &one, 8);
    printf("blocked write returned %ld after the reader's 100 ms: %s\n", n, ms_since(t0) >= 90 ? "yes" : "no");
    printf("reader: %s\n", status_str(wait_status(c, 0)));
    rd(fd, &err);

    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        write(fd, &one, 8);
        _exit(0);
    }
    int r = poll_one(fd, POLLIN, 5000);
    printf("poll woken by the writer: %s\n", pollbits(r));
    wait_status(c, 0);
    rd(fd, &err);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        write(fd, &one, 8);
        _exit(0);
    }
    uint64_t data = 0;
    r = epoll_one(ep, 5000, &data);
    printf("epoll_wait woken by the writer: %s data %llu\n", pollbits(r), (unsigned long long)data);
    wait_status(c, 0);
    close(ep);
    close(fd);
}

/* Edge-triggered epoll reports each write once, even while the counter
 * stays readable; a nested epoll instance wakes its watcher. */
static void edge_and_nested(void)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    uint64_t one = 1;
    printf("ET before any write: %s\n", pollbits(epoll_one(ep, 0, NULL)));
    write(fd, &one, 8);
    printf("ET after a write: %s\n", pollbits(epoll_one(ep, 0, NULL)));
    printf("ET again, no new write: %s\n", pollbits(epoll_one(ep, 0, NULL)));
    write(fd, &one, 8);
    printf("ET after another write: %s\n", pollbits(epoll_one(ep, 0, NULL)));

    int outer = epoll_create1(0);
    struct epoll_event oev = {.events = EPOLLIN, .data.u64 = 2};
    EXPECT_EQ("epoll_ctl ADD of an epoll fd", epoll_ctl(outer, EPOLL_CTL_ADD, ep, &oev), 0);
    printf("outer, inner idle: %s\n", pollbits(epoll_one(outer, 0, NULL)));
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        write(fd, &one, 8);
        _exit(0);
    }
    printf("outer epoll_wait woken through the inner one: %s\n", pollbits(epoll_one(outer, 5000, NULL)));
    printf("poll on the inner epoll fd: %s\n", pollbits(poll_one(ep, POLLIN, 0)));
    wait_status(c, 0);
    close(outer);
    close(ep);
    close(fd);
}

/* Three processes wait in epoll_wait, each on its own instance with an
 * EPOLLEXCLUSIVE item for one eventfd: one write wakes exactly one. */
static void exclusive(void)
{
    int fd = eventfd(0, EFD_NONBLOCK);
    int ready[2];
    pipe(ready);
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = xfork();
        if (kids[i] == 0) {
            int ep = epoll_create1(0);
            struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
                _exit(3);
            write(ready[1], "r", 1);
            struct epoll_event out;
            int n = epoll_wait(ep, &out, 1, 2000);
            _exit(n == 1 ? 0 : n == 0 ? 1 : 2);
        }
    }
    char b;
    for (int i = 0; i < 3; i++)
        read(ready[0], &b, 1);
    /* Time for all three to be asleep in epoll_wait. */
    sleep_ms(500);
    uint64_t one = 1;
    write(fd, &one, 8);
    int woke = 0, timed_out = 0;
    for (int i = 0; i < 3; i++) {
        int st = wait_status(kids[i], 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            woke++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
            timed_out++;
    }
    printf("EPOLLEXCLUSIVE waiters woken by one write: %d, timed out: %d\n", woke, timed_out);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    int ep = epoll_create1(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    EXPECT_ERR("EPOLL_CTL_MOD of an EPOLLEXCLUSIVE item", epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), EINVAL);
    struct epoll_event bad = {.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT};
    int fd2 = eventfd(0, 0);
    EXPECT_ERR("EPOLLEXCLUSIVE with EPOLLONESHOT", epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &bad), EINVAL);
    close(ep);
    close(fd);
    close(fd2);
}

/* A poll stopped and continued goes on with the time it had left
 * (restart_syscall), and a handled signal still makes it EINTR. */
static volatile int usr1;
static void on_usr1(int s) { (void)s; usr1++; }

static void poll_restart(void)
{
    int fd = eventfd(0, 0);
    int out[2];
    pipe(out);
    pid_t c = xfork();
    if (c == 0) {
        long long t0 = now_ns();
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 1000);
        long ms = ms_since(t0);
        char line[64];
        /* With the time left it ends about 1000 ms after it began; a
         * restart with the whole timeout would end 1400 ms after. */
        int n = snprintf(line, sizeof line, "%d %d", r, ms >= 950 && ms < 1300);
        write(out[1], line, n);
        _exit(0);
    }
    sleep_ms(100);
    kill(c, SIGSTOP);
    sleep_ms(300);
    kill(c, SIGCONT);
    wait_status(c, 0);
    char line[64] = {0};
    read(out[0], line, sizeof line - 1);
    int r = -9, in_time = 0;
    sscanf(line, "%d %d", &r, &in_time);
    printf("poll(1000 ms) stopped for 300 ms: returns %d after about 1000 ms in all: %s\n", r, in_time ? "yes" : "no");

    set_handler(SIGUSR1, on_usr1, 0);
    pid_t me = getpid();
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        kill(me, SIGUSR1);
        _exit(0);
    }
    struct pollfd p = {fd, POLLIN, 0};
    errno = 0;
    int n = poll(&p, 1, 2000);
    printf("poll and a handled signal: %d %s, handler ran %d\n", n, errname(errno), usr1);
    wait_status(c, 0);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    section("eventfd counter, limits and what /proc shows", counter);
    section("EFD_SEMAPHORE reads one at a time", semaphore);
    section("blocked reads, writes, poll and epoll wake for the other side", blocking);
    section("edge-triggered and nested epoll", edge_and_nested);
    section("EPOLLEXCLUSIVE wakes one waiter", exclusive);
    section("poll restarts with the time left", poll_restart);
    return finish();
}
