/* Sleeps and timed waits given huge times (tv_sec INT64_MAX, INT64_MAX/2,
 * KTIME_MAX nanoseconds and one past it, INT_MAX milliseconds) block as if
 * forever: Linux saturates such times to KTIME_MAX. And every such wait
 * still ends the way Linux ends it:
 *   - for a handled signal: SIGUSR1 has an SA_RESTART handler, so the call
 *     either returns EINTR or is restarted (it stays blocked; the handler
 *     count, kept in shared memory, shows the signal arrived); SIGUSR2's
 *     handler has no SA_RESTART and then ends any wait with EINTR;
 *   - for SIGSTOP then SIGCONT: blocked again, or EINTR where Linux says so
 *     (rt_sigtimedwait, epoll_wait; see signal(7));
 *   - for SIGKILL: the parent's waitpid sees WTERMSIG == SIGKILL in 2 s;
 *   - shared futexes and semaphores in MAP_SHARED memory are woken by the
 *     other process.
 * Waits without a time are here too (wait4, pipe and FIFO reads, a FIFO
 * open, flock and F_SETLKW behind someone else's lock, a 4 GiB sendfile
 * into a full pty, sigsuspend, pause).
 * Every blocked call runs in a grandchild of the top process; only the
 * orchestrating child prints, so the output is the same natively and under
 * vkernel (no pids or times; "left: huge" for a written-back time > 1e9 s).
 *
 * Usage: robust_waits CALL, where CALL names a family of entries in
 * `calls` below ("clock_nanosleep" runs every "clock_nanosleep/..."), or
 * "all". */
#include "proc.h"
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* What the blocked process reports, in memory shared with its parent. */
struct shared {
    volatile int usr1, usr2;
    volatile int returned;
    long ret;
    int err;
    char note[160];
};
static struct shared *sh;

/* Each blocked process gets its own shared futex word and semaphore, so
 * that one left blocked by a failed check cannot take another's wake-up. */
#define SLOTS 256
struct wakeables {
    volatile int futex_word[SLOTS];
    sem_t sem[SLOTS];
};
static struct wakeables *wk;
static int slot;
#define FUTEX_WORD (&wk->futex_word[slot])
#define SEM (&wk->sem[slot])

/* A timeout: a timespec (or timeval: nsec holds microseconds), a count of
 * milliseconds (ms kinds), or none at all (NULL or -1). */
struct variant {
    const char *name;
    long long sec, nsec;
    int none;
};

#define KTIME_MAX_SEC 9223372036LL
#define KTIME_MAX_NSEC 854775807LL

static const struct variant huge_ts[] = {
    {"tv_sec INT64_MAX, tv_nsec 999999999", INT64_MAX, 999999999, 0},
    {"tv_sec INT64_MAX/2", INT64_MAX / 2, 0, 0},
    {"KTIME_MAX ns", KTIME_MAX_SEC, KTIME_MAX_NSEC, 0},
    {"KTIME_MAX + 1 ns", KTIME_MAX_SEC, KTIME_MAX_NSEC + 1, 0},
    {NULL, 0, 0, 0},
};
static const struct variant huge_ts_or_null[] = {
    {"tv_sec INT64_MAX, tv_nsec 999999999", INT64_MAX, 999999999, 0},
    {"tv_sec INT64_MAX/2", INT64_MAX / 2, 0, 0},
    {"KTIME_MAX ns", KTIME_MAX_SEC, KTIME_MAX_NSEC, 0},
    {"KTIME_MAX + 1 ns", KTIME_MAX_SEC, KTIME_MAX_NSEC + 1, 0},
    {"no timeout (NULL)", 0, 0, 1},
    {NULL, 0, 0, 0},
};
static const struct variant huge_tv_or_null[] = {
    {"tv_sec INT64_MAX, tv_usec 999999", INT64_MAX, 999999, 0},
    {"tv_sec INT64_MAX/2", INT64_MAX / 2, 0, 0},
    {"KTIME_MAX in microseconds", 9223372036854LL, 775807, 0},
    {"tv_sec INT64_MAX-1, tv_usec 1000000 (normalized)", INT64_MAX - 1, 1000000, 0},
    {"no timeout (NULL)", 0, 0, 1},
    {NULL, 0, 0, 0},
};
static const struct variant huge_ms[] = {
    {"INT_MAX ms", INT_MAX, 0, 0},
    {"-1 ms (forever)", -1, 0, 0},
    {"INT_MIN ms (negative: forever)", INT_MIN, 0, 0},
    {NULL, 0, 0, 0},
};
static const struct variant no_timeout[] = {
    {"no timeout", 0, 0, 1},
    {NULL, 0, 0, 0},
};

