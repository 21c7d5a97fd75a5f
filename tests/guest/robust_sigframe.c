/* Signal delivery that cannot build a frame, each in a forked child: a
 * handler run on an alternate stack that is unmapped or read-only; a stack pointer in unmapped memory or at the very bottom of a
 * mapping; a handler at an unmapped address; an SA_RESTORER that is not
 * code. Linux kills the process with SIGSEGV (force_sigsegv) or faults at
 * the bad address; vkernel must do the same and stay up. A control row
 * delivers normally. */
#include "proc.h"
#include <stdint.h>
#include <sys/mman.h>

static volatile int handled;
static void on_usr1(int s) { (void)s; handled++; }

/* sigaction through the raw call, so that the restorer can be chosen. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
#define SA_RESTORER_FLAG 0x04000000

static void set_raw_action(void *handler, unsigned long flags, void *restorer)
{
    struct kernel_sigaction ka = {handler, flags | SA_RESTORER_FLAG, restorer, 0};
    syscall(SYS_rt_sigaction, SIGUSR1, &ka, NULL, 8);
}

extern void good_restorer(void);
__asm__(".text\ngood_restorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");

static void *page(int prot)
{
    return mmap(NULL, 65536, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void with_altstack(void *sp, size_t size)
{
    stack_t ss = {.ss_sp = sp, .ss_size = size, .ss_flags = 0};
    if (syscall(SYS_sigaltstack, &ss, NULL) < 0)
        printf("  sigaltstack: -1 %s\n", errname(errno));
}

/* raise SIGUSR1 with rsp set to `sp` for the duration of the kill. */
static void raise_on_stack(void *sp)
{
    long pid = getpid();
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %0, %%rsp\n\t"
                     "mov $62, %%eax\n\t"
                     "mov %1, %%rdi\n\t"
                     "mov $10, %%esi\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     :
                     : "r"(sp), "r"(pid)
                     : "rax", "rdi", "rsi", "rcx", "r11", "r12", "memory");
}

enum how { NORMAL, ALT_UNMAPPED, ALT_READONLY, RSP_UNMAPPED, RSP_BOTTOM, HANDLER_UNMAPPED, RESTORER_DATA };

static void run(const char *label, enum how how)
{
    pid_t c = xfork();
    if (c == 0) {
        alarm(5);
        void *none = page(PROT_NONE), *ro = page(PROT_READ), *rw = page(PROT_READ | PROT_WRITE);
        void *handler = (void *)on_usr1, *restorer = (void *)good_restorer;
        unsigned long flags = 0;
        switch (how) {
        case ALT_UNMAPPED: with_altstack(none, 65536); flags = SA_ONSTACK; break;
        case ALT_READONLY: with_altstack(ro, 65536); flags = SA_ONSTACK; break;
        case HANDLER_UNMAPPED: handler = none; break;
        case RESTORER_DATA: restorer = rw; break;
        default: break;
        }
        set_raw_action(handler, flags, restorer);
        if (how == RSP_UNMAPPED)
            raise_on_stack((char *)none + 32768);
        else if (how == RSP_BOTTOM)
            raise_on_stack((char *)rw + 64);
        else
            kill(getpid(), SIGUSR1);
        _exit(handled == 1 ? 0 : 3);
    }
    printf("%s: %s\n", label, status_str(wait_status(c, 0)));
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    run("a normal delivery (exits 0)", NORMAL);
    run("alternate stack unmapped", ALT_UNMAPPED);
    run("alternate stack read-only", ALT_READONLY);
    run("stack pointer in unmapped memory", RSP_UNMAPPED);
    run("stack pointer 64 bytes above the bottom of a mapping", RSP_BOTTOM);
    run("handler at an unmapped address", HANDLER_UNMAPPED);
    run("restorer in non-executable memory", RESTORER_DATA);
    return finish();
}
