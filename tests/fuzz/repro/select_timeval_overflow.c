/* select with timeout {INT64_MAX, 1000000}: Linux normalizes tv_usec into
 * tv_sec (kern_select: sec + usec / 1000000), which overflows, and answers
 * EINVAL. vkernel accepts it (returns 1 for a ready fd). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    int p[2];
    pipe(p);
    write(p[1], "x", 1);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {INT64_MAX, 1000000};
    long n = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
    printf("select {INT64_MAX, 1000000}: %ld %s (Linux: -1 EINVAL)\n", n, n < 0 ? strerror(errno) : "");
    return n == -1 && errno == EINVAL ? 0 : 1;
}
