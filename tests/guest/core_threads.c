/* A threaded crash for tests/coredump.rs: two threads park (one in a
 * blocking read, one spinning), then the main thread writes through NULL.
 * The core must hold all three threads for gdb. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_int parked;
static int never[2];

__attribute__((noinline)) static void *reading_thread(void *arg)
{
    (void)arg;
    char b;
    atomic_fetch_add(&parked, 1);
    read(never[0], &b, 1);
    return NULL;
}

__attribute__((noinline)) static void *spinning_thread(void *arg)
{
    (void)arg;
    atomic_fetch_add(&parked, 1);
    for (volatile unsigned long i = 0;; i++)
        ;
    return NULL;
}

int main(void)
{
    struct rlimit core = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_CORE, &core);
    pipe(never);
    pthread_t a, b;
    pthread_create(&a, NULL, reading_thread, NULL);
    pthread_create(&b, NULL, spinning_thread, NULL);
    while (atomic_load(&parked) < 2)
        usleep(1000);
    usleep(20000);
    *(volatile int *)0 = 1;
    return 0;
}
