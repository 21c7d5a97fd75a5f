/* read(/dev/zero, buf, (size_t)-1) with buf in the data segment: Linux
 * answers EFAULT before writing anything (vfs_read checks access_ok on the
 * whole count, then clamps it to MAX_RW_COUNT). vkernel clamps first and
 * zeroes everything mapped after buf (data, bss, heap) up to the first
 * unmapped page; the process then crashes or, as here, sees its memory
 * cleared. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static char buf[64];
static char after[64] = "must stay";
int main(void)
{
    int z = open("/dev/zero", O_RDONLY);
    long n = syscall(SYS_read, z, buf, (size_t)-1);
    int e = errno;
    int ok = n == -1 && e == EFAULT && !strcmp(after, "must stay");
    /* printf may not survive what vkernel did to the heap: write(2) only */
    const char *msg = ok ? "read count (size_t)-1: EFAULT, memory after the buffer intact (as on Linux)\n"
                         : "read count (size_t)-1: memory after the buffer changed or no EFAULT: FAIL\n";
    syscall(SYS_write, 1, msg, strlen(msg));
    return ok ? 0 : 1;
}
