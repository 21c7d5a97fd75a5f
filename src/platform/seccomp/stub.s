# The seccomp stub: host code inside a guest address space. Guest threads
# run free (not traced): every guest system call hits the seccomp filter's
# SECCOMP_RET_TRAP, faults raise their host signal, and `handler` below
# reports either to vkernel through the thread's slot (shared memory) and
# waits for the answer, then returns to the guest with rt_sigreturn from
# the signal frame vkernel edited in place. One "mapper" thread per stub
# process changes host mappings on vkernel's behalf, reading its orders
# from a page the stub cannot write. Offsets and layouts are fixed (see
# platform/seccomp/stub.rs); nothing here uses a stack except the signal
# frames the kernel builds on each slot's alternate stack.
    .intel_syntax noprefix

    # The code is linked at STUB_CODE (0x7fffff001000); the data pages are
    # placed relative to it so that rip-relative addressing reaches them.
    .set OPS,        _start + 0xf000    # 0x7fffff010000: vkernel's orders to the mapper (read-only)
    .set MAPPER,     _start + 0x10000   # 0x7fffff011000: the mapper's answers
    .set SHARED,     _start + 0x11000   # 0x7fffff012000: filters, masks, tunables (read-only)
    .set DONE,       _start + 0x12000   # 0x7fffff013000: the done byte's page (read-only)
    .set SLOT_MASK,  -0x8000          # slots are 32 KiB, 32 KiB aligned

    # slot control words (see stub.rs)
    .set S_STATE,    0      # 0 running, 1 event posted, 2 answered
    .set S_STUB_SLEEPS, 4
    .set S_VK_SLEEPS, 8
    .set S_SIGNO,    12
    .set S_CODE,     16
    .set S_ADDR,     24
    .set S_UC,       32
    .set S_FS,       40
    .set S_GS,       48
    .set S_NEW_FS,   56
    .set S_NEW_GS,   64
    .set S_FLAGS,    72     # 1: set fs/gs base, 2: exit this thread, 4: await the mapper
    .set S_SYSCALL,  76
    .set S_AWAIT,    80     # with flag 4: the mapper request to wait for
    .set S_KICKED,   84     # a kick came during a fast call's wait
    .set S_LONG,     88     # vkernel sleeps serving the event: stop spinning
    .set S_SPIN,     92     # pauses spent awaiting an answer before sleeping, less one (vkernel's choice)
    .set S_ALTSTACK, 128    # stack_t for sigaltstack
    # A fast (patched-site) system call's registers (see stub.rs slot::fast)
    .set F_SITE,     256    # the site's table index
    .set F_LAHF,     260    # ah (lahf) and al (seto): the arithmetic flags
    .set F_RFLAGS,   264    # pushfq after they were lost; the answer's rflags
    .set F_RBX,      272
    .set F_RBP,      280
    .set F_R12,      288
    .set F_R13,      296
    .set F_R14,      304
    .set F_R15,      312
    .set F_RDI,      320
    .set F_RSI,      328
    .set F_RDX,      336
    .set F_R10,      344
    .set F_R8,       352
    .set F_R9,       360
    .set F_RSP,      368
    .set F_RAX,      376
    .set F_RCX,      384
    .set F_R11,      392
    .set F_RIP,      400
    .set F_STACK,    512    # top of the few bytes pushfq needs
    .set STATE_FAST, 3
    .set FLAG_CONVERT, 8
    .set SLOW_MARK, 0x40000000         # an x32 number: always traps

    # SHARED page
    .set SH_GUEST_PROG,  0
    .set SH_MAPPER_PROG, 16
    .set SH_ALL_SIGNALS, 32
    .set SH_NO_SIGNALS,  40
    .set SH_FSGSBASE,    48
    .set SH_MAPPER_SPIN, 56
    .set SH_DONE_OFFSET, 64  # guest-RAM offset of the batch-done byte (mapped read-only at DONE)
    .set SH_ONE,         72  # a nonzero byte, the source of that write
    .set SH_WAIT_TS,     80  # struct timespec: the longest sleep awaiting the mapper

    .set SIGUSR1, 10
    .set SYS_pwrite64, 18
    .set SYS_rt_sigprocmask, 14
    .set SYS_rt_sigreturn, 15
    .set SYS_clone, 56
    .set SYS_exit, 60
    .set SYS_sigaltstack, 131
    .set SYS_arch_prctl, 158
    .set SYS_futex, 202
    .set SYS_sched_yield, 24
    .set SYS_seccomp, 317
    .set FUTEX_WAIT, 0
    .set FUTEX_WAKE, 1
    .set ARCH_SET_GS, 0x1001
    .set ARCH_SET_FS, 0x1002