static struct timespec ts_of(const struct variant *v)
{
    struct timespec t;
    t.tv_sec = v->sec;
    t.tv_nsec = v->nsec;
    return t;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->note, sizeof sh->note, fmt, ap);
    va_end(ap);
}

/* A time the kernel wrote back: "huge" (> 1e9 s left), "unchanged" (the
 * input as given), "zero", or "other". */
static const char *left(long long sec, long long frac, const struct variant *v, long long frac_max)
{
    if (sec == v->sec && frac == v->nsec)
        return "unchanged";
    if (frac < 0 || frac >= frac_max)
        return "not normalized";
    if (sec > 1000000000LL)
        return "huge";
    if (sec == 0 && frac == 0)
        return "zero";
    return "other";
}

/* Per-call state set up in the blocked process before it says "ready". */
static int pfd[2] = {-1, -1};
static int epfd = -1;
static int fifo_fd = -1;
static pid_t grandchild;
static char fifo_path[128];

static void prep_pipe(void)
{
    if (pipe(pfd) < 0)
        _exit(91);
}

static void prep_epoll(void)
{
    prep_pipe();
    epfd = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN};
    e.data.fd = pfd[0];
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0], &e) < 0)
        _exit(92);
}

static void prep_sigset(void)
{
    block(SIGRTMIN + 2);
}

/* A child that outlives nothing: it exits when its parent dies (pdeathsig,
 * and EOF on a pipe only the parent holds), or after 30 s. */
static void prep_child(void)
{
    prep_pipe();
    grandchild = fork();
    if (grandchild == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(pfd[1]);
        alarm(30);
        char b;
        read(pfd[0], &b, 1);
        _exit(0);
    }
    close(pfd[0]);
}

static int fifo_counter;
static void prep_fifo_name(void)
{
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo-%d", scratch(), fifo_counter);
    unlink(fifo_path);
    if (mkfifo(fifo_path, 0600) < 0)
        _exit(93);
}

static void prep_fifo_rdwr(void)
{
    prep_fifo_name();
    fifo_fd = open(fifo_path, O_RDWR);
    if (fifo_fd < 0)
        _exit(94);
}

/* Locks held elsewhere: flock by another open file description of the
 * same file (in this process), a POSIX lock by another process. */
static int lock_fd = -1;
static void lock_path(char *out, size_t n) { snprintf(out, n, "%s/lock-%d", scratch(), fifo_counter); }

static void prep_flock(void)
{
    char p[160];
    lock_path(p, sizeof p);
    int a = open(p, O_CREAT | O_RDWR, 0600);
    lock_fd = open(p, O_RDWR);
    if (a < 0 || lock_fd < 0 || flock(a, LOCK_EX) < 0)
        _exit(95);
}

static void prep_posix_lock(void)
{
    char p[160];
    lock_path(p, sizeof p);
    lock_fd = open(p, O_CREAT | O_RDWR, 0600);
    int ready[2];
    if (lock_fd < 0 || pipe(ready) < 0)
        _exit(96);
    grandchild = fork();
    if (grandchild == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(30);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        fcntl(lock_fd, F_SETLK, &fl);
        write(ready[1], "l", 1);
        for (;;)
            pause();
    }
    char b;
    read_full(ready[0], &b, 1);
}

static void result(long r, int e)
{
    sh->ret = r;
    sh->err = e;
}

/* The blocking calls. Each runs in the blocked process. */
#define SYSCALL_RESULT(expr)                                                                                           \
    do {                                                                                                               \
        errno = 0;                                                                                                     \
        long r_ = (long)(expr);                                                                                        \
        result(r_, errno);                                                                                             \
    } while (0)

