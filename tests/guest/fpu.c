/* FPU and vector state survives system calls: xmm0-15, ymm0-15 (AVX),
 * zmm0-31 and k0-7 (AVX-512, when present), the x87 stack, control word and
 * MXCSR, each across 10,000 getppid calls; and float math interleaved with
 * syscalls gives the native result. */
#include "common.h"
#include <cpuid.h>
#include <stdint.h>

#define N 10000

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 13 + (i >> 4) * 7);
}

#define SYSCALL_LOOP                                                          \
    "mov %[n], %%r12\n"                                                       \
    "1: mov $110, %%eax\n"                                                    \
    "syscall\n"                                                               \
    "dec %%r12\n"                                                             \
    "jnz 1b\n"

static int check_xmm(void)
{
    unsigned char in[16 * 16], out[16 * 16];
    pattern(in, sizeof in, 1);
    memset(out, 0, sizeof out);
    __asm__ volatile(
        "movdqu 0(%[in]), %%xmm0\n movdqu 16(%[in]), %%xmm1\n"
        "movdqu 32(%[in]), %%xmm2\n movdqu 48(%[in]), %%xmm3\n"
        "movdqu 64(%[in]), %%xmm4\n movdqu 80(%[in]), %%xmm5\n"
        "movdqu 96(%[in]), %%xmm6\n movdqu 112(%[in]), %%xmm7\n"
        "movdqu 128(%[in]), %%xmm8\n movdqu 144(%[in]), %%xmm9\n"
        "movdqu 160(%[in]), %%xmm10\n movdqu 176(%[in]), %%xmm11\n"
        "movdqu 192(%[in]), %%xmm12\n movdqu 208(%[in]), %%xmm13\n"
        "movdqu 224(%[in]), %%xmm14\n movdqu 240(%[in]), %%xmm15\n"
        SYSCALL_LOOP
        "movdqu %%xmm0, 0(%[out])\n movdqu %%xmm1, 16(%[out])\n"
        "movdqu %%xmm2, 32(%[out])\n movdqu %%xmm3, 48(%[out])\n"
        "movdqu %%xmm4, 64(%[out])\n movdqu %%xmm5, 80(%[out])\n"
        "movdqu %%xmm6, 96(%[out])\n movdqu %%xmm7, 112(%[out])\n"
        "movdqu %%xmm8, 128(%[out])\n movdqu %%xmm9, 144(%[out])\n"
        "movdqu %%xmm10, 160(%[out])\n movdqu %%xmm11, 176(%[out])\n"
        "movdqu %%xmm12, 192(%[out])\n movdqu %%xmm13, 208(%[out])\n"
        "movdqu %%xmm14, 224(%[out])\n movdqu %%xmm15, 240(%[out])\n"
        :
        : [in] "r"(in), [out] "r"(out), [n] "r"((long)N)
        : "rax", "rcx", "r11", "r12", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
          "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
          "xmm14", "xmm15");
    return memcmp(in, out, sizeof in) == 0;
}

static int check_ymm(void)
{
    unsigned char in[16 * 32], out[16 * 32];
    pattern(in, sizeof in, 2);
    memset(out, 0, sizeof out);
    __asm__ volatile(
        "vmovdqu 0(%[in]), %%ymm0\n vmovdqu 32(%[in]), %%ymm1\n"
        "vmovdqu 64(%[in]), %%ymm2\n vmovdqu 96(%[in]), %%ymm3\n"
        "vmovdqu 128(%[in]), %%ymm4\n vmovdqu 160(%[in]), %%ymm5\n"
        "vmovdqu 192(%[in]), %%ymm6\n vmovdqu 224(%[in]), %%ymm7\n"
        "vmovdqu 256(%[in]), %%ymm8\n vmovdqu 288(%[in]), %%ymm9\n"
        "vmovdqu 320(%[in]), %%ymm10\n vmovdqu 352(%[in]), %%ymm11\n"
        "vmovdqu 384(%[in]), %%ymm12\n vmovdqu 416(%[in]), %%ymm13\n"
        "vmovdqu 448(%[in]), %%ymm14\n vmovdqu 480(%[in]), %%ymm15\n"
        SYSCALL_LOOP
        "vmovdqu %%ymm0, 0(%[out])\n vmovdqu %%ymm1, 32(%[out])\n"
        "vmovdqu %%ymm2, 64(%[out])\n vmovdqu %%ymm3, 96(%[out])\n"
        "vmovdqu %%ymm4, 128(%[out])\n vmovdqu %%ymm5, 160(%[out])\n"
        "vmovdqu %%ymm6, 192(%[out])\n vmovdqu %%ymm7, 224(%[out])\n"
        "vmovdqu %%ymm8, 256(%[out])\n vmovdqu %%ymm9, 288(%[out])\n"
        "vmovdqu %%ymm10, 320(%[out])\n vmovdqu %%ymm11, 352(%[out])\n"
        "vmovdqu %%ymm12, 384(%[out])\n vmovdqu %%ymm13, 416(%[out])\n"
        "vmovdqu %%ymm14, 448(%[out])\n vmovdqu %%ymm15, 480(%[out])\n"
        "vzeroupper\n"
        :
        : [in] "r"(in), [out] "r"(out), [n] "r"((long)N)
        : "rax", "rcx", "r11", "r12", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
          "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
          "xmm14", "xmm15");
    return memcmp(in, out, sizeof in) == 0;
}

