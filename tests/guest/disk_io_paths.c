/* The read and write paths of a disk filesystem's page cache, in DIR:
 * large reads that go around the cache and small ones through it, over
 * holes, cached and dirty pages; scattered buffers; buffers that fault part
 * way; buffers that are a mapping of the very file; O_APPEND. Prints a
 * line per step, for comparison with Linux.
 * usage: disk_io_paths DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define MIB (1024L * 1024)

static unsigned long sum(const unsigned char *p, long n)
{
    unsigned long s = 0;
    for (long i = 0; i < n; i++)
        s = s * 131 + p[i];
    return s;
}

static void result(const char *what, long r)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, errno == EFAULT ? "EFAULT" : strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: disk_io_paths DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/data", argv[1]);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    unsigned char *big = malloc(8 * MIB);
    for (long i = 0; i < 8 * MIB; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    /* 3 MiB of data, a 2 MiB hole, 1 MiB + 123 bytes of data. */
    result("write 3 MiB", write(fd, big, 3 * MIB));
    result("pwrite past a hole", pwrite(fd, big + 5 * MIB, MIB + 123, 5 * MIB));
    fsync(fd);
    close(fd);
    fd = open(path, O_RDWR);
    /* A small read caches a few pages in the middle; a dirty page too. */
    unsigned char small[100];
    result("small pread", pread(fd, small, sizeof small, MIB + 5));
    printf("small sum %lx\n", sum(small, sizeof small));
    result("dirty a page", pwrite(fd, "DIRTY", 5, 2 * MIB + 4096 * 3 + 1));
    /* One big read across cached, dirty, missing pages, the hole and the
     * end of the file, into an odd address. */
    unsigned char *out = malloc(8 * MIB + 64);
    memset(out, 0xee, 8 * MIB + 64);
    result("big read", pread(fd, out + 3, 8 * MIB, 0));
    printf("big sum %lx tail byte %x\n", sum(out + 3, 6 * MIB + 123), out[3 + 6 * MIB + 123]);
    /* readv into scattered odd-sized buffers, sequentially. */
    lseek(fd, 100, SEEK_SET);
    struct iovec iov[4] = {{out, 1}, {out + 10, 4095}, {out + 5000, 300000}, {out + 400000, 2 * MIB + 17}};
    result("readv", readv(fd, iov, 4));
    printf("readv sum %lx %lx %lx pos %ld\n", sum(out, 1), sum(out + 5000, 300000), sum(out + 400000, 2 * MIB + 17), (long)lseek(fd, 0, SEEK_CUR));
    /* A buffer that ends in unmapped memory: short, or EFAULT at once. */
    long pg = 4096;
    unsigned char *two = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 2 * pg, pg);
    result("read into a buffer that faults", pread(fd, two + 100, 8 * pg, 4 * MIB + 7));
    result("read into a bad buffer", pread(fd, two + 2 * pg, 8 * pg, 0));
    result("read at the end into a bad buffer", pread(fd, two + 2 * pg, 8 * pg, 7 * MIB));
    result("write from a buffer that faults", pwrite(fd, two + 100, 8 * pg, 7 * MIB));
    result("write from a bad buffer", pwrite(fd, two + 2 * pg, 8 * pg, 0));
    /* A MAP_SHARED mapping of the file as the buffer of its own I/O. */
    unsigned char *map = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    /* (Ranges that overlap at different offsets copy in an order Linux
     * does not promise: not compared.) */
    result("read into its own mapping", pread(fd, map + 2 * MIB + 10, MIB, 0));
    result("write from its own mapping", pwrite(fd, map + 3 * MIB + 3, MIB / 2, 5));
    result("write from its own mapping, same place", pwrite(fd, map + 8192, 8192, 8192));
    msync(map, 4 * MIB, MS_SYNC);
    munmap(map, 4 * MIB);
    /* writev, and O_APPEND through scattered buffers. */
    struct iovec wv[3] = {{big, 10}, {big + 100, 5000}, {big + 9000, 70000}};
    result("pwritev", pwritev(fd, wv, 3, 3 * MIB - 100));
    int afd = open(path, O_WRONLY | O_APPEND);
    result("append writev", writev(afd, wv, 3));
    printf("append pos %ld\n", (long)lseek(afd, 0, SEEK_CUR));
    close(afd);
    fsync(fd);
    close(fd);
    /* Everything back, through big reads from a fresh open. */
    fd = open(path, O_RDONLY);
    long size = lseek(fd, 0, SEEK_END);
    unsigned char *all = malloc(size);
    long got = 0, n;
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, all + got, 3 * MIB)) > 0)
        got += n;
    printf("final size %ld read %ld sum %lx\n", size, got, sum(all, got));
    close(fd);
    unlink(path);
    return 0;
}
