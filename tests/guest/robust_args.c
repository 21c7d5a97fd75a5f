/* Edge values for common calls, natively and under vkernel: huge, negative
 * and misaligned lengths, offsets, addresses and counts for the memory,
 * file and fd calls, and what each answers (a count, "ok", or the errno).
 * Runs in forked children in a fresh directory under /dev/shm (tmpfs both
 * natively and under vkernel, so file-size limits match); nothing outside
 * it is touched, and it is removed at the end. The point is the same answer as Linux for every row, and no
 * dead kernel.
 * Usage: robust_args [mm|io|fd|path|sig|proc|tty|dev|GROUP-known]
 * (default: every group but the -known ones, which hold the rows that differ
 * from Linux today). */
#include "proc.h"
#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include <ftw.h>

#define KERNEL_ADDR 0xffff800000000000ull

static char event_area[4096];
static void *b_event(void) { return event_area; }
#define NONCANONICAL 0x0000800000000000ull

/* Print a row: a small non-negative result as a number ("count") or "ok"
 * for an address, else the errno. */
static void row(const char *label, long r, int is_addr)
{
    if (r < 0 && r > -4096)
        printf("%-58s -1 %s\n", label, errname((int)-r));
    else if (is_addr)
        printf("%-58s ok\n", label);
    else
        printf("%-58s %ld\n", label, r);
}

static long raw_result;
/* CALL rows match Linux today; KNOWN rows are the differences listed in
 * tests/FUZZ_FINDINGS.md, run only by the GROUP-known arguments. */
static int known_only;
#define KNOWN(label, is_addr, ...)                                                                                     \
    do {                                                                                                               \
        if (known_only)                                                                                                \
            ROW(label, is_addr, __VA_ARGS__);                                                                          \
    } while (0)
#define CALL(label, is_addr, ...)                                                                                      \
    do {                                                                                                               \
        if (!known_only)                                                                                               \
            ROW(label, is_addr, __VA_ARGS__);                                                                          \
    } while (0)
#define ROW(label, is_addr, ...)                                                                                       \
    do {                                                                                                               \
        errno = 0;                                                                                                     \
        raw_result = syscall(__VA_ARGS__);                                                                             \
        row((label), raw_result == -1 ? -errno : raw_result, (is_addr));                                               \
    } while (0)

/* mmap's checks in do_mmap's order: each row is wrong in two ways and
 * Linux names the first. */