#define Z(i) "vmovdqu64 " #i "*64(%[in]), %%zmm" #i "\n"
#define ZO(i) "vmovdqu64 %%zmm" #i ", " #i "*64(%[out])\n"
static int check_zmm(void)
{
    static unsigned char in[32 * 64 + 7 * 8], out[32 * 64 + 7 * 8];
    pattern(in, sizeof in, 3);
    memset(out, 0, sizeof out);
    __asm__ volatile(
        Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11) Z(12) Z(13) Z(14)
        Z(15) Z(16) Z(17) Z(18) Z(19) Z(20) Z(21) Z(22) Z(23) Z(24) Z(25) Z(26) Z(27)
        Z(28) Z(29) Z(30) Z(31)
        "kmovq 2048(%[in]), %%k1\n kmovq 2056(%[in]), %%k2\n kmovq 2064(%[in]), %%k3\n"
        "kmovq 2072(%[in]), %%k4\n kmovq 2080(%[in]), %%k5\n kmovq 2088(%[in]), %%k6\n"
        "kmovq 2096(%[in]), %%k7\n"
        SYSCALL_LOOP
        ZO(0) ZO(1) ZO(2) ZO(3) ZO(4) ZO(5) ZO(6) ZO(7) ZO(8) ZO(9) ZO(10) ZO(11) ZO(12)
        ZO(13) ZO(14) ZO(15) ZO(16) ZO(17) ZO(18) ZO(19) ZO(20) ZO(21) ZO(22) ZO(23)
        ZO(24) ZO(25) ZO(26) ZO(27) ZO(28) ZO(29) ZO(30) ZO(31)
        "kmovq %%k1, 2048(%[out])\n kmovq %%k2, 2056(%[out])\n kmovq %%k3, 2064(%[out])\n"
        "kmovq %%k4, 2072(%[out])\n kmovq %%k5, 2080(%[out])\n kmovq %%k6, 2088(%[out])\n"
        "kmovq %%k7, 2096(%[out])\n"
        "vzeroupper\n"
        :
        : [in] "r"(in), [out] "r"(out), [n] "r"((long)N)
        : "rax", "rcx", "r11", "r12", "memory");
    /* k0 is not loaded (it reads as "all lanes" in masked forms). */
    return memcmp(in, out, 2048 + 7 * 8) == 0;
}

static int check_x87(void)
{
    long double in[4] = {1.0L / 3.0L, -12345.6789L, 3.0e300L, 1.0e-4000L}, out[4];
    uint16_t cw_in = 0x0f7f; /* extended precision, round toward zero, all masked */
    uint16_t cw_out = 0;
    uint32_t mxcsr_in = 0xffc0, mxcsr_out = 0, mxcsr_saved; /* FTZ, DAZ, round to zero */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_saved));
    __asm__ volatile(
        "fninit\n"
        "fldcw %[cwi]\n"
        "ldmxcsr %[mxi]\n"
        "fldt 48(%[in])\n fldt 32(%[in])\n fldt 16(%[in])\n fldt 0(%[in])\n"
        SYSCALL_LOOP
        "fstpt 0(%[out])\n fstpt 16(%[out])\n fstpt 32(%[out])\n fstpt 48(%[out])\n"
        "fnstcw %[cwo]\n"
        "stmxcsr %[mxo]\n"
        "fldcw %[cwdef]\n"
        "ldmxcsr %[mxs]\n"
        : [cwo] "=m"(cw_out), [mxo] "=m"(mxcsr_out)
        : [in] "r"(in), [out] "r"(out), [n] "r"((long)N), [cwi] "m"(cw_in),
          [mxi] "m"(mxcsr_in), [mxs] "m"(mxcsr_saved), [cwdef] "m"((uint16_t){0x037f})
        : "rax", "rcx", "r11", "r12", "memory", "st", "st(1)", "st(2)", "st(3)");
    printf("x87 control word after syscalls: %#x\n", cw_out);
    printf("MXCSR after syscalls: %#x\n", mxcsr_out);
    return memcmp(in, out, 10) == 0 && memcmp(&in[1], &out[1], 10) == 0 &&
           memcmp(&in[2], &out[2], 10) == 0 && memcmp(&in[3], &out[3], 10) == 0 &&
           cw_out == cw_in && mxcsr_out == mxcsr_in;
}

int main(void)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int have_avx = avx && (xcr0 & 6) == 6;
    __cpuid_count(7, 0, a, b, c, d);
    int have_avx512 = have_avx && ((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;

    CHECK("xmm0-15 survive 10000 syscalls", check_xmm());
    if (have_avx)
        CHECK("ymm0-15 survive 10000 syscalls", check_ymm());
    else
        printf("ymm: AVX not available\n");
    if (have_avx512)
        CHECK("zmm0-31 and k1-7 survive 10000 syscalls", check_zmm());
    else
        printf("zmm: AVX-512 not available\n");
    CHECK("x87 stack, control word and MXCSR survive 10000 syscalls", check_x87());

    /* Float math with syscalls in between. */
    volatile double acc = 0.0;
    volatile float facc = 0.0f;
    volatile long double lacc = 0.0L;
    for (int i = 1; i <= N; i++) {
        acc += 1.5 / (i + 0.25);
        syscall(SYS_getppid);
        facc += 1.0f / (float)i;
        lacc += 1.0L / ((long double)i * i);
        if (i % 1000 == 0)
            getppid();
    }
    printf("double sum=%.17g\n", acc);
    printf("float sum=%.9g\n", (double)facc);
    printf("long double sum=%.21Lg\n", (long double)lacc);
    return finish();
}
