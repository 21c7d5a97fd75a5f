/* Ways a process ends: `faults MODE [N]` triggers one hardware fault or exit
 * path, so that the exit status (128+signal, or the exit code) can be
 * compared with a native run. */
#include "common.h"
#include <sys/mman.h>
#include <sys/resource.h>

static volatile int sink;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

int main(int argc, char **argv)
{
    /* No core files from the native run. */
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);
    if (argc < 2) {
        fprintf(stderr, "usage: faults MODE [N]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 0;
    printf("about to: %s\n", mode);
    fflush(stdout);

    if (!strcmp(mode, "null-write")) {
        *(volatile int *)0 = 1;
    } else if (!strcmp(mode, "null-read")) {
        sink = *(volatile int *)0;
    } else if (!strcmp(mode, "kernel-read")) {
        sink = *(volatile int *)0xffffffff81000000ul;
    } else if (!strcmp(mode, "noncanonical-read")) {
        sink = *(volatile int *)0x0000800000000000ul;
    } else if (!strcmp(mode, "readonly-write")) {
        volatile int *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *p = 1;
    } else if (!strcmp(mode, "after-munmap")) {
        volatile int *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *p = 1;
        munmap((void *)p, 4096);
        sink = *p;
    } else if (!strcmp(mode, "exec-noexec")) {
        unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 0xc3; /* ret */
        ((void (*)(void))p)();
    } else if (!strcmp(mode, "stack-overflow")) {
        sink = recurse(0);
    } else if (!strcmp(mode, "ud2")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(mode, "int3")) {
        __asm__ volatile("int3");
    } else if (!strcmp(mode, "divide-by-zero")) {
        __asm__ volatile("xor %%ecx, %%ecx\n mov $1, %%eax\n cltd\n idiv %%ecx"
                         ::: "eax", "ecx", "edx");
    } else if (!strcmp(mode, "hlt")) {
        __asm__ volatile("hlt"); /* privileged: #GP, SIGSEGV */
    } else if (!strcmp(mode, "exit")) {
        exit((int)n);
    } else if (!strcmp(mode, "exit-syscall")) {
        syscall(SYS_exit, n); /* the only thread leaving ends the process */
    } else if (!strcmp(mode, "return")) {
        return (int)n;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("still running after %s\n", mode);
    return 3;
}