static void mm_check_order(void)
{
    const long P = 4096;
    int rw = open("mf", O_CREAT | O_RDWR | O_TRUNC, 0644);
    ftruncate(rw, 4 * P);
    int wo = open("mf", O_WRONLY);
    int ro = open("mf", O_RDONLY);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int pathfd = open("mf", O_PATH);
    int p[2];
    pipe(p);
    CALL("mmap no type, bad fd", 1, SYS_mmap, 0, P, PROT_READ, 0, 999, 0);
    CALL("mmap len 0, bad fd", 1, SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE, 999, 0);
    CALL("mmap len -1, bad fd", 1, SYS_mmap, 0, -1L, PROT_READ, MAP_PRIVATE, 999, 0);
    CALL("mmap misaligned offset, bad fd", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, 999, 1);
    CALL("mmap MAP_FIXED misaligned, bad fd", 1, SYS_mmap, 0x10000001, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, 999, 0);
    CALL("mmap O_PATH fd", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, pathfd, 0);
    CALL("mmap len 0, no type", 1, SYS_mmap, 0, 0, PROT_READ, MAP_ANONYMOUS, -1, 0);
    CALL("mmap len -1, no type", 1, SYS_mmap, 0, -1L, PROT_READ, MAP_ANONYMOUS, -1, 0);
    CALL("mmap MAP_FIXED misaligned, no type", 1, SYS_mmap, 0x10000001, P, PROT_READ, MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CALL("mmap MAP_FIXED past the user range, write-only file", 1, SYS_mmap, 0x7ffffffff000L, 2 * P, PROT_READ,
         MAP_PRIVATE | MAP_FIXED, wo, 0);
    char *here = mmap(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap MAP_FIXED_NOREPLACE onto a mapping", 1, SYS_mmap, here, P, PROT_READ,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CALL("mmap MAP_FIXED_NOREPLACE onto a mapping, no type", 1, SYS_mmap, here, P, PROT_READ,
         MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CALL("mmap MAP_SHARED|MAP_GROWSDOWN anonymous", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN,
         -1, 0);
    CALL("mmap MAP_32BIT anonymous", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (!known_only) {
        unsigned long low = (unsigned long)mmap(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        printf("%-58s %d\n", "mmap MAP_32BIT lands below 2 GiB", low < (1UL << 31));
    }
    CALL("mmap write-only file, MAP_PRIVATE", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, wo, 0);
    CALL("mmap read-only file, MAP_SHARED PROT_WRITE", 1, SYS_mmap, 0, P, PROT_WRITE, MAP_SHARED, ro, 0);
    CALL("mmap read-only file, MAP_PRIVATE PROT_WRITE", 1, SYS_mmap, 0, P, PROT_WRITE, MAP_PRIVATE, ro, 0);
    CALL("mmap file, no type", 1, SYS_mmap, 0, P, PROT_READ, 0, rw, 0);
    CALL("mmap write-only file, no type", 1, SYS_mmap, 0, P, PROT_READ, 0, wo, 0);
    CALL("mmap file offset -4096", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, rw, -4096L);
    CALL("mmap file offset -4096, write-only", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, wo, -4096L);
    CALL("mmap file offset 2^63 - 4096", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, rw, INT64_MAX - 4095);
    CALL("mmap MAP_SHARED_VALIDATE file", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED_VALIDATE, rw, 0);
    CALL("mmap MAP_SHARED_VALIDATE file, unknown bit", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, rw, 0);
    CALL("mmap MAP_SHARED_VALIDATE file, MAP_SYNC", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, rw, 0);
    CALL("mmap MAP_SHARED_VALIDATE read-only file, MAP_SYNC PROT_WRITE", 1, SYS_mmap, 0, P, PROT_WRITE,
         MAP_SHARED_VALIDATE | MAP_SYNC, ro, 0);
    CALL("mmap MAP_SHARED file, unknown bit", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED | 0x800000, rw, 0);
    CALL("mmap MAP_SHARED file, MAP_SYNC", 1, SYS_mmap, 0, P, PROT_READ, MAP_SHARED | MAP_SYNC, rw, 0);
    CALL("mmap MAP_PRIVATE file, MAP_GROWSDOWN", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, rw, 0);
    CALL("mmap a directory", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, dir, 0);
    CALL("mmap a pipe", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, p[0], 0);
    CALL("mmap a pipe's write end", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, p[1], 0);
    CALL("mmap file with MAP_HUGETLB", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, rw, 0);
    CALL("mmap file past its end (ok until touched)", 1, SYS_mmap, 0, 64 * P, PROT_READ, MAP_PRIVATE, rw, 0);
    {
        char *shared_ro = mmap(NULL, 2 * P, PROT_READ, MAP_SHARED, ro, 0);
        char *private_ro = mmap(NULL, P, PROT_READ, MAP_PRIVATE, ro, 0);
        CALL("mprotect PROT_WRITE on MAP_SHARED of a read-only fd", 0, SYS_mprotect, shared_ro, 2 * P, PROT_READ | PROT_WRITE);
        CALL("mprotect PROT_EXEC on it", 0, SYS_mprotect, shared_ro, P, PROT_READ | PROT_EXEC);
        CALL("mprotect PROT_WRITE on MAP_PRIVATE of a read-only fd", 0, SYS_mprotect, private_ro, P, PROT_READ | PROT_WRITE);
        char *anon = mmap(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | (1 << 30), -1, 0);
        CALL("mprotect PROT_WRITE on anonymous memory mapped with flag bit 30", 0, SYS_mprotect, anon, P, PROT_READ | PROT_WRITE);
    }
    close(rw);
    close(wo);
    close(ro);
    close(dir);
    close(pathfd);
    close(p[0]);
    close(p[1]);
    unlink("mf");
}

static void mm(void)
{
    const long P = 4096;
    CALL("mmap len 0", 1, SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap len -1", 1, SYS_mmap, 0, -1L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap len 2^47", 1, SYS_mmap, 0, 1L << 47, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CALL("mmap len 2^63", 1, SYS_mmap, 0, 1UL << 63, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap len -4096 (page-aligned up wraps)", 1, SYS_mmap, 0, -4096L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap no MAP_PRIVATE/SHARED", 1, SYS_mmap, 0, P, PROT_READ, MAP_ANONYMOUS, -1, 0);
    CALL("mmap both MAP_PRIVATE and SHARED", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CALL("mmap MAP_FIXED misaligned", 1, SYS_mmap, 0x10000001, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
         0);
    CALL("mmap MAP_FIXED at a kernel address", 1, SYS_mmap, KERNEL_ADDR, P, PROT_READ,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CALL("mmap MAP_FIXED ending past the user range", 1, SYS_mmap, NONCANONICAL - P, 2 * P, PROT_READ,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CALL("mmap hint at a kernel address (ignored)", 1, SYS_mmap, KERNEL_ADDR, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
         0);
    CALL("mmap file offset misaligned", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, 0, 1);
    CALL("mmap bad fd", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE, 999, 0);
    CALL("mmap anonymous with offset -4096", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, -4096L);
    CALL("mmap prot all bits", 1, SYS_mmap, 0, P, -1L, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mmap unknown flag bits", 1, SYS_mmap, 0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | 0x800000000L, -1, 0);
    CALL("munmap 0 len 0", 0, SYS_munmap, 0, 0);
    CALL("munmap misaligned", 0, SYS_munmap, 0x10000001, P);
    CALL("munmap len -1", 0, SYS_munmap, 0x10000000, -1L);
    CALL("munmap kernel address", 0, SYS_munmap, KERNEL_ADDR, P);
    CALL("munmap unmapped range", 0, SYS_munmap, 0x100000000000L, P);
    CALL("mprotect misaligned", 0, SYS_mprotect, 0x10000001, P, PROT_READ);
    CALL("mprotect unmapped", 0, SYS_mprotect, 0x100000000000L, P, PROT_READ);
    CALL("mprotect len -1", 0, SYS_mprotect, 0x100000000000L, -1L, PROT_READ);
    CALL("mprotect len 0", 0, SYS_mprotect, 0x100000000000L, 0, PROT_READ);
    CALL("mprotect bad prot bits", 0, SYS_mprotect, 0x100000000000L, P, 0x100);
    {
        char *q = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(q + P, P);
        int z = open("/dev/zero", O_RDONLY);
        CALL("mprotect read-only running into a hole", 0, SYS_mprotect, q, 3 * P, PROT_READ);
        CALL("read into the page it changed before the hole", 0, SYS_read, z, q, 16);
        close(z);
        munmap(q, P);
    }
    char *m = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CALL("mremap old len 0 (private)", 1, SYS_mremap, m, 0, P, MREMAP_MAYMOVE, 0);
    CALL("mremap new len 0", 1, SYS_mremap, m, P, 0, MREMAP_MAYMOVE, 0);
    CALL("mremap new len -1", 1, SYS_mremap, m, P, -1L, MREMAP_MAYMOVE, 0);
    CALL("mremap misaligned", 1, SYS_mremap, m + 1, P, 2 * P, MREMAP_MAYMOVE, 0);
    CALL("mremap FIXED without MAYMOVE", 1, SYS_mremap, m, P, P, MREMAP_FIXED, 0x100000000000L);
    CALL("mremap FIXED onto itself", 1, SYS_mremap, m, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, m);
    CALL("mremap FIXED overlapping", 1, SYS_mremap, m, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, m + P);
    CALL("mremap FIXED to a kernel address", 1, SYS_mremap, m, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, KERNEL_ADDR);
    CALL("mremap unknown flags", 1, SYS_mremap, m, P, P, 0x80, 0);
    CALL("mremap unmapped source", 1, SYS_mremap, 0x100000000000L, P, 2 * P, MREMAP_MAYMOVE, 0);
    CALL("mremap grow in place into a hole (no MAYMOVE)", 1, SYS_mremap, m, 4 * P, 8 * P, 0, 0);
    CALL("madvise misaligned", 0, SYS_madvise, m + 1, P, MADV_DONTNEED);
    CALL("madvise unknown advice", 0, SYS_madvise, m, P, 12345);
    CALL("madvise unmapped DONTNEED", 0, SYS_madvise, 0x100000000000L, P, MADV_DONTNEED);
    CALL("madvise len -1", 0, SYS_madvise, m, -1L, MADV_NORMAL);
    CALL("msync misaligned", 0, SYS_msync, m + 1, P, MS_SYNC);
    CALL("msync ASYNC|SYNC", 0, SYS_msync, m, P, MS_ASYNC | MS_SYNC);
    CALL("msync unmapped", 0, SYS_msync, 0x100000000000L, P, MS_SYNC);
    CALL("mincore misaligned", 0, SYS_mincore, m + 1, P, m);
    CALL("mincore vec at a kernel address", 0, SYS_mincore, m, P, KERNEL_ADDR);
    CALL("mincore unmapped", 0, SYS_mincore, 0x100000000000L, P, m);
    CALL("mlock len -1", 0, SYS_mlock, m, -1L);
    mm_check_order();
    char *fresh = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fresh[0] = 1;
    unsigned char vec[4] = {9, 9, 9, 9};
    CALL("mincore 4 pages, the first touched", 0, SYS_mincore, fresh, 4 * P, vec);
    if (!known_only)
        /* Only the touched page: vkernel faults anonymous memory in around
         * the touched page, so its neighbours may be resident too. */
        printf("%-58s %d, the rest %s\n", "mincore vector", vec[0], vec[1] <= 1 && vec[2] <= 1 && vec[3] <= 1 ? "0 or 1" : "bad");
    CALL("mincore len 0 at an unmapped address", 0, SYS_mincore, 0x100000000000L, 0, vec);
    CALL("mincore past the user range", 0, SYS_mincore, 0x7ffffffff000L, 2 * P, vec);
    CALL("mincore running into a hole", 0, SYS_mincore, m, 64 * P, vec);
    CALL("mlock len 0", 0, SYS_mlock, m, 0);
    CALL("mlock misaligned start", 0, SYS_mlock, m + 1, P);
    CALL("mlock unmapped", 0, SYS_mlock, 0x100000000000L, P);
    CALL("munlock len -1", 0, SYS_munlock, m, -1L);
    CALL("brk 0 (query)", 1, SYS_brk, 0);
    CALL("brk kernel address (refused: returns the current break)", 1, SYS_brk, KERNEL_ADDR);
}

/* A call on a pipe holding 20 bytes, then how many bytes are left in it:
 * a failing call must not eat the data. */
static void pipe_row(const char *label, int known, int which, char *edge)
{
    if (known != known_only)
        return;
    int fd[2];
    if (pipe(fd) < 0)
        return;
    write(fd[1], "0123456789abcdefghij", 20);
    struct iovec iov[2] = {{event_area, 5}, {(void *)KERNEL_ADDR, 10}};
    errno = 0;
    long n = which == 0   ? syscall(SYS_read, fd[0], NULL, 20)
             : which == 1 ? syscall(SYS_read, fd[0], edge, 20)
             : which == 2 ? syscall(SYS_readv, fd[0], iov, 2)
             : which == 3 ? syscall(SYS_write, fd[1], edge, 20)
                          : syscall(SYS_read, fd[0], edge, 5);
    int e = errno;
    fcntl(fd[0], F_SETFL, O_NONBLOCK);
    char rest[64];
    long m = read(fd[0], rest, sizeof rest);
    char line[128];
    snprintf(line, sizeof line, "pipe with 20 bytes, %s", label);
    printf("%-58s %ld %s, then %ld bytes left\n", line, n, n < 0 ? errname(e) : "", m);
    close(fd[0]);
    close(fd[1]);
}

static void io(void)
{
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    char *edge = two + 4096 - 10; /* 10 mapped bytes, then a hole */
    pipe_row("read 20 into NULL", 1, 0, edge);
    pipe_row("read 20 into 10 mapped bytes", 1, 1, edge);
    pipe_row("readv 5 + 10 at a kernel address", 0, 2, edge);
    pipe_row("write 20 from 10 mapped bytes", 0, 3, edge);
    pipe_row("read 5 into 10 mapped bytes", 0, 4, edge);
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    char b[64];
    CALL("read count -1 (clamped to MAX_RW_COUNT; buffer faults)", 0, SYS_read, fd, b, -1L);
    CALL("read count 2^62 at offset 10 (EOF)", 0, SYS_read, fd, b, 1L << 62);
    lseek(fd, 0, SEEK_SET);
    CALL("read into a kernel address", 0, SYS_read, fd, KERNEL_ADDR, 4);
    CALL("read into a non-canonical address", 0, SYS_read, fd, NONCANONICAL, 4);
    CALL("read count 0 into NULL", 0, SYS_read, fd, 0, 0);
    CALL("write from NULL", 0, SYS_write, fd, 0, 4);
    CALL("write count 0 from a kernel address", 0, SYS_write, fd, KERNEL_ADDR, 0);
    CALL("pread offset -1", 0, SYS_pread64, fd, b, 4, -1L);
    CALL("pread offset INT64_MAX", 0, SYS_pread64, fd, b, 4, INT64_MAX);
    CALL("pwrite offset INT64_MAX", 0, SYS_pwrite64, fd, b, 4, INT64_MAX);
    CALL("pwrite offset INT64_MAX - 2, 4 bytes", 0, SYS_pwrite64, fd, b, 4, INT64_MAX - 2);
    CALL("lseek SEEK_SET -1", 0, SYS_lseek, fd, -1L, SEEK_SET);
    CALL("lseek SEEK_CUR INT64_MAX", 0, SYS_lseek, fd, INT64_MAX, SEEK_CUR);
    CALL("lseek SEEK_END INT64_MIN", 0, SYS_lseek, fd, INT64_MIN, SEEK_END);
    CALL("lseek whence 5", 0, SYS_lseek, fd, 0, 5);
    CALL("lseek whence -1", 0, SYS_lseek, fd, 0, -1);
    CALL("lseek SEEK_DATA past EOF", 0, SYS_lseek, fd, 100, SEEK_DATA);
    CALL("lseek SEEK_HOLE at 0", 0, SYS_lseek, fd, 0, SEEK_HOLE);
    CALL("ftruncate -1", 0, SYS_ftruncate, fd, -1L);
    CALL("ftruncate INT64_MAX", 0, SYS_ftruncate, fd, INT64_MAX);
    CALL("truncate path to -1", 0, SYS_truncate, "f", -1L);
    CALL("fallocate len 0", 0, SYS_fallocate, fd, 0, 0, 0);
    CALL("fallocate offset -1", 0, SYS_fallocate, fd, 0, -1L, 10);
    CALL("fallocate offset+len overflows", 0, SYS_fallocate, fd, 0, INT64_MAX, 10);
    CALL("fallocate unknown mode", 0, SYS_fallocate, fd, 0x1000, 0, 10);
    struct iovec iov[2] = {{b, 4}, {(void *)KERNEL_ADDR, 4}};
    lseek(fd, 0, SEEK_SET);
    CALL("readv second iovec at a kernel address", 0, SYS_readv, fd, iov, 2);
    CALL("readv count -1", 0, SYS_readv, fd, iov, -1);
    CALL("readv count 1025", 0, SYS_readv, fd, iov, 1025);
    CALL("readv count 0", 0, SYS_readv, fd, iov, 0);
    struct iovec neg[2] = {{b, 4}, {b, (size_t)-1}};
    CALL("readv iov_len -1 (EINVAL: > SSIZE_MAX)", 0, SYS_readv, fd, neg, 2);
    struct iovec big[2] = {{b, (size_t)INT64_MAX}, {b, (size_t)INT64_MAX}};
    CALL("readv iov_lens summing past SSIZE_MAX", 0, SYS_readv, fd, big, 2);
    CALL("preadv offset -1", 0, SYS_preadv, fd, iov, 1, -1L, 0);
    CALL("preadv2 unknown flags", 0, SYS_preadv2, fd, iov, 1, 0, 0, 0x40000000);
    CALL("sendfile count -1 to /dev/null", 0, SYS_sendfile, open("/dev/null", O_WRONLY), fd, 0, -1L);
    long off = -1;
    CALL("sendfile offset -1", 0, SYS_sendfile, open("/dev/null", O_WRONLY), fd, &off, 4);
    CALL("copy_file_range count 0", 0, SYS_copy_file_range, fd, 0, fd, 0, 0, 0);
    CALL("copy_file_range unknown flags", 0, SYS_copy_file_range, fd, 0, fd, 0, 4, 1);
    CALL("getdents64 count 0", 0, SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), b, 0);
    CALL("getdents64 count 1", 0, SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), b, 1);
    CALL("getdents64 on a file", 0, SYS_getdents64, fd, b, sizeof b);
    CALL("readlink bufsiz 0", 0, SYS_readlink, "/proc/self/exe", b, 0);
    CALL("readlink bufsiz -1", 0, SYS_readlink, "/proc/self/cwd", b, -1);
    CALL("getcwd size 0", 0, SYS_getcwd, b, 0);
    CALL("getcwd size 1", 0, SYS_getcwd, b, 1);
    CALL("getcwd to a kernel address", 0, SYS_getcwd, KERNEL_ADDR, 64);
    CALL("getrandom len 0", 0, SYS_getrandom, 0, 0, 0);
    CALL("getrandom bad flags", 0, SYS_getrandom, b, 4, 0x100);
    CALL("getrandom into a kernel address", 0, SYS_getrandom, KERNEL_ADDR, 4, 0);
}

static void fds(void)
{
    CALL("close -1", 0, SYS_close, -1);
    CALL("close INT_MAX", 0, SYS_close, INT_MAX);
    CALL("fcntl F_GETFD on fd 2^32 + 1 (an int: fd 1)", 0, SYS_fcntl, (1L << 32) + 1, F_GETFD);
    CALL("dup2 to -1", 0, SYS_dup2, 0, -1);
    CALL("dup2 to 2^20 (past RLIMIT_NOFILE)", 0, SYS_dup2, 0, 1 << 20);
    CALL("dup2 to INT_MAX", 0, SYS_dup2, 0, INT_MAX);
    CALL("dup3 same fd", 0, SYS_dup3, 0, 0, 0);
    CALL("dup3 bad flags", 0, SYS_dup3, 0, 50, 1);
    CALL("fcntl F_DUPFD -1", 0, SYS_fcntl, 0, F_DUPFD, -1);
    CALL("fcntl F_DUPFD INT_MAX", 0, SYS_fcntl, 0, F_DUPFD, INT_MAX);
    CALL("fcntl unknown command", 0, SYS_fcntl, 0, 12345, 0);
    CALL("fcntl F_SETFL all bits", 0, SYS_fcntl, open("/dev/null", O_RDONLY), F_SETFL, -1);
    CALL("fcntl F_SETPIPE_SZ on a file", 0, SYS_fcntl, 0, F_SETPIPE_SZ, 4096);
    int p[2];
    pipe(p);
    CALL("fcntl F_SETPIPE_SZ 0 (rounds up)", 0, SYS_fcntl, p[0], F_SETPIPE_SZ, 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = -1, .l_len = 1};
    int fd = open("f", O_RDWR);
    CALL("fcntl F_SETLK start -1", 0, SYS_fcntl, fd, F_SETLK, &fl);
    fl.l_start = INT64_MAX;
    fl.l_len = 2;
    CALL("fcntl F_SETLK start INT64_MAX, len 2", 0, SYS_fcntl, fd, F_SETLK, &fl);
    fl.l_start = 10;
    fl.l_len = -20;
    CALL("fcntl F_SETLK negative len reaching before 0", 0, SYS_fcntl, fd, F_SETLK, &fl);
    fl.l_type = 7;
    fl.l_len = 1;
    CALL("fcntl F_SETLK bad l_type", 0, SYS_fcntl, fd, F_SETLK, &fl);
    CALL("fcntl F_SETLK lock at a kernel address", 0, SYS_fcntl, fd, F_SETLK, KERNEL_ADDR);
    CALL("close_range first > last", 0, SYS_close_range, 10, 5, 0);
    CALL("close_range unknown flags", 0, SYS_close_range, 1000, 1001, 0x80);
    CALL("pipe2 unknown flags", 0, SYS_pipe2, p, 0x1);
    CALL("pipe to a kernel address", 0, SYS_pipe, KERNEL_ADDR);
    CALL("epoll_create 0", 0, SYS_epoll_create, 0);
    CALL("epoll_create -1", 0, SYS_epoll_create, -1);
    CALL("epoll_create1 bad flags", 0, SYS_epoll_create1, 1);
    int ep = epoll_create1(0);
    CALL("epoll_ctl add itself", 0, SYS_epoll_ctl, ep, 1, ep, b_event());
    CALL("epoll_ctl bad op", 0, SYS_epoll_ctl, ep, 9, p[0], b_event());
    CALL("epoll_ctl event at a kernel address", 0, SYS_epoll_ctl, ep, 1, p[0], KERNEL_ADDR);
    CALL("epoll_wait maxevents 0", 0, SYS_epoll_wait, ep, b_event(), 0, 0);
    CALL("epoll_wait maxevents -1", 0, SYS_epoll_wait, ep, b_event(), -1, 0);
    CALL("epoll_wait maxevents INT_MAX", 0, SYS_epoll_wait, ep, b_event(), INT_MAX, 0);
    CALL("poll nfds 2^20 (past RLIMIT_NOFILE)", 0, SYS_poll, b_event(), 1 << 20, 0);
    CALL("poll nfds -1", 0, SYS_poll, b_event(), -1, 0);
    struct timeval zero = {0, 0};
    CALL("select nfds -1", 0, SYS_select, -1, 0, 0, 0, &zero);
    CALL("select nfds INT_MAX, no sets", 0, SYS_select, INT_MAX, 0, 0, 0, &zero);
}

static void paths(void)
{
    static char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    static char longc[300];
    memset(longc, 'c', sizeof longc - 1);
    CALL("open a 4999-byte path", 0, SYS_open, longp, O_RDONLY);
    CALL("open a 299-byte name", 0, SYS_open, longc, O_RDONLY);
    CALL("open a 299-byte name O_CREAT", 0, SYS_open, longc, O_CREAT | O_WRONLY, 0600);
    CALL("open path at a kernel address", 0, SYS_open, KERNEL_ADDR, O_RDONLY);
    CALL("open empty path", 0, SYS_open, "", O_RDONLY);
    CALL("open unknown flag bits", 0, SYS_open, "/dev/null", O_RDONLY | 0x40000000);
    CALL("open O_CREAT|O_DIRECTORY", 0, SYS_open, "newdir", O_CREAT | O_DIRECTORY, 0600);
    CALL("open O_TMPFILE without write", 0, SYS_open, ".", O_TMPFILE | O_RDONLY, 0600);
    CALL("open mode with high bits", 0, SYS_open, "m", O_CREAT | O_WRONLY, 0xfffff);
    {
        /* struct open_how {flags, mode, resolve} and a tail past it */
        unsigned long long how[5] = {0};
        CALL("openat2 size 0", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 0);
        CALL("openat2 size 23", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 23);
        CALL("openat2 size 4097", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 4097);
        CALL("openat2 at a kernel address", 0, SYS_openat2, AT_FDCWD, "/dev/null", KERNEL_ADDR, 24);
        CALL("openat2 /dev/null", 1, SYS_openat2, AT_FDCWD, "/dev/null", how, 24);
        CALL("openat2 size 40, zero tail", 1, SYS_openat2, AT_FDCWD, "/dev/null", how, 40);
        how[4] = 1;
        CALL("openat2 size 40, nonzero tail", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 40);
        how[0] = 1ULL << 40;
        CALL("openat2 flag bit 40", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 24);
        how[0] = 0x40000000;
        CALL("openat2 unknown flag bit 30", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 24);
        how[0] = O_RDONLY;
        how[1] = 0644;
        CALL("openat2 mode without O_CREAT", 0, SYS_openat2, AT_FDCWD, "/dev/null", how, 24);
        how[0] = O_CREAT | O_RDWR;
        how[1] = 010000;
        CALL("openat2 O_CREAT mode 010000", 0, SYS_openat2, AT_FDCWD, "o2", how, 24);
        how[1] = 0600;
        how[2] = 0x20; /* RESOLVE_CACHED */
        CALL("openat2 O_CREAT with RESOLVE_CACHED", 0, SYS_openat2, AT_FDCWD, "o2", how, 24);
        how[2] = 0x40;
        CALL("openat2 unknown resolve bit", 0, SYS_openat2, AT_FDCWD, "o2", how, 24);
        how[2] = 0x18; /* RESOLVE_BENEATH | RESOLVE_IN_ROOT */
        CALL("openat2 RESOLVE_BENEATH|RESOLVE_IN_ROOT", 0, SYS_openat2, AT_FDCWD, "o2", how, 24);
        how[2] = 0;
        CALL("openat2 O_CREAT 0600", 1, SYS_openat2, AT_FDCWD, "o2", how, 24);
        unlink("o2");
    }
    CALL("openat AT_FDCWD-1", 0, SYS_openat, AT_FDCWD - 1, "x", O_RDONLY);
    CALL("mkdir a trailing-slash name", 0, SYS_mkdir, "d/", 0755);
    CALL("rmdir .", 0, SYS_rmdir, ".");
    CALL("rmdir ..", 0, SYS_rmdir, "..");
    CALL("rename a dir into itself", 0, SYS_rename, "d", "d/x");
    CALL("rename . to x", 0, SYS_rename, ".", "x");
    CALL("renameat2 unknown flags", 0, SYS_renameat2, AT_FDCWD, "d", AT_FDCWD, "e", 0x100);
    CALL("renameat2 NOREPLACE|EXCHANGE", 0, SYS_renameat2, AT_FDCWD, "d", AT_FDCWD, "e", 3);
    CALL("renameat2 unknown flags, empty names", 0, SYS_renameat2, AT_FDCWD, "", AT_FDCWD, "", 0x100);
    CALL("renameat2 EXCHANGE|WHITEOUT, empty names", 0, SYS_renameat2, AT_FDCWD, "", AT_FDCWD, "", 6);
    mkdir("rt", 0755);
    mkdir("rt/sub", 0755);
    close(open("rt/f", O_CREAT | O_WRONLY, 0644));
    CALL("rename a file onto its own parent directory", 0, SYS_rename, "rt/f", "rt");
    CALL("rename a dir onto its parent", 0, SYS_rename, "rt/sub", "rt");
    CALL("renameat2 EXCHANGE a dir with its parent", 0, SYS_renameat2, AT_FDCWD, "rt/sub", AT_FDCWD, "rt", 2);
    CALL("rename a dir below itself", 0, SYS_rename, "rt", "rt/sub/x");
    CALL("truncate an empty path to -1", 0, SYS_truncate, "", -1L);
    CALL("open an existing file with a trailing slash, O_CREAT", 0, SYS_open, "rt/f/", O_CREAT | O_RDWR, 0644);
    CALL("open a new name with a trailing slash, O_CREAT", 0, SYS_open, "rt/g/", O_CREAT | O_RDWR, 0644);
    CALL("open __O_TMPFILE without O_DIRECTORY", 0, SYS_open, "rt/h", (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0644);
    CALL("open O_TMPFILE|O_CREAT", 0, SYS_open, "rt", O_TMPFILE | O_CREAT | O_RDWR, 0644);
    CALL("open O_TMPFILE read-only", 0, SYS_open, "rt", O_TMPFILE | O_RDONLY, 0644);
    CALL("open O_PATH with __O_TMPFILE (dropped)", 1, SYS_open, "rt", O_PATH | (O_TMPFILE & ~O_DIRECTORY), 0);
    CALL("open __O_TMPFILE bits, empty path", 0, SYS_open, "", 0xd240454c, 0644);
    unlink("rt/f");
    rmdir("rt/sub");
    rmdir("rt");
    CALL("link a dir", 0, SYS_link, "d", "dlink");
    CALL("symlink empty target", 0, SYS_symlink, "", "s");
    CALL("unlinkat unknown flags", 0, SYS_unlinkat, AT_FDCWD, "f", 0x1);
    CALL("unlinkat AT_REMOVEDIR on a file", 0, SYS_unlinkat, AT_FDCWD, "f", AT_REMOVEDIR);
    CALL("fchmodat unknown flags", 0, SYS_fchmodat, AT_FDCWD, "f", 0644, 0x1);
    CALL("faccessat2 unknown flags", 0, SYS_faccessat2, AT_FDCWD, "f", R_OK, 0x1);
    CALL("faccessat bad mode", 0, SYS_faccessat, AT_FDCWD, "f", 0x10);
    CALL("newfstatat unknown flags", 0, SYS_newfstatat, AT_FDCWD, "f", b_event(), 0x1);
    CALL("statx unknown flags", 0, SYS_statx, AT_FDCWD, "f", 0x80000, 0xfff, b_event());
    CALL("statx mask with reserved bit", 0, SYS_statx, AT_FDCWD, "f", 0, 0x80000000, b_event());
    CALL("mknod a block device (as the caller)", 0, SYS_mknod, "blk", S_IFBLK | 0600, 0);
    CALL("mknod bad type", 0, SYS_mknod, "bad", 0170000 | 0600, 0);
    CALL("chdir to a file", 0, SYS_chdir, "f");
    CALL("utimensat NULL path, AT_FDCWD", 0, SYS_utimensat, AT_FDCWD, 0, 0, 0);
    CALL("utimensat unknown flags", 0, SYS_utimensat, AT_FDCWD, "f", 0, 0x1);
}

static void on_nothing(int s) { (void)s; }

static void sigs(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_nothing;
    sa.sa_flags = 0x04000000; /* SA_RESTORER: the raw call wants one */
    sa.sa_restorer = (void (*)(void))1;
    uint64_t set = 0;
    signal(SIGUSR1, SIG_IGN); /* the rows below may send it to us */
    CALL("rt_sigaction sigsetsize 4", 0, SYS_rt_sigaction, SIGUSR1, &sa, 0, 4);
    CALL("rt_sigaction sigsetsize 16", 0, SYS_rt_sigaction, SIGUSR1, &sa, 0, 16);
    CALL("rt_sigaction signal 0", 0, SYS_rt_sigaction, 0, &sa, 0, 8);
    CALL("rt_sigaction signal 65", 0, SYS_rt_sigaction, 65, &sa, 0, 8);
    CALL("rt_sigaction signal -1", 0, SYS_rt_sigaction, -1, &sa, 0, 8);
    CALL("rt_sigaction SIGKILL", 0, SYS_rt_sigaction, SIGKILL, &sa, 0, 8);
    CALL("rt_sigaction SIGSTOP query only", 0, SYS_rt_sigaction, SIGSTOP, 0, &sa, 8);
    CALL("rt_sigaction act at a kernel address", 0, SYS_rt_sigaction, SIGUSR1, KERNEL_ADDR, 0, 8);
    CALL("rt_sigaction oldact at a kernel address", 0, SYS_rt_sigaction, SIGUSR1, 0, KERNEL_ADDR, 8);
    CALL("rt_sigprocmask how 7", 0, SYS_rt_sigprocmask, 7, &set, 0, 8);
    CALL("rt_sigprocmask how 7, no set", 0, SYS_rt_sigprocmask, 7, 0, 0, 8);
    CALL("rt_sigprocmask sigsetsize 0", 0, SYS_rt_sigprocmask, SIG_BLOCK, &set, 0, 0);
    CALL("rt_sigprocmask set at a kernel address", 0, SYS_rt_sigprocmask, SIG_BLOCK, KERNEL_ADDR, 0, 8);
    CALL("rt_sigpending sigsetsize 16", 0, SYS_rt_sigpending, &set, 16);
    CALL("rt_sigpending sigsetsize 4", 0, SYS_rt_sigpending, &set, 4);
    CALL("rt_sigsuspend sigsetsize 4", 0, SYS_rt_sigsuspend, &set, 4);
    CALL("rt_sigtimedwait sigsetsize 4", 0, SYS_rt_sigtimedwait, &set, 0, 0, 4);
    CALL("kill self signal 65", 0, SYS_kill, getpid(), 65);
    CALL("kill self signal -1", 0, SYS_kill, getpid(), -1);
    CALL("kill self signal 0", 0, SYS_kill, getpid(), 0);
    CALL("kill pid INT_MIN (a group that cannot exist)", 0, SYS_kill, INT_MIN, 0);
    CALL("kill a pid that does not exist", 0, SYS_kill, 0x3ffffff0, 0);
    CALL("tgkill tgid 0", 0, SYS_tgkill, 0, getpid(), 0);
    CALL("tgkill a tid of another tgid", 0, SYS_tgkill, getppid(), getpid(), 0);
    CALL("tgkill signal 65", 0, SYS_tgkill, getpid(), getpid(), 65);
    CALL("tkill tid -1", 0, SYS_tkill, -1, 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_KERNEL; /* only the kernel may send SI_KERNEL or SI_USER */
    CALL("rt_sigqueueinfo to self with si_code SI_KERNEL", 0, SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
    si.si_code = SI_QUEUE;
    CALL("rt_sigqueueinfo signal 65", 0, SYS_rt_sigqueueinfo, getpid(), 65, &si);
    CALL("rt_sigqueueinfo info at a kernel address", 0, SYS_rt_sigqueueinfo, getpid(), SIGUSR1, KERNEL_ADDR);
    stack_t ss = {.ss_sp = event_area, .ss_size = 1024, .ss_flags = 0};
    CALL("sigaltstack size 1024 (below MINSIGSTKSZ)", 0, SYS_sigaltstack, &ss, 0);
    ss.ss_size = 65536;
    ss.ss_flags = 0x7;
    CALL("sigaltstack unknown flags", 0, SYS_sigaltstack, &ss, 0);
    ss.ss_flags = SS_DISABLE;
    ss.ss_size = 0;
    CALL("sigaltstack SS_DISABLE with size 0", 0, SYS_sigaltstack, &ss, 0);
    CALL("sigaltstack at a kernel address", 0, SYS_sigaltstack, KERNEL_ADDR, 0);
    CALL("alarm 0 (none pending)", 0, SYS_alarm, 0);
    CALL("getitimer which 3", 0, SYS_getitimer, 3, event_area);
    CALL("getitimer which -1", 0, SYS_getitimer, -1, event_area);
    CALL("getitimer to a kernel address", 0, SYS_getitimer, ITIMER_REAL, KERNEL_ADDR);
    CALL("clock_gettime clock 99", 0, SYS_clock_gettime, 99, event_area);
    CALL("clock_gettime clock -1 (a process CPU clock of pid 0)", 0, SYS_clock_gettime, -1, event_area);
    CALL("clock_gettime to a kernel address", 0, SYS_clock_gettime, CLOCK_MONOTONIC, KERNEL_ADDR);
    CALL("clock_getres clock 99", 0, SYS_clock_getres, 99, event_area);
    CALL("clock_getres NULL", 0, SYS_clock_getres, CLOCK_MONOTONIC, 0);
    CALL("clock_nanosleep clock 99", 0, SYS_clock_nanosleep, 99, 0, event_area, 0);
    CALL("clock_nanosleep unknown flags", 0, SYS_clock_nanosleep, CLOCK_MONOTONIC, 0x10, event_area, 0);
}

static void procs(void)
{
    int st;
    CALL("wait4 unknown options", 0, SYS_wait4, -1, &st, 0x10000000, 0);
    CALL("wait4 no children", 0, SYS_wait4, -1, &st, WNOHANG, 0);
    CALL("wait4 INT_MIN", 0, SYS_wait4, INT_MIN, &st, WNOHANG, 0);
    CALL("waitid idtype 9", 0, SYS_waitid, 9, 0, event_area, WEXITED, 0);
    CALL("waitid no options", 0, SYS_waitid, P_ALL, 0, event_area, 0, 0);
    CALL("waitid P_PID -1", 0, SYS_waitid, P_PID, -1, event_area, WEXITED | WNOHANG, 0);
    CALL("setpgid -1", 0, SYS_setpgid, -1, 0);
    CALL("setpgid pgid -1", 0, SYS_setpgid, 0, -1);
    CALL("setpgid a pid that does not exist", 0, SYS_setpgid, 0x3ffffff0, 0);
    CALL("getpgid a pid that does not exist", 0, SYS_getpgid, 0x3ffffff0);
    CALL("getsid -1", 0, SYS_getsid, -1);
    CALL("getpriority which 9", 0, SYS_getpriority, 9, 0);
    CALL("setpriority which 9", 0, SYS_setpriority, 9, 0, 0);
    CALL("getpriority which -1", 0, SYS_getpriority, -1, 0);
    CALL("getpriority pid -1", 0, SYS_getpriority, PRIO_PROCESS, -1);
    CALL("setpriority pid 2^30 (none)", 0, SYS_setpriority, PRIO_PROCESS, 1 << 30, 0);
    CALL("setpriority nice 100 (clamped to 19)", 0, SYS_setpriority, PRIO_PROCESS, 0, 100);
    CALL("getpriority after nice 19 (20 - nice)", 0, SYS_getpriority, PRIO_PROCESS, 0);
    CALL("setpriority nice 7", 0, SYS_setpriority, PRIO_PROCESS, 0, 7);
    CALL("getpriority of the caller's tid", 0, SYS_getpriority, PRIO_PROCESS, syscall(SYS_gettid));
    struct rlimit rl = {10, 5};
    CALL("setrlimit cur above max", 0, SYS_setrlimit, RLIMIT_NOFILE, &rl);
    CALL("setrlimit resource 99", 0, SYS_setrlimit, 99, &rl);
    CALL("getrlimit resource 99", 0, SYS_getrlimit, 99, &rl);
    CALL("getrlimit resource -1", 0, SYS_getrlimit, -1, &rl);
    CALL("getrlimit to a kernel address", 0, SYS_getrlimit, RLIMIT_NOFILE, KERNEL_ADDR);
    CALL("prlimit64 resource 99", 0, SYS_prlimit64, 0, 99, 0, &rl);
    CALL("prlimit64 a pid that does not exist", 0, SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, 0, &rl);
    CALL("prlimit64 pid -1", 0, SYS_prlimit64, -1, RLIMIT_NOFILE, 0, &rl);
    CALL("getrusage who 9", 0, SYS_getrusage, 9, event_area);
    CALL("getrusage to a kernel address", 0, SYS_getrusage, RUSAGE_SELF, KERNEL_ADDR);
    CALL("getgroups size -1", 0, SYS_getgroups, -1, event_area);
    CALL("getgroups to a kernel address", 0, SYS_getgroups, 65536, KERNEL_ADDR);
    CALL("setgroups size -1", 0, SYS_setgroups, -1, event_area);
    CALL("setgroups size 70000", 0, SYS_setgroups, 70000, event_area);
    CALL("prctl option 9999", 0, SYS_prctl, 9999, 0, 0, 0, 0);
    CALL("prctl PR_SET_PDEATHSIG 65", 0, SYS_prctl, PR_SET_PDEATHSIG, 65, 0, 0, 0);
    CALL("prctl PR_GET_PDEATHSIG to a kernel address", 0, SYS_prctl, PR_GET_PDEATHSIG, KERNEL_ADDR, 0, 0, 0);
    CALL("prctl PR_SET_NAME at a kernel address", 0, SYS_prctl, PR_SET_NAME, KERNEL_ADDR, 0, 0, 0);
    CALL("prctl PR_SET_DUMPABLE 2", 0, SYS_prctl, PR_SET_DUMPABLE, 2, 0, 0, 0);
    CALL("arch_prctl unknown code", 0, SYS_arch_prctl, 0x9999, 0);
    CALL("arch_prctl ARCH_SET_FS non-canonical", 0, SYS_arch_prctl, 0x1002, NONCANONICAL);
    CALL("arch_prctl ARCH_GET_FS to a kernel address", 0, SYS_arch_prctl, 0x1003, KERNEL_ADDR);
    CALL("personality 0xffffffff (query)", 0, SYS_personality, 0xffffffff);
    CALL("umask 0777777 (masked)", 0, SYS_umask, 0777777);
    CALL("umask back", 0, SYS_umask, 022);
    CALL("uname to a kernel address", 0, SYS_uname, KERNEL_ADDR);
    CALL("sysinfo to a kernel address", 0, SYS_sysinfo, KERNEL_ADDR);
    CALL("times to a kernel address", 0, SYS_times, KERNEL_ADDR);
    CALL("sched_getaffinity len 0", 0, SYS_sched_getaffinity, 0, 0, event_area);
    CALL("sched_getaffinity len 7", 0, SYS_sched_getaffinity, 0, 7, event_area);
    CALL("sched_getaffinity pid -1", 0, SYS_sched_getaffinity, -1, 128, event_area);
    CALL("set_robust_list len 0", 0, SYS_set_robust_list, event_area, 0);
    CALL("execve NULL path", 0, SYS_execve, 0, 0, 0);
    CALL("execve argv at a kernel address", 0, SYS_execve, "/proc/self/exe", KERNEL_ADDR, 0);
    CALL("execve a directory", 0, SYS_execve, "d", 0, 0);
    CALL("execve a file without x", 0, SYS_execve, "f", 0, 0);
    CALL("execveat unknown flags", 0, SYS_execveat, AT_FDCWD, "f", 0, 0, 0x80000);
    CALL("clone3 size 0", 0, SYS_clone3, event_area, 0);
    CALL("clone3 size 4097", 0, SYS_clone3, event_area, 4097);
    CALL("clone3 at a kernel address", 0, SYS_clone3, KERNEL_ADDR, 88);
    CALL("clone CLONE_THREAD without CLONE_SIGHAND", 0, SYS_clone, 0x00010000, 0, 0, 0, 0);
    CALL("clone CLONE_SIGHAND without CLONE_VM", 0, SYS_clone, 0x00000800, 0, 0, 0, 0);
}

static void ttys(void)
{
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    if (m < 0) {
        printf("open /dev/ptmx: -1 %s\n", errname(errno));
        return;
    }
    int unlock = 0;
    CALL("TIOCSPTLCK 0 on the master", 0, SYS_ioctl, m, TIOCSPTLCK, &unlock);
    CALL("TIOCGPTN to a kernel address", 0, SYS_ioctl, m, TIOCGPTN, KERNEL_ADDR);
    char name[64];
    int n = -1;
    ioctl(m, TIOCGPTN, &n);
    snprintf(name, sizeof name, "/dev/pts/%d", n);
    int sl = open(name, O_RDWR | O_NOCTTY);
    CALL("unknown ioctl on the master", 0, SYS_ioctl, m, 0x12345678, 0);
    CALL("unknown ioctl on the slave", 0, SYS_ioctl, sl, 0x5499, 0);
    CALL("unknown ioctl on a pipe", 0, SYS_ioctl, open("/dev/null", O_RDONLY), 0x5401, event_area);
    CALL("TCGETS to a kernel address", 0, SYS_ioctl, sl, TCGETS, KERNEL_ADDR);
    CALL("TCSETS from a kernel address", 0, SYS_ioctl, sl, TCSETS, KERNEL_ADDR);
    struct termios t;
    tcgetattr(sl, &t);
    struct termios junk;
    memset(&junk, 0xff, sizeof junk);
    CALL("TCSETS with every bit set", 0, SYS_ioctl, sl, TCSETS, &junk);
    tcsetattr(sl, TCSANOW, &t);
    memset(&junk, 0, sizeof junk);
    CALL("TCSETS all zero", 0, SYS_ioctl, sl, TCSETS, &junk);
    tcsetattr(sl, TCSANOW, &t);
    struct winsize ws = {0xffff, 0xffff, 0xffff, 0xffff};
    CALL("TIOCSWINSZ 65535 x 65535", 0, SYS_ioctl, sl, TIOCSWINSZ, &ws);
    CALL("TIOCGWINSZ back", 0, SYS_ioctl, sl, TIOCGWINSZ, &ws);
    printf("  rows %u cols %u\n", ws.ws_row, ws.ws_col);
    CALL("TIOCSWINSZ from a kernel address", 0, SYS_ioctl, sl, TIOCSWINSZ, KERNEL_ADDR);
    int pg = 0x3ffffff0;
    CALL("TIOCSPGRP to a group that does not exist (not our tty)", 0, SYS_ioctl, sl, TIOCSPGRP, &pg);
    CALL("TIOCGPGRP (not our controlling tty)", 0, SYS_ioctl, sl, TIOCGPGRP, &pg);
    CALL("TIOCGSID (not our controlling tty)", 0, SYS_ioctl, sl, TIOCGSID, &pg);
    CALL("TCFLSH 7", 0, SYS_ioctl, sl, TCFLSH, 7);
    CALL("TCXONC 9", 0, SYS_ioctl, sl, TCXONC, 9);
    int bad = -1;
    CALL("TIOCSETD -1", 0, SYS_ioctl, sl, TIOCSETD, &bad);
    CALL("FIONREAD to a kernel address", 0, SYS_ioctl, sl, FIONREAD, KERNEL_ADDR);
    CALL("FIONBIO from a kernel address", 0, SYS_ioctl, sl, FIONBIO, KERNEL_ADDR);
    CALL("TIOCPKT on the slave", 0, SYS_ioctl, sl, TIOCPKT, &unlock);
    CALL("write 0 bytes to the master", 0, SYS_write, m, event_area, 0);
    CALL("read with count 0 from the slave", 0, SYS_read, sl, event_area, 0);
    close(sl);
    CALL("read the master after the slave closed (nonblocking: EIO)", 0, SYS_fcntl, m, F_SETFL, O_NONBLOCK);
    CALL("  read", 0, SYS_read, m, event_area, 16);
    close(m);
    CALL("open /dev/pts/999", 0, SYS_open, "/dev/pts/999", O_RDWR | O_NOCTTY);
}

static void devs(void)
{
    static char big[1 << 16];
    int full = open("/dev/full", O_RDWR), zero = open("/dev/zero", O_RDWR), null = open("/dev/null", O_RDWR);
    int ur = open("/dev/urandom", O_RDONLY);
    CALL("write /dev/full", 0, SYS_write, full, big, 10);
    CALL("read /dev/full", 0, SYS_read, full, big, 10);
    CALL("read /dev/zero 64 KiB", 0, SYS_read, zero, big, sizeof big);
    CALL("read /dev/zero into a kernel address", 0, SYS_read, zero, KERNEL_ADDR, 10);
    CALL("read /dev/zero count -1 into a small buffer", 0, SYS_read, zero, event_area, -1L);
    CALL("write /dev/null from a kernel address", 0, SYS_write, null, KERNEL_ADDR, 10);
    CALL("write /dev/null count 2^40", 0, SYS_write, null, big, 1L << 40);
    CALL("read /dev/null", 0, SYS_read, null, big, 10);
    CALL("read /dev/urandom 64 KiB", 0, SYS_read, ur, big, sizeof big);
    CALL("write /dev/urandom", 0, SYS_write, ur, big, 10);
    CALL("lseek /dev/zero to INT64_MAX", 0, SYS_lseek, zero, INT64_MAX, SEEK_SET);
    CALL("lseek /dev/null SEEK_END -1", 0, SYS_lseek, null, -1L, SEEK_END);
    CALL("pread /dev/zero at offset -1", 0, SYS_pread64, zero, big, 10, -1L);
    CALL("mmap /dev/zero shared", 1, SYS_mmap, 0, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
    CALL("mmap /dev/null", 1, SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, null, 0);
    CALL("ftruncate /dev/null", 0, SYS_ftruncate, null, 0);
    CALL("fallocate /dev/zero", 0, SYS_fallocate, zero, 0, 0, 10);
    int maps = open("/proc/self/maps", O_RDONLY);
    CALL("pread /proc/self/maps at 2^40", 0, SYS_pread64, maps, big, 10, 1L << 40);
    CALL("pread /proc/self/maps at -1", 0, SYS_pread64, maps, big, 10, -1L);
    CALL("lseek /proc/self/maps SEEK_END", 0, SYS_lseek, maps, 0, SEEK_END);
    CALL("write /proc/self/maps", 0, SYS_write, maps, big, 10);
    int st = open("/proc/self/status", O_RDONLY);
    CALL("read /proc/self/status into a kernel address", 0, SYS_read, st, KERNEL_ADDR, 10);
    CALL("open /proc/self/stat for writing", 0, SYS_open, "/proc/self/stat", O_WRONLY);
    CALL("open /proc/self/nonexistent", 0, SYS_open, "/proc/self/nonexistent", O_RDONLY);
    CALL("open /proc/999999/status", 0, SYS_open, "/proc/999999/status", O_RDONLY);
    CALL("readlink /proc/self/fd/999", 0, SYS_readlink, "/proc/self/fd/999", big, 100);
    CALL("open /proc/self/fd/999", 0, SYS_open, "/proc/self/fd/999", O_RDONLY);
    CALL("mkdir in /proc", 0, SYS_mkdir, "/proc/vk-robust", 0755);
    CALL("unlink in /proc", 0, SYS_unlink, "/proc/self/status");
    CALL("mkdir in /dev", 0, SYS_mkdir, "/dev/vk-robust-no-such-dir/x", 0755);
}

static const struct {
    const char *name;
    void (*fn)(void);
} groups[] = {{"dev", devs}, {"tty", ttys}, {"mm", mm}, {"io", io}, {"fd", fds}, {"path", paths}, {"sig", sigs}, {"proc", procs}};

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)f;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

int main(int argc, char **argv)
{
    reset_signals();
    no_core_dumps();
    static char dir[] = "/dev/shm/vk-robust-args-XXXXXX";
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s  FAIL\n", errname(errno));
        return 1;
    }
    const char *want = argc > 1 ? argv[1] : NULL;
    if (want && strstr(want, "-known")) {
        known_only = 1;
        static char base[16];
        snprintf(base, sizeof base, "%.*s", (int)(strstr(want, "-known") - want), want);
        want = base;
    }
    for (unsigned i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (want && strcmp(want, groups[i].name))
            continue;
        printf("== %s\n", groups[i].name);
        fflush(stdout);
        pid_t c = xfork();
        if (c == 0) {
            if (chdir(dir) < 0)
                _exit(3);
            mkdir("d", 0755);
            close(open("f", O_CREAT | O_WRONLY, 0644));
            groups[i].fn();
            fflush(stdout);
            _exit(0);
        }
        int st = wait_status(c, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            printf("child: %s  FAIL\n", status_str(st));
            vk_failures++;
        }
    }
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return finish();
}
