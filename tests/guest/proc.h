/* Helpers for the process, signal and pipe guest programs.
 *
 * Under vkernel a guest program is PID 1 and has init's semantics (a signal
 * without a handler is ignored); natively it is an ordinary process. So the
 * top-level process of these programs only orchestrates: every check that
 * involves signals or process state runs in a forked child (`section`), and
 * the top process reports how that child ended. Only one process prints at a
 * time, and stdout is flushed before every fork, so the output is the same
 * natively and under vkernel. */
#ifndef VK_GUEST_PROC_H
#define VK_GUEST_PROC_H

#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static __attribute__((unused)) const char *signame(int sig)
{
    static char buf[32];
    switch (sig) {
#define S(x) case x: return #x;
    S(SIGHUP) S(SIGINT) S(SIGQUIT) S(SIGILL) S(SIGTRAP) S(SIGABRT) S(SIGBUS)
    S(SIGFPE) S(SIGKILL) S(SIGUSR1) S(SIGSEGV) S(SIGUSR2) S(SIGPIPE)
    S(SIGALRM) S(SIGTERM) S(SIGSTKFLT) S(SIGCHLD) S(SIGCONT) S(SIGSTOP)
    S(SIGTSTP) S(SIGTTIN) S(SIGTTOU) S(SIGURG) S(SIGXCPU) S(SIGXFSZ)
    S(SIGVTALRM) S(SIGPROF) S(SIGWINCH) S(SIGIO) S(SIGPWR) S(SIGSYS)
#undef S
    case 0: return "0";
    }
    if (sig >= 32 && sig <= 64)
        snprintf(buf, sizeof buf, "SIG#%d", sig); /* kernel numbering */
    else
        snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

/* A wait status in words: "exited 3", "killed by SIGTERM", "killed by
 * SIGSEGV (core)", "stopped by SIGSTOP", "continued". */
static __attribute__((unused)) const char *status_str(int st)
{
    static char buf[4][64];
    static int slot;
    char *b = buf[slot++ & 3];
    if (WIFEXITED(st))
        snprintf(b, 64, "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(b, 64, "killed by %s%s", signame(WTERMSIG(st)), WCOREDUMP(st) ? " (core)" : "");
    else if (WIFSTOPPED(st))
        snprintf(b, 64, "stopped by %s", signame(WSTOPSIG(st)));
    else if (WIFCONTINUED(st))
        snprintf(b, 64, "continued");
    else
        snprintf(b, 64, "status %#x", st);
    return b;
}

/* Every signal back to its default action and an empty mask: what the
 * program inherits differs between a test runner and vkernel's boot. */
static __attribute__((unused)) void reset_signals(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL); /* glibc refuses 32 and 33: fine */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* No core files from native runs, whatever core_pattern says: a child that
 * is not dumpable never dumps (vkernel reports no core with RLIMIT_CORE 0). */
static __attribute__((unused)) void no_core_dumps(void)
{
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Seconds before a stuck section is killed by its own SIGALRM watchdog. */
#define WATCHDOG_SECONDS 20

/* Run fn in a child. The child prints its own lines, exits with its failure
 * count; the parent prints how the child ended when that was not a clean
 * exit 0 and counts it as a failure. */
static __attribute__((unused)) void section(const char *name, void (*fn)(void))
{
    printf("== %s\n", name);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork: %s  FAIL\n", errname(errno));
        vk_failures++;
        return;
    }
    if (pid == 0) {
        vk_failures = 0;
        alarm(WATCHDOG_SECONDS);
        fn();
        fflush(stdout);
        _exit(vk_failures ? 1 : 0);
    }
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (r != pid) {
        printf("section %s: waitpid: %s  FAIL\n", name, errname(errno));
        vk_failures++;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("section %s: child %s  FAIL\n", name, status_str(st));
        vk_failures++;
    }
}

/* fork() with stdout flushed first; a child that fails to fork is a test
 * failure reported by the caller. */
static __attribute__((unused)) pid_t xfork(void)
{
    fflush(stdout);
    fflush(stderr);
    return fork();
}

/* waitpid that retries on EINTR; returns the status, or -1 on error. */
static __attribute__((unused)) int wait_status(pid_t pid, int options)
{
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, options)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -1;
    if (r == 0)
        return -2; /* WNOHANG: still running */
    return st;
}

static __attribute__((unused)) long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static __attribute__((unused)) void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

/* A one-shot ITIMER_REAL of `ms` milliseconds (0 disarms). */
static __attribute__((unused)) void arm_timer_ms(long ms)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static __attribute__((unused)) int set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static __attribute__((unused)) int set_action(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

static __attribute__((unused)) void block(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

static __attribute__((unused)) void unblock(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static __attribute__((unused)) void print_sigset(const char *label, const sigset_t *s)
{
    printf("%s:", label);
    int any = 0;
    for (int i = 1; i < 65; i++) {
        if (sigismember(s, i) == 1) {
            printf(" %s", signame(i));
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " (empty)");
}

/* Read exactly n bytes (or until EOF); returns the count read. */
static __attribute__((unused)) long read_full(int fd, void *buf, long n)
{
    long got = 0;
    while (got < n) {
        long r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    return got;
}

static __attribute__((unused)) const char *si_code_name(int sig, int code)
{
    static char buf[32];
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    case SI_KERNEL: return "SI_KERNEL";
    }
    if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
    if (sig == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
    if (sig == SIGFPE && code == FPE_INTOVF) return "FPE_INTOVF";
    if (sig == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (sig == SIGILL && code == ILL_ILLOPC) return "ILL_ILLOPC";
    if (sig == SIGBUS && code == BUS_ADRERR) return "BUS_ADRERR";
    if (sig == SIGTRAP && code == TRAP_BRKPT) return "TRAP_BRKPT";
    if (sig == SIGCHLD && code == CLD_EXITED) return "CLD_EXITED";
    if (sig == SIGCHLD && code == CLD_KILLED) return "CLD_KILLED";
    if (sig == SIGCHLD && code == CLD_DUMPED) return "CLD_DUMPED";
    if (sig == SIGCHLD && code == CLD_STOPPED) return "CLD_STOPPED";
    if (sig == SIGCHLD && code == CLD_CONTINUED) return "CLD_CONTINUED";
    if (sig == SIGCHLD && code == CLD_TRAPPED) return "CLD_TRAPPED";
    snprintf(buf, sizeof buf, "code %d", code);
    return buf;
}

/* A fresh private directory under /tmp (vkernel's own tmpfs in a guest).
 * Call it in main before the sections so that they all share it, and
 * remove_scratch() at the end. */
static __attribute__((unused)) const char *scratch(void)
{
    static char dir[64];
    if (!dir[0]) {
        strcpy(dir, "/tmp/vk-guest-XXXXXX");
        if (!mkdtemp(dir)) {
            printf("mkdtemp: %s  FAIL\n", errname(errno));
            exit(1);
        }
    }
    return dir;
}

/* Remove the scratch directory and the files in it (no subdirectories). */
#include <dirent.h>
static __attribute__((unused)) void remove_scratch(void)
{
    const char *dir = scratch();
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

#endif
