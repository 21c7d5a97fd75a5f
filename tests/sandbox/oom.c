/* Guest memory runs out (run it as vkernel -m 64m): PID 1 forks children
 * that each touch 8 MiB and then wait, and then as many idle children as
 * it can. The kernel must kill children to free memory (or fail fork with
 * EAGAIN/ENOMEM), never PID 1 itself: Linux's OOM killer never picks init.
 * PID 1 prints "PID 1 survived" and exits 0 when it gets to the end.
 * Under vkernel only (natively memory does not run out). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t kids[4096];
static int nkids;

static void spawn(size_t touch)
{
    pid_t c = fork();
    if (c == 0) {
        if (touch) {
            char *p = mmap(NULL, touch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p != MAP_FAILED)
                for (size_t i = 0; i < touch; i += 4096)
                    p[i] = 1;
        }
        pause();
        _exit(0);
    }
    if (c > 0 && nkids < 4096)
        kids[nkids++] = c;
}

int main(void)
{
    for (int i = 0; i < 24; i++)
        spawn(8 << 20);
    for (int i = 0; i < 2000; i++)
        spawn(0);
    sleep(1);
    for (int i = 0; i < nkids; i++)
        kill(kids[i], SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    printf("PID 1 survived\n");
    return 0;
}
