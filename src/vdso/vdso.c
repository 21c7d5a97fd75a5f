/*
 * vkernel's vDSO: the time and CPU calls a guest makes without a trap.
 * Mapped into every guest right above its data page ([vvar], see vvar.h),
 * which vkernel keeps current. Each call answers from the page when it can
 * and otherwise makes the real system call, which vkernel services: when
 * the page says the TSC may not be used, for clocks the page does not
 * carry (CPU-time clocks, unknown ids), and for getcpu without RDPID or
 * RDTSCP. Built by build.rs with vdso.lds; nothing here may need a
 * relocation or writable data.
 */
#include <stdint.h>

#include "vvar.h"

struct vk_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct vk_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

struct vk_timezone {
	int32_t tz_minuteswest;
	int32_t tz_dsttime;
};

#define NSEC_PER_SEC 1000000000ull

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11

/* Clocks read from the TSC, and the coarse ones (the tick before). */
#define HRES_CLOCKS ((1u << CLOCK_REALTIME) | (1u << CLOCK_MONOTONIC) | (1u << CLOCK_MONOTONIC_RAW) | (1u << CLOCK_BOOTTIME) | (1u << CLOCK_TAI))
#define COARSE_CLOCKS ((1u << CLOCK_REALTIME_COARSE) | (1u << CLOCK_MONOTONIC_COARSE))

#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309

#define EINVAL 22

/* The data page, one page below this image's first byte (vdso.lds). */
extern const struct vk_vvar vk_vvar __attribute__((visibility("hidden")));

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define barrier() __asm__ volatile("" ::: "memory")

static inline long syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/*
 * The TSC, not read before the loads above it, so a time read after seeing
 * another thread's write is not older than that thread's reading. (It may
 * be read after the sequence check below it: vkernel starts each new set
 * of parameters a microsecond in the future, at the value the old set
 * gives there, so a late old-set reading is never ahead of a new one.)
 */
static inline uint64_t tsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t read_begin(const struct vk_vvar *vd)
{
	uint32_t seq;
	while ((seq = READ_ONCE(vd->seq)) & 1)
		__asm__ volatile("pause");
	barrier();
	return seq;
}

static inline int read_retry(const struct vk_vvar *vd, uint32_t seq)
{
	barrier();
	return READ_ONCE(vd->seq) != seq;
}

/* Adds nanoseconds (less than a few seconds' worth, usually under one). */
static inline void set_normalized(struct vk_timespec *ts, uint64_t sec, uint64_t ns)
{
	if (__builtin_expect(ns >= NSEC_PER_SEC, 0)) {
		if (ns < 2 * NSEC_PER_SEC) {
			ns -= NSEC_PER_SEC;
			sec += 1;
		} else {
			sec += ns / NSEC_PER_SEC;
			ns %= NSEC_PER_SEC;
		}
	}
	ts->tv_sec = (int64_t)sec;
	ts->tv_nsec = (int64_t)ns;
}

/*
 * Reads clock `id` (one with a base) into *ts; with `coarse`, the value at
 * the last tick, where ticks come every coarse_ns from each whole second
 * of CLOCK_MONOTONIC (vkernel's clock_gettime counts them the same way).
 * Returns -1 when the page cannot answer.
 */
static inline int read_clock(uint32_t id, int coarse, struct vk_timespec *ts)
{
	const struct vk_vvar *vd = &vk_vvar;
	uint64_t sec, ns;
	uint32_t seq;
	do {
		seq = read_begin(vd);
		if (READ_ONCE(vd->clock_mode) != VK_CLOCK_TSC)
			return -1;
		uint64_t now = tsc_ordered();
		uint64_t base = READ_ONCE(vd->tsc_base);
		/* A TSC behind the base (a new set's first microsecond, another
		 * CPU's hair-early TSC) reads as the base. */
		uint64_t delta = now > base ? now - base : 0;
		unsigned __int128 elapsed = (unsigned __int128)delta * READ_ONCE(vd->mult);
		sec = READ_ONCE(vd->base[id].sec);
		ns = (uint64_t)((elapsed + READ_ONCE(vd->base[id].snsec)) >> VK_SHIFT);
		if (coarse) {
			uint64_t mono = (uint64_t)((elapsed + READ_ONCE(vd->base[CLOCK_MONOTONIC].snsec)) >> VK_SHIFT);
			uint64_t tick = READ_ONCE(vd->coarse_ns);
			uint64_t since_tick = tick ? (mono % NSEC_PER_SEC) % tick : 0;
			if (ns < since_tick) {
				ns += NSEC_PER_SEC;
				sec -= 1;
			}
			ns -= since_tick;
		}
	} while (read_retry(vd, seq));
	set_normalized(ts, sec, ns);
	return 0;
}

