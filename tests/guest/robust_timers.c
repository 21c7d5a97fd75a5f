/* Interval timers and alarm() given huge times. Linux accepts any valid
 * timeval (tv_sec >= 0, 0 <= tv_usec < 1e6) and saturates it to KTIME_MAX,
 * so: setitimer with tv_sec INT64_MAX succeeds and the timer reads back as
 * huge; the process stays killable and interruptible; an ITIMER_REAL with
 * a short value and a huge it_interval fires exactly once and is re-armed
 * for "forever"; and none of this stops other processes' timers: an
 * alarm(1) in another process afterwards still delivers SIGALRM.
 * Everything runs in forked children (see proc.h); the top process only
 * reports.
 * Usage: robust_timers [values|interval|alarm|replace] (default: all). */
#include "proc.h"
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>

static volatile int alarms, usr1;
static void on_alarm(int s) { (void)s; alarms++; }
static void on_usr1(int s) { (void)s; usr1++; }

static const char *huge_or(long long sec)
{
    return sec > 1000000000LL ? "huge" : sec > 0 ? "positive" : sec == 0 ? "zero" : "negative";
}

/* Another process's alarm(1) delivers SIGALRM within 3 s. */
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
    int st = -2;
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

/* The calling process (a child) arms a huge timer and then waits; the
 * parent checks that a handled signal interrupts it and SIGKILL ends it. */
struct report {
    long r;
    int err;
    long long value_sec, interval_sec;
    int done;
};
static struct report *rep;

static void arm_and_pause(int which, struct itimerval *it)
{
    /* Dies with its section (whose watchdog may end it on a slow machine)
     * instead of pausing on with the test's stdout open. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    set_handler(SIGUSR1, on_usr1, 0);
    set_handler(SIGALRM, on_alarm, 0);
    set_handler(SIGVTALRM, on_alarm, 0);
    set_handler(SIGPROF, on_alarm, 0);
    errno = 0;
    rep->r = setitimer(which, it, NULL);
    rep->err = errno;
    struct itimerval cur;
    memset(&cur, 0, sizeof cur);
    getitimer(which, &cur);
    rep->value_sec = cur.it_value.tv_sec;
    rep->interval_sec = cur.it_interval.tv_sec;
    rep->done = 1;
    pause();
    _exit(usr1 == 1 ? 0 : 3);
}

static void huge_timer(const char *label, int which, long long vsec, long vusec, long long isec, long iusec)
{
    for (int kill_it = 0; kill_it <= 1; kill_it++) {
        memset(rep, 0, sizeof *rep);
        struct itimerval it = {{isec, iusec}, {vsec, vusec}};
        pid_t c = xfork();
        if (c == 0)
            arm_and_pause(which, &it);
        long long deadline = now_ns() + 2000000000LL;
        while (!rep->done && now_ns() < deadline)
            sleep_ms(5);
        if (!rep->done) {
            printf("%s: setitimer did not return within 2 s  FAIL\n", label);
            vk_failures++;
        } else if (!kill_it) {
            /* Only ITIMER_REAL's value is compared: Linux adds the CPU
             * time used so far to a saturated ITIMER_VIRTUAL/PROF value
             * and getitimer then reports it as negative (an overflow in
             * kernel/time/itimer.c that vkernel need not copy). */
            if (rep->r == 0 && which == ITIMER_REAL)
                printf("%s: setitimer 0, getitimer value %s, interval %s\n", label, huge_or(rep->value_sec),
                       huge_or(rep->interval_sec));
            else if (rep->r == 0)
                printf("%s: setitimer 0, getitimer interval %s\n", label, huge_or(rep->interval_sec));
            else
                printf("%s: setitimer -1 %s\n", label, errname(rep->err));
        }
        sleep_ms(50);
        kill(c, kill_it ? SIGKILL : SIGUSR1);
        deadline = now_ns() + 2000000000LL;
        int st;
        while ((st = wait_status(c, WNOHANG)) == -2 && now_ns() < deadline)
            sleep_ms(5);
        if (st == -2) {
            printf("  %s: process still there 2 s later  FAIL\n", kill_it ? "SIGKILL" : "SIGUSR1 (handled)");
            vk_failures++;
            kill(c, SIGKILL);
        } else {
            printf("  %s: %s\n", kill_it ? "SIGKILL" : "SIGUSR1 (handled) ends its pause", status_str(st));
        }
    }
}

