/* Syscall round trip: N getppid calls (default 100000), timed inside the
 * program with CLOCK_MONOTONIC. Prints "ns_per_call=<float>". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    long long start = now();
    for (long i = 0; i < n; i++) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");
    }
    long long ns = now() - start;
    printf("calls=%ld ns_per_call=%.1f\n", n, (double)ns / n);
    return 0;
}
