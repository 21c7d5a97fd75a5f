/* Privileged and scheduling calls as an unprivileged user: sethostname,
 * setdomainname, clock_settime, settimeofday and acct refuse in Linux's
 * order (EINVAL for values checked first, then EPERM); nice, scheduling
 * policies and I/O priorities move only the ways an unprivileged user may.
 * Run only as nobody: natively, root would change the host. */
#include "proc.h"
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

static void settings(void)
{
    EXPECT_ERR("sethostname", syscall(SYS_sethostname, "x", 1), EPERM);
    EXPECT_ERR("sethostname too long", syscall(SYS_sethostname, "x", 65), EPERM);
    EXPECT_ERR("setdomainname", syscall(SYS_setdomainname, "x", 1), EPERM);
    EXPECT_ERR("acct", syscall(SYS_acct, "/nonexistent"), EPERM);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    EXPECT_ERR("clock_settime CLOCK_REALTIME", syscall(SYS_clock_settime, CLOCK_REALTIME, &now), EPERM);
    struct timespec bad = {now.tv_sec, 2000000000};
    EXPECT_ERR("clock_settime a bad time", syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL);
    struct timespec negative = {-1, 0};
    EXPECT_ERR("clock_settime before 1970", syscall(SYS_clock_settime, CLOCK_REALTIME, &negative), EINVAL);
    EXPECT_ERR("clock_settime NULL", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL), EFAULT);
    EXPECT_ERR("clock_settime CLOCK_MONOTONIC", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now), EINVAL);
    EXPECT_ERR("clock_settime CLOCK_MONOTONIC NULL", syscall(SYS_clock_settime, CLOCK_MONOTONIC, NULL), EINVAL);
    EXPECT_ERR("clock_settime CLOCK_PROCESS_CPUTIME_ID", syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &now), EINVAL);
    EXPECT_ERR("clock_settime clock 99", syscall(SYS_clock_settime, 99, &now), EINVAL);
    EXPECT_ERR("settimeofday nothing", syscall(SYS_settimeofday, NULL, NULL), EPERM);
    struct timeval tv = {now.tv_sec, -1};
    EXPECT_ERR("settimeofday bad usec", syscall(SYS_settimeofday, &tv, NULL), EINVAL);
    tv.tv_usec = 0;
    EXPECT_ERR("settimeofday", syscall(SYS_settimeofday, &tv, NULL), EPERM);
    EXPECT_ERR("settimeofday bad pointer", syscall(SYS_settimeofday, (void *)8, NULL), EFAULT);
}

static void priorities(void)
{
    errno = 0;
    SHOW("getpriority raw", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    EXPECT_EQ("setpriority nice 5", setpriority(PRIO_PROCESS, 0, 5), 0);
    SHOW("getpriority raw after", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    EXPECT_ERR("setpriority back to 0", setpriority(PRIO_PROCESS, 0, 0), EACCES);
    EXPECT_ERR("setpriority bad which", setpriority(7, 0, 1), EINVAL);
    struct sched_param p = {1};
    EXPECT_ERR("SCHED_FIFO", sched_setscheduler(0, SCHED_FIFO, &p), EPERM);
    p.sched_priority = 0;
    EXPECT_EQ("SCHED_BATCH", sched_setscheduler(0, SCHED_BATCH, &p), 0);
    EXPECT_EQ("sched_getscheduler", sched_getscheduler(0), SCHED_BATCH);
    EXPECT_EQ("SCHED_IDLE", sched_setscheduler(0, SCHED_IDLE, &p), 0);
    EXPECT_ERR("back to SCHED_OTHER from SCHED_IDLE", sched_setscheduler(0, SCHED_OTHER, &p), EPERM);
    p.sched_priority = 1;
    EXPECT_ERR("SCHED_IDLE priority 1", sched_setscheduler(0, SCHED_IDLE, &p), EINVAL);
    EXPECT_ERR("unknown policy", sched_setscheduler(0, 42, &p), EINVAL);
    EXPECT_EQ("sched_get_priority_max SCHED_FIFO", sched_get_priority_max(SCHED_FIFO), 99);
    EXPECT_EQ("sched_get_priority_min SCHED_RR", sched_get_priority_min(SCHED_RR), 1);
    EXPECT_EQ("sched_get_priority_max SCHED_OTHER", sched_get_priority_max(SCHED_OTHER), 0);
    EXPECT_ERR("sched_get_priority_max 42", sched_get_priority_max(42), EINVAL);
    struct timespec rr;
    EXPECT_EQ("sched_rr_get_interval", sched_rr_get_interval(0, &rr), 0);
    SHOW("ioprio_get", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
    EXPECT_ERR("ioprio_set realtime class", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 4), EPERM);
    EXPECT_EQ("ioprio_set best effort 7", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 7), 0);
    SHOW("ioprio_get after", syscall(SYS_ioprio_get, 1, 0));
    EXPECT_ERR("ioprio_set bad class", syscall(SYS_ioprio_set, 1, 0, (5 << 13)), EINVAL);
    EXPECT_ERR("ioprio_get bad which", syscall(SYS_ioprio_get, 0, 0), EINVAL);
    SHOW("ioprio_get of my user", syscall(SYS_ioprio_get, 3 /* IOPRIO_WHO_USER */, 0) >= 0);
}

int main(void)
{
    reset_signals();
    if (geteuid() == 0) {
        printf("run me as an unprivileged user\n");
        return 1;
    }
    section("time and names", settings);
    section("priorities", priorities);
    return finish();
}
