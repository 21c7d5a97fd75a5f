/* Memory-heavy process work, timed inside with CLOCK_MONOTONIC:
 *   bigmem MIB FORKS
 * touches MIB MiB of fresh anonymous memory (one write per page), then
 * forks FORKS times a child that writes one byte and exits, waiting for
 * each. Prints "touch_ms=<float> fork_us=<float>". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
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
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    long forks = argc > 2 ? atol(argv[2]) : 20;
    size_t len = mib << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    long long t0 = now();
    for (size_t i = 0; i < len; i += 4096)
        p[i] = (unsigned char)i | 1;
    long long t1 = now();
    for (long i = 0; i < forks; i++) {
        pid_t c = fork();
        if (c < 0) {
            perror("fork");
            return 1;
        }
        if (c == 0) {
            p[len / 2] = 7;
            _exit(p[0] == 1 ? 0 : 1);
        }
        int st;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "bigmem: child failed (status %#x)\n", st);
            return 1;
        }
    }
    long long t2 = now();
    printf("touch_ms=%.2f fork_us=%.1f\n", (t1 - t0) / 1e6, forks ? (t2 - t1) / 1e3 / forks : 0.0);
    return 0;
}
