/* exit() while two threads keep creating threads that wait on a futex
 * forever: every thread of the group dies, including one whose clone
 * raced the exit (it must join with the SIGKILL its siblings got), so
 * each of 100 children is reaped and the program ends. */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sys/wait.h>

static int word;

static void *waiter(void *arg)
{
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return arg;
}

static void *spawner(void *arg)
{
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, waiter, NULL) == 0)
            pthread_detach(t);
    }
    return arg;
}

int main(void)
{
    int reaped = 0;
    for (int i = 0; i < 100; i++) {
        pid_t p = fork();
        if (p == 0) {
            pthread_t a, b;
            pthread_create(&a, NULL, spawner, NULL);
            pthread_create(&b, NULL, spawner, NULL);
            usleep(2000 + (i % 7) * 500);
            exit(0);
        }
        int status;
        if (waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            reaped++;
    }
    EXPECT_EQ("children that exited 0 while cloning", reaped, 100);
    return vk_failures != 0;
}
