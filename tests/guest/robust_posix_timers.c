/* timerfd and POSIX timers (timer_create) given huge and invalid times,
 * the way robust_timers.c checks setitimer: a huge it_value or it_interval
 * is accepted and reads back as huge; a short value with a huge interval
 * expires exactly once; invalid tv_nsec and negative tv_sec give EINVAL,
 * bad pointers EFAULT; a process blocked in read() on a timerfd armed for
 * "forever" is interrupted by a handled signal and killed by SIGKILL; and
 * another process's alarm(1) still fires afterwards.
 * vkernel may not offer these system calls yet (the run then differs from
 * the native one); the program is here for when it does. */
#include "proc.h"
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/timerfd.h>

#define KERNEL_ADDR ((void *)0xffff800000000000ull)

static const char *huge_or(long long sec)
{
    return sec > 1000000000LL ? "huge" : sec > 0 ? "positive" : sec == 0 ? "zero" : "negative";
}

static const char *result(int r, int e)
{
    static char buf[2][32];
    static int slot;
    char *b = buf[slot++ & 1];
    if (r == 0)
        snprintf(b, 32, "0");
    else
        snprintf(b, 32, "%d %s", r, errname(e));
    return b;
}

static const char *label(const char *what, const char *value)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "  %s %s", what, value);
    return buf;
}

static volatile int alarms, usr1;
static void on_alarm(int s) { (void)s; alarms++; }
static void on_usr1(int s) { (void)s; usr1++; }

static void other_process_alarm(const char *after)
{
    pid_t c = xfork();
    if (c == 0) {
        alarms = 0;
        set_handler(SIGALRM, on_alarm, 0);
        alarm(1);
        sigset_t none;
        sigemptyset(&none);
        block(SIGALRM);
        while (!alarms)
            sigsuspend(&none);
        _exit(0);
    }
    long long deadline = now_ns() + 3000000000LL;
    int st;
    while ((st = wait_status(c, WNOHANG)) == -2 && now_ns() < deadline)
        sleep_ms(5);
    if (st == -2) {
        printf("alarm(1) in another process, after %s: no SIGALRM within 3 s  FAIL\n", after);
        vk_failures++;
        kill(c, SIGKILL);
        wait_status(c, 0);
    } else {
        printf("alarm(1) in another process, after %s: SIGALRM arrived (%s)\n", after, status_str(st));
    }
}

static const struct {
    const char *name;
    long long sec, nsec;
} huge[] = {
    {"tv_sec INT64_MAX", INT64_MAX, 999999999},
    {"tv_sec INT64_MAX/2", INT64_MAX / 2, 0},
    {"KTIME_MAX + 1 ns", 9223372036LL, 854775808},
};
#define NHUGE (sizeof huge / sizeof huge[0])

static const struct {
    const char *name;
    long long sec, nsec;
} invalid[] = {
    {"{0, -1}", 0, -1}, {"{0, 1000000000}", 0, 1000000000}, {"{-1, 0}", -1, 0},
    {"{INT64_MIN, 0}", INT64_MIN, 0}, {"{INT64_MAX, 1000000000}", INT64_MAX, 1000000000},
};
#define NINVALID (sizeof invalid / sizeof invalid[0])

static void timerfd_huge(void)
{
    for (int clock = 0; clock < 2; clock++) {
        clockid_t id = clock ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        const char *cname = clock ? "CLOCK_REALTIME" : "CLOCK_MONOTONIC";
        int fd = timerfd_create(id, TFD_NONBLOCK);
        if (fd < 0) {
            printf("timerfd_create(%s): -1 %s\n", cname, errname(errno));
            continue;
        }
        for (unsigned i = 0; i < NHUGE; i++) {
            for (int abs = 0; abs <= 1; abs++) {
                struct itimerspec it = {{huge[i].sec, huge[i].nsec}, {huge[i].sec, huge[i].nsec}}, cur;
                errno = 0;
                int r = timerfd_settime(fd, abs ? TFD_TIMER_ABSTIME : 0, &it, NULL);
                int e = errno;
                memset(&cur, 0, sizeof cur);
                timerfd_gettime(fd, &cur);
                uint64_t n = 0;
                long got = read(fd, &n, sizeof n);
                printf("timerfd %s value and interval %s%s: %s, gettime value %s, interval %s, read %s\n", cname,
                       huge[i].name, abs ? " (TFD_TIMER_ABSTIME)" : "", result(r, e),
                       huge_or(cur.it_value.tv_sec), huge_or(cur.it_interval.tv_sec), got < 0 ? errname(errno) : "data");
            }
        }
        /* 10 ms, then a huge interval: one expiry. */
        struct itimerspec it = {{INT64_MAX, 999999999}, {0, 10000000}}, cur;
        timerfd_settime(fd, 0, &it, NULL);
        sleep_ms(200);
        uint64_t n = 0;
        long got = read(fd, &n, sizeof n);
        timerfd_gettime(fd, &cur);
        printf("timerfd %s 10 ms, interval INT64_MAX: read %ld, expirations %llu, value now %s\n", cname, got,
               (unsigned long long)n, huge_or(cur.it_value.tv_sec));
        for (unsigned i = 0; i < NINVALID; i++) {
            struct itimerspec bad = {{0, 0}, {invalid[i].sec, invalid[i].nsec}};
            EXPECT_ERR(label("timerfd_settime it_value", invalid[i].name), timerfd_settime(fd, 0, &bad, NULL), EINVAL);
            struct itimerspec badi = {{invalid[i].sec, invalid[i].nsec}, {1, 0}};
            EXPECT_ERR(label("timerfd_settime it_interval", invalid[i].name), timerfd_settime(fd, 0, &badi, NULL), EINVAL);
        }
        EXPECT_ERR("  timerfd_settime from a kernel address", syscall(SYS_timerfd_settime, fd, 0, KERNEL_ADDR, NULL), EFAULT);
        close(fd);
    }
    other_process_alarm("timerfds with huge times");
}

