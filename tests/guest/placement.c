/* Calls in quick succession, then far apart, then quick again, in two
 * threads, with the thread pinned to each CPU in turn: under vkernel's
 * seccomp platform this moves kernel threads between sharing their guest
 * thread's CPU and spreading (see Placement in platform/seccomp), and
 * every answer must stay right through the moves. Prints only facts that
 * are the same natively. */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static volatile unsigned long sink;

/* Quick calls, then calls `gap_us` of computing apart; returns how many
 * answers were wrong. */
static int phases(int quick, int slow, double gap_us)
{
    int wrong = 0;
    pid_t ppid = getppid(), tid = (pid_t)syscall(SYS_gettid);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < quick; i++)
            wrong += syscall(SYS_getppid) != ppid || syscall(SYS_gettid) != tid;
        for (int i = 0; i < slow; i++) {
            double until = now_us() + gap_us;
            while (now_us() < until)
                sink++;
            wrong += syscall(SYS_getppid) != ppid;
        }
    }
    return wrong;
}

static void *worker(void *arg)
{
    (void)arg;
    return (void *)(long)phases(3000, 20, 300);
}

/* Pinned to each CPU it may use, getcpu names that CPU, with quick calls
 * and slow ones around the move. */
static int pinned_everywhere(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return -1;
    int wrong = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0)
            return -1;
        wrong += phases(500, 5, 200);
        unsigned got = 999;
        syscall(SYS_getcpu, &got, NULL, NULL);
        wrong += got != (unsigned)cpu || sched_getcpu() != cpu;
    }
    sched_setaffinity(0, sizeof allowed, &allowed);
    return wrong;
}

int main(void)
{
    EXPECT_EQ("quick, then slow, then quick calls answer right", phases(20000, 50, 300), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK("pthread_create", pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        EXPECT_EQ("a thread's calls answer right", (long)r, 0);
    }
    EXPECT_EQ("pinned to each CPU: calls answer right and getcpu names it", pinned_everywhere(), 0);
    return vk_failures != 0;
}
