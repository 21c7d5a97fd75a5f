/* General-purpose registers across a syscall: everything but rax, rcx and
 * r11 is preserved, rcx holds the return address, r11 the flags; flags and
 * the fs/gs bases survive; arch_prctl round-trips. */
#include "common.h"
#include <asm/prctl.h>
#include <stdint.h>

/* Globals reached RIP-relative from the asm, so that no GPR is needed to
 * address them while every GPR holds a test value. */
uint64_t vk_in[12] __attribute__((used)), vk_out[12] __attribute__((used));
uint64_t vk_rcx __attribute__((used)), vk_r11 __attribute__((used));
uint64_t vk_ret __attribute__((used)), vk_flags __attribute__((used));
uint64_t vk_label __attribute__((used));

static void run(long nr)
{
    vk_ret = (uint64_t)nr;
    __asm__ volatile(
        "sub $128, %%rsp\n" /* step over the red zone */
        "push %%rbx\n push %%rbp\n push %%r12\n push %%r13\n push %%r14\n push %%r15\n"
        "mov vk_in+0(%%rip), %%rbx\n mov vk_in+8(%%rip), %%rbp\n"
        "mov vk_in+16(%%rip), %%rdx\n mov vk_in+24(%%rip), %%rsi\n"
        "mov vk_in+32(%%rip), %%rdi\n mov vk_in+40(%%rip), %%r8\n"
        "mov vk_in+48(%%rip), %%r9\n mov vk_in+56(%%rip), %%r10\n"
        "mov vk_in+64(%%rip), %%r12\n mov vk_in+72(%%rip), %%r13\n"
        "mov vk_in+80(%%rip), %%r14\n mov vk_in+88(%%rip), %%r15\n"
        "mov vk_ret(%%rip), %%rax\n"
        "std\n stc\n"
        "syscall\n"
        "2:\n"
        "pushfq\n popq vk_flags(%%rip)\n"
        "cld\n"
        "mov %%rax, vk_ret(%%rip)\n mov %%rcx, vk_rcx(%%rip)\n mov %%r11, vk_r11(%%rip)\n"
        "mov %%rbx, vk_out+0(%%rip)\n mov %%rbp, vk_out+8(%%rip)\n"
        "mov %%rdx, vk_out+16(%%rip)\n mov %%rsi, vk_out+24(%%rip)\n"
        "mov %%rdi, vk_out+32(%%rip)\n mov %%r8, vk_out+40(%%rip)\n"
        "mov %%r9, vk_out+48(%%rip)\n mov %%r10, vk_out+56(%%rip)\n"
        "mov %%r12, vk_out+64(%%rip)\n mov %%r13, vk_out+72(%%rip)\n"
        "mov %%r14, vk_out+80(%%rip)\n mov %%r15, vk_out+88(%%rip)\n"
        "lea 2b(%%rip), %%rax\n mov %%rax, vk_label(%%rip)\n"
        "pop %%r15\n pop %%r14\n pop %%r13\n pop %%r12\n pop %%rbp\n pop %%rbx\n"
        "add $128, %%rsp\n"
        :
        :
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void check(const char *what, long nr)
{
    static const char *names[12] = {"rbx", "rbp", "rdx", "rsi", "rdi", "r8",
                                    "r9",  "r10", "r12", "r13", "r14", "r15"};
    for (int i = 0; i < 12; i++)
        vk_in[i] = 0x1111111111111111ull * (i + 1) ^ 0x0123456789abcdefull;
    run(nr);
    int same = 1;
    for (int i = 0; i < 12; i++) {
        if (vk_in[i] != vk_out[i]) {
            printf("  %s changed\n", names[i]);
            same = 0;
        }
    }
    printf("%s:\n", what);
    CHECK("  all GPRs but rax/rcx/r11 preserved", same);
    CHECK("  rcx holds the address after syscall", vk_rcx == vk_label);
    CHECK("  r11 holds the flags", (vk_r11 & 0xcd5) == (vk_flags & 0xcd5));
    CHECK("  carry flag preserved", vk_flags & 1);
    CHECK("  direction flag preserved", vk_flags & 0x400);
}

int main(void)
{
    check("getppid", SYS_getppid);
    CHECK("  returned a pid", (long)vk_ret >= 0);
    check("unknown syscall 1000", 1000);
    CHECK("  returned -ENOSYS", (long)vk_ret == -ENOSYS);
    check("write with bad pointers in rsi", SYS_write);
    CHECK("  returned an error", (long)vk_ret < 0);

    /* fs base is the TCB, whose first word points at itself (glibc). */
    uint64_t fs = 0, self = 0;
    EXPECT_EQ("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    CHECK("fs base is the thread pointer", fs == self && fs != 0);
    static uint64_t gsword = 0x5a5a5a5a5a5a5a5aull;
    uint64_t gs = 0, got = 0;
    EXPECT_EQ("arch_prctl ARCH_SET_GS", syscall(SYS_arch_prctl, ARCH_SET_GS, &gsword), 0);
    for (int i = 0; i < 100; i++)
        syscall(SYS_getppid);
    EXPECT_EQ("arch_prctl ARCH_GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
    CHECK("gs base round-trips across syscalls", gs == (uint64_t)&gsword);
    __asm__ volatile("mov %%gs:0, %0" : "=r"(got));
    CHECK("gs-relative load reads through the new base", got == gsword);
    EXPECT_EQ("arch_prctl ARCH_SET_GS 0", syscall(SYS_arch_prctl, ARCH_SET_GS, 0), 0);
    EXPECT_ERR("arch_prctl unknown code", syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
    EXPECT_ERR("arch_prctl ARCH_SET_FS non-canonical",
               syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000ull), EPERM);
    return finish();
}
