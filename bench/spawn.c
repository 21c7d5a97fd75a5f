/* fork + execve + waitpid of a program, N times (timed inside, with
 * CLOCK_MONOTONIC, so vkernel's own start-up is not counted).
 *   spawn N PROGRAM [ARGS...]
 * Prints "spawns=N us_per_spawn=<float>"; exits 1 if a child fails. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn N PROGRAM [ARGS...]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long long start = now();
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            return 1;
        }
        if (p == 0) {
            execve(argv[2], argv + 2, environ);
            _exit(127);
        }
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "spawn: child %ld failed (status %#x)\n", i, st);
            return 1;
        }
    }
    long long ns = now() - start;
    printf("spawns=%ld us_per_spawn=%.1f\n", n, ns / 1e3 / n);
    return 0;
}
