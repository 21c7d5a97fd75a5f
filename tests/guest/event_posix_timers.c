/* POSIX timers: timer_create with SIGEV_SIGNAL, SIGEV_THREAD_ID and
 * SIGEV_NONE on realtime, monotonic and CPU clocks; the siginfo a timer
 * sends, overrun counting while its signal waits, settime/gettime values,
 * TIMER_ABSTIME, deletion, timers across fork and exec; and the CPU clock
 * ids clock_getcpuclockid and pthread_getcpuclockid give. */
#include "event.h"
#include <pthread.h>

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

/* The kernel's timer id (glibc's timer_t is the id for these timers). */
static int kid(timer_t t) { return (int)(intptr_t)t; }

static timer_t make(clockid_t clock, int notify, int sig, int value)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = notify;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_int = value;
    if (notify == SIGEV_THREAD_ID)
        ev._sigev_un._tid = gettid();
    timer_t t = 0;
    if (timer_create(clock, &ev, &t) < 0)
        printf("timer_create: %s  FAIL\n", errname(errno)), vk_failures++;
    return t;
}

static void signals(void)
{
    block(SIGUSR1);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    for (int c = 0; c < 2; c++) {
        clockid_t clock = c ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        const char *name = c ? "CLOCK_REALTIME" : "CLOCK_MONOTONIC";
        timer_t t = make(clock, SIGEV_SIGNAL, SIGUSR1, 4321);
        struct itimerspec it = spec(50000000, 0), cur;
        long long t0 = now_ns();
        timer_settime(t, 0, &it, NULL);
        timer_gettime(t, &cur);
        printf("%s gettime value in (0, 50 ms]: %s\n", name, ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 50000000 ? "yes" : "no");
        siginfo_t si;
        int sig = sigwaitinfo(&s, &si);
        printf("%s: %s %s value %d timerid matches: %s overrun %d, after 50 ms: %s\n", name, signame(sig), si_code_name(sig, si.si_code),
               si.si_value.sival_int, si.si_timerid == kid(t) ? "yes" : "no", si.si_overrun, ms_since(t0) >= 49 ? "yes" : "no");
        timer_gettime(t, &cur);
        printf("%s after expiry: value %lld interval %lld\n", name, ts_ns(cur.it_value), ts_ns(cur.it_interval));
        timer_delete(t);
    }
    /* No sigevent: SIGALRM carrying the timer id. */
    block(SIGALRM);
    timer_t t;
    EXPECT_EQ("timer_create(CLOCK_MONOTONIC, NULL)", timer_create(CLOCK_MONOTONIC, NULL, &t), 0);
    struct itimerspec it = spec(10000000, 0);
    timer_settime(t, 0, &it, NULL);
    sigset_t a;
    sigemptyset(&a);
    sigaddset(&a, SIGALRM);
    siginfo_t si;
    int sig = sigwaitinfo(&a, &si);
    printf("default notification: %s %s\n", signame(sig), si_code_name(sig, si.si_code));
    timer_delete(t);
}

/* While the signal waits (blocked), expirations count as overruns in it;
 * timer_getoverrun reports the last delivered signal's count. */
static void overruns(void)
{
    block(SIGUSR2);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    timer_t t = make(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, 0);
    struct itimerspec it = spec(10000000, 10000000);
    long long t0 = now_ns();
    timer_settime(t, 0, &it, NULL);
    sleep_ms(105);
    siginfo_t si;
    sigwaitinfo(&s, &si);
    /* One signal for the periods that passed: the rest are overruns. */
    long periods = ms_since(t0) / 10;
    int o = si.si_overrun;
    printf("overrun after ~10 periods blocked: at least 6, and the periods that passed less one (give or take 2): %s, timer_getoverrun agrees: %s\n",
           o >= 6 && o >= periods - 3 && o <= periods + 1 ? "yes" : "no", timer_getoverrun(t) == o ? "yes" : "no");
    struct itimerspec cur;
    timer_gettime(t, &cur);
    printf("interval %lld, value in (0, 10 ms]: %s\n", ts_ns(cur.it_interval), ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000 ? "yes" : "no");
    it = spec(0, 0);
    struct itimerspec old;
    timer_settime(t, 0, &it, &old);
    printf("disarm: old interval %lld\n", ts_ns(old.it_interval));
    sleep_ms(30);
    sigset_t pend;
    sigpending(&pend);
    CHECK("no SIGUSR2 pending after disarming", !sigismember(&pend, SIGUSR2));
    EXPECT_EQ("timer_delete", timer_delete(t), 0);
    EXPECT_ERR("timer_delete again", timer_delete(t), EINVAL);
    EXPECT_ERR("timer_gettime of a deleted timer", timer_gettime(t, &cur), EINVAL);
    EXPECT_ERR("timer_settime of a deleted timer", timer_settime(t, 0, &it, NULL), EINVAL);
    EXPECT_ERR("timer_getoverrun of a deleted timer", timer_getoverrun(t), EINVAL);
}

