/* Signals interrupting blocked system calls, in forked children: a pipe
 * read interrupted by alarm() fails with EINTR without SA_RESTART and is
 * restarted with it; the same for wait4 and for a write to a full pipe;
 * nanosleep returns EINTR with the time left (never restarted under a
 * handler) and resumes transparently across SIGSTOP/SIGCONT; stops and
 * ignored signals do not interrupt a read; ITIMER_REAL periodic timers,
 * getitimer, alarm's return value, pause; ITIMER_VIRTUAL and ITIMER_PROF. */
#include "proc.h"

static int wake_fd = -1; /* the handler writes one byte here, if set */
static volatile int alarms;

static void on_alarm(int s)
{
    (void)s;
    alarms++;
    if (wake_fd >= 0)
        write(wake_fd, "w", 1);
}

static void pipe_read(int restart)
{
    int p[2];
    pipe(p);
    wake_fd = p[1];
    alarms = 0;
    set_handler(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
    alarm(1);
    char buf[8];
    errno = 0;
    long n = read(p[0], buf, sizeof buf);
    int e = errno;
    printf("read on an empty pipe, alarm(1) %s SA_RESTART: ", restart ? "with" : "without");
    if (n < 0)
        printf("-1 %s", errname(e));
    else
        printf("%ld byte(s)", n);
    printf(", handler ran %d time(s)\n", alarms);
    if (!restart) {
        /* The handler's byte is still there. */
        n = read(p[0], buf, sizeof buf);
        printf("  then read: %ld byte(s)\n", n);
    }
    wake_fd = -1;
    close(p[0]);
    close(p[1]);
}

static void read_eintr(void) { pipe_read(0); }
static void read_restart(void) { pipe_read(1); }

static int release_fd = -1; /* the handler closes this, letting a child exit */
static void on_timer_release(int s)
{
    (void)s;
    alarms++;
    if (release_fd >= 0) {
        close(release_fd);
        release_fd = -1;
    }
}

static int drain_fd = -1; /* the handler reads a page from this pipe */
static void on_timer_drain(int s)
{
    (void)s;
    static char page[4096];
    if (drain_fd >= 0)
        read(drain_fd, page, sizeof page);
}

static void wait_and_write(void)
{
    for (int restart = 0; restart <= 1; restart++) {
        int gate[2];
        pipe(gate);
        pid_t c = xfork();
        if (c == 0) {
            char b;
            close(gate[1]);
            read(gate[0], &b, 1); /* EOF once the parent's handler closes it */
            _exit(3);
        }
        close(gate[0]);
        release_fd = gate[1];
        alarms = 0;
        set_handler(SIGALRM, on_timer_release, restart ? SA_RESTART : 0);
        arm_timer_ms(200);
        int st = 0;
        errno = 0;
        pid_t r = wait4(c, &st, 0, NULL);
        int e = errno;
        printf("wait4 interrupted by a timer %s SA_RESTART: %s\n", restart ? "with" : "without",
               r == c ? status_str(st) : errname(e));
        if (r != c)
            printf("  then wait4: %s\n", status_str(wait_status(c, 0)));
    }

    /* A write blocked on a full pipe. */
    for (int restart = 0; restart <= 1; restart++) {
        int p[2];
        pipe2(p, O_NONBLOCK);
        static char chunk[65536];
        long filled = 0, n;
        while ((n = write(p[1], chunk, sizeof chunk)) > 0)
            filled += n;
        fcntl(p[1], F_SETFL, 0); /* blocking again */
        drain_fd = p[0];
        set_handler(SIGALRM, on_timer_drain, restart ? SA_RESTART : 0);
        arm_timer_ms(200);
        errno = 0;
        n = write(p[1], "x", 1);
        printf("write to a full pipe (%ld bytes) interrupted %s SA_RESTART: ", filled, restart ? "with" : "without");
        if (n < 0)
            printf("-1 %s\n", errname(errno));
        else
            printf("%ld\n", n);
        drain_fd = -1;
        close(p[0]);
        close(p[1]);
    }
}

static void on_plain(int s) { (void)s; alarms++; }

static void sleeps(void)
{
    set_handler(SIGALRM, on_plain, SA_RESTART);
    arm_timer_ms(100);
    struct timespec req = {2, 0}, rem = {0, 0};
    errno = 0;
    int r = nanosleep(&req, &rem);
    int e = errno;
    printf("nanosleep(2 s) with a 100 ms timer, even with SA_RESTART: %d %s\n", r, r ? errname(e) : "");
    double left = rem.tv_sec + rem.tv_nsec / 1e9;
    CHECK("  time left between 0.5 s and 2 s", left > 0.5 && left <= 2.0);
    CHECK("  tv_nsec normalized", rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000);

    arm_timer_ms(100);
    rem.tv_sec = rem.tv_nsec = 0;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
    printf("clock_nanosleep(relative 2 s) interrupted: %s\n", errname(r));
    left = rem.tv_sec + rem.tv_nsec / 1e9;
    CHECK("  time left between 0.5 s and 2 s", left > 0.5 && left <= 2.0);

    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 2;
    arm_timer_ms(100);
    rem.tv_sec = 77;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem);
    printf("clock_nanosleep(absolute) interrupted: %s, rem untouched: %s\n", errname(r), rem.tv_sec == 77 ? "yes" : "no");

    EXPECT_ERR("nanosleep with tv_nsec 1e9", nanosleep(&(struct timespec){0, 1000000000}, NULL), EINVAL);
    EXPECT_ERR("nanosleep with a negative time", nanosleep(&(struct timespec){-1, 0}, NULL), EINVAL);
    EXPECT_ERR("nanosleep with a bad pointer", syscall(SYS_nanosleep, (void *)8, NULL), EFAULT);
}

