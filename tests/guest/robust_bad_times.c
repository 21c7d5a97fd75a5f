/* Invalid times given to every call that takes a timespec or timeval:
 * negative tv_nsec, tv_nsec 1e9 and beyond, negative tv_sec, INT64_MIN,
 * tv_sec INT64_MAX with an out-of-range fraction (which must not wrap into
 * a valid time), and pointers to kernel or unmapped memory. Linux answers
 * EINVAL or EFAULT for most, and accepts a few (select normalizes
 * tv_usec; utimensat takes negative seconds); the output is compared with
 * the native run. A zero time and a misaligned pointer to a zero time are
 * the valid controls. Each call that might accept a value is set up to
 * return at once when it does (a ready pipe, a pending signal, a futex
 * word that does not match, a posted semaphore), and a 300 ms SIGALRM
 * guard ends any call that blocks anyway (it then shows -1 EINTR).
 * Usage: robust_bad_times [GROUP], GROUP one of sleeps, rt_sigtimedwait,
 * futex, futex_wait_clock_realtime, poll, select, sem_timedwait,
 * setitimer, utimes (default: all). */
#include "proc.h"
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

#define KERNEL_ADDR ((void *)0xffff800000000000ull)

struct bad {
    const char *name;
    long long sec, frac;
    int pointer; /* 0: a value; 1: kernel address; 2: unmapped page; 3: misaligned */
};

static const struct bad bad_ts[] = {
    {"{0, 0}", 0, 0, 0},
    {"{0, -1}", 0, -1, 0},
    {"{0, 1000000000}", 0, 1000000000, 0},
    {"{0, INT64_MAX}", 0, INT64_MAX, 0},
    {"{-1, 0}", -1, 0, 0},
    {"{-1, 999999999}", -1, 999999999, 0},
    {"{INT64_MIN, 0}", INT64_MIN, 0, 0},
    {"{INT64_MAX, 1000000000}", INT64_MAX, 1000000000, 0},
    {"{INT64_MAX, -1}", INT64_MAX, -1, 0},
    {"kernel address", 0, 0, 1},
    {"unmapped page", 0, 0, 2},
    {"misaligned {0, 0}", 0, 0, 3},
    {NULL, 0, 0, 0},
};

static const struct bad bad_tv[] = {
    {"{0, 0}", 0, 0, 0},
    {"{0, -1}", 0, -1, 0},
    {"{0, 1000000}", 0, 1000000, 0},
    {"{0, INT64_MAX}", 0, INT64_MAX, 0},
    {"{-1, 0}", -1, 0, 0},
    {"{INT64_MIN, 0}", INT64_MIN, 0, 0},
    {"{INT64_MAX, 1000000}", INT64_MAX, 1000000, 0},
    {"{INT64_MAX, -1}", INT64_MAX, -1, 0},
    {"kernel address", 0, 0, 1},
    {"unmapped page", 0, 0, 2},
    {"misaligned {0, 0}", 0, 0, 3},
    {NULL, 0, 0, 0},
};

static char *unmapped;   /* a PROT_NONE page */
static char *arena;      /* room for the times, misaligned or not */
static int ready[2];     /* a pipe with a byte in it */
static int epfd;
static sem_t sem;
static int word = 5;     /* futex word: never matches the expected 0 */
static const char *file; /* a file in the scratch directory */

/* Two copies of the time (for utimensat/utimes/setitimer pairs), at the
 * address the row asks for. */
static void *place(const struct bad *b)
{
    if (b->pointer == 1)
        return KERNEL_ADDR;
    if (b->pointer == 2)
        return unmapped;
    long long v[4] = {b->sec, b->frac, b->sec, b->frac};
    char *at = arena + (b->pointer == 3 ? 1 : 0);
    memcpy(at, v, sizeof v);
    return at;
}

static volatile int guard_fired;
static void on_guard(int s) { (void)s; guard_fired++; }
static void on_other_timer(int s) { (void)s; }

