/* Dies of SIGSEGV three calls deep after setting RLIMIT_CORE to argv[1]
 * ("inf" or a byte count), with known values in memory for a debugger to
 * find in its core file: a global, a heap string, the arguments, a deep
 * stack. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

volatile long marker;

__attribute__((noinline)) int depth(int n, char *heap)
{
    if (n == 0)
        *(volatile int *)0 = 1;
    return depth(n - 1, heap) + 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = strcmp(argv[1], "inf") == 0 ? RLIM_INFINITY : strtoull(argv[1], NULL, 0);
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        return 3;
    char *heap = malloc(100000);
    strcpy(heap, "heap-marker-string");
    marker = 0x12345678;
    return depth(3, heap);
}
