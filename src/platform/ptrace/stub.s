# The stub: the only host code that ever runs inside a guest address space.
# vkernel drives it with ptrace; it never runs on its own. Offsets are fixed
# (see platform/ptrace/stub.rs) because vkernel jumps to them by address.
# No stack is used: after start-up the stub's address space holds nothing
# but this page and views of guest memory.
# The entry and the syscall site for injected calls: vkernel loads
# rax/rdi/rsi/rdx/r10/r8/r9 and sets rip there.
    .include "stub_common.s"

# A batch of system calls read from the ops page: rbx points at the first
# op (nr, a1..a6 as 7 quadwords), r12 holds the count. Stops at the first
# error with r12 = ops not yet done (including the failed one).
    .org 0x20
batch_entry:
2:  test r12, r12
    jz 3f
    mov rax, [rbx]
    mov rdi, [rbx + 8]
    mov rsi, [rbx + 16]
    mov rdx, [rbx + 24]
    mov r10, [rbx + 32]
    mov r8, [rbx + 40]
    mov r9, [rbx + 48]
    syscall
    cmp rax, -4095
    jae 3f
    add rbx, 56
    dec r12
    jmp 2b
3:  int3
    jmp 3b

# A new host thread for a new guest thread: vkernel injects clone here
# (CLONE_VM | CLONE_THREAD | ..., same stack: nothing here uses it). The
# parent stops at the int3 with the new thread's id in rax; the new thread
# spins until the kernel thread that will run it seizes it with ptrace.
    .org 0x60
clone_site:
    syscall
    test rax, rax
    jz 5f
    int3
4:  jmp 4b
5:  pause
    jmp 5b