static void guard(int on)
{
    struct itimerval it = {{0, 0}, {0, on ? 300000 : 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Disarm whatever a row armed. */
static void disarm_all(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    setitimer(ITIMER_PROF, &off, NULL);
}

typedef long (*call_fn)(void *t);

static long c_nanosleep(void *t) { return syscall(SYS_nanosleep, t, NULL); }
static long c_cns_rt(void *t) { return syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, t, NULL); }
static long c_cns_mono(void *t) { return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, t, NULL); }
static long c_cns_rt_abs(void *t) { return syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, t, NULL); }
static long c_cns_mono_abs(void *t) { return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL); }
static long c_sigtimedwait(void *t)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 3);
    raise(SIGRTMIN + 3); /* blocked: pending, so an accepted time returns at once */
    long r = syscall(SYS_rt_sigtimedwait, &set, NULL, t, 8);
    int e = errno;
    struct timespec zero = {0, 0};
    syscall(SYS_rt_sigtimedwait, &set, NULL, &zero, 8); /* drop it if still pending */
    errno = e;
    return r;
}
static long c_futex_wait(void *t) { return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, t, NULL, 0); }
static long c_futex_wait_shared(void *t) { return syscall(SYS_futex, &word, FUTEX_WAIT, 0, t, NULL, 0); }
static long c_futex_bitset(void *t)
{
    return syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, t, NULL, FUTEX_BITSET_MATCH_ANY);
}
static long c_futex_bitset_rt(void *t)
{
    return syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, t, NULL, FUTEX_BITSET_MATCH_ANY);
}
static long c_futex_wait_rt(void *t)
{
    /* FUTEX_CLOCK_REALTIME is only for the BITSET and PI forms. */
    return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, t, NULL, 0);
}
static long c_ppoll(void *t)
{
    struct pollfd f = {ready[0], POLLIN, 0};
    return syscall(SYS_ppoll, &f, 1, t, NULL, 8);
}
static long c_pselect6(void *t)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(ready[0], &r);
    return syscall(SYS_pselect6, ready[0] + 1, &r, NULL, NULL, t, NULL);
}
static long c_epoll_pwait2(void *t)
{
    struct epoll_event e[2];
    return syscall(SYS_epoll_pwait2, epfd, e, 2, t, NULL, 8);
}
static long c_sem_timedwait(void *t)
{
    sem_init(&sem, 0, 1);
    if (t == KERNEL_ADDR || t == unmapped)
        return -2; /* glibc reads the time itself: a fault, not a kernel answer */
    return sem_timedwait(&sem, t);
}
static long c_select(void *t)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(ready[0], &r);
    return syscall(SYS_select, ready[0] + 1, &r, NULL, NULL, t);
}
/* setitimer(which, {interval, value}) with the bad time in one field and
 * a valid small one in the other. */
static long itimer(int which, void *t, int bad_is_value)
{
    if (t == KERNEL_ADDR || t == unmapped)
        return syscall(SYS_setitimer, which, t, NULL);
    struct itimerval it;
    memcpy(&it, t, sizeof it);
    if (bad_is_value) {
        it.it_interval.tv_sec = 0;
        it.it_interval.tv_usec = 0;
    } else {
        it.it_value.tv_sec = 1;
        it.it_value.tv_usec = 0;
    }
    memcpy(t, &it, sizeof it);
    long r = syscall(SYS_setitimer, which, t, NULL);
    int e = errno;
    disarm_all();
    guard(1);
    errno = e;
    return r;
}
static long c_itimer_real_value(void *t) { return itimer(ITIMER_REAL, t, 1); }
static long c_itimer_real_interval(void *t) { return itimer(ITIMER_REAL, t, 0); }
static long c_itimer_virtual_value(void *t) { return itimer(ITIMER_VIRTUAL, t, 1); }
static long c_itimer_prof_interval(void *t) { return itimer(ITIMER_PROF, t, 0); }
static long c_utimensat(void *t) { return syscall(SYS_utimensat, AT_FDCWD, file, t, 0); }
static long c_utimes(void *t) { return syscall(SYS_utimes, file, t); }
static long c_futimesat(void *t) { return syscall(SYS_futimesat, AT_FDCWD, file, t); }