long __vdso_clock_gettime(int32_t clock, struct vk_timespec *ts)
{
	uint32_t id = (uint32_t)clock;
	if (id < VK_CLOCKS) {
		uint32_t bit = 1u << id;
		if (bit & HRES_CLOCKS) {
			if (read_clock(id, 0, ts) == 0)
				return 0;
		} else if (bit & COARSE_CLOCKS) {
			uint32_t base = id == CLOCK_REALTIME_COARSE ? CLOCK_REALTIME : CLOCK_MONOTONIC;
			if (read_clock(base, 1, ts) == 0)
				return 0;
		}
	}
	return syscall2(SYS_clock_gettime, clock, (long)ts);
}

long __vdso_gettimeofday(struct vk_timeval *tv, struct vk_timezone *tz)
{
	const struct vk_vvar *vd = &vk_vvar;
	if (tv) {
		struct vk_timespec ts;
		if (read_clock(CLOCK_REALTIME, 0, &ts) != 0)
			return syscall2(SYS_gettimeofday, (long)tv, (long)tz);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	if (tz) {
		tz->tz_minuteswest = READ_ONCE(vd->tz_minuteswest);
		tz->tz_dsttime = READ_ONCE(vd->tz_dsttime);
	}
	return 0;
}

/* Linux's time() is the coarse wall clock's seconds. */
int64_t __vdso_time(int64_t *t)
{
	struct vk_timespec ts;
	if (read_clock(CLOCK_REALTIME, 1, &ts) != 0)
		return syscall2(SYS_time, (long)t, 0);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/* Resolutions need no TSC: the page answers whatever the clock mode. */
long __vdso_clock_getres(int32_t clock, struct vk_timespec *res)
{
	const struct vk_vvar *vd = &vk_vvar;
	uint32_t id = (uint32_t)clock;
	uint64_t ns;
	if (id < VK_CLOCKS && ((1u << id) & HRES_CLOCKS))
		ns = READ_ONCE(vd->hres_ns);
	else if (id < VK_CLOCKS && ((1u << id) & COARSE_CLOCKS))
		ns = READ_ONCE(vd->coarse_ns);
	else
		return syscall2(SYS_clock_getres, clock, (long)res);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = (int64_t)ns;
	}
	return 0;
}

/*
 * The host keeps (node << 12) | cpu in TSC_AUX. vkernel reports node 0
 * (its getcpu system call does), so only the CPU is taken from it.
 */
long __vdso_getcpu(uint32_t *cpu, uint32_t *node, void *cache)
{
	uint32_t mode = READ_ONCE(vk_vvar.getcpu_mode);
	uint64_t aux;
	if (mode == VK_GETCPU_RDPID) {
		__asm__ volatile("rdpid %0" : "=r"(aux));
	} else if (mode == VK_GETCPU_RDTSCP) {
		uint32_t lo, hi, c;
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
		aux = c;
	} else {
		return syscall3(SYS_getcpu, (long)cpu, (long)node, (long)cache);
	}
	if (cpu)
		*cpu = (uint32_t)aux & 0xfff;
	if (node)
		*node = 0;
	return 0;
}

/* The names without the prefix, as Linux's vDSO also exports them. */
long clock_gettime(int32_t, struct vk_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
long gettimeofday(struct vk_timeval *, struct vk_timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long clock_getres(int32_t, struct vk_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(uint32_t *, uint32_t *, void *) __attribute__((weak, alias("__vdso_getcpu")));

/*
 * The note Linux's vDSO carries: "Linux", type 0, the kernel version code.
 * vkernel writes the version of the host kernel uname reports when it
 * loads the image (src/mm/vdso.rs).
 */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	uint32_t version;
} linux_note __attribute__((section(".note.Linux"), aligned(4), used)) = {6, 4, 0, "Linux", 0};