static volatile int thread_hits;
static void on_rt(int s, siginfo_t *si, void *u) { (void)s; (void)u; if (si->si_code == SI_TIMER) thread_hits++; }

static void thread_id_and_none(void)
{
    set_action(SIGRTMIN, on_rt, 0);
    timer_t t = make(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGRTMIN, 0);
    struct itimerspec it = spec(20000000, 0);
    timer_settime(t, 0, &it, NULL);
    for (int i = 0; i < 300 && !thread_hits; i++)
        sleep_ms(10);
    sleep_ms(50);
    printf("SIGEV_THREAD_ID to this thread: %d signal(s)\n", thread_hits);
    timer_delete(t);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN;
    ev._sigev_un._tid = 999999;
    EXPECT_ERR("SIGEV_THREAD_ID naming no thread", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
    ev._sigev_un._tid = getppid();
    EXPECT_ERR("SIGEV_THREAD_ID naming another process", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);

    timer_t n = make(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
    it = spec(40000000, 0);
    timer_settime(n, 0, &it, NULL);
    struct itimerspec cur;
    timer_gettime(n, &cur);
    printf("SIGEV_NONE running: value in (0, 40 ms]: %s\n", ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 40000000 ? "yes" : "no");
    sleep_ms(60);
    timer_gettime(n, &cur);
    printf("SIGEV_NONE expired: value %lld\n", ts_ns(cur.it_value));
    it = spec(10000000, 20000000);
    timer_settime(n, 0, &it, NULL);
    sleep_ms(45);
    timer_gettime(n, &cur);
    printf("SIGEV_NONE periodic: interval %lld, value in (0, 20 ms]: %s, overrun %d\n", ts_ns(cur.it_interval),
           ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 20000000 ? "yes" : "no", timer_getoverrun(n));
    timer_delete(n);
}

static void errors(void)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    timer_t t;
    EXPECT_ERR("timer_create(CLOCK_MONOTONIC_RAW)", timer_create(CLOCK_MONOTONIC_RAW, &ev, &t), EOPNOTSUPP);
    EXPECT_ERR("timer_create(CLOCK_REALTIME_COARSE)", timer_create(CLOCK_REALTIME_COARSE, &ev, &t), EOPNOTSUPP);
    EXPECT_ERR("timer_create(99)", timer_create(99, &ev, &t), EINVAL);
    ev.sigev_signo = 0;
    EXPECT_ERR("SIGEV_SIGNAL with signal 0", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
    ev.sigev_signo = 65;
    EXPECT_ERR("SIGEV_SIGNAL with signal 65", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
    ev.sigev_signo = SIGUSR1;
    ev.sigev_notify = 7;
    EXPECT_ERR("sigev_notify 7", timer_create(CLOCK_MONOTONIC, &ev, &t), EINVAL);
    ev.sigev_notify = SIGEV_SIGNAL;
    EXPECT_ERR("timer_create to a NULL id", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, NULL), EFAULT);
    EXPECT_ERR("timer_create from a bad sigevent", syscall(SYS_timer_create, CLOCK_MONOTONIC, (void *)8, &t), EFAULT);
    int id = -1;
    EXPECT_EQ("raw timer_create", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id), 0);
    struct itimerspec it = spec(1000000000, 0);
    EXPECT_ERR("timer_settime with NULL", syscall(SYS_timer_settime, id, 0, NULL, NULL), EINVAL);
    EXPECT_ERR("timer_settime of id 12345", syscall(SYS_timer_settime, 12345, 0, &it, NULL), EINVAL);
    struct itimerspec bad = {{0, 0}, {0, -1}};
    EXPECT_ERR("timer_settime with a bad time on id 12345 (the time is checked first)", syscall(SYS_timer_settime, 12345, 0, &bad, NULL), EINVAL);
    EXPECT_ERR("timer_gettime to NULL", syscall(SYS_timer_gettime, id, NULL), EFAULT);
    EXPECT_ERR("timer_settime, old value to a bad address", syscall(SYS_timer_settime, id, 0, &it, (void *)8), EFAULT);
    struct itimerspec cur;
    syscall(SYS_timer_gettime, id, &cur);
    printf("armed despite the bad old-value pointer: %s\n", ts_ns(cur.it_value) > 0 ? "yes" : "no");
    /* A forked child has no timers; exec removes them. */
    pid_t c = xfork();
    if (c == 0)
        _exit(syscall(SYS_timer_gettime, id, &cur) < 0 && errno == EINVAL ? 0 : 1);
    printf("a forked child has none of its parent's timers: %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        char arg[32];
        snprintf(arg, sizeof arg, "%d", id);
        execl("/proc/self/exe", "event_posix_timers", "after-exec", arg, (char *)NULL);
        _exit(9);
    }
    printf("after exec: %s\n", status_str(wait_status(c, 0)));
}

static void absolute(void)
{
    block(SIGUSR1);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    timer_t t = make(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR1, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec it = spec(ts_ns(now) + 50000000, 0);
    long long t0 = now_ns();
    EXPECT_EQ("TIMER_ABSTIME realtime now + 50 ms", timer_settime(t, TIMER_ABSTIME, &it, NULL), 0);
    siginfo_t si;
    sigwaitinfo(&s, &si);
    printf("fired at the absolute time, not before: %s\n", ms_since(t0) >= 45 ? "yes" : "no");
    it = spec(ts_ns(now) - 1000000000, 0);
    timer_settime(t, TIMER_ABSTIME, &it, NULL);
    struct timespec zero = {1, 0};
    int sig = sigtimedwait(&s, &si, &zero);
    printf("an absolute time in the past fires at once: %s\n", signame(sig));
    timer_delete(t);
}

static void busy(long ms_cpu, clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    long long end = ts_ns(t) + ms_cpu * 1000000;
    do
        clock_gettime(clock, &t);
    while (ts_ns(t) < end);
}

static void cpu_clocks(void)
{
    clockid_t pc, tc;
    EXPECT_EQ("clock_getcpuclockid(getpid())", clock_getcpuclockid(getpid(), &pc), 0);
    EXPECT_EQ("pthread_getcpuclockid(pthread_self())", pthread_getcpuclockid(pthread_self(), &tc), 0);
    struct timespec a, b, r;
    EXPECT_EQ("clock_gettime(process clock)", clock_gettime(pc, &a), 0);
    EXPECT_EQ("clock_gettime(thread clock)", clock_gettime(tc, &b), 0);
    EXPECT_EQ("clock_getres(process clock)", clock_getres(pc, &r), 0);
    printf("resolution: %ld ns\n", r.tv_nsec);
    /* Spin for 30 ms of this thread's CPU time (not wall time: a loaded
     * machine may give less CPU than wall time). */
    busy(30, tc);
    struct timespec a2, b2, p2;
    clock_gettime(pc, &a2);
    clock_gettime(tc, &b2);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p2);
    printf("30 ms of spinning shows on both clocks: %s\n", ts_ns(a2) - ts_ns(a) >= 29000000 && ts_ns(b2) - ts_ns(b) >= 29000000 ? "yes" : "no");
    printf("CLOCK_PROCESS_CPUTIME_ID agrees with the process clock: %s\n", llabs(ts_ns(p2) - ts_ns(a2)) < 50000000 ? "yes" : "no");
    /* Another process's clock, by pid. */
    int spun[2];
    pipe(spun);
    pid_t c = xfork();
    if (c == 0) {
        busy(50, CLOCK_PROCESS_CPUTIME_ID);
        write(spun[1], "s", 1);
        sleep_ms(300);
        _exit(0);
    }
    char done;
    read(spun[0], &done, 1);
    clockid_t cc;
    EXPECT_EQ("clock_getcpuclockid(child)", clock_getcpuclockid(c, &cc), 0);
    struct timespec ct;
    EXPECT_EQ("clock_gettime(child's clock)", clock_gettime(cc, &ct), 0);
    printf("the child's clock shows its spinning: %s\n", ts_ns(ct) >= 40000000 ? "yes" : "no");
    wait_status(c, 0);
    EXPECT_ERR("clock_gettime of the reaped child's clock", clock_gettime(cc, &ct), EINVAL);
    /* Raw encodings: ((~pid) << 3) | clock, bit 2 for a thread. */
    clockid_t prof = (clockid_t)((~0u << 3) | 0), virt = (clockid_t)((~0u << 3) | 1), sched = (clockid_t)((~0u << 3) | 2);
    EXPECT_EQ("CPUCLOCK_PROF of pid 0", clock_gettime(prof, &ct), 0);
    EXPECT_EQ("CPUCLOCK_VIRT of pid 0", clock_gettime(virt, &ct), 0);
    EXPECT_EQ("CPUCLOCK_SCHED of pid 0", clock_gettime(sched, &ct), 0);
    clock_getres(prof, &r);
    printf("CPUCLOCK_PROF resolution is a tick: %s\n", r.tv_nsec > 1 ? "yes" : "no");
    EXPECT_ERR("clock type 3 (a clock fd)", clock_gettime((clockid_t)((~3u << 3) | 3), &ct), EINVAL);
    EXPECT_ERR("a thread clock with type 3", clock_gettime((clockid_t)((~0u << 3) | 7), &ct), EINVAL);
    EXPECT_ERR("the clock of pid 999999", clock_gettime((clockid_t)((~999999u << 3) | 2), &ct), EINVAL);
    EXPECT_ERR("the thread clock of another process", clock_gettime((clockid_t)((~(unsigned)getppid() << 3) | 6), &ct), EINVAL);
    EXPECT_ERR("clock_getres of pid 999999", clock_getres((clockid_t)((~999999u << 3) | 2), &r), EINVAL);
    printf("clock_nanosleep on this thread's clock: %s\n", errname(clock_nanosleep((clockid_t)((~0u << 3) | 6), 0, &(struct timespec){0, 1000}, NULL)));

    /* A timer on the process CPU clock fires after that much CPU time. */
    block(SIGUSR1);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    timer_t t = make(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 0);
    struct itimerspec it = spec(40000000, 0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    timer_settime(t, 0, &it, NULL);
    sigset_t pend;
    int got = 0;
    for (int i = 0; i < 400 && !got; i++) {
        busy(5, CLOCK_PROCESS_CPUTIME_ID);
        sigpending(&pend);
        got = sigismember(&pend, SIGUSR1);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    printf("CPU-clock timer fired: %s, after at least 40 ms of CPU: %s\n", got ? "yes" : "no", ts_ns(b) - ts_ns(a) >= 39000000 ? "yes" : "no");
    timer_delete(t);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "after-exec")) {
        struct itimerspec cur;
        long r = syscall(SYS_timer_gettime, atoi(argv[2]), &cur);
        return r < 0 && errno == EINVAL ? 0 : 1;
    }
    reset_signals();
    no_core_dumps();
    section("timer signals on both clocks", signals);
    section("overruns while the signal waits", overruns);
    section("SIGEV_THREAD_ID and SIGEV_NONE", thread_id_and_none);
    section("argument checks, fork and exec", errors);
    section("TIMER_ABSTIME", absolute);
    section("CPU clocks and CPU-clock timers", cpu_clocks);
    return finish();
}
