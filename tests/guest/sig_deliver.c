/* Signal delivery to handlers, in forked children: siginfo (si_code,
 * si_pid, si_uid, si_value) from raise, kill, sigqueue, tgkill and another
 * process; masks and pending sets; standard signals coalesce, real-time
 * signals queue in order; delivery order of several pending signals;
 * SA_RESETHAND, SA_NODEFER, sa_mask; sigsuspend; sigtimedwait and
 * sigwaitinfo; ignored signals and pending ones. */
#include "proc.h"

#define MAXLOG 64
static volatile int log_sig[MAXLOG], log_val[MAXLOG], log_depth[MAXLOG];
static volatile int nlog, depth;
static volatile siginfo_t last;

static void recorder(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    depth++;
    if (nlog < MAXLOG) {
        log_sig[nlog] = sig;
        log_val[nlog] = si->si_value.sival_int;
        log_depth[nlog] = depth;
        nlog++;
    }
    memcpy((void *)&last, si, sizeof *si);
    depth--;
}

static void print_log(const char *label)
{
    printf("%s:", label);
    for (int i = 0; i < nlog; i++) {
        if (log_sig[i] >= 34)
            printf(" %s/%d", signame(log_sig[i]), log_val[i]);
        else
            printf(" %s", signame(log_sig[i]));
    }
    printf("%s\n", nlog ? "" : " (none)");
    nlog = 0;
}

static void show_last(const char *how)
{
    siginfo_t si;
    memcpy(&si, (void *)&last, sizeof si);
    printf("%-28s signo %s code %s pid is %s uid ok %s\n", how, signame(si.si_signo),
           si_code_name(si.si_signo, si.si_code),
           si.si_pid == getpid() ? "self" : si.si_pid == 0 ? "0" : "other",
           si.si_uid == getuid() ? "yes" : "no");
}

static void siginfo_section(void)
{
    set_action(SIGUSR1, recorder, 0);
    raise(SIGUSR1);
    show_last("raise:");
    kill(getpid(), SIGUSR1);
    show_last("kill(self):");
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42});
    show_last("sigqueue(self, 42):");
    printf("  si_value %d\n", last.si_value.sival_int);
    syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    show_last("tgkill(self):");
    syscall(SYS_tkill, getpid(), SIGUSR1);
    show_last("tkill(self):");
    EXPECT_ERR("tgkill with a wrong tgid", syscall(SYS_tgkill, getpid() + 100000, getpid(), SIGUSR1), ESRCH);
    EXPECT_ERR("tgkill with tid 0", syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);

    /* From another process: si_pid is the sender. */
    block(SIGUSR1);
    sigset_t none;
    sigemptyset(&none);
    pid_t me = getpid();
    pid_t c = xfork();
    if (c == 0) {
        sigqueue(me, SIGUSR1, (union sigval){.sival_int = 7});
        _exit(0);
    }
    wait_status(c, 0);
    nlog = 0;
    sigsuspend(&none);
    CHECK("from a child: si_pid is the child", last.si_pid == c);
    printf("  code %s value %d\n", si_code_name(SIGUSR1, last.si_code), last.si_value.sival_int);

    /* rt_sigqueueinfo: a forged si_code >= 0 to another process is EPERM;
     * a negative code is allowed. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_USER;
    pid_t parent = getppid();
    EXPECT_ERR("rt_sigqueueinfo(parent, SI_USER)", syscall(SYS_rt_sigqueueinfo, parent, SIGUSR1, &si), EPERM);
    si.si_code = SI_TKILL;
    EXPECT_ERR("rt_sigqueueinfo(parent, SI_TKILL)", syscall(SYS_rt_sigqueueinfo, parent, SIGUSR1, &si), EPERM);
    si.si_code = -42;
    si.si_value.sival_int = 99;
    EXPECT_EQ("rt_sigqueueinfo(self, code -42)", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si), 0);
    sigsuspend(&none);
    printf("  delivered code %d value %d\n", last.si_code, last.si_value.sival_int);
    si.si_code = SI_USER; /* to self: allowed */
    EXPECT_EQ("rt_sigqueueinfo(self, SI_USER)", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si), 0);
    sigsuspend(&none);
    printf("  delivered code %s\n", si_code_name(SIGUSR1, last.si_code));
}

