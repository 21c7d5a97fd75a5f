/* Synchronous signals from faults, caught by handlers in forked children:
 * SIGSEGV (SEGV_MAPERR, SEGV_ACCERR) with si_addr, stack overflow caught
 * on a sigaltstack and recovered with siglongjmp (twice), SIGFPE
 * FPE_INTDIV from integer division by zero, SIGILL from ud2 and SIGTRAP
 * from int3 resumed by editing the ucontext, SIGBUS past the end of a
 * mapped file, and faults with the signal blocked or ignored (fatal). */
#include "proc.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile int on_altstack;
static char *alt_lo, *alt_hi;

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char here;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    on_altstack = alt_lo && &here >= alt_lo && &here < alt_hi;
    siglongjmp(env, 1);
}

static volatile int sink;

static void report(const char *what, void *want_addr)
{
    printf("%s: %s %s", what, signame(got_sig), si_code_name(got_sig, got_code));
    if (want_addr)
        printf(", si_addr %s", got_addr == want_addr ? "is the faulting address" : "WRONG");
    printf("\n");
    if (want_addr && got_addr != want_addr)
        vk_failures++;
}

static void segv(void)
{
    set_action(SIGSEGV, jump_handler, 0);
    volatile int *p = (int *)0x10;
    if (!sigsetjmp(env, 1))
        sink = *p;
    report("read of address 0x10", (void *)p);
    char *ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1))
        ro[4100] = 1;
    report("write to a read-only page", ro + 4100);
    char *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    if (!sigsetjmp(env, 1))
        sink = gone[17];
    report("read after munmap", gone + 17);
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1))
        sink = none[5];
    report("read of a PROT_NONE page", none + 5);
    /* The mask was saved by sigsetjmp(env, 1): SIGSEGV is unblocked again. */
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK("SIGSEGV unblocked after siglongjmp", !sigismember(&cur, SIGSEGV));
    /* Recovery works any number of times. */
    int caught = 0;
    for (int i = 0; i < 100; i++)
        if (!sigsetjmp(env, 1))
            sink = *(volatile int *)(long)(8 * i + 8);
        else
            caught++;
    EXPECT_EQ("100 faults caught in a row", caught, 100);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

static void altstack(void)
{
    static char alt[1 << 16];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    EXPECT_EQ("sigaltstack", sigaltstack(&ss, NULL), 0);
    alt_lo = alt;
    alt_hi = alt + sizeof alt;
    set_action(SIGSEGV, jump_handler, SA_ONSTACK);
    /* A small stack limit keeps the overflow quick. */
    struct rlimit rl = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_STACK, &rl);
    for (int round = 1; round <= 2; round++) {
        got_sig = 0;
        on_altstack = 0;
        if (!sigsetjmp(env, 1))
            sink = recurse(0);
        printf("stack overflow %d: caught %s, handler ran on the alternate stack: %s\n", round, signame(got_sig),
               on_altstack ? "yes" : "no");
        if (got_sig != SIGSEGV || !on_altstack)
            vk_failures++;
    }
    stack_t cur;
    sigaltstack(NULL, &cur);
    CHECK("back on the normal stack (not SS_ONSTACK)", !(cur.ss_flags & SS_ONSTACK));
    EXPECT_ERR("sigaltstack smaller than MINSIGSTKSZ", sigaltstack(&(stack_t){.ss_sp = alt, .ss_size = 512}, NULL), ENOMEM);
    EXPECT_ERR("sigaltstack with bad flags", sigaltstack(&(stack_t){.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 99}, NULL), EINVAL);

    /* Without an alternate stack the overflow cannot run the handler: the
     * process dies of SIGSEGV. */
    pid_t c = xfork();
    if (c == 0) {
        no_core_dumps();
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
        sink = recurse(0);
        _exit(0);
    }
    printf("overflow with a handler but no altstack: %s\n", status_str(wait_status(c, 0)));
}

static void fpe(void)
{
    set_action(SIGFPE, jump_handler, 0);
    volatile int a = 7, zero = 0;
    if (!sigsetjmp(env, 1))
        sink = a / zero;
    report("int 7 / 0", NULL);
    volatile long long big = -9223372036854775807LL - 1, minus1 = -1;
    if (!sigsetjmp(env, 1))
        sink = (int)(big / minus1);
    report("LLONG_MIN / -1", NULL);
    if (!sigsetjmp(env, 1))
        sink = a % zero;
    report("int 7 % 0", NULL);
    volatile double d = 1.0, dz = 0.0;
    volatile double r = d / dz;
    printf("double 1.0 / 0.0 raises nothing (masked): %s\n", r > 1e300 ? "inf" : "?");
}

