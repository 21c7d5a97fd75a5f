/* timerfd: one-shot and periodic timers on both clocks, TFD_TIMER_ABSTIME,
 * TFD_TIMER_CANCEL_ON_SET, expiration counts, gettime/settime values,
 * blocking reads, poll and epoll, and the argument checks. */
#include "event.h"
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static long long ts_ns(struct timespec t) { return t.tv_sec * 1000000000ll + t.tv_nsec; }

static struct itimerspec spec(long long value_ns, long long interval_ns)
{
    struct itimerspec it;
    it.it_value.tv_sec = value_ns / 1000000000;
    it.it_value.tv_nsec = value_ns % 1000000000;
    it.it_interval.tv_sec = interval_ns / 1000000000;
    it.it_interval.tv_nsec = interval_ns % 1000000000;
    return it;
}

static long long clock_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return ts_ns(t);
}

static void errors(void)
{
    EXPECT_ERR("timerfd_create(CLOCK_PROCESS_CPUTIME_ID)", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    EXPECT_ERR("timerfd_create(CLOCK_MONOTONIC_RAW)", timerfd_create(CLOCK_MONOTONIC_RAW, 0), EINVAL);
    EXPECT_ERR("timerfd_create(-1)", timerfd_create(-1, 0), EINVAL);
    EXPECT_ERR("timerfd_create with a bad flag", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK("timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC)", fd >= 0);
    printf("F_GETFL %#x, F_GETFD %d\n", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
    struct itimerspec it = spec(1000000, 0);
    EXPECT_ERR("timerfd_settime with flags 4", timerfd_settime(fd, 4, &it, NULL), EINVAL);
    EXPECT_ERR("timerfd_settime NULL", syscall(SYS_timerfd_settime, fd, 0, NULL, NULL), EFAULT);
    EXPECT_ERR("timerfd_settime on a bad fd", timerfd_settime(99, 0, &it, NULL), EBADF);
    int p[2];
    pipe(p);
    EXPECT_ERR("timerfd_settime on a pipe", timerfd_settime(p[0], 0, &it, NULL), EINVAL);
    EXPECT_ERR("timerfd_gettime on a pipe", timerfd_gettime(p[0], &it), EINVAL);
    EXPECT_ERR("timerfd_gettime to NULL", syscall(SYS_timerfd_gettime, fd, NULL), EFAULT);
    uint64_t n;
    EXPECT_ERR("read of a disarmed timerfd", read(fd, &n, 8), EAGAIN);
    EXPECT_ERR("read with a 4-byte buffer", read(fd, &n, 4), EINVAL);
    EXPECT_ERR("write", write(fd, &n, 8), EINVAL);
    SHOW("lseek", lseek(fd, 5, SEEK_SET));
    printf("link: %s\n", fd_link(fd));
    printf("fdinfo: %s\n", fdinfo_line(fd, "clockid"));
    printf("fdinfo: %s\n", fdinfo_line(fd, "ticks"));
    close(fd);
}

static void one_shot_and_periodic(void)
{
    for (int c = 0; c < 2; c++) {
        clockid_t clock = c ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        const char *name = c ? "CLOCK_REALTIME" : "CLOCK_MONOTONIC";
        int fd = timerfd_create(clock, 0);
        struct itimerspec it = spec(50000000, 0), cur;
        long long t0 = now_ns();
        timerfd_settime(fd, 0, &it, NULL);
        timerfd_gettime(fd, &cur);
        printf("%s one-shot 50 ms: gettime value in (0, 50 ms]: %s, interval %lld\n", name,
               ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 50000000 ? "yes" : "no", ts_ns(cur.it_interval));
        uint64_t n = 0;
        long r = read(fd, &n, 8);
        printf("%s blocking read: %ld, %llu expiration(s), after at least 50 ms: %s\n", name, r, (unsigned long long)n,
               ms_since(t0) >= 49 ? "yes" : "no");
        timerfd_gettime(fd, &cur);
        printf("%s after expiry: value %lld interval %lld\n", name, ts_ns(cur.it_value), ts_ns(cur.it_interval));

        it = spec(20000000, 20000000);
        long long t1 = now_ns();
        timerfd_settime(fd, 0, &it, NULL);
        sleep_ms(110);
        n = 0;
        read(fd, &n, 8);
        long periods = ms_since(t1) / 20;
        printf("%s periodic 20 ms, read after 110 ms: at least 4 expirations, one per 20 ms passed: %s\n", name,
               n >= 4 && (long)n >= periods - 1 && (long)n <= periods + 1 ? "yes" : "no");
        struct itimerspec old;
        it = spec(0, 0);
        timerfd_settime(fd, 0, &it, &old);
        printf("%s disarm: old interval %lld, old value in (0, 20 ms]: %s\n", name, ts_ns(old.it_interval),
               ts_ns(old.it_value) > 0 && ts_ns(old.it_value) <= 20000000 ? "yes" : "no");
        timerfd_gettime(fd, &cur);
        printf("%s disarmed: value %lld interval %lld\n", name, ts_ns(cur.it_value), ts_ns(cur.it_interval));
        close(fd);
    }
}

static void absolute(void)
{
    for (int c = 0; c < 2; c++) {
        clockid_t clock = c ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        const char *name = c ? "CLOCK_REALTIME" : "CLOCK_MONOTONIC";
        int fd = timerfd_create(clock, TFD_NONBLOCK);
        struct itimerspec it = spec(clock_ns(clock) + 60000000, 0);
        long long t0 = now_ns();
        EXPECT_EQ("TFD_TIMER_ABSTIME now + 60 ms", timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL), 0);
        int r = poll_one(fd, POLLIN, 5000);
        printf("%s poll at the absolute time: %s, not before: %s\n", name, pollbits(r), ms_since(t0) >= 55 ? "yes" : "no");
        uint64_t n = 0;
        read(fd, &n, 8);
        printf("%s expirations: %llu\n", name, (unsigned long long)n);
        /* (Not too far back: a guest's CLOCK_MONOTONIC starts at its boot.) */
        it = spec(clock_ns(clock) - 200000000, 20000000);
        timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL);
        n = 0;
        read(fd, &n, 8);
        printf("%s 200 ms in the past, interval 20 ms: between 10 and 12 expirations at once: %s\n", name, n >= 10 && n <= 12 ? "yes" : "no");
        close(fd);
    }
    /* TFD_TIMER_CANCEL_ON_SET: armed for a realtime absolute time; with
     * nobody setting the clock, it simply runs. */
    int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    struct itimerspec it = spec(clock_ns(CLOCK_REALTIME) + 40000000, 0), cur;
    EXPECT_EQ("TFD_TIMER_ABSTIME|TFD_TIMER_CANCEL_ON_SET", timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &it, NULL), 0);
    uint64_t n;
    EXPECT_ERR("read before it expires", read(fd, &n, 8), EAGAIN);
    printf("poll: %s\n", pollbits(poll_one(fd, POLLIN, 5000)));
    EXPECT_EQ("read after", read(fd, &n, 8), 8);
    printf("fdinfo: %s\n", fdinfo_line(fd, "settime flags"));
    timerfd_gettime(fd, &cur);
    printf("value after: %lld\n", ts_ns(cur.it_value));
    close(fd);
    /* Relative with CANCEL_ON_SET on a monotonic clock: accepted, ignored. */
    fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    it = spec(1000000, 0);
    EXPECT_EQ("CANCEL_ON_SET without ABSTIME", timerfd_settime(fd, TFD_TIMER_CANCEL_ON_SET, &it, NULL), 0);
    close(fd);
}

