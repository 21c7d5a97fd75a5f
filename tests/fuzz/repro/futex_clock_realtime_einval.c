/* futex(FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME) with an invalid timeout:
 * Linux reads and checks the timeout before the command (sys_futex, then
 * do_futex), so {0, -1} is EINVAL and a kernel address EFAULT; the command
 * itself (CLOCK_REALTIME without BITSET) is ENOSYS only for a valid time.
 * vkernel says ENOSYS to all three. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
int main(void)
{
    static int word = 5;
    struct timespec bad = {0, -1}, zero = {0, 0};
    int op = FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, fails = 0;
    long r = syscall(SYS_futex, &word, op, 0, &bad, NULL, 0);
    printf("{0, -1}: %ld %s (Linux: EINVAL)\n", r, strerror(errno));
    fails += errno != EINVAL;
    r = syscall(SYS_futex, &word, op, 0, (void *)0xffff800000000000ull, NULL, 0);
    printf("kernel address: %ld %s (Linux: EFAULT)\n", r, strerror(errno));
    fails += errno != EFAULT;
    r = syscall(SYS_futex, &word, op, 0, &zero, NULL, 0);
    printf("{0, 0}: %ld %s (Linux: ENOSYS)\n", r, strerror(errno));
    fails += errno != ENOSYS;
    return fails ? 1 : 0;
}
