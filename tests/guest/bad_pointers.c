/* Garbage pointers and syscall numbers: every call must fail cleanly with
 * EFAULT or ENOSYS, and the process keeps running. Raw syscall() is used
 * throughout so that glibc neither checks nor touches the pointers. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#define BAD ((void *)1)
#define LOW ((void *)0x1000)
#define KERNEL ((void *)0xffff800000000000ul)
#define NONCANONICAL ((void *)0x0000800000000000ul)

int main(int argc, char **argv)
{
    (void)argc;
    char buf[256];
    int zero = open("/dev/zero", O_RDONLY);
    int self = open(argv[0], O_RDONLY);
    int root = open("/", O_RDONLY | O_DIRECTORY);
    printf("fds: %d %d %d\n", zero, self, root);

    unsigned char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    EXPECT_ERR("write(1, 1, 10)", syscall(SYS_write, 1, BAD, 10), EFAULT);
    EXPECT_ERR("write(1, kernel address)", syscall(SYS_write, 1, KERNEL, 10), EFAULT);
    EXPECT_ERR("write(1, non-canonical address)", syscall(SYS_write, 1, NONCANONICAL, 10), EFAULT);
    EXPECT_ERR("write(1, PROT_NONE page)", syscall(SYS_write, 1, none, 10), EFAULT);
    EXPECT_ERR("read(/dev/zero -> 0x1000)", syscall(SYS_read, zero, LOW, 10), EFAULT);
    EXPECT_ERR("read(file -> 0x1000)", syscall(SYS_read, self, LOW, 10), EFAULT);
    EXPECT_ERR("read(/dev/zero -> PROT_READ page)", syscall(SYS_read, zero, ro, 10), EFAULT);
    EXPECT_ERR("read(/dev/zero -> PROT_NONE page)", syscall(SYS_read, zero, none, 10), EFAULT);
    EXPECT_ERR("pread64(file -> kernel address)", syscall(SYS_pread64, self, KERNEL, 10, 0), EFAULT);
    EXPECT_EQ("read(fd, NULL, 0)", syscall(SYS_read, zero, NULL, 0), 0);

    struct iovec bad_base = {BAD, 10}, null_empty = {NULL, 0};
    EXPECT_ERR("readv with a bad iovec array", syscall(SYS_readv, zero, BAD, 1), EFAULT);
    EXPECT_ERR("writev with a bad iov_base", syscall(SYS_writev, 1, &bad_base, 1), EFAULT);
    EXPECT_EQ("writev with NULL base and 0 length", syscall(SYS_writev, 1, &null_empty, 1), 0);

    EXPECT_ERR("open(NULL)", syscall(SYS_open, NULL, O_RDONLY), EFAULT);
    EXPECT_ERR("open((char *)1)", syscall(SYS_open, BAD, O_RDONLY), EFAULT);
    EXPECT_ERR("openat(path in PROT_NONE page)", syscall(SYS_openat, AT_FDCWD, none, O_RDONLY), EFAULT);
    EXPECT_ERR("stat(NULL, buf)", syscall(SYS_stat, NULL, buf), EFAULT);
    EXPECT_ERR("stat(\"/\", NULL)", syscall(SYS_stat, "/", NULL), EFAULT);
    EXPECT_ERR("stat(\"/\", PROT_READ page)", syscall(SYS_stat, "/", ro), EFAULT);
    EXPECT_ERR("fstat(0, bad)", syscall(SYS_fstat, 0, BAD), EFAULT);
    EXPECT_ERR("newfstatat(bad path)", syscall(SYS_newfstatat, AT_FDCWD, BAD, buf, 0), EFAULT);
    EXPECT_ERR("statx(bad buffer)", syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, BAD), EFAULT);
    EXPECT_ERR("getdents64(bad buffer)", syscall(SYS_getdents64, root, BAD, 4096), EFAULT);
    EXPECT_ERR("readlink(bad buffer)", syscall(SYS_readlink, "/dev/stdin", BAD, 100), EFAULT);
    EXPECT_ERR("access(bad path)", syscall(SYS_access, BAD, 0), EFAULT);
    EXPECT_ERR("chdir(bad path)", syscall(SYS_chdir, BAD), EFAULT);
    EXPECT_ERR("mkdir(bad path)", syscall(SYS_mkdir, BAD, 0755), EFAULT);
    EXPECT_ERR("getcwd(bad, 100)", syscall(SYS_getcwd, BAD, 100), EFAULT);
    EXPECT_ERR("uname(bad)", syscall(SYS_uname, BAD), EFAULT);

    EXPECT_ERR("clock_gettime(bad)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD), EFAULT);
    EXPECT_ERR("clock_getres(bad)", syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD), EFAULT);
    EXPECT_ERR("gettimeofday(bad)", syscall(SYS_gettimeofday, BAD, NULL), EFAULT);
    EXPECT_ERR("time(bad)", syscall(SYS_time, BAD), EFAULT);
    EXPECT_ERR("nanosleep(bad)", syscall(SYS_nanosleep, BAD, NULL), EFAULT);

    EXPECT_ERR("getrandom(bad)", syscall(SYS_getrandom, BAD, 16, 0), EFAULT);
    EXPECT_ERR("rt_sigaction(bad act)", syscall(SYS_rt_sigaction, SIGUSR1, BAD, NULL, 8), EFAULT);
    EXPECT_ERR("rt_sigaction(bad oldact)", syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD, 8), EFAULT);
    EXPECT_ERR("rt_sigprocmask(bad set)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8), EFAULT);
    EXPECT_ERR("sigaltstack(bad)", syscall(SYS_sigaltstack, BAD, NULL), EFAULT);
    EXPECT_ERR("sched_getaffinity(bad)", syscall(SYS_sched_getaffinity, 0, 128, BAD), EFAULT);
    EXPECT_ERR("getrlimit(bad)", syscall(SYS_getrlimit, 7, BAD), EFAULT);
    EXPECT_ERR("prlimit64(bad old)", syscall(SYS_prlimit64, 0, 7, NULL, BAD), EFAULT);
    EXPECT_ERR("setrlimit(bad)", syscall(SYS_setrlimit, 7, BAD), EFAULT);
    EXPECT_ERR("getresuid(bad)", syscall(SYS_getresuid, BAD, BAD, BAD), EFAULT);
    EXPECT_ERR("prctl(PR_GET_NAME, bad)", syscall(SYS_prctl, 16, BAD, 0, 0, 0), EFAULT);
    EXPECT_ERR("sysinfo(bad)", syscall(SYS_sysinfo, BAD), EFAULT);

    EXPECT_ERR("syscall 1000", syscall(1000), ENOSYS);
    EXPECT_ERR("syscall 999", syscall(999), ENOSYS);
    EXPECT_ERR("syscall -1", syscall(-1), ENOSYS);
    EXPECT_ERR("syscall 0x7fffffff", syscall(0x7fffffff), ENOSYS);

    /* The process is intact. */
    EXPECT_EQ("write after all that", write(1, "still alive\n", 12), 12);
    EXPECT_EQ("read(/dev/zero) still works", read(zero, buf, 16), 16);
    return finish();
}