static void mask_pending(void)
{
    set_action(SIGUSR1, recorder, 0);
    set_action(SIGRTMIN + 3, recorder, 0);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGRTMIN + 3);
    sigprocmask(SIG_BLOCK, &s, &old);
    print_sigset("old mask", &old);
    raise(SIGUSR1);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    for (int v = 1; v <= 4; v++)
        sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = v});
    sigset_t pend;
    sigpending(&pend);
    print_sigset("pending", &pend);
    EXPECT_EQ("nothing delivered while blocked", nlog, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* raise() is thread-directed (tgkill), kill() process-directed: one
     * SIGUSR1 waits in each pending set; RT signals queue every instance. */
    print_log("delivered after unblocking");
    sigpending(&pend);
    print_sigset("pending after", &pend);

    /* SIGKILL and SIGSTOP cannot be blocked. */
    sigset_t all, cur;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK("blocking everything leaves SIGKILL unblocked", !sigismember(&cur, SIGKILL));
    CHECK("and SIGSTOP", !sigismember(&cur, SIGSTOP));
    CHECK("and blocks SIGTERM", sigismember(&cur, SIGTERM));
    sigprocmask(SIG_SETMASK, &old, NULL);
    EXPECT_ERR("sigprocmask with a bad how", syscall(SYS_rt_sigprocmask, 7, &s, NULL, 8), EINVAL);
    EXPECT_ERR("sigprocmask with sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4), EINVAL);

    /* An ignored signal that is blocked still becomes pending; making it
     * ignored again discards it. */
    signal(SIGUSR2, SIG_IGN);
    block(SIGUSR2);
    raise(SIGUSR2);
    sigpending(&pend);
    CHECK("blocked + ignored SIGUSR2 is pending", sigismember(&pend, SIGUSR2) == 1);
    signal(SIGUSR2, SIG_IGN);
    sigpending(&pend);
    CHECK("setting SIG_IGN again discards it", sigismember(&pend, SIGUSR2) == 0);
    /* A blocked signal with default action "ignore" (SIGCHLD) also queues. */
    block(SIGWINCH);
    raise(SIGWINCH);
    sigpending(&pend);
    CHECK("blocked SIGWINCH (default ignore) is pending", sigismember(&pend, SIGWINCH) == 1);
    signal(SIGWINCH, SIG_IGN);
    sigpending(&pend);
    CHECK("SIG_IGN discards it", sigismember(&pend, SIGWINCH) == 0);
    /* An ignored, unblocked signal is dropped at once. */
    unblock(SIGUSR2);
    raise(SIGUSR2);
    sigpending(&pend);
    CHECK("unblocked ignored SIGUSR2 never pending", sigismember(&pend, SIGUSR2) == 0);
}

static void queue_order(int full_mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = recorder;
    sa.sa_flags = SA_SIGINFO;
    if (full_mask)
        sigfillset(&sa.sa_mask);
    else
        sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGHUP, 35, 40, 50};
    sigset_t s, old;
    sigemptyset(&s);
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&s, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &s, &old);
    sigqueue(getpid(), 50, (union sigval){.sival_int = 1});
    sigqueue(getpid(), 40, (union sigval){.sival_int = 2});
    sigqueue(getpid(), 35, (union sigval){.sival_int = 3});
    sigqueue(getpid(), 40, (union sigval){.sival_int = 4});
    kill(getpid(), SIGTERM);
    kill(getpid(), SIGUSR2);
    sigqueue(getpid(), 35, (union sigval){.sival_int = 5});
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGHUP);
    sigqueue(getpid(), 50, (union sigval){.sival_int = 6});
    nlog = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    print_log(full_mask ? "handled (sa_mask full: one at a time)" : "handled (sa_mask empty: frames nest)");
}