# The entry and the syscall site (used during set-up, while vkernel
# traces the first thread).
    .include "stub_common.s"

# Set-up makes the mapper thread here: the parent stops at the int3, the
# child starts serving.
    .org 0x20
mapper_clone_site:
    syscall
    test rax, rax
    jz mapper_start
    int3
2:  jmp 2b

# Every guest host thread waits here for its first run: the int3 raises a
# SIGTRAP whose frame vkernel fills with the thread's first registers.
    .org 0x40
thread_entry:
    int3
    jmp thread_entry

    .org 0x50
restorer:
    mov eax, SYS_rt_sigreturn
    syscall
    ud2

# The signal handler for SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP
# and the kick signal, on the slot's alternate stack with every signal
# blocked: rdi = signal, rsi = siginfo, rdx = ucontext.
    .org 0x80
handler:
    # The kick while a thread is on its way into vkernel through a
    # patched site (fast_entry up to the answer) cannot be posted (the
    # slot holds that call): it is noted, and the thread reports it with
    # a trap once answered (see fast_answered).
    cmp edi, SIGUSR1
    jne 1f
    mov rax, [rdx + 40 + 16 * 8]
    lea rcx, [rip + fast_entry]
    sub rax, rcx
    cmp rax, fast_answered - fast_entry
    jae 1f
    mov rcx, rsp
    and rcx, SLOT_MASK
    mov dword ptr [rcx + S_KICKED], 1
    ret
1:  mov rbx, rsp
    and rbx, SLOT_MASK
    mov [rbx + S_SIGNO], edi
    mov eax, [rsi + 8]
    mov [rbx + S_CODE], eax
    mov rax, [rsi + 16]
    mov [rbx + S_ADDR], rax
    mov eax, [rsi + 24]
    mov [rbx + S_SYSCALL], eax
    mov [rbx + S_UC], rdx
    cmp dword ptr [rip + SHARED + SH_FSGSBASE], 0
    je 1f
    rdfsbase rax
    mov [rbx + S_FS], rax
    rdgsbase rax
    mov [rbx + S_GS], rax
1:  # Post the event; wake vkernel if it sleeps (a store, then a load of
    # its flag: mfence keeps them in that order).
    mov dword ptr [rbx + S_STATE], 1
    mfence
    cmp dword ptr [rbx + S_VK_SLEEPS], 0
    je 2f
    lea rdi, [rbx + S_STATE]
    mov esi, FUTEX_WAKE
    mov edx, 1
    mov eax, SYS_futex
    syscall
2:  # Wait for the answer: spin (giving the CPU away now and then, in
    # case what we wait for waits for this CPU), then sleep on the state
    # word.
    mov r12d, [rbx + S_SPIN]
    inc r12d
    # Answered (2), or still posted (1); any other value is a guest that
    # wrote the slot: post again, so that vkernel sees an event (and can
    # end the guest) rather than this thread spinning with every signal
    # blocked.
3:  mov eax, [rbx + S_STATE]
    cmp eax, 2
    je 5f
    cmp eax, 1
    jne 1b
    pause
    cmp dword ptr [rbx + S_LONG], 0
    jne 9f
    dec r12d
    jz 9f
    test r12d, 255
    jnz 3b
    mov eax, SYS_sched_yield
    syscall
    jmp 3b
9:
    mov dword ptr [rbx + S_STUB_SLEEPS], 1
    mfence
    cmp dword ptr [rbx + S_STATE], 1
    jne 4f
    # At most 10 ms: a guest that cleared S_STUB_SLEEPS (vkernel then
    # does not wake us) costs itself that, never a thread asleep for good.
    lea rdi, [rbx + S_STATE]
    mov esi, FUTEX_WAIT
    mov edx, 1
    lea r10, [rip + SHARED + SH_WAIT_TS]
    mov eax, SYS_futex
    syscall