static void b_nanosleep(const struct variant *v)
{
    struct timespec t = ts_of(v), rem = {-7, -7};
    SYSCALL_RESULT(syscall(SYS_nanosleep, &t, &rem));
    if (sh->ret < 0 && sh->err == EINTR)
        note("remaining time left: %s", left(rem.tv_sec, rem.tv_nsec, v, 1000000000));
}

static void clock_sleep(clockid_t clock, int flags, const struct variant *v)
{
    struct timespec t = ts_of(v), rem = {-7, -7};
    SYSCALL_RESULT(syscall(SYS_clock_nanosleep, clock, flags, &t, &rem));
    if (sh->ret < 0 && sh->err == EINTR) {
        if (flags & TIMER_ABSTIME)
            note("rem untouched: %s", rem.tv_sec == -7 && rem.tv_nsec == -7 ? "yes" : "no");
        else
            note("remaining time left: %s", left(rem.tv_sec, rem.tv_nsec, v, 1000000000));
    }
}
static void b_cns_rt_rel(const struct variant *v) { clock_sleep(CLOCK_REALTIME, 0, v); }
static void b_cns_mono_rel(const struct variant *v) { clock_sleep(CLOCK_MONOTONIC, 0, v); }
static void b_cns_boot_rel(const struct variant *v) { clock_sleep(CLOCK_BOOTTIME, 0, v); }
static void b_cns_rt_abs(const struct variant *v) { clock_sleep(CLOCK_REALTIME, TIMER_ABSTIME, v); }
static void b_cns_mono_abs(const struct variant *v) { clock_sleep(CLOCK_MONOTONIC, TIMER_ABSTIME, v); }
static void b_cns_boot_abs(const struct variant *v) { clock_sleep(CLOCK_BOOTTIME, TIMER_ABSTIME, v); }

static void b_sigtimedwait(const struct variant *v)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    struct timespec t = ts_of(v);
    siginfo_t info;
    SYSCALL_RESULT(syscall(SYS_rt_sigtimedwait, &set, &info, v->none ? NULL : &t, 8));
}

static int private_word;
static void futex_call(volatile int *word, int op, const struct variant *v)
{
    struct timespec t = ts_of(v);
    SYSCALL_RESULT(syscall(SYS_futex, word, op, 0, v->none ? NULL : &t, NULL, FUTEX_BITSET_MATCH_ANY));
}
static void b_futex_private(const struct variant *v) { futex_call(&private_word, FUTEX_WAIT_PRIVATE, v); }
static void b_futex_shared(const struct variant *v) { futex_call(FUTEX_WORD, FUTEX_WAIT, v); }
static void b_bitset_private_mono(const struct variant *v)
{
    futex_call(&private_word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, v);
}
static void b_bitset_private_rt(const struct variant *v)
{
    futex_call(&private_word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, v);
}
static void b_bitset_shared_mono(const struct variant *v) { futex_call(FUTEX_WORD, FUTEX_WAIT_BITSET, v); }
static void b_bitset_shared_rt(const struct variant *v)
{
    futex_call(FUTEX_WORD, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, v);
}

static void b_sem_timedwait(const struct variant *v)
{
    struct timespec t = ts_of(v);
    if (v->none)
        SYSCALL_RESULT(sem_wait(SEM));
    else
        SYSCALL_RESULT(sem_timedwait(SEM, &t));
}
static void b_sem_clockwait(const struct variant *v)
{
    struct timespec t = ts_of(v);
    SYSCALL_RESULT(sem_clockwait(SEM, CLOCK_MONOTONIC, &t));
}

static void b_poll(const struct variant *v)
{
    struct pollfd f = {pfd[0], POLLIN, 0};
    SYSCALL_RESULT(syscall(SYS_poll, &f, 1, (int)v->sec));
}

