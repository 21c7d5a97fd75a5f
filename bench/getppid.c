/* Syscall round trip: N getppid calls (default 100000), timed inside the
 * program with CLOCK_MONOTONIC. Prints "ns_per_call=<float>". The calls
 * are a bare `syscall` with the number moved from a register; with a
 * second argument "libc", glibc's getppid (a `mov $110, %eax; syscall`
 * site, which the seccomp platform patches). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int libc = argc > 2 && strcmp(argv[2], "libc") == 0;
    long long start = now();
    for (long i = 0; i < n && libc; i++)
        getppid();
    for (long i = 0; i < n && !libc; i++) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");
    }
    long long ns = now() - start;
    printf("calls=%ld ns_per_call=%.1f\n", n, (double)ns / n);
    return 0;
}
