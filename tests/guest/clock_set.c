/* Guest root sets the guest's wall clock (run under vkernel only: natively
 * this would set the host's). Checks Linux's behaviour: CLOCK_REALTIME,
 * TAI and the coarse realtime clock move (vDSO and system call agree),
 * the monotonic clocks do not; settimeofday's timezone is what
 * gettimeofday reports; a TFD_TIMER_CANCEL_ON_SET timerfd reads
 * ECANCELED; an absolute CLOCK_REALTIME sleep, futex waits (WAIT_BITSET
 * with FUTEX_CLOCK_REALTIME, LOCK_PI, futex_waitv on CLOCK_REALTIME),
 * timerfd and POSIX timer end when the clock is set past their deadline,
 * and the futex waits last longer when it is set back; new file
 * timestamps follow the clock; a non-root caller gets EPERM and the clock
 * stays. */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <signal.h>
#include <time.h>

static long long ns_of(clockid_t c, int raw)
{
    struct timespec ts;
    if (raw)
        syscall(SYS_clock_gettime, c, &ts);
    else
        clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* btime of /proc/stat. */
static long long btime(void)
{
    char buf[8192];
    FILE *f = fopen("/proc/stat", "r");
    long long b = -1;
    if (!f)
        return -1;
    while (fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %lld", &b) == 1)
            break;
    fclose(f);
    return b;
}

static int set_realtime(long long ns)
{
    struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
    return clock_settime(CLOCK_REALTIME, &ts);
}

#define SEC 1000000000LL

/* A PI lock word the parent owns, shared with the waiting children. */
static uint32_t *pi_word;

struct waitv_entry {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static const char *const waiter_kinds[] = {"FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME", "FUTEX_LOCK_PI", "futex_waitv on CLOCK_REALTIME"};

/* A child waiting until CLOCK_REALTIME reads `deadline` with waiter kind
 * `kind`; it exits 0 if the wait timed out within 20 s of waiting. */
static pid_t realtime_waiter(int kind, long long deadline)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    static uint32_t word;
    struct timespec until = {deadline / SEC, deadline % SEC};
    long long start = ns_of(CLOCK_MONOTONIC, 1);
    long r;
    if (kind == 0) {
        r = syscall(SYS_futex, &word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG, 0, &until, NULL, FUTEX_BITSET_MATCH_ANY);
    } else if (kind == 1) {
        r = syscall(SYS_futex, pi_word, FUTEX_LOCK_PI, 0, &until, NULL, 0);
    } else {
        struct waitv_entry w = {.val = 0, .uaddr = (uintptr_t)&word, .flags = 2 /* FUTEX2_SIZE_U32 */ | 128 /* FUTEX2_PRIVATE */};
        r = syscall(SYS_futex_waitv, &w, 1, 0, &until, CLOCK_REALTIME);
    }
    _exit(r == -1 && errno == ETIMEDOUT && ns_of(CLOCK_MONOTONIC, 1) - start < 20 * SEC ? 0 : 1);
}

int main(void)
{
    long long btime0 = btime();
    long long real0 = ns_of(CLOCK_REALTIME, 1), mono0 = ns_of(CLOCK_MONOTONIC, 1), tai0 = ns_of(CLOCK_TAI, 1);
    const long long hour = 3600 * SEC;

    EXPECT_EQ("clock_settime realtime +1h", set_realtime(real0 + hour), 0);
    long long real1 = ns_of(CLOCK_REALTIME, 1), mono1 = ns_of(CLOCK_MONOTONIC, 1);
    CHECK("realtime moved by an hour", real1 - real0 >= hour && real1 - real0 < hour + 5 * SEC);
    CHECK("vdso realtime agrees", llabs(ns_of(CLOCK_REALTIME, 0) - ns_of(CLOCK_REALTIME, 1)) < SEC / 100);
    CHECK("coarse realtime follows", llabs(ns_of(CLOCK_REALTIME_COARSE, 0) - real1) < SEC);
    /* TAI keeps its distance from REALTIME (tai0 was read a moment after
     * real0, so compare the offsets, not the readings). */
    long long tai_gap0 = tai0 - real0, tai_gap1 = ns_of(CLOCK_TAI, 1) - ns_of(CLOCK_REALTIME, 1);
    CHECK("tai follows", llabs(tai_gap1 - tai_gap0) < SEC / 10);
    CHECK("btime moved with it", btime() - btime0 >= 3599 && btime() - btime0 <= 3601);
    CHECK("monotonic did not jump", mono1 - mono0 >= 0 && mono1 - mono0 < 5 * SEC);
    CHECK("time() follows", time(NULL) >= (real0 + hour) / SEC);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    CHECK("gettimeofday follows", tv.tv_sec >= (real0 + hour) / SEC);

    /* The timezone. */
    struct timezone tz = {.tz_minuteswest = -60, .tz_dsttime = 0}, got = {1, 1};
    EXPECT_EQ("settimeofday tz only", settimeofday(NULL, &tz), 0);
    EXPECT_EQ("gettimeofday (vdso)", gettimeofday(&tv, &got), 0);
    EXPECT_EQ("tz minutes west", got.tz_minuteswest, -60);
    got.tz_minuteswest = 1;
    syscall(SYS_gettimeofday, &tv, &got);
    EXPECT_EQ("tz minutes west (syscall)", got.tz_minuteswest, -60);
    CHECK("the tz-only call left the clock alone", ns_of(CLOCK_REALTIME, 1) - real1 < 5 * SEC);
    tz.tz_minuteswest = 16 * 60;
    EXPECT_ERR("tz out of range", settimeofday(NULL, &tz), EINVAL);
    struct timespec bad = {-1, 0};
    EXPECT_ERR("negative time", clock_settime(CLOCK_REALTIME, &bad), EINVAL);
    EXPECT_ERR("monotonic cannot be set", clock_settime(CLOCK_MONOTONIC, &bad), EINVAL);

    /* TFD_TIMER_CANCEL_ON_SET. */
    int tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    struct itimerspec its = {.it_value = {ns_of(CLOCK_REALTIME, 1) / SEC + 1000, 0}};
    EXPECT_EQ("arm cancel-on-set", timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL), 0);
    uint64_t ticks;
    EXPECT_ERR("nothing yet", read(tfd, &ticks, sizeof ticks), EAGAIN);
    EXPECT_EQ("set again", set_realtime(ns_of(CLOCK_REALTIME, 1) + SEC), 0);
    EXPECT_ERR("cancelled", read(tfd, &ticks, sizeof ticks), ECANCELED);

    /* Absolute realtime waits end when the clock passes their deadline:
     * a sleep and a futex wait in children, a timerfd and a POSIX timer
     * here. */
    pid_t sleeper = fork();
    if (sleeper == 0) {
        struct timespec until = {ns_of(CLOCK_REALTIME, 1) / SEC + 30, 0};
        long long start = ns_of(CLOCK_MONOTONIC, 1);
        int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
        _exit(r == 0 && ns_of(CLOCK_MONOTONIC, 1) - start < 20 * SEC ? 0 : 1);
    }
    pi_word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK("shared PI word", pi_word != MAP_FAILED);
    *pi_word = (uint32_t)syscall(SYS_gettid);
    pid_t waiters[3];
    for (int k = 0; k < 3; k++)
        waiters[k] = realtime_waiter(k, ns_of(CLOCK_REALTIME, 1) + 30 * SEC);
    int abs_tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    struct itimerspec later = {.it_value = {ns_of(CLOCK_REALTIME, 1) / SEC + 30, 0}};
    EXPECT_EQ("arm an absolute timerfd", timerfd_settime(abs_tfd, TFD_TIMER_ABSTIME, &later, NULL), 0);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    timer_t ptimer;
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    EXPECT_EQ("timer_create", timer_create(CLOCK_REALTIME, &sev, &ptimer), 0);
    EXPECT_EQ("arm an absolute POSIX timer", timer_settime(ptimer, TIMER_ABSTIME, &later, NULL), 0);
    struct timespec pause = {0, 300000000};
    nanosleep(&pause, NULL);
    EXPECT_EQ("timerfd not due yet", read(abs_tfd, &ticks, sizeof ticks), -1);
    EXPECT_EQ("set past the deadlines", set_realtime(ns_of(CLOCK_REALTIME, 1) + 60 * SEC), 0);
    int status = -1;
    waitpid(sleeper, &status, 0);
    EXPECT_EQ("the absolute sleep ended at once", WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0);
    for (int k = 0; k < 3; k++) {
        char label[128];
        snprintf(label, sizeof label, "%s timed out at once", waiter_kinds[k]);
        waitpid(waiters[k], &status, 0);
        EXPECT_EQ(label, WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0);
    }
    struct timespec five = {5, 0};
    EXPECT_EQ("the POSIX timer fired", sigtimedwait(&alrm, NULL, &five), SIGALRM);
    ticks = 0;
    for (int i = 0; i < 50 && read(abs_tfd, &ticks, sizeof ticks) != 8; i++)
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    EXPECT_EQ("the timerfd expired once", ticks, 1);

    /* Set back, the same waits last longer; set forward past their
     * deadline again, they end at once. */
    for (int k = 0; k < 3; k++)
        waiters[k] = realtime_waiter(k, ns_of(CLOCK_REALTIME, 1) + 3 * SEC / 2);
    nanosleep(&pause, NULL);
    EXPECT_EQ("set back an hour", set_realtime(ns_of(CLOCK_REALTIME, 1) - hour), 0);
    nanosleep(&(struct timespec){2, 500000000}, NULL);
    for (int k = 0; k < 3; k++) {
        char label[128];
        snprintf(label, sizeof label, "%s still waits past its first deadline", waiter_kinds[k]);
        EXPECT_EQ(label, waitpid(waiters[k], &status, WNOHANG), 0);
    }
    EXPECT_EQ("set forward past it", set_realtime(ns_of(CLOCK_REALTIME, 1) + hour + 10 * SEC), 0);
    for (int k = 0; k < 3; k++) {
        char label[128];
        snprintf(label, sizeof label, "%s then timed out", waiter_kinds[k]);
        waitpid(waiters[k], &status, 0);
        EXPECT_EQ(label, WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0);
    }

    /* File times follow the guest's clock. */
    int fd = open("/tmp/clock-set-file", O_CREAT | O_WRONLY, 0644);
    struct stat st;
    fstat(fd, &st);
    CHECK("mtime from the set clock", st.st_mtime >= (real0 + hour) / SEC);
    close(fd);
    unlink("/tmp/clock-set-file");

    /* Back to (about) the host's time; then a non-root caller is refused. */
    EXPECT_EQ("set back", set_realtime(real0 + (ns_of(CLOCK_MONOTONIC, 1) - mono0)), 0);
    CHECK("back near the host's time", llabs(ns_of(CLOCK_REALTIME, 1) - (real0 + ns_of(CLOCK_MONOTONIC, 1) - mono0)) < 10 * SEC);
    pid_t child = fork();
    if (child == 0) {
        if (setuid(65534) != 0)
            _exit(2);
        errno = 0;
        int r = set_realtime(ns_of(CLOCK_REALTIME, 1) + hour);
        _exit(r == -1 && errno == EPERM ? 0 : 1);
    }
    waitpid(child, &status, 0);
    EXPECT_EQ("non-root gets EPERM", WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0);
    CHECK("and the clock stayed", llabs(ns_of(CLOCK_REALTIME, 1) - (real0 + ns_of(CLOCK_MONOTONIC, 1) - mono0)) < 10 * SEC);
    return vk_failures != 0;
}
