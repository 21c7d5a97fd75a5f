/* Thread benchmarks, timed inside the program (start-up excluded):
 *   threads mutex NTHREADS ITERS   NTHREADS threads take one mutex ITERS times each
 *   threads cpu NTHREADS ITERS     NTHREADS threads each run ITERS rounds of arithmetic
 * Prints "wall=SECONDS check=N". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;
static long iters;

static void *contend(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *spin(void *arg)
{
    unsigned long x = (unsigned long)arg + 1;
    for (long i = 0; i < iters; i++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    pthread_mutex_lock(&lock);
    counter += x & 1;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "mutex") && strcmp(argv[1], "cpu"))) {
        fprintf(stderr, "usage: threads mutex|cpu NTHREADS ITERS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    iters = atol(argv[3]);
    if (n < 1 || n > 64 || iters < 1) {
        fprintf(stderr, "threads: NTHREADS 1-64, ITERS >= 1\n");
        return 2;
    }
    void *(*fn)(void *) = argv[1][0] == 'm' ? contend : spin;
    pthread_t t[64];
    double start = now();
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, (void *)i)) {
            perror("pthread_create");
            return 1;
        }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("wall=%.6f check=%lu\n", now() - start, counter);
    return 0;
}
