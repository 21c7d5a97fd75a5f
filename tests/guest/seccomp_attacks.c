/* Attacks on the seccomp platform's stub from inside a guest (run only
 * under vkernel's seccomp backend; they mean nothing natively). Each
 * attack runs in a child; the parent prints how the child ended, and the
 * last line shows that the guest (and vkernel) lived on. The stub lives at
 * fixed addresses (src/platform/seccomp/stub.rs). */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB_CODE 0x7fffff001000UL
#define HANDLER (STUB_CODE + 0x80)
#define SYSCALL_SITE (STUB_CODE + 0x10)
#define OPS_PAGE 0x7fffff010000UL
#define SLOTS 0x7fffff100000UL
#define SLOT_SIZE 0x8000UL
/* Patched system call sites (stub.rs): the fast entry, the return half,
 * the slow path's trapping syscall, the trampolines, the syscall table. */
#define FAST_ENTRY (STUB_CODE + 0x600)
#define FAST_ANSWERED (STUB_CODE + 0x740)
#define FAST_SLOW_SYSCALL (STUB_CODE + 0x830)
#define TRAMPOLINES 0x7fffff020000UL
#define SYSCALL_TABLE 0x60060000UL

static void report(const char *what, int st)
{
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    fflush(stdout);
}

static void run(const char *what, void (*attack)(void))
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        alarm(20);
        attack();
        _exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    report(what, st);
}

static void jump_to_handler(void) { ((void (*)(void))HANDLER)(); }

static void jump_to_handler_middle(void) { ((void (*)(void))(HANDLER + 0x2b))(); }

/* The stub's own syscall instruction with a number its filter refuses. */
static void syscall_site_getpid(void)
{
    __asm__ volatile("mov $39, %%eax; call *%0" ::"r"(SYSCALL_SITE) : "rax", "rcx", "r11", "memory");
}

/* ... and with one it allows (exit): the host thread goes, the guest dies. */
static void syscall_site_exit(void)
{
    __asm__ volatile("mov $60, %%eax; xor %%edi, %%edi; call *%0" ::"r"(SYSCALL_SITE) : "rax", "rdi", "rcx", "r11", "memory");
}

static void write_code(void) { *(volatile char *)STUB_CODE = 0xcc; }

static void write_ops(void) { *(volatile uint64_t *)OPS_PAGE = 1; }

static volatile int stop;

static void *scribbler(void *arg)
{
    uint64_t x = (uintptr_t)arg;
    while (!stop) {
        for (unsigned long slot = 0; slot < 4; slot++) {
            volatile uint64_t *w = (uint64_t *)(SLOTS + slot * SLOT_SIZE);
            for (int i = 0; i < 64; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                w[(x >> 33) % (SLOT_SIZE / 8)] = x;
            }
        }
    }
    return NULL;
}

/* One thread makes system calls while another writes garbage over every
 * slot: control words, signal frames, the saved FPU state. */
static void scribble_slots(void)
{
    pthread_t t;
    pthread_create(&t, NULL, scribbler, (void *)12345);
    for (int i = 0; i < 20000; i++)
        syscall(SYS_getppid);
    stop = 1;
    pthread_join(t, NULL);
}

/* The same through glibc's getppid, a site the platform patches: the
 * garbage lands in the fast calls' saved registers too. */
static void scribble_slots_patched(void)
{
    pthread_t t;
    pthread_create(&t, NULL, scribbler, (void *)54321);
    for (int i = 0; i < 20000; i++)
        getppid();
    stop = 1;
    pthread_join(t, NULL);
}

static void hot_getppid(void)
{
    for (int i = 0; i < 100; i++)
        getppid();
}

/* The fast entry with a table entry no site has. */
static void fast_entry_bad_entry(void)
{
    hot_getppid();
    __asm__ volatile("mov $0xffff, %%r11d; jmp *%0" ::"r"(FAST_ENTRY) : "r11", "memory");
}

/* The slow path's trap with an entry no site has. */
static void slow_path_bad_entry(void)
{
    hot_getppid();
    __asm__ volatile("mov $0x4000fff0, %%eax; jmp *%0" ::"r"(FAST_SLOW_SYSCALL) : "rax", "memory");
}

/* Into the return half with garbage registers, and into a trampoline's
 * middle. */
static void jump_to_fast_return(void)
{
    hot_getppid();
    __asm__ volatile("mov $0x1000, %%ebx; jmp *%0" ::"r"(FAST_ANSWERED) : "rbx", "memory");
}

static void jump_into_trampoline(void)
{
    hot_getppid();
    __asm__ volatile("xor %%eax, %%eax; jmp *%0" ::"r"(TRAMPOLINES + 3) : "rax", "memory");
}

static void write_table(void)
{
    hot_getppid();
    *(volatile uint64_t *)SYSCALL_TABLE = 0x401000;
}

/* gs based at another thread's slot while both make patched calls: the
 * calls land in the other thread's slot. */
static void *getppid_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++)
        getppid();
    return NULL;
}

static void forged_gs(void)
{
    hot_getppid();
    pthread_t t;
    pthread_create(&t, NULL, getppid_loop, NULL);
    uint64_t other = SLOTS + SLOT_SIZE;
    __asm__ volatile("wrgsbase %0" ::"r"(other));
    getppid_loop(NULL);
    pthread_join(t, NULL);
}

static volatile unsigned long handled;

static void on_usr1(int sig) { (void)sig; handled++; }

static void *signaller(void *arg)
{
    pid_t tid = (pid_t)(uintptr_t)arg;
    for (int i = 0; i < 5000; i++)
        syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
    return NULL;
}

/* Signals arriving during hand-offs: the guest sees each delivered and
 * its system calls keep working. */
static void signals_during_handoffs(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, signaller, (void *)(uintptr_t)syscall(SYS_gettid));
    pid_t me = getpid();
    for (int i = 0; i < 20000; i++)
        if (syscall(SYS_getpid) != me)
            _exit(3);
    pthread_join(t, NULL);
    _exit(handled > 0 ? 0 : 4);
}

/* ... and during fast hand-offs from a patched site. */
static void signals_during_patched_handoffs(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, signaller, (void *)(uintptr_t)syscall(SYS_gettid));
    pid_t me = getpid();
    for (int i = 0; i < 20000; i++)
        if (getpid() != me)
            _exit(3);
    pthread_join(t, NULL);
    _exit(handled > 0 ? 0 : 4);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "forged-gs") == 0) {
        run("gs at another thread's slot", forged_gs);
        printf("the guest lives on: %d\n", (int)(getppid() == 0));
        return 0;
    }
    run("jump to the handler", jump_to_handler);
    run("jump into the middle of the handler", jump_to_handler_middle);
    run("getpid at the stub's syscall site", syscall_site_getpid);
    run("exit at the stub's syscall site", syscall_site_exit);
    run("write to the stub code", write_code);
    run("write to the ops page", write_ops);
    run("signals during hand-offs", signals_during_handoffs);
    for (int i = 0; i < 3; i++)
        run("scribble over the slots", scribble_slots);
    run("signals during patched hand-offs", signals_during_patched_handoffs);
    run("the fast entry with a bad entry", fast_entry_bad_entry);
    run("the slow path with a bad entry", slow_path_bad_entry);
    run("write to the syscall table", write_table);
    run("jump into the fast return", jump_to_fast_return);
    run("jump into a trampoline", jump_into_trampoline);
    for (int i = 0; i < 3; i++)
        run("scribble over the slots during patched calls", scribble_slots_patched);
    printf("the guest lives on: %d\n", (int)(getppid() == 0));
    return 0;
}