static void b_ppoll(const struct variant *v)
{
    struct pollfd f = {pfd[0], POLLIN, 0};
    struct timespec t = ts_of(v);
    SYSCALL_RESULT(syscall(SYS_ppoll, &f, 1, v->none ? NULL : &t, NULL, 8));
    if (sh->ret < 0 && sh->err == EINTR && !v->none)
        note("timeout written back: %s", left(t.tv_sec, t.tv_nsec, v, 1000000000));
}

static void b_select(const struct variant *v)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pfd[0], &r);
    struct timeval t = {v->sec, v->nsec};
    SYSCALL_RESULT(syscall(SYS_select, pfd[0] + 1, &r, NULL, NULL, v->none ? NULL : &t));
    if (sh->ret < 0 && sh->err == EINTR && !v->none)
        note("timeout written back: %s", left(t.tv_sec, t.tv_usec, v, 1000000));
}

static void b_pselect6(const struct variant *v)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pfd[0], &r);
    struct timespec t = ts_of(v);
    SYSCALL_RESULT(syscall(SYS_pselect6, pfd[0] + 1, &r, NULL, NULL, v->none ? NULL : &t, NULL));
    if (sh->ret < 0 && sh->err == EINTR && !v->none)
        note("timeout written back: %s", left(t.tv_sec, t.tv_nsec, v, 1000000000));
}

static void b_epoll_wait(const struct variant *v)
{
    struct epoll_event e[4];
    SYSCALL_RESULT(syscall(SYS_epoll_wait, epfd, e, 4, (int)v->sec));
}

static void b_epoll_pwait(const struct variant *v)
{
    struct epoll_event e[4];
    sigset_t none;
    sigemptyset(&none);
    SYSCALL_RESULT(syscall(SYS_epoll_pwait, epfd, e, 4, (int)v->sec, &none, 8));
}

static void b_epoll_pwait2(const struct variant *v)
{
    struct epoll_event e[4];
    struct timespec t = ts_of(v);
    SYSCALL_RESULT(syscall(SYS_epoll_pwait2, epfd, e, 4, v->none ? NULL : &t, NULL, 8));
}

static void b_wait4(const struct variant *v)
{
    (void)v;
    int st;
    SYSCALL_RESULT(syscall(SYS_wait4, grandchild, &st, 0, NULL));
}

static void b_waitid(const struct variant *v)
{
    (void)v;
    siginfo_t info;
    SYSCALL_RESULT(syscall(SYS_waitid, P_PID, grandchild, &info, WEXITED, NULL));
}

static void b_pipe_read(const struct variant *v)
{
    (void)v;
    char b[16];
    SYSCALL_RESULT(read(pfd[0], b, sizeof b));
}

static void b_fifo_read(const struct variant *v)
{
    (void)v;
    char b[16];
    SYSCALL_RESULT(read(fifo_fd, b, sizeof b));
}

static void b_fifo_open(const struct variant *v)
{
    (void)v;
    SYSCALL_RESULT(open(fifo_path, O_RDONLY));
}

static void b_flock(const struct variant *v)
{
    (void)v;
    SYSCALL_RESULT(flock(lock_fd, LOCK_SH));
}

static void b_setlkw(const struct variant *v)
{
    (void)v;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    SYSCALL_RESULT(fcntl(lock_fd, F_SETLKW, &fl));
}

/* sendfile of 4 GiB of zeros into a pty master nobody reads: it blocks once
 * the pty is full. A signal ends it with the count copied so far (shown as
 * 1: the count depends on the pty's buffer size). */
static int pty_master = -1;
static void prep_pty(void)
{
    pty_master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (pty_master < 0 || unlockpt(pty_master) < 0)
        _exit(97);
}
static void b_sendfile_pty(const struct variant *v)
{
    (void)v;
    int z = open("/dev/zero", O_RDONLY);
    SYSCALL_RESULT(syscall(SYS_sendfile, pty_master, z, NULL, 1ull << 32));
    if (sh->ret > 0) {
        sh->ret = 1;
        note("a partial count");
    }
}

static void b_sigsuspend(const struct variant *v)
{
    (void)v;
    sigset_t none;
    sigemptyset(&none);
    SYSCALL_RESULT(syscall(SYS_rt_sigsuspend, &none, 8));
}

