/* Clock read cost: N clock_gettime(CLOCK_MONOTONIC) calls through the libc
 * (default 1000000), which uses the vDSO when there is one; timed inside
 * the program. Prints "ns_per_call=<float>". */
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
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long long sum = 0;
    long long start = now();
    for (long i = 0; i < n; i++) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        sum += t.tv_nsec;
    }
    long long ns = now() - start;
    printf("calls=%ld ns_per_call=%.2f (%lld)\n", n, (double)ns / n, sum & 1);
    return 0;
}