static void order_full(void) { queue_order(1); }
static void order_empty(void) { queue_order(0); }

static volatile int resethand_calls;
static void resethand_handler(int s)
{
    (void)s;
    resethand_calls++;
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("  in SA_RESETHAND handler: SIGUSR1 blocked: %s\n", sigismember(&cur, SIGUSR1) ? "yes" : "no");
}

static void resethand(void)
{
    set_handler(SIGUSR1, resethand_handler, SA_RESETHAND);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    printf("flags read back include SA_RESETHAND: %s\n", (sa.sa_flags & SA_RESETHAND) ? "yes" : "no");
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &sa);
    CHECK("after one delivery the action is SIG_DFL", sa.sa_handler == SIG_DFL);
    EXPECT_EQ("handler ran", resethand_calls, 1);
    /* The second SIGUSR1 takes the default action: this child dies. */
    pid_t c = xfork();
    if (c == 0) {
        set_handler(SIGUSR1, resethand_handler, SA_RESETHAND);
        raise(SIGUSR1);
        fflush(stdout);
        raise(SIGUSR1);
        _exit(0);
    }
    printf("a second SIGUSR1: %s\n", status_str(wait_status(c, 0)));
}

static volatile int max_depth, nodefer_calls;
static void nested_handler(int s)
{
    depth++;
    nodefer_calls++;
    if (depth > max_depth)
        max_depth = depth;
    if (nodefer_calls == 1)
        raise(s); /* again, from inside the handler */
    depth--;
}

static void nodefer(void)
{
    depth = max_depth = nodefer_calls = 0;
    set_handler(SIGUSR1, nested_handler, 0);
    raise(SIGUSR1);
    printf("without SA_NODEFER: calls %d, deepest nesting %d\n", nodefer_calls, max_depth);
    depth = max_depth = nodefer_calls = 0;
    set_handler(SIGUSR1, nested_handler, SA_NODEFER);
    raise(SIGUSR1);
    printf("with SA_NODEFER:    calls %d, deepest nesting %d\n", nodefer_calls, max_depth);
}

static sigset_t in_handler_mask;
static void mask_handler(int s)
{
    (void)s;
    sigprocmask(SIG_SETMASK, NULL, &in_handler_mask);
    /* Changing the mask inside a handler lasts only until it returns. */
    block(SIGPROF);
}

static void sa_mask_section(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mask_handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaddset(&sa.sa_mask, SIGALRM);
    sigaction(SIGUSR1, &sa, NULL);
    block(SIGHUP);
    raise(SIGUSR1);
    print_sigset("mask inside the handler", &in_handler_mask);
    sigset_t after;
    sigprocmask(SIG_SETMASK, NULL, &after);
    print_sigset("mask after it returns", &after);
}

static volatile int suspend_hits;
static void count_handler(int s) { (void)s; suspend_hits++; }

static void sigsuspend_section(void)
{
    set_handler(SIGUSR1, count_handler, 0);
    set_handler(SIGUSR2, count_handler, 0);
    block(SIGUSR1);
    block(SIGUSR2);
    raise(SIGUSR1);
    sigset_t only_usr2_blocked;
    sigemptyset(&only_usr2_blocked);
    sigaddset(&only_usr2_blocked, SIGUSR2);
    EXPECT_ERR("sigsuspend with USR1 pending", sigsuspend(&only_usr2_blocked), EINTR);
    EXPECT_EQ("  handler ran once", suspend_hits, 1);
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    print_sigset("  mask restored", &cur);

    /* Woken by another process. */
    pid_t me = getpid();
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(50);
        kill(me, SIGUSR1);
        _exit(0);
    }
    EXPECT_ERR("sigsuspend until a child signals", sigsuspend(&only_usr2_blocked), EINTR);
    EXPECT_EQ("  handler ran", suspend_hits, 2);
    wait_status(c, 0);
    /* SIGUSR2 stayed blocked during sigsuspend; raise it, then suspend with
     * it unblocked. */
    raise(SIGUSR2);
    sigset_t none;
    sigemptyset(&none);
    EXPECT_ERR("sigsuspend with USR2 pending", sigsuspend(&none), EINTR);
    EXPECT_EQ("  handler ran", suspend_hits, 3);
    EXPECT_ERR("rt_sigsuspend with a bad size", syscall(SYS_rt_sigsuspend, &none, 4), EINVAL);
}

