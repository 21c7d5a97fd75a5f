/* CPU-bound work without syscalls: integer mixing plus a little floating
 * point over a 64 KiB table (in cache). Prints "ns=<compute time>" and a
 * checksum so the work cannot be optimized away. */
#include <stdint.h>
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
    long rounds = argc > 1 ? atol(argv[1]) : 20000;
    static uint64_t table[8192];
    for (int i = 0; i < 8192; i++)
        table[i] = i * 0x9e3779b97f4a7c15ull;
    long long start = now();
    uint64_t x = 1;
    double f = 0.0;
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < 8192; i++) {
            x ^= table[(x >> 7) & 8191] + (x << 13) + r;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            table[i] += x;
            f += (double)(x & 0xffff) * 1e-6;
        }
    }
    long long ns = now() - start;
    printf("ns=%lld checksum=%016llx f=%.3f\n", ns, (unsigned long long)x, f);
    return 0;
}
