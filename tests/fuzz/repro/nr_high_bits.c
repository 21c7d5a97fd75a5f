/* A system call number with bits above 31 set: Linux (since 5.x, do_syscall_64 takes an int) looks at
 * the low 32 bits only, so 0x100000027 is getpid; -1 is ENOSYS. */
#include <stdio.h>
#include <unistd.h>
static long raw0(long n) { long r; __asm__ volatile("syscall" : "=a"(r) : "0"(n) : "rcx", "r11", "memory"); return r; }
int main(void)
{
    printf("getpid via 0x100000027 equals getpid: %s\n", raw0(0x100000027L) == raw0(39) ? "yes" : "no");
    printf("nr -1: %ld\n", raw0(-1));
    printf("nr 0x40000027 (x32 bit): %ld\n", raw0(0x40000027L));
    return raw0(0x100000027L) == raw0(39) ? 0 : 1;
}
