# The start of both platforms' stubs (included first in their .text; see
# platform/stub_common.rs for the addresses): the entry parks at an int3,
# and the site at +0x10 makes one system call vkernel injects with ptrace
# and stops at the int3 after it with the result in rax.
    .intel_syntax noprefix
    .text
    .globl _start
_start:
1:  int3
    jmp 1b

    .org 0x10
syscall_site:
    syscall
    int3
