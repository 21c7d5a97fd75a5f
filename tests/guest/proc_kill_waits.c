/* SIGKILL sent to a process (kill(2), not tkill) ends the waits nothing
 * else may interrupt: a vfork parent waiting for its child to exec or
 * exit, and a process stopped by SIGSTOP. */
#include "proc.h"
#include <time.h>

static double seconds_since(struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

int main(void)
{
    /* A vfork parent blocked on a child that sleeps. */
    pid_t p = fork();
    if (p == 0) {
        pid_t c = vfork();
        if (c == 0) {
            sleep(3);
            _exit(0);
        }
        _exit(1);
    }
    usleep(200000);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    kill(p, SIGKILL);
    int st = 0;
    waitpid(p, &st, 0);
    CHECK("vfork parent dies of SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK("and without waiting for its child", seconds_since(&t) < 2.0);

    /* A stopped process. */
    p = fork();
    if (p == 0) {
        for (;;)
            pause();
    }
    kill(p, SIGSTOP);
    waitpid(p, &st, WUNTRACED);
    CHECK("child stopped", WIFSTOPPED(st));
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    CHECK("stopped child dies of SIGKILL", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* The vfork child (reparented) may still sleep; it is not ours now. */
    return finish();
}
