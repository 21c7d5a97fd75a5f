/* The smallest possible program: exit(0). Built with -nostdlib -static. */
void _start(void)
{
    __asm__ volatile("mov $60, %eax\n xor %edi, %edi\n syscall");
    __builtin_unreachable();
}