4:  mov dword ptr [rbx + S_STUB_SLEEPS], 0
    mov r12d, 1
    jmp 3b
5:  test dword ptr [rbx + S_FLAGS], 2
    jnz 7f
    test dword ptr [rbx + S_FLAGS], 4
    jz 10f
    # vkernel gave the mapper this thread's new host mappings and did
    # not wait: wait here until they are made. Done when the done byte
    # (read-only here, set by the mapper after its last call) is set, or
    # the MAPPER word says request S_AWAIT was served. A guest can forge
    # the latter (or S_AWAIT, or the flag): it only returns early, and
    # vkernel takes its next fault for a stale one. Sleeps on the MAPPER
    # word (the mapper always wakes it), never longer than SH_WAIT_TS.
    mov r12d, [rbx + S_SPIN]
    inc r12d
11: cmp byte ptr [rip + DONE], 0
    jne 10f
    mov eax, [rip + MAPPER]
    sub eax, [rbx + S_AWAIT]
    jns 10f
    pause
    dec r12d
    jz 12f
    test r12d, 255
    jnz 11b
    mov eax, SYS_sched_yield
    syscall
    jmp 11b
12: mov edx, [rip + MAPPER]
    cmp byte ptr [rip + DONE], 0
    jne 10f
    mov eax, edx
    sub eax, [rbx + S_AWAIT]
    jns 10f
    lea rdi, [rip + MAPPER]
    mov esi, FUTEX_WAIT
    lea r10, [rip + SHARED + SH_WAIT_TS]
    mov eax, SYS_futex
    syscall
    mov r12d, 1
    jmp 11b
10: cmp dword ptr [rip + SHARED + SH_FSGSBASE], 0
    je 6f
    mov rax, [rbx + S_NEW_FS]
    wrfsbase rax
    mov rax, [rbx + S_NEW_GS]
    wrgsbase rax
    mov dword ptr [rbx + S_STATE], 0
    ret
6:  test dword ptr [rbx + S_FLAGS], 1
    jz 8f
    mov edi, ARCH_SET_FS
    mov rsi, [rbx + S_NEW_FS]
    mov eax, SYS_arch_prctl
    syscall
    mov edi, ARCH_SET_GS
    mov rsi, [rbx + S_NEW_GS]
    mov eax, SYS_arch_prctl
    syscall
8:  mov dword ptr [rbx + S_STATE], 0
    ret
7:
thread_exit:
    # vkernel let this host thread go.
    mov dword ptr [rbx + S_STATE], 0
    xor edi, edi
    mov eax, SYS_exit
    syscall
    ud2

# The mapper thread: installs its filter, blocks every signal, then serves
# batches of system calls (nr + six arguments each) that vkernel writes in
# the OPS page: [0] request number, [8] count, ops from [64]. Answers in
# MAPPER: [0] request number served (the futex vkernel and a thread
# awaiting its mappings sleep on; always woken), [16] ops not done (0: all), [24] last result. An op with the
# clone number makes a guest host thread for the slot in its sixth
# argument. Guest threads can write the MAPPER page, so vkernel trusts
# none of it: that a batch is done it learns from a byte of guest RAM no
# stub maps, which only this thread writes (pwrite to the memfd, from a
# read-only source, at an offset from the read-only SHARED page) after
# the batch's last call returned.
    .org 0x280
mapper_start:
    mov eax, SYS_seccomp
    mov edi, 1
    xor esi, esi
    lea rdx, [rip + SHARED + SH_MAPPER_PROG]
    syscall
    test rax, rax
    jnz mapper_die
    mov eax, SYS_rt_sigprocmask
    mov edi, 2
    lea rsi, [rip + SHARED + SH_ALL_SIGNALS]
    xor edx, edx
    mov r10d, 8
    syscall
    xor r14d, r14d
mapper_loop:
    mov r15d, [rip + SHARED + SH_MAPPER_SPIN]