struct call {
    const char *group; /* what the command line selects */
    const char *name;
    const struct bad *rows;
    call_fn fn;
};

static const struct call calls[] = {
    {"sleeps", "nanosleep", bad_ts, c_nanosleep},
    {"sleeps", "clock_nanosleep(CLOCK_REALTIME)", bad_ts, c_cns_rt},
    {"sleeps", "clock_nanosleep(CLOCK_MONOTONIC)", bad_ts, c_cns_mono},
    {"sleeps", "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME)", bad_ts, c_cns_rt_abs},
    {"sleeps", "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)", bad_ts, c_cns_mono_abs},
    {"rt_sigtimedwait", "rt_sigtimedwait", bad_ts, c_sigtimedwait},
    {"futex", "futex(FUTEX_WAIT_PRIVATE)", bad_ts, c_futex_wait},
    {"futex", "futex(FUTEX_WAIT)", bad_ts, c_futex_wait_shared},
    {"futex", "futex(FUTEX_WAIT_BITSET_PRIVATE)", bad_ts, c_futex_bitset},
    {"futex", "futex(FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME)", bad_ts, c_futex_bitset_rt},
    {"futex_wait_clock_realtime", "futex(FUTEX_WAIT_PRIVATE|FUTEX_CLOCK_REALTIME)", bad_ts, c_futex_wait_rt},
    {"poll", "ppoll", bad_ts, c_ppoll},
    {"poll", "pselect6", bad_ts, c_pselect6},
    {"poll", "epoll_pwait2", bad_ts, c_epoll_pwait2},
    {"sem_timedwait", "sem_timedwait", bad_ts, c_sem_timedwait},
    {"utimes", "utimensat", bad_ts, c_utimensat},
    {"select", "select", bad_tv, c_select},
    {"setitimer", "setitimer(ITIMER_REAL) it_value", bad_tv, c_itimer_real_value},
    {"setitimer", "setitimer(ITIMER_REAL) it_interval", bad_tv, c_itimer_real_interval},
    {"setitimer", "setitimer(ITIMER_VIRTUAL) it_value", bad_tv, c_itimer_virtual_value},
    {"setitimer", "setitimer(ITIMER_PROF) it_interval", bad_tv, c_itimer_prof_interval},
    {"utimes", "utimes", bad_tv, c_utimes},
    {"utimes", "futimesat", bad_tv, c_futimesat},
};

static const char *only; /* a group, or NULL for all */

static void run_calls(void)
{
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (only && strcmp(only, calls[i].group))
            continue;
        printf("%s:\n", calls[i].name);
        for (const struct bad *b = calls[i].rows; b->name; b++) {
            void *t = place(b);
            guard_fired = 0;
            guard(1);
            errno = 0;
            long r = calls[i].fn(t);
            int e = errno;
            guard(0);
            if (r == -2)
                continue;
            if (r == -1)
                printf("  %-26s -1 %s%s\n", b->name, errname(e), guard_fired ? " (blocked until the guard timer)" : "");
            else
                printf("  %-26s %ld\n", b->name, r);
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    only = argc > 1 ? argv[1] : NULL;
    reset_signals();
    no_core_dumps();
    unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    arena = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (unmapped == MAP_FAILED || arena == MAP_FAILED)
        return 1;
    static char path[128];
    snprintf(path, sizeof path, "%s/file", scratch());
    file = path;
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    close(fd);
    pid_t c = xfork();
    if (c == 0) {
        set_handler(SIGALRM, on_guard, 0);
        set_handler(SIGVTALRM, on_other_timer, 0);
        set_handler(SIGPROF, on_other_timer, 0);
        block(SIGRTMIN + 3);
        pipe(ready);
        write(ready[1], "x", 1);
        epfd = epoll_create1(0);
        struct epoll_event e = {.events = EPOLLIN};
        epoll_ctl(epfd, EPOLL_CTL_ADD, ready[0], &e);
        run_calls();
        _exit(0);
    }
    int st = wait_status(c, 0);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("child: %s  FAIL\n", st == -1 ? "lost" : status_str(st));
        vk_failures++;
    }
    remove_scratch();
    return finish();
}
