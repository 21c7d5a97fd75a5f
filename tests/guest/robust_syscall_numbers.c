/* System call numbers out of the table: Linux (do_syscall_64 takes the
 * number as an int) ignores bits 32..63 of rax, so 0x100000027 is getpid;
 * numbers past the table, negative ones and the x32 range (bit 30; not
 * offered here, as on most kernels) give ENOSYS. Only harmless numbers are
 * made: getpid and getppid with high bits, and numbers no kernel assigns. */
#include "common.h"
#include <stdint.h>

static long raw0(long n)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n) : "rcx", "r11", "memory");
    return r;
}

static void show(const char *label, long r)
{
    printf("%s: %s\n", label, r == -ENOSYS ? "ENOSYS" : r < 0 && r > -4096 ? errname((int)-r) : "a value");
}

int main(void)
{
    CHECK("0x100000027 (high bits + getpid) is getpid", raw0(0x100000027L) == raw0(SYS_getpid));
    CHECK("0xffffffff0000006e (high bits + getppid) is getppid", raw0((long)0xffffffff0000006eull) == raw0(SYS_getppid));
    show("-1", raw0(-1));
    show("0xffffffff (-1 as int)", raw0(0xffffffffL));
    show("512", raw0(512));
    show("600", raw0(600));
    show("1000", raw0(1000));
    show("0x7fffffff", raw0(0x7fffffffL));
    show("0x40000027 (x32 getpid)", raw0(0x40000027L));
    return finish();
}