static void b_pause(const struct variant *v)
{
    (void)v;
    SYSCALL_RESULT(syscall(SYS_pause));
}

/* How the parent wakes a waiter without a signal (0: it cannot). */
enum wake { NO_WAKE, WAKE_FUTEX, WAKE_SEM };

struct call {
    const char *name;
    const struct variant *variants;
    void (*prepare)(void);
    void (*block)(const struct variant *);
    enum wake wake;
};

static const struct call calls[] = {
    {"nanosleep", huge_ts, NULL, b_nanosleep, NO_WAKE},
    {"clock_nanosleep/realtime/relative", huge_ts, NULL, b_cns_rt_rel, NO_WAKE},
    {"clock_nanosleep/monotonic/relative", huge_ts, NULL, b_cns_mono_rel, NO_WAKE},
    {"clock_nanosleep/boottime/relative", huge_ts, NULL, b_cns_boot_rel, NO_WAKE},
    {"clock_nanosleep/realtime/abstime", huge_ts, NULL, b_cns_rt_abs, NO_WAKE},
    {"clock_nanosleep/monotonic/abstime", huge_ts, NULL, b_cns_mono_abs, NO_WAKE},
    {"clock_nanosleep/boottime/abstime", huge_ts, NULL, b_cns_boot_abs, NO_WAKE},
    {"rt_sigtimedwait", huge_ts_or_null, prep_sigset, b_sigtimedwait, NO_WAKE},
    {"futex/wait/private", huge_ts_or_null, NULL, b_futex_private, NO_WAKE},
    {"futex/wait/shared", huge_ts_or_null, NULL, b_futex_shared, WAKE_FUTEX},
    {"futex/wait_bitset/private/monotonic", huge_ts_or_null, NULL, b_bitset_private_mono, NO_WAKE},
    {"futex/wait_bitset/private/realtime", huge_ts_or_null, NULL, b_bitset_private_rt, NO_WAKE},
    {"futex/wait_bitset/shared/monotonic", huge_ts_or_null, NULL, b_bitset_shared_mono, WAKE_FUTEX},
    {"futex/wait_bitset/shared/realtime", huge_ts_or_null, NULL, b_bitset_shared_rt, WAKE_FUTEX},
    {"sem_timedwait", huge_ts_or_null, NULL, b_sem_timedwait, WAKE_SEM},
    {"sem_clockwait/monotonic", huge_ts, NULL, b_sem_clockwait, WAKE_SEM},
    {"poll", huge_ms, prep_pipe, b_poll, NO_WAKE},
    {"ppoll", huge_ts_or_null, prep_pipe, b_ppoll, NO_WAKE},
    {"select", huge_tv_or_null, prep_pipe, b_select, NO_WAKE},
    {"pselect6", huge_ts_or_null, prep_pipe, b_pselect6, NO_WAKE},
    {"epoll_wait", huge_ms, prep_epoll, b_epoll_wait, NO_WAKE},
    {"epoll_pwait", huge_ms, prep_epoll, b_epoll_pwait, NO_WAKE},
    {"epoll_pwait2", huge_ts_or_null, prep_epoll, b_epoll_pwait2, NO_WAKE},
    {"wait4", no_timeout, prep_child, b_wait4, NO_WAKE},
    {"waitid", no_timeout, prep_child, b_waitid, NO_WAKE},
    {"pipe_read", no_timeout, prep_pipe, b_pipe_read, NO_WAKE},
    {"fifo_read", no_timeout, prep_fifo_rdwr, b_fifo_read, NO_WAKE},
    {"fifo_open", no_timeout, prep_fifo_name, b_fifo_open, NO_WAKE},
    {"flock", no_timeout, prep_flock, b_flock, NO_WAKE},
    {"fcntl_setlkw", no_timeout, prep_posix_lock, b_setlkw, NO_WAKE},
    {"sendfile_pty", no_timeout, prep_pty, b_sendfile_pty, NO_WAKE},
    {"sigsuspend", no_timeout, NULL, b_sigsuspend, NO_WAKE},
    {"pause", no_timeout, NULL, b_pause, NO_WAKE},
};
#define NCALLS ((int)(sizeof calls / sizeof calls[0]))

