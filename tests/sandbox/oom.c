/* Guest memory runs out (run it as vkernel -m 64m): PID 1 forks children
 * that each touch 8 MiB and then wait, then touches 32 MiB itself, then
 * forks idle children. The kernel must kill children to free memory (or
 * fail fork with EAGAIN/ENOMEM), never PID 1 itself: Linux's OOM killer
 * never picks init, and the faulting task retries once the victim is gone.
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

static void touch(size_t len)
{
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED)
        for (size_t i = 0; i < len; i += 4096)
            p[i] = 1;
}

static void spawn(size_t len)
{
    pid_t c = fork();
    if (c == 0) {
        if (len)
            touch(len);
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
    /* PID 1's own faults now find memory short: a child must go. */
    touch(32 << 20);
    for (int i = 0; i < 200; i++)
        spawn(0);
    for (int i = 0; i < nkids; i++)
        kill(kids[i], SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    printf("PID 1 survived\n");
    return 0;
}