static void stop_continue_transparent(void)
{
    /* A child sleeping 400 ms is stopped and continued: the sleep resumes
     * (restart_syscall) and returns 0 after the full time. */
    int p[2];
    pipe(p);
    pid_t c = xfork();
    if (c == 0) {
        long long start = now_ns();
        struct timespec req = {0, 400 * 1000000};
        int r = nanosleep(&req, NULL);
        long long ms = (now_ns() - start) / 1000000;
        char line[128];
        int n = snprintf(line, sizeof line, "nanosleep across SIGSTOP/SIGCONT: %d, slept the full time: %s\n", r,
                         ms >= 399 ? "yes" : "no");
        write(p[1], line, n);
        _exit(0);
    }
    sleep_ms(100);
    kill(c, SIGSTOP);
    wait_status(c, WUNTRACED);
    kill(c, SIGCONT);
    wait_status(c, 0);
    char line[128] = {0};
    read(p[0], line, sizeof line - 1);
    printf("%s", line);
    close(p[0]);
    close(p[1]);

    /* A reader stopped and continued, and sent an ignored signal, keeps
     * reading: the data written afterwards arrives. */
    int data[2], out[2];
    pipe(data);
    pipe(out);
    c = xfork();
    if (c == 0) {
        signal(SIGUSR2, SIG_IGN);
        char buf[16] = {0};
        errno = 0;
        long n = read(data[0], buf, sizeof buf - 1);
        char line[128];
        int len = snprintf(line, sizeof line, "blocked read after STOP, CONT, an ignored signal and SIGCHLD: %ld '%s' %s\n",
                           n, buf, n < 0 ? errname(errno) : "");
        write(out[1], line, len);
        _exit(0);
    }
    sleep_ms(100);
    kill(c, SIGSTOP);
    wait_status(c, WUNTRACED);
    kill(c, SIGCONT);
    kill(c, SIGUSR2);
    kill(c, SIGCHLD);
    kill(c, SIGWINCH);
    sleep_ms(50);
    write(data[1], "data", 4);
    wait_status(c, 0);
    memset(line, 0, sizeof line);
    read(out[0], line, sizeof line - 1);
    printf("%s", line);
}

