/* read() from a pipe holding 20 bytes into NULL, or into a buffer of which
 * only the first 10 bytes are mapped: Linux answers EFAULT and the 20 bytes
 * stay in the pipe (pipe_read copies nothing it cannot deliver). vkernel
 * answers EFAULT too but the data is gone: a later read finds the pipe
 * empty (and blocks forever when blocking). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
static int check(const char *label, void *dst)
{
    int fd[2];
    pipe(fd);
    write(fd[1], "0123456789abcdefghij", 20);
    long n = syscall(SYS_read, fd[0], dst, 20);
    int e = errno;
    fcntl(fd[0], F_SETFL, O_NONBLOCK);
    char rest[64];
    long m = read(fd[0], rest, sizeof rest);
    printf("%s: %ld %s; then %ld bytes left in the pipe (Linux: -1 EFAULT, then 20)\n", label, n, n < 0 ? strerror(e) : "", m);
    return n == -1 && e == EFAULT && m == 20 ? 0 : 1;
}
int main(void)
{
    char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 4096);
    int fails = check("read 20 into NULL", NULL);
    fails += check("read 20 into 10 mapped bytes", p + 4096 - 10);
    return fails ? 1 : 0;
}