static void huge_values(void)
{
    huge_timer("ITIMER_REAL value tv_sec INT64_MAX", ITIMER_REAL, INT64_MAX, 999999, 0, 0);
    huge_timer("ITIMER_REAL value tv_sec INT64_MAX/2", ITIMER_REAL, INT64_MAX / 2, 0, 0, 0);
    huge_timer("ITIMER_REAL value and interval INT64_MAX", ITIMER_REAL, INT64_MAX, 0, INT64_MAX, 999999);
    huge_timer("ITIMER_REAL value 2^40 s", ITIMER_REAL, 1LL << 40, 0, 0, 0);
    huge_timer("ITIMER_VIRTUAL value INT64_MAX", ITIMER_VIRTUAL, INT64_MAX, 0, INT64_MAX, 0);
    huge_timer("ITIMER_PROF value INT64_MAX", ITIMER_PROF, INT64_MAX, 0, INT64_MAX, 0);
    other_process_alarm("huge timers in other processes");
}

/* A short value with a huge interval: one SIGALRM, then armed for
 * "forever" (getitimer reads huge); no second expiry within 300 ms. */
static void huge_interval(void)
{
    static const struct {
        const char *name;
        long long sec;
        long usec;
    } intervals[] = {
        {"tv_sec INT64_MAX", INT64_MAX, 999999},
        {"tv_sec INT64_MAX/2", INT64_MAX / 2, 0},
        {"2^40 s", 1LL << 40, 0},
    };
    for (unsigned i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
        pid_t c = xfork();
        if (c == 0) {
            alarms = 0;
            set_handler(SIGALRM, on_alarm, 0);
            struct itimerval it = {{intervals[i].sec, intervals[i].usec}, {0, 10000}};
            if (setitimer(ITIMER_REAL, &it, NULL) < 0) {
                printf("ITIMER_REAL 10 ms, interval %s: setitimer -1 %s\n", intervals[i].name, errname(errno));
                _exit(0);
            }
            long long deadline = now_ns() + 2000000000LL;
            while (!alarms && now_ns() < deadline)
                sleep_ms(5);
            int first = alarms;
            sleep_ms(300);
            struct itimerval cur;
            getitimer(ITIMER_REAL, &cur);
            printf("ITIMER_REAL 10 ms, interval %s: fired %s, then %d more time(s) in 300 ms; value now %s\n",
                   intervals[i].name, first ? "once" : "never", alarms - first, huge_or(cur.it_value.tv_sec));
            fflush(stdout);
            _exit(first == 1 && alarms == 1 ? 0 : 1);
        }
        int st = wait_status(c, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            printf("  child: %s  FAIL\n", status_str(st));
            vk_failures++;
        }
        other_process_alarm("a huge interval fired");
    }
}

/* alarm() takes unsigned seconds: the largest is about 136 years. */
static void big_alarm(void)
{
    alarm(0); /* the section's watchdog */
    EXPECT_EQ("alarm(UINT_MAX) with none pending", alarm(UINT_MAX), 0);
    unsigned left = alarm(0);
    CHECK("alarm(0) then returns more than UINT_MAX - 10", left > UINT_MAX - 10);
    EXPECT_EQ("alarm(2^31) with none pending", alarm(1u << 31), 0);
    left = alarm(0);
    CHECK("alarm(0) then returns about 2^31", left > (1u << 31) - 10 && left <= (1u << 31));
}

/* A huge ITIMER_REAL in the process that then calls alarm(1): alarm
 * replaces it (its return value is the old value's seconds, truncated to
 * unsigned int) and the SIGALRM arrives. */
static void alarm_replaces_huge(void)
{
    set_handler(SIGALRM, on_alarm, 0);
    struct itimerval it = {{0, 0}, {INT64_MAX, 0}};
    EXPECT_EQ("setitimer ITIMER_REAL value INT64_MAX", setitimer(ITIMER_REAL, &it, NULL), 0);
    unsigned old = alarm(1);
    CHECK("alarm(1) then returns a nonzero remainder", old != 0);
    alarms = 0;
    sigset_t none;
    sigemptyset(&none);
    block(SIGALRM);
    long long deadline = now_ns() + 3000000000LL;
    while (!alarms && now_ns() < deadline) {
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        if (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0)
            break;
        sigsuspend(&none);
    }
    CHECK("SIGALRM from alarm(1) arrived", alarms == 1);
}

static const struct {
    const char *arg, *title;
    void (*fn)(void);
} sections[] = {
    {"values", "huge setitimer values: accepted, process still interruptible and killable", huge_values},
    {"interval", "a huge it_interval: one expiry, and other processes' timers still fire", huge_interval},
    {"alarm", "alarm with the largest unsigned values", big_alarm},
    {"replace", "alarm(1) replaces a huge ITIMER_REAL", alarm_replaces_huge},
};

int main(int argc, char **argv)
{
    reset_signals();
    no_core_dumps();
    rep = mmap(NULL, sizeof *rep, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rep == MAP_FAILED)
        return 1;
    for (unsigned i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (argc < 2 || !strcmp(argv[1], sections[i].arg))
            section(sections[i].title, sections[i].fn);
    return finish();
}