static void timers(void)
{
    set_handler(SIGALRM, on_plain, 0);
    struct itimerval it = {{0, 20000}, {0, 20000}}, cur;
    EXPECT_EQ("setitimer ITIMER_REAL 20 ms periodic", setitimer(ITIMER_REAL, &it, NULL), 0);
    getitimer(ITIMER_REAL, &cur);
    printf("  getitimer interval %ld.%06ld, value within it: %s\n", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec <= 20000 ? "yes" : "no");
    alarms = 0;
    sigset_t none;
    sigemptyset(&none);
    block(SIGALRM);
    while (alarms < 5)
        sigsuspend(&none);
    printf("  five expirations seen: %d\n", alarms);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &cur);
    CHECK("  disarming returns the old interval", cur.it_interval.tv_usec == 20000);
    getitimer(ITIMER_REAL, &cur);
    CHECK("  disarmed: getitimer is zero", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    unblock(SIGALRM);
    EXPECT_ERR("setitimer with a bad which", setitimer(7, &it, NULL), EINVAL);
    struct itimerval badus = {{0, 0}, {0, 1000000}};
    EXPECT_ERR("setitimer with tv_usec 1e6", setitimer(ITIMER_REAL, &badus, NULL), EINVAL);

    EXPECT_EQ("alarm(5) with none pending", alarm(5), 0);
    EXPECT_EQ("alarm(0) returns the seconds left", alarm(0), 5);
    EXPECT_EQ("alarm(0) again", alarm(0), 0);

    /* pause returns -1 EINTR after a handler ran. */
    alarms = 0;
    arm_timer_ms(50);
    EXPECT_ERR("pause until a 50 ms timer", pause(), EINTR);
    EXPECT_EQ("  handler ran", alarms, 1);

    /* alarm with the default action terminates the process. */
    pid_t c = xfork();
    if (c == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(1);
        for (;;)
            pause();
    }
    printf("alarm(1) with the default action: %s\n", status_str(wait_status(c, 0)));
}

static volatile int vtalrm, prof;
static void on_cpu_timer(int s)
{
    if (s == SIGVTALRM)
        vtalrm++;
    else
        prof++;
}

static void cpu_timers(void)
{
    set_handler(SIGVTALRM, on_cpu_timer, SA_RESTART);
    set_handler(SIGPROF, on_cpu_timer, SA_RESTART);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    EXPECT_EQ("setitimer ITIMER_VIRTUAL 10 ms", setitimer(ITIMER_VIRTUAL, &it, NULL), 0);
    EXPECT_EQ("setitimer ITIMER_PROF 10 ms", setitimer(ITIMER_PROF, &it, NULL), 0);
    /* Burn CPU until both fired three times (bounded by the watchdog). */
    volatile unsigned long x = 0;
    while (vtalrm < 3 || prof < 3)
        x++;
    printf("ITIMER_VIRTUAL and ITIMER_PROF each fired at least 3 times while computing: yes\n");
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    setitimer(ITIMER_PROF, &off, NULL);
    /* Sleeping does not advance ITIMER_VIRTUAL. */
    struct itimerval cur;
    struct itimerval once = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_VIRTUAL, &once, NULL);
    int before = vtalrm;
    sleep_ms(200);
    getitimer(ITIMER_VIRTUAL, &cur);
    CHECK("ITIMER_VIRTUAL does not run while sleeping", vtalrm == before && (cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0));
    setitimer(ITIMER_VIRTUAL, &off, NULL);
}

int main(void)
{
    reset_signals();
    section("pipe read interrupted, no SA_RESTART", read_eintr);
    section("pipe read interrupted, SA_RESTART", read_restart);
    section("wait4 and a full-pipe write interrupted", wait_and_write);
    section("nanosleep interrupted", sleeps);
    section("stops and ignored signals do not interrupt", stop_continue_transparent);
    section("ITIMER_REAL, alarm, pause", timers);
    section("ITIMER_VIRTUAL and ITIMER_PROF", cpu_timers);
    return finish();
}
