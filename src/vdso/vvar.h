/*
 * The vDSO data page ([vvar]): what vkernel publishes and the vDSO reads.
 * vkernel writes it (src/sched/vclock.rs through src/mm/vdso.rs, which
 * repeats these offsets and checks them against the built image); guests
 * map it read-only, one page right below the vDSO's first page.
 *
 * A clock reads as   base[id].sec seconds
 *                  + (base[id].snsec + (tsc - tsc_base) * mult) >> VK_SHIFT ns
 * under the sequence count `seq` (odd while vkernel rewrites the page).
 */
#ifndef VK_VVAR_H
#define VK_VVAR_H

#include <stdint.h>

/* clock_mode: how the vDSO may read the clocks. */
#define VK_CLOCK_SYSCALL 0 /* it may not: every clock read is a system call */
#define VK_CLOCK_TSC 1     /* from the TSC and the parameters below */

/* getcpu_mode: how the vDSO learns the CPU (the host's TSC_AUX). */
#define VK_GETCPU_SYSCALL 0
#define VK_GETCPU_RDPID 1
#define VK_GETCPU_RDTSCP 2

/* Fixed-point shift of `mult` and of the snsec fields. */
#define VK_SHIFT 32

/* One base per clock id (Linux's numbering); only the clocks in
 * VK_HRES_CLOCKS have one, the coarse clocks derive from them. */
#define VK_CLOCKS 12

struct vk_clock_base {
	uint64_t sec;
	uint64_t snsec; /* nanoseconds within the second, << VK_SHIFT, plus the fraction */
};

struct vk_vvar {
	uint32_t seq;
	uint32_t clock_mode;
	uint64_t tsc_base;
	uint64_t mult;          /* nanoseconds per TSC tick, << VK_SHIFT */
	uint64_t coarse_ns;     /* tick of the coarse clocks, their resolution */
	uint64_t hres_ns;       /* resolution of the others */
	int32_t tz_minuteswest; /* gettimeofday's timezone */
	int32_t tz_dsttime;
	uint32_t getcpu_mode;
	uint32_t reserved;
	struct vk_clock_base base[VK_CLOCKS];
};

#define VK_VVAR_SEQ 0
#define VK_VVAR_CLOCK_MODE 4
#define VK_VVAR_TSC_BASE 8
#define VK_VVAR_MULT 16
#define VK_VVAR_COARSE_NS 24
#define VK_VVAR_HRES_NS 32
#define VK_VVAR_TZ 40
#define VK_VVAR_GETCPU_MODE 48
#define VK_VVAR_BASE 56
#define VK_VVAR_SIZE (VK_VVAR_BASE + 16 * VK_CLOCKS)

_Static_assert(__builtin_offsetof(struct vk_vvar, clock_mode) == VK_VVAR_CLOCK_MODE, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, tsc_base) == VK_VVAR_TSC_BASE, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, mult) == VK_VVAR_MULT, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, coarse_ns) == VK_VVAR_COARSE_NS, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, hres_ns) == VK_VVAR_HRES_NS, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, tz_minuteswest) == VK_VVAR_TZ, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, getcpu_mode) == VK_VVAR_GETCPU_MODE, "layout");
_Static_assert(__builtin_offsetof(struct vk_vvar, base) == VK_VVAR_BASE, "layout");
_Static_assert(sizeof(struct vk_vvar) == VK_VVAR_SIZE, "layout");

#endif