1:  mov eax, [rip + OPS]
    cmp eax, r14d
    jne mapper_work
    pause
    dec r15d
    jz 5f
    test r15d, 255
    jnz 1b
    mov eax, SYS_sched_yield
    syscall
    jmp 1b
5:  lea rdi, [rip + OPS]
    mov esi, FUTEX_WAIT
    mov edx, r14d
    xor r10d, r10d
    mov eax, SYS_futex
    syscall
    jmp mapper_loop
mapper_work:
    mov r14d, eax
    mov r12, [rip + OPS + 8]
    lea rbx, [rip + OPS + 64]
3:  test r12, r12
    jz 4f
    mov rax, [rbx]
    cmp rax, SYS_clone
    je mapper_clone
    mov rdi, [rbx + 8]
    mov rsi, [rbx + 16]
    mov rdx, [rbx + 24]
    mov r10, [rbx + 32]
    mov r8, [rbx + 40]
    mov r9, [rbx + 48]
    syscall
    cmp rax, -4095
    jae 4f
    add rbx, 56
    dec r12
    jmp 3b
4:  mov [rip + MAPPER + 16], r12
    mov [rip + MAPPER + 24], rax
    mov edi, 3
    lea rsi, [rip + SHARED + SH_ONE]
    mov edx, 1
    mov r10, [rip + SHARED + SH_DONE_OFFSET]
    mov eax, SYS_pwrite64
    syscall
    mov [rip + MAPPER], r14d
    lea rdi, [rip + MAPPER]
    mov esi, FUTEX_WAKE
    mov edx, 0x7fffffff     # vkernel and a guest thread may both wait
    mov eax, SYS_futex
    syscall
    jmp mapper_loop
mapper_clone:
    mov r13, [rbx + 48]
    mov rdi, [rbx + 8]
    xor esi, esi
    xor edx, edx
    xor r10d, r10d
    xor r8d, r8d
    mov eax, SYS_clone
    syscall
    test rax, rax
    jz thread_init
    cmp rax, -4095
    jae 4b
    add rbx, 56
    dec r12
    jmp 3b
mapper_die:
    xor edi, edi
    mov eax, SYS_exit
    syscall
    ud2

# A new guest host thread, r13 = its slot: its alternate stack, every
# signal unblocked, the guest filter on top of the mapper's, then wait
# at thread_entry for its first registers.
thread_init:
    lea rdi, [r13 + S_ALTSTACK]
    xor esi, esi
    mov eax, SYS_sigaltstack
    syscall
    test rax, rax
    jnz mapper_die
    mov eax, SYS_rt_sigprocmask
    mov edi, 2
    lea rsi, [rip + SHARED + SH_NO_SIGNALS]
    xor edx, edx
    mov r10d, 8
    syscall
    mov eax, SYS_seccomp
    mov edi, 1
    xor esi, esi
    lea rdx, [rip + SHARED + SH_GUEST_PROG]
    syscall
    test rax, rax
    jnz mapper_die
    jmp thread_entry

# A system call from a patched site: the site jumped through the syscall
# table to its trampoline, which loaded r11d with the site's index and
# jumped here. rax, rcx and r11 are free (the system call would clobber
# rcx and r11, and rax is its result). With gs based at this thread's slot
# (vkernel keeps it there while the guest's own gs is 0), the registers go
# to the slot, the event is posted and the answer awaited like the
# handler's, without a signal; otherwise (a guest with its own gs) the
# call traps from here with a number vkernel recognizes. Nothing here
# touches the FPU, so the guest's stays live.
    .org 0x600