static volatile int usr1;
static void on_usr1(int s) { (void)s; usr1++; }

/* A blocked read ends with EINTR for a handler without SA_RESTART and is
 * restarted with one; epoll and fork share the timer. */
static void blocking(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec it = spec(300000000, 0);
    timerfd_settime(fd, 0, &it, NULL);
    pid_t me = getpid();
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(50);
        kill(me, SIGUSR1);
        _exit(0);
    }
    uint64_t n = 0;
    errno = 0;
    long r = read(fd, &n, 8);
    printf("read interrupted without SA_RESTART: %ld %s, handler ran: %d\n", r, errname(errno), usr1);
    wait_status(c, 0);
    set_handler(SIGUSR1, on_usr1, SA_RESTART);
    c = xfork();
    if (c == 0) {
        sleep_ms(50);
        kill(me, SIGUSR1);
        _exit(0);
    }
    r = read(fd, &n, 8);
    printf("read under SA_RESTART: %ld, %llu expiration, handler ran: %d\n", r, (unsigned long long)n, usr1);
    wait_status(c, 0);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    it = spec(30000000, 0);
    timerfd_settime(fd, 0, &it, NULL);
    uint64_t data = 0;
    int r2 = epoll_one(ep, 5000, &data);
    printf("epoll_wait: %s data %llu\n", pollbits(r2), (unsigned long long)data);
    /* The child reads the expirations of the timer it shares. */
    c = xfork();
    if (c == 0) {
        uint64_t m = 0;
        _exit(read(fd, &m, 8) == 8 && m == 1 ? 0 : 1);
    }
    printf("a child reads the shared timer: %s\n", status_str(wait_status(c, 0)));
    printf("poll in the parent after: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    close(ep);
    close(fd);
}

static void set_ticks(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    uint64_t five = 5, zero = 0, n = 0;
    EXPECT_EQ("TFD_IOC_SET_TICKS 5", ioctl(fd, TFD_IOC_SET_TICKS, &five), 0);
    EXPECT_ERR("TFD_IOC_SET_TICKS 0", ioctl(fd, TFD_IOC_SET_TICKS, &zero), EINVAL);
    read(fd, &n, 8);
    printf("read: %llu\n", (unsigned long long)n);
    close(fd);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    section("timerfd argument checks", errors);
    section("one-shot and periodic timers on both clocks", one_shot_and_periodic);
    section("TFD_TIMER_ABSTIME and TFD_TIMER_CANCEL_ON_SET", absolute);
    section("blocking reads, signals, epoll and fork", blocking);
    section("TFD_IOC_SET_TICKS", set_ticks);
    return finish();
}
