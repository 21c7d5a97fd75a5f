/* Clocks and sleeps; prints only facts, never times. */
#include "common.h"
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static long long now(clockid_t c)
{
    struct timespec t = {0, 0};
    syscall(SYS_clock_gettime, c, &t);
    return ns(t);
}

int main(void)
{
    struct timespec t, r;

    /* Raw syscalls and glibc (vDSO natively) both. */
    long long m0 = now(CLOCK_MONOTONIC);
    int increasing = 1;
    long long prev = m0;
    for (int i = 0; i < 1000; i++) {
        long long m = now(CLOCK_MONOTONIC);
        struct timespec g;
        clock_gettime(CLOCK_MONOTONIC, &g);
        if (m < prev || ns(g) < m)
            increasing = 0;
        prev = ns(g);
    }
    CHECK("CLOCK_MONOTONIC never goes back", increasing);
    CHECK("CLOCK_MONOTONIC advanced over 2000 reads", prev > m0);

    const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
                                CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME};
    const char *names[] = {"REALTIME", "MONOTONIC", "PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID",
                           "MONOTONIC_RAW", "REALTIME_COARSE", "MONOTONIC_COARSE", "BOOTTIME"};
    for (int i = 0; i < 8; i++) {
        char label[80];
        snprintf(label, sizeof label, "clock_gettime CLOCK_%s", names[i]);
        EXPECT_EQ(label, syscall(SYS_clock_gettime, clocks[i], &t), 0);
        snprintf(label, sizeof label, "clock_getres CLOCK_%s", names[i]);
        EXPECT_EQ(label, syscall(SYS_clock_getres, clocks[i], &r), 0);
        snprintf(label, sizeof label, "  resolution positive and at most 10 ms");
        CHECK(label, r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 10000000);
    }
    EXPECT_EQ("clock_getres with NULL", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL), 0);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r);
    CHECK("CLOCK_MONOTONIC resolution is 1 ns", r.tv_sec == 0 && r.tv_nsec == 1);
    EXPECT_ERR("clock_gettime unknown clock", syscall(SYS_clock_gettime, 99, &t), EINVAL);
    EXPECT_ERR("clock_getres unknown clock", syscall(SYS_clock_getres, 99, &r), EINVAL);

    /* Wall clock sources agree. */
    struct timeval tv;
    long long rt = now(CLOCK_REALTIME);
    EXPECT_EQ("gettimeofday", syscall(SYS_gettimeofday, &tv, NULL), 0);
    time_t tt = 0;
    long tr = syscall(SYS_time, &tt);
    CHECK("time() returns what it stores", tr == tt);
    CHECK("realtime is after 2020-01-01", rt / 1000000000 > 1577836800);
    CHECK("gettimeofday within 1 s of CLOCK_REALTIME",
          llabs(tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll - rt) < 1000000000ll);
    CHECK("time() within 1 s of CLOCK_REALTIME", llabs(tt - rt / 1000000000) <= 1);
    CHECK("tv_usec in range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    CHECK("time(NULL) works", syscall(SYS_time, NULL) > 1577836800);

    /* Sleeps sleep at least as long as asked. */
    long long a = now(CLOCK_MONOTONIC);
    struct timespec ten = {0, 10 * 1000000};
    EXPECT_EQ("nanosleep 10 ms", syscall(SYS_nanosleep, &ten, NULL), 0);
    long long slept = now(CLOCK_MONOTONIC) - a;
    CHECK("nanosleep slept at least 10 ms", slept >= 10000000);
    CHECK("nanosleep slept less than 1 s", slept < 1000000000);

    a = now(CLOCK_MONOTONIC);
    struct timespec until = {(a + 20000000) / 1000000000, (a + 20000000) % 1000000000};
    EXPECT_EQ("clock_nanosleep TIMER_ABSTIME +20 ms",
              syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL), 0);
    CHECK("woke at or after the deadline", now(CLOCK_MONOTONIC) >= a + 20000000);
    struct timespec past = {0, 1};
    EXPECT_EQ("clock_nanosleep absolute time in the past",
              syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
    a = now(CLOCK_MONOTONIC);
    struct timespec five = {0, 5000000};
    EXPECT_EQ("clock_nanosleep relative 5 ms",
              syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &five, NULL), 0);
    CHECK("slept at least 5 ms", now(CLOCK_MONOTONIC) - a >= 5000000);
    struct timespec zero = {0, 0};
    EXPECT_EQ("nanosleep 0", syscall(SYS_nanosleep, &zero, NULL), 0);
    struct timespec badns = {0, 1000000000};
    EXPECT_ERR("nanosleep tv_nsec = 1e9", syscall(SYS_nanosleep, &badns, NULL), EINVAL);
    struct timespec neg = {-1, 0};
    EXPECT_ERR("nanosleep negative seconds", syscall(SYS_nanosleep, &neg, NULL), EINVAL);
    /* Linux refuses to sleep on the calling thread's own CPU clock:
     * kernel/time/posix-cpu-timers.c. */
    EXPECT_ERR("clock_nanosleep on the thread CPU-time clock",
               syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &five, NULL), EOPNOTSUPP);
    /* Linux looks only at TIMER_ABSTIME and ignores other flag bits. */
    EXPECT_EQ("clock_nanosleep ignores unknown flags",
              syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0x10, &five, NULL), 0);

    /* CPU time moves when we compute. */
    long long c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 50000000; i++)
        x += i;
    long long c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    CHECK("process CPU time advanced during a busy loop", c1 > c0);
    return finish();
}