/* A read() on a timerfd armed for "forever" blocks; a handled signal
 * interrupts it (timerfd reads restart with SA_RESTART: here none), and
 * SIGKILL ends the process. */
static void timerfd_blocked_read(void)
{
    for (int kill_it = 0; kill_it <= 1; kill_it++) {
        pid_t c = xfork();
        if (c == 0) {
            set_handler(SIGUSR1, on_usr1, 0);
            int fd = timerfd_create(CLOCK_MONOTONIC, 0);
            struct itimerspec it = {{0, 0}, {INT64_MAX, 999999999}};
            if (fd < 0 || timerfd_settime(fd, 0, &it, NULL) < 0)
                _exit(2);
            uint64_t n;
            long r = read(fd, &n, sizeof n);
            _exit(r < 0 && errno == EINTR && usr1 == 1 ? 0 : 1);
        }
        sleep_ms(150);
        kill(c, kill_it ? SIGKILL : SIGUSR1);
        long long deadline = now_ns() + 2000000000LL;
        int st;
        while ((st = wait_status(c, WNOHANG)) == -2 && now_ns() < deadline)
            sleep_ms(5);
        if (st == -2) {
            printf("read on a timerfd armed for INT64_MAX s, %s: still blocked after 2 s  FAIL\n",
                   kill_it ? "SIGKILL" : "SIGUSR1");
            vk_failures++;
            kill(c, SIGKILL);
        } else {
            printf("read on a timerfd armed for INT64_MAX s, %s: %s\n", kill_it ? "SIGKILL" : "SIGUSR1 (handled, EINTR)",
                   status_str(st));
        }
    }
}

static void posix_timer_huge(void)
{
    set_handler(SIGUSR1, on_usr1, 0);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0) {
        printf("timer_create(CLOCK_MONOTONIC): -1 %s\n", errname(errno));
        return;
    }
    for (unsigned i = 0; i < NHUGE; i++) {
        for (int abs = 0; abs <= 1; abs++) {
            struct itimerspec it = {{huge[i].sec, huge[i].nsec}, {huge[i].sec, huge[i].nsec}}, cur;
            errno = 0;
            int r = timer_settime(t, abs ? TIMER_ABSTIME : 0, &it, NULL);
            int e = errno;
            memset(&cur, 0, sizeof cur);
            timer_gettime(t, &cur);
            printf("timer_settime value and interval %s%s: %s, gettime value %s, interval %s\n", huge[i].name,
                   abs ? " (TIMER_ABSTIME)" : "", result(r, e), huge_or(cur.it_value.tv_sec),
                   huge_or(cur.it_interval.tv_sec));
        }
    }
    usr1 = 0;
    struct itimerspec it = {{INT64_MAX, 999999999}, {0, 10000000}}, cur;
    timer_settime(t, 0, &it, NULL);
    sleep_ms(200);
    timer_gettime(t, &cur);
    printf("timer 10 ms, interval INT64_MAX: %d signal(s) in 200 ms, overrun %d, value now %s\n", usr1, timer_getoverrun(t),
           huge_or(cur.it_value.tv_sec));
    for (unsigned i = 0; i < NINVALID; i++) {
        struct itimerspec bad = {{0, 0}, {invalid[i].sec, invalid[i].nsec}};
        EXPECT_ERR(label("timer_settime it_value", invalid[i].name), timer_settime(t, 0, &bad, NULL), EINVAL);
        struct itimerspec badi = {{invalid[i].sec, invalid[i].nsec}, {1, 0}};
        EXPECT_ERR(label("timer_settime it_interval", invalid[i].name), timer_settime(t, 0, &badi, NULL), EINVAL);
    }
    timer_delete(t);
    other_process_alarm("POSIX timers with huge times");
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    section("timerfd_settime with huge and invalid times", timerfd_huge);
    section("a read blocked on a timerfd armed for INT64_MAX s", timerfd_blocked_read);
    section("timer_settime with huge and invalid times", posix_timer_huge);
    return finish();
}