static void sigwait_section(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGRTMIN + 5);
    sigprocmask(SIG_BLOCK, &s, NULL);
    siginfo_t si;
    struct timespec t = {0, 100 * 1000000};
    long long start = now_ns();
    EXPECT_ERR("sigtimedwait 100 ms with nothing pending", sigtimedwait(&s, &si, &t), EAGAIN);
    long long ms = (now_ns() - start) / 1000000;
    CHECK("  waited at least 100 ms", ms >= 99);
    struct timespec zero = {0, 0};
    EXPECT_ERR("sigtimedwait with a zero timeout", sigtimedwait(&s, &si, &zero), EAGAIN);
    struct timespec bad = {0, 2000000000};
    EXPECT_ERR("sigtimedwait with tv_nsec 2e9", sigtimedwait(&s, &si, &bad), EINVAL);
    raise(SIGUSR2);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("sigtimedwait takes the pending SIGUSR2", sigtimedwait(&s, &si, &t), SIGUSR2);
    printf("  si_code %s si_pid is self: %s\n", si_code_name(SIGUSR2, si.si_code), si.si_pid == getpid() ? "yes" : "no");
    sigqueue(getpid(), SIGRTMIN + 5, (union sigval){.sival_int = 1234});
    sigqueue(getpid(), SIGRTMIN + 5, (union sigval){.sival_int = 5678});
    memset(&si, 0, sizeof si);
    EXPECT_EQ("sigwaitinfo takes the first queued RT signal", sigwaitinfo(&s, &si) == SIGRTMIN + 5, 1);
    printf("  value %d code %s\n", si.si_value.sival_int, si_code_name(si.si_signo, si.si_code));
    memset(&si, 0, sizeof si);
    EXPECT_EQ("sigwaitinfo takes the second", sigwaitinfo(&s, &si) == SIGRTMIN + 5, 1);
    printf("  value %d\n", si.si_value.sival_int);
    sigset_t pend;
    sigpending(&pend);
    CHECK("nothing left pending", !sigismember(&pend, SIGUSR2) && !sigismember(&pend, SIGRTMIN + 5));
    /* Woken by a signal sent from another process while waiting. */
    pid_t me = getpid();
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(50);
        kill(me, SIGUSR2);
        _exit(0);
    }
    struct timespec long_wait = {10, 0};
    memset(&si, 0, sizeof si);
    EXPECT_EQ("sigtimedwait woken by a child's kill", sigtimedwait(&s, &si, &long_wait), SIGUSR2);
    CHECK("  si_pid is the child", si.si_pid == c);
    wait_status(c, 0);
    /* A handled, unblocked signal interrupts sigtimedwait with EINTR. */
    set_handler(SIGUSR1, count_handler, 0);
    c = xfork();
    if (c == 0) {
        sleep_ms(50);
        kill(me, SIGUSR1);
        _exit(0);
    }
    EXPECT_ERR("sigtimedwait interrupted by a handled signal", sigtimedwait(&s, &si, &long_wait), EINTR);
    wait_status(c, 0);
}

int main(void)
{
    reset_signals();
    section("siginfo from each sender", siginfo_section);
    section("masks and pending signals", mask_pending);
    section("delivery order, handler blocking everything", order_full);
    section("delivery order, handlers nesting", order_empty);
    section("SA_RESETHAND", resethand);
    section("SA_NODEFER", nodefer);
    section("sa_mask and the mask inside a handler", sa_mask_section);
    section("sigsuspend", sigsuspend_section);
    section("sigtimedwait and sigwaitinfo", sigwait_section);
    return finish();
}