static void on_usr1(int s) { (void)s; sh->usr1++; }
static void on_usr2(int s) { (void)s; sh->usr2++; }

/* Settle time between "ready" and the first signal: the blocked process
 * has then entered its call on any machine we run on. */
#define SETTLE_MS 100

/* Start a blocked process for call c, variant v; returns its pid once it
 * is about to block. */
static pid_t start_blocked(const struct call *c, const struct variant *v)
{
    memset((void *)sh, 0, sizeof *sh);
    slot = (slot + 1) % SLOTS;
    *FUTEX_WORD = 0;
    sem_init(SEM, 1, 0);
    fifo_counter++;
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t pid = xfork();
    if (pid == 0) {
        close(ready[0]);
        alarm(0);
        set_handler(SIGUSR1, on_usr1, SA_RESTART);
        set_handler(SIGUSR2, on_usr2, 0);
        if (c->prepare)
            c->prepare();
        write(ready[1], "r", 1);
        close(ready[1]);
        c->block(v);
        sh->returned = 1;
        _exit(0);
    }
    close(ready[1]);
    char b;
    read_full(ready[0], &b, 1);
    close(ready[0]);
    sleep_ms(SETTLE_MS);
    return pid;
}

/* waitpid for up to ms milliseconds: the status, or -2 if still running. */
static int wait_for(pid_t pid, int options, long ms)
{
    long long deadline = now_ns() + ms * 1000000LL;
    for (;;) {
        int st = wait_status(pid, WNOHANG | options);
        if (st != -2 || now_ns() > deadline)
            return st;
        sleep_ms(2);
    }
}

static const char *outcome(void)
{
    static char buf[256];
    if (!sh->returned)
        snprintf(buf, sizeof buf, "did not return");
    else if (sh->ret == -1)
        snprintf(buf, sizeof buf, "returned -1 %s%s%s", errname(sh->err), sh->note[0] ? ", " : "", sh->note);
    else
        snprintf(buf, sizeof buf, "returned %ld%s%s", sh->ret, sh->note[0] ? ", " : "", sh->note);
    return buf;
}

/* SIGKILL the process and report whether it died of it within 2 s. */
static void kill_and_check(pid_t pid, const char *label)
{
    kill(pid, SIGKILL);
    int st = wait_for(pid, 0, 2000);
    if (st == -2) {
        printf("  %s: SIGKILL did not end it within 2 s  FAIL\n", label);
        vk_failures++;
    } else if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)) {
        printf("  %s: %s  FAIL (want killed by SIGKILL)\n", label, status_str(st));
        vk_failures++;
    } else {
        printf("  %s: killed by SIGKILL\n", label);
    }
}

/* True (and a FAIL line) if the call ended before anything was sent: a
 * huge timeout taken as zero or as already expired. */
static int ended_on_its_own(pid_t pid)
{
    int st = wait_status(pid, WNOHANG);
    if (st == -2)
        return 0;
    printf("  ended before any signal: %s (%s)  FAIL\n", outcome(), st >= 0 ? status_str(st) : "?");
    vk_failures++;
    return 1;
}

static void phase_signals(const struct call *c, const struct variant *v)
{
    pid_t pid = start_blocked(c, v);
    if (pid < 0 || ended_on_its_own(pid))
        return;
    kill(pid, SIGUSR1);
    int st = wait_for(pid, 0, 300);
    if (st != -2) {
        printf("  SIGUSR1 (SA_RESTART handler): %s\n", outcome());
    } else {
        printf("  SIGUSR1 (SA_RESTART handler): still blocked\n");
        kill(pid, SIGUSR2);
        st = wait_for(pid, 0, 2000);
        if (st != -2)
            printf("  then SIGUSR2 (handler, no SA_RESTART): %s\n", outcome());
        else {
            printf("  then SIGUSR2 (handler, no SA_RESTART): still blocked after 2 s  FAIL\n");
            vk_failures++;
            kill_and_check(pid, "then SIGKILL");
            return;
        }
    }
    printf("  handlers ran: SIGUSR1 %d, SIGUSR2 %d\n", sh->usr1, sh->usr2);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("  blocked process: %s  FAIL\n", status_str(st));
        vk_failures++;
    }
}