fast_entry:
    lahf
    seto al
    rdgsbase rcx
    test ecx, 0x7fff
    jnz fast_slow
    cmp rcx, [rip + slots_start]
    jb fast_slow
    cmp rcx, [rip + slots_end]
    jae fast_slow
    mov [rcx + F_LAHF], ax
    mov [rcx + F_SITE], r11d
    mov [rcx + F_RSP], rsp
    mov [rcx + F_RBX], rbx
    mov [rcx + F_RBP], rbp
    mov [rcx + F_R12], r12
    mov [rcx + F_R13], r13
    mov [rcx + F_R14], r14
    mov [rcx + F_R15], r15
    mov [rcx + F_RDI], rdi
    mov [rcx + F_RSI], rsi
    mov [rcx + F_RDX], rdx
    mov [rcx + F_R10], r10
    mov [rcx + F_R8], r8
    mov [rcx + F_R9], r9
    lea rsp, [rcx + F_STACK]
    pushfq
    pop qword ptr [rcx + F_RFLAGS]
    rdfsbase rax
    mov [rcx + S_FS], rax
    mov rbx, rcx
    mov dword ptr [rbx + S_STATE], STATE_FAST
    mfence
    cmp dword ptr [rbx + S_VK_SLEEPS], 0
    je 2f
    lea rdi, [rbx + S_STATE]
    mov esi, FUTEX_WAKE
    mov edx, esi            # wake 1 (short: this code ends before 0x740)
    mov eax, SYS_futex
    syscall
2:  mov r12d, [rbx + S_SPIN]
    inc r12d
    # Answered (2), or still waiting (3); any other value is a guest that
    # wrote the slot: trap, so that vkernel sees an event either way.
3:  mov eax, [rbx + S_STATE]
    cmp eax, 2
    je fast_answered
    cmp eax, STATE_FAST
    jne fast_convert
    pause
    cmp dword ptr [rbx + S_LONG], 0
    jne 9f
    dec r12d
    jz 9f
    test r12d, 255
    jnz 3b
    mov eax, SYS_sched_yield
    syscall
    jmp 3b
9:  mov dword ptr [rbx + S_STUB_SLEEPS], 1
    mfence
    cmp dword ptr [rbx + S_STATE], STATE_FAST
    jne 4f
    lea rdi, [rbx + S_STATE]
    xor esi, esi            # FUTEX_WAIT, at most 10 ms (as above)
    mov edx, STATE_FAST
    lea r10, [rip + SHARED + SH_WAIT_TS]
    mov eax, SYS_futex
    syscall
4:  mov dword ptr [rbx + S_STUB_SLEEPS], 0
    mov r12d, 1
    jmp 3b
# Answered: back to the guest with the registers vkernel wrote (a kick
# from here on is a real event: vkernel knows the registers it answered).
    .org 0x740
fast_answered:
    test dword ptr [rbx + S_FLAGS], 2
    jnz thread_exit
    test dword ptr [rbx + S_FLAGS], FLAG_CONVERT
    jnz fast_convert
    cmp dword ptr [rbx + S_KICKED], 0
    jne fast_kicked
    mov rcx, rbx
    mov dword ptr [rcx + S_STATE], 0
    mov rax, [rcx + S_NEW_FS]
    wrfsbase rax
    mov rbx, [rcx + F_RBX]
    mov rbp, [rcx + F_RBP]
    mov r12, [rcx + F_R12]
    mov r13, [rcx + F_R13]
    mov r14, [rcx + F_R14]
    mov r15, [rcx + F_R15]
    mov rdi, [rcx + F_RDI]
    mov rsi, [rcx + F_RSI]
    mov rdx, [rcx + F_RDX]
    mov r10, [rcx + F_R10]
    mov r8, [rcx + F_R8]
    mov r9, [rcx + F_R9]
    mov rax, [rcx + F_RAX]
    mov r11, [rcx + F_R11]
    lea rsp, [rcx + F_RFLAGS]
    popfq
    mov rsp, [rcx + F_RSP]
    mov rcx, [rcx + F_RCX]
    jmp qword ptr gs:[F_RIP]
# vkernel needs the thread in a signal frame (its FPU state, a new gs,
# single-stepping): the undefined instruction gives it one.
fast_kicked:
    mov dword ptr [rbx + S_KICKED], 0
    .org 0x808, 0x90
fast_convert:
    ud2
# Not our gs: trap from here, the site's index and the lost flags in rax.
    .org 0x810
fast_slow:
    movzx eax, ax
    shl rax, 32
    or rax, r11
    or rax, SLOW_MARK
    .org 0x830, 0x90
fast_slow_syscall:
    syscall
    ud2
fast_end:
    .p2align 3
slots_start:
    .quad 0x7fffff100000                # SLOTS_ADDR
slots_end:
    .quad 0x7fffff100000 + 0x1df * 0x8000   # the end of the last whole slot
