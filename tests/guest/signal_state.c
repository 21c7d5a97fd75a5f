/* Signal state without delivery: rt_sigaction set/get, rt_sigprocmask,
 * sigpending, sigaltstack, and their error cases. */
#include "common.h"
#include <signal.h>

static void handler(int sig) { (void)sig; }
static void handler2(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; }

/* The kernel's struct sigaction for raw rt_sigaction. */
struct k_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

static void print_mask(const char *label, const sigset_t *s)
{
    printf("%s:", label);
    int any = 0;
    for (int i = 1; i < 65; i++) {
        if (sigismember(s, i) == 1) {
            printf(" %d", i);
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " (empty)");
}

int main(void)
{
    struct sigaction sa, old;

    EXPECT_EQ("get initial SIGUSR1 action", sigaction(SIGUSR1, NULL, &old), 0);
    CHECK("SIGUSR1 starts SIG_DFL", old.sa_handler == SIG_DFL);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaddset(&sa.sa_mask, SIGTERM);
    EXPECT_EQ("set SIGUSR1 handler", sigaction(SIGUSR1, &sa, NULL), 0);
    memset(&old, 0, sizeof old);
    EXPECT_EQ("get it back", sigaction(SIGUSR1, NULL, &old), 0);
    CHECK("handler round-trips", old.sa_handler == handler);
    printf("flags & (RESTART|NODEFER|SIGINFO|ONSTACK|RESETHAND): %#x\n",
           old.sa_flags & (SA_RESTART | SA_NODEFER | SA_SIGINFO | SA_ONSTACK | SA_RESETHAND));
    print_mask("mask", &old.sa_mask);

    /* Raw: the restorer and flags come back exactly as given. */
    struct k_sigaction k = {(void *)handler2, SA_SIGINFO | SA_ONSTACK | 0x04000000 /* SA_RESTORER */,
                            (void *)0x1234, 1ul << (SIGINT - 1)},
                       kold;
    EXPECT_EQ("raw rt_sigaction set SIGUSR2", syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8), 0);
    memset(&kold, 0, sizeof kold);
    EXPECT_EQ("raw rt_sigaction get SIGUSR2", syscall(SYS_rt_sigaction, SIGUSR2, NULL, &kold, 8), 0);
    CHECK("raw handler, flags, restorer and mask round-trip",
          kold.handler == (void *)handler2 && kold.flags == k.flags &&
              kold.restorer == (void *)0x1234 && kold.mask == k.mask);
    /* SIGKILL/SIGSTOP cannot be put in a handler's mask: they are dropped. */
    k.mask = (1ul << (SIGKILL - 1)) | (1ul << (SIGSTOP - 1)) | (1ul << (SIGHUP - 1));
    syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8);
    syscall(SYS_rt_sigaction, SIGUSR2, NULL, &kold, 8);
    printf("mask after asking for KILL|STOP|HUP: %#lx\n", kold.mask);
    k.handler = SIG_DFL;
    k.flags = 0;
    syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8);

    EXPECT_EQ("set SIGPIPE to SIG_IGN", sigaction(SIGPIPE, &(struct sigaction){.sa_handler = SIG_IGN}, &old), 0);
    sigaction(SIGPIPE, NULL, &sa);
    CHECK("SIGPIPE reads back SIG_IGN", sa.sa_handler == SIG_IGN);
    sigaction(SIGPIPE, &old, NULL);

    EXPECT_ERR("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL), EINVAL);
    EXPECT_ERR("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    EXPECT_EQ("reading SIGKILL's action is allowed", sigaction(SIGKILL, NULL, &old), 0);
    EXPECT_ERR("rt_sigaction signal 0", syscall(SYS_rt_sigaction, 0, NULL, &kold, 8), EINVAL);
    EXPECT_ERR("rt_sigaction signal 65", syscall(SYS_rt_sigaction, 65, NULL, &kold, 8), EINVAL);
    EXPECT_ERR("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &kold, 4), EINVAL);
    EXPECT_EQ("rt_sigaction real-time signal 64", syscall(SYS_rt_sigaction, 64, NULL, &kold, 8), 0);

    /* Signal mask */
    sigset_t set, cur;
    sigemptyset(&set);
    EXPECT_EQ("empty the mask", sigprocmask(SIG_SETMASK, &set, NULL), 0);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP);
    EXPECT_EQ("SIG_BLOCK USR1|HUP", sigprocmask(SIG_BLOCK, &set, NULL), 0);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    print_mask("blocked", &cur);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    EXPECT_EQ("SIG_UNBLOCK HUP", sigprocmask(SIG_UNBLOCK, &set, &cur), 0);
    print_mask("old mask returned by SIG_UNBLOCK", &cur);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    print_mask("blocked", &cur);
    unsigned long raw = (1ul << (SIGKILL - 1)) | (1ul << (SIGSTOP - 1)) | (1ul << (SIGTERM - 1)),
                  rawold = 0;
    EXPECT_EQ("raw SIG_SETMASK KILL|STOP|TERM", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &raw, &rawold, 8), 0);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &rawold, 8);
    printf("raw mask (KILL and STOP silently dropped): %#lx\n", rawold);
    raw = 1ul << 63;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &raw, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &rawold, 8);
    printf("raw mask with signal 64 blocked: %#lx\n", rawold);
    EXPECT_ERR("rt_sigprocmask bad how", syscall(SYS_rt_sigprocmask, 99, &raw, NULL, 8), EINVAL);
    EXPECT_ERR("rt_sigprocmask sigsetsize 16", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &raw, NULL, 16), EINVAL);
    EXPECT_EQ("bad how is fine without a new set", syscall(SYS_rt_sigprocmask, 99, NULL, &rawold, 8), 0);
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);

    sigset_t pend;
    EXPECT_EQ("sigpending", sigpending(&pend), 0);
    print_mask("pending", &pend);

    /* sigaltstack */
    stack_t ss, oss;
    memset(&oss, 0, sizeof oss);
    EXPECT_EQ("sigaltstack get", sigaltstack(NULL, &oss), 0);
    CHECK("initially disabled", oss.ss_flags == SS_DISABLE);
    static char altstack[65536];
    ss.ss_sp = altstack;
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0;
    EXPECT_EQ("sigaltstack set 64 KiB", sigaltstack(&ss, NULL), 0);
    memset(&oss, 0, sizeof oss);
    sigaltstack(NULL, &oss);
    CHECK("sigaltstack reads back", oss.ss_sp == altstack && oss.ss_size == sizeof altstack &&
                                        oss.ss_flags == 0);
    ss.ss_size = 1024;
    EXPECT_ERR("sigaltstack smaller than MINSIGSTKSZ", sigaltstack(&ss, NULL), ENOMEM);
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0x1234;
    EXPECT_ERR("sigaltstack unknown flags", sigaltstack(&ss, NULL), EINVAL);
    ss.ss_flags = SS_DISABLE;
    EXPECT_EQ("sigaltstack disable", sigaltstack(&ss, &oss), 0);
    CHECK("old value returned", oss.ss_sp == altstack);
    sigaltstack(NULL, &oss);
    CHECK("disabled again", oss.ss_flags == SS_DISABLE);
    return finish();
}
