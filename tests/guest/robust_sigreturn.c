/* rt_sigreturn with crafted frames, each in a forked child: a valid frame
 * resumes where it says; a non-canonical, kernel or zero rip, a
 * non-canonical rsp, a bad fpstate pointer, or code/stack selectors that
 * are not user ones (cs 0, cs 0x10) end the process with SIGSEGV as on
 * Linux (the return to user mode faults); all-ones or TF eflags give
 * SIGTRAP. The kernel itself is never at risk. (cs 0x23, 32-bit mode, is
 * left out: what the 64-bit code then does in 32-bit mode is the CPU's
 * business.)
 * Usage: robust_sigreturn [selectors] (only the cs rows; default: the rest). */
#include "proc.h"
#include <stdint.h>
#include <ucontext.h>

static char stack[65536] __attribute__((aligned(16)));

static void run(const char *label, int reg, uint64_t val, int fpstate)
{
    pid_t c = xfork();
    if (c == 0) {
        alarm(5);
        static ucontext_t uc;
        getcontext(&uc);
        char *frame = stack + 32768; /* rsp at rt_sigreturn: the ucontext */
        memset(frame, 0, 8192);
        ucontext_t *u = (ucontext_t *)frame;
        memcpy(u, &uc, sizeof uc);
        u->uc_mcontext.gregs[REG_RIP] = (uint64_t)(uintptr_t) && resumed;
        u->uc_mcontext.gregs[REG_RSP] = (uint64_t)(uintptr_t)(stack + 60000);
        u->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bull << 48); /* cs 0x33, ss 0x2b */
        u->uc_mcontext.fpregs = fpstate ? (void *)(uintptr_t)val : NULL;
        if (reg >= 0)
            u->uc_mcontext.gregs[reg] = val;
        __asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall" ::"r"(frame) : "memory");
    resumed:
        _exit(7);
    }
    printf("%s: %s\n", label, status_str(wait_status(c, 0)));
}

int main(int argc, char **argv)
{
    reset_signals();
    no_core_dumps();
    if (argc > 1 && !strcmp(argv[1], "selectors")) {
        run("cs 0, ss 0", REG_CSGSFS, 0, 0);
        run("cs 0x10 (a kernel selector)", REG_CSGSFS, 0x10 | (0x2bull << 48), 0);
        return finish();
    }
    run("valid frame (resumes and exits 7)", -1, 0, 0);
    run("rip non-canonical", REG_RIP, 0x0000800000000000ull, 0);
    run("rip in the kernel half", REG_RIP, 0xffffffff81000000ull, 0);
    run("rip 0", REG_RIP, 0, 0);
    run("rsp non-canonical", REG_RSP, 0x0000800000000000ull, 0);
    run("eflags all ones", REG_EFL, ~0ull, 0);
    run("eflags TF", REG_EFL, 0x302, 0);
    run("fpstate at a kernel address", -1, 0xffff800000000000ull, 1);
    run("fpstate misaligned", -1, 0x1001, 1);
    return finish();
}
