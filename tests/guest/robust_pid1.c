/* The top process itself (PID 1 under vkernel) makes the calls that take
 * huge times, with a SIGALRM handler and a 100 ms timer to end each wait:
 * a kernel that fails here loses PID 1 and with it the whole guest (Linux:
 * EINTR each time, then a normal exit).
 * Usage: robust_pid1 [nanosleep|clock_nanosleep|rt_sigtimedwait|futex|setitimer]
 * (default: all of them). */
#include "proc.h"
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>

static volatile int alarms;
static void on_alarm(int s) { (void)s; alarms++; }

static struct timespec forever = {INT64_MAX, 999999999};

static void sleeps(void)
{
    struct timespec rem;
    arm_timer_ms(100);
    EXPECT_ERR("nanosleep(INT64_MAX s) in the top process", syscall(SYS_nanosleep, &forever, &rem), EINTR);
}

static void clock_sleeps(void)
{
    struct timespec rem;
    arm_timer_ms(100);
    EXPECT_ERR("clock_nanosleep(CLOCK_MONOTONIC, INT64_MAX s)",
               syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &forever, &rem), EINTR);
    arm_timer_ms(100);
    EXPECT_ERR("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, INT64_MAX s)",
               syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &forever, NULL), EINTR);
}

static void timed_signal_wait(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    block(SIGUSR1);
    arm_timer_ms(100);
    EXPECT_ERR("rt_sigtimedwait(INT64_MAX s)", syscall(SYS_rt_sigtimedwait, &set, NULL, &forever, 8), EINTR);
}

static void futexes(void)
{
    static int word;
    arm_timer_ms(100);
    EXPECT_ERR("futex(FUTEX_WAIT_PRIVATE, INT64_MAX s)",
               syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &forever, NULL, 0), EINTR);
    arm_timer_ms(100);
    EXPECT_ERR("futex(FUTEX_WAIT_PRIVATE, no timeout)", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0),
               EINTR);
}

static void itimer(void)
{
    struct itimerval huge = {{0, 0}, {INT64_MAX, 999999}}, cur;
    EXPECT_EQ("setitimer(ITIMER_REAL, INT64_MAX s)", setitimer(ITIMER_REAL, &huge, NULL), 0);
    getitimer(ITIMER_REAL, &cur);
    CHECK("  getitimer: more than 1e9 s left", cur.it_value.tv_sec > 1000000000LL);
    alarms = 0;
    arm_timer_ms(100);
    EXPECT_ERR("  replaced by a 100 ms timer: pause", pause(), EINTR);
    EXPECT_EQ("  SIGALRM handler ran", alarms, 1);
}

static const struct {
    const char *name;
    void (*fn)(void);
} checks[] = {
    {"nanosleep", sleeps}, {"clock_nanosleep", clock_sleeps}, {"rt_sigtimedwait", timed_signal_wait},
    {"futex", futexes},    {"setitimer", itimer},
};

int main(int argc, char **argv)
{
    reset_signals();
    set_handler(SIGALRM, on_alarm, 0);
    for (unsigned i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (argc < 2 || !strcmp(argv[1], checks[i].name)) {
            checks[i].fn();
            fflush(stdout);
        }
    return finish();
}