static void phase_kill(const struct call *c, const struct variant *v)
{
    pid_t pid = start_blocked(c, v);
    if (pid < 0 || ended_on_its_own(pid))
        return;
    kill_and_check(pid, "SIGKILL while blocked");
}

static void phase_stop(const struct call *c, const struct variant *v)
{
    pid_t pid = start_blocked(c, v);
    if (pid < 0 || ended_on_its_own(pid))
        return;
    kill(pid, SIGSTOP);
    int st = wait_for(pid, WUNTRACED, 2000);
    if (st == -2 || !WIFSTOPPED(st)) {
        printf("  SIGSTOP: %s  FAIL\n", st == -2 ? "not stopped within 2 s" : status_str(st));
        vk_failures++;
        kill_and_check(pid, "then SIGKILL");
        return;
    }
    kill(pid, SIGCONT);
    st = wait_for(pid, 0, 300);
    if (st == -2) {
        printf("  SIGSTOP then SIGCONT: stopped, continued, still blocked\n");
        kill_and_check(pid, "then SIGKILL");
    } else {
        printf("  SIGSTOP then SIGCONT: stopped, continued, %s\n", outcome());
    }
}

static void phase_wake(const struct call *c, const struct variant *v)
{
    pid_t pid = start_blocked(c, v);
    if (pid < 0 || ended_on_its_own(pid))
        return;
    if (c->wake == WAKE_FUTEX) {
        *FUTEX_WORD = 1;
        syscall(SYS_futex, FUTEX_WORD, FUTEX_WAKE, 1, NULL, NULL, 0);
        printf("  FUTEX_WAKE from the other process: ");
    } else {
        sem_post(SEM);
        printf("  sem_post from the other process: ");
    }
    int st = wait_for(pid, 0, 2000);
    if (st == -2) {
        printf("still blocked after 2 s  FAIL\n");
        vk_failures++;
        kill_and_check(pid, "then SIGKILL");
        return;
    }
    printf("%s\n", outcome());
}

static void run_call(const struct call *c)
{
    printf("== %s\n", c->name);
    for (const struct variant *v = c->variants; v->name; v++) {
        printf(" %s:\n", v->name);
        fflush(stdout);
        phase_signals(c, v);
        phase_kill(c, v);
        if (v == c->variants)
            phase_stop(c, v);
        if (c->wake != NO_WAKE)
            phase_wake(c, v);
        fflush(stdout);
    }
}

static const char *wanted;

static int matches(const char *name)
{
    if (!strcmp(wanted, "all"))
        return 1;
    size_t n = strlen(wanted);
    return !strncmp(name, wanted, n) && (name[n] == 0 || name[n] == '/');
}

static void run_wanted(void)
{
    for (int i = 0; i < NCALLS; i++)
        if (matches(calls[i].name))
            run_call(&calls[i]);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: robust_waits CALL|all\n");
        return 2;
    }
    wanted = argv[1];
    int any = 0;
    for (int i = 0; i < NCALLS; i++)
        any |= matches(calls[i].name);
    if (!any) {
        fprintf(stderr, "robust_waits: no call named %s\n", wanted);
        return 2;
    }
    reset_signals();
    no_core_dumps();
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    wk = mmap(NULL, sizeof *wk, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED || wk == MAP_FAILED) {
        printf("mmap: %s  FAIL\n", errname(errno));
        return 1;
    }
    scratch();
    /* One orchestrating child (not PID 1 under vkernel) runs everything;
     * no watchdog: every wait in it is bounded. */
    pid_t orchestrator = xfork();
    if (orchestrator == 0) {
        vk_failures = 0;
        run_wanted();
        fflush(stdout);
        _exit(vk_failures ? 1 : 0);
    }
    int st = wait_status(orchestrator, 0);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("orchestrator: %s  FAIL\n", st == -1 ? "lost" : status_str(st));
        vk_failures++;
    }
    remove_scratch();
    return finish();
}