/* ud2 and int3 at known addresses, via global labels. */
extern char ud2_at[], int3_after[];
static void do_ud2(void) { __asm__ volatile(".globl ud2_at\nud2_at: ud2\n"); }
static void do_int3(void) { __asm__ volatile("int3\n.globl int3_after\nint3_after: nop\n"); }

static volatile int ctx_sig, ctx_code;
static volatile int ctx_addr_ok, ctx_rip_ok;

static void ctx_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    ctx_sig = sig;
    ctx_code = si->si_code;
    if (sig == SIGILL) {
        ctx_addr_ok = si->si_addr == (void *)ud2_at;
        ctx_rip_ok = uc->uc_mcontext.gregs[REG_RIP] == (long)ud2_at;
        uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip the ud2 */
    } else if (sig == SIGTRAP) {
        ctx_rip_ok = uc->uc_mcontext.gregs[REG_RIP] == (long)int3_after;
    }
}

static void context(void)
{
    set_action(SIGILL, ctx_handler, 0);
    set_action(SIGTRAP, ctx_handler, 0);
    do_ud2();
    printf("ud2: %s %s, si_addr is the instruction: %s, RIP in ucontext is the instruction: %s; resumed after it\n",
           signame(ctx_sig), si_code_name(ctx_sig, ctx_code), ctx_addr_ok ? "yes" : "no", ctx_rip_ok ? "yes" : "no");
    do_int3();
    printf("int3: %s %s, RIP in ucontext is after it: %s; resumed\n", signame(ctx_sig), si_code_name(ctx_sig, ctx_code),
           ctx_rip_ok ? "yes" : "no");
    if (!ctx_addr_ok || !ctx_rip_ok)
        vk_failures++;
}

/* Registers edited in the ucontext come back on sigreturn. */
static void reg_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    uc->uc_mcontext.gregs[REG_R12] = 0x1234567890abcdefLL;
    uc->uc_mcontext.gregs[REG_RBX] = 42;
}

static void edit_registers(void)
{
    set_action(SIGUSR1, reg_handler, 0);
    long r12, rbx;
    long nr = SYS_kill, pid = getpid(), sig = SIGUSR1, ret;
    __asm__ volatile("mov $0, %%r12\n mov $0, %%rbx\n syscall\n mov %%r12, %1\n mov %%rbx, %2\n"
                     : "=a"(ret), "=r"(r12), "=r"(rbx)
                     : "a"(nr), "D"(pid), "S"(sig)
                     : "rcx", "r11", "r12", "rbx", "memory");
    printf("kill(self) from asm returned %ld; r12 = %#lx, rbx = %ld after the handler edited them\n", ret, r12, rbx);
}

static void sigbus(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/bus", scratch());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(fd, 4096);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    set_action(SIGBUS, jump_handler, 0);
    p[100] = 1;
    got_sig = 0;
    if (!sigsetjmp(env, 1))
        sink = p[4096 + 8];
    report("read past the end of a mapped file", p + 4096 + 8);
    ftruncate(fd, 0);
    if (!sigsetjmp(env, 1))
        sink = p[10];
    report("read after the file shrank to 0", p + 10);
    close(fd);
    unlink(path);
}

static void faulting_handler(int sig)
{
    (void)sig;
    sink = *(volatile int *)8; /* SIGSEGV is blocked while this runs */
}

static void fatal_when_blocked_or_ignored(void)
{
    const char *how[] = {"blocked", "ignored", "caught by a handler that faults again"};
    for (int i = 0; i < 3; i++) {
        pid_t c = xfork();
        if (c == 0) {
            no_core_dumps();
            if (i == 0)
                block(SIGSEGV);
            else if (i == 1)
                signal(SIGSEGV, SIG_IGN);
            else
                set_handler(SIGSEGV, faulting_handler, 0);
            sink = *(volatile int *)0;
            _exit(0);
        }
        printf("null read with SIGSEGV %s: %s\n", how[i], status_str(wait_status(c, 0)));
    }
    pid_t c = xfork();
    if (c == 0) {
        no_core_dumps();
        block(SIGFPE);
        volatile int z = 0, seven = 7;
        sink = seven / z;
        _exit(0);
    }
    printf("division by zero with SIGFPE blocked: %s\n", status_str(wait_status(c, 0)));
}

int main(void)
{
    reset_signals();
    scratch();
    section("SIGSEGV with si_code and si_addr", segv);
    section("stack overflow on a sigaltstack", altstack);
    section("SIGFPE", fpe);
    section("SIGILL and SIGTRAP resumed through the ucontext", context);
    section("registers edited in the ucontext", edit_registers);
    section("SIGBUS", sigbus);
    section("faults with the signal blocked or ignored", fatal_when_blocked_or_ignored);
    remove_scratch();
    return finish();
}
