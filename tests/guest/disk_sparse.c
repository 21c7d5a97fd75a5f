/* Sparse files: lseek SEEK_DATA/SEEK_HOLE and fallocate PUNCH_HOLE on a
 * file in DIR, which is on tmpfs or ext4 (4 KiB blocks). Prints what each
 * call answers, so a run under vkernel can be compared with one on Linux.
 * usage: disk_sparse DIR tmpfs|ext4 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define KIB 1024L
#define MIB (1024L * 1024)

static int fd;
static int tmpfs;

static const char *err(void)
{
    switch (errno) {
    case ENXIO: return "ENXIO";
    case EINVAL: return "EINVAL";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EBADF: return "EBADF";
    default: return strerror(errno);
    }
}

static void seeks(const char *when)
{
    static const long offsets[] = {0, 100, 4096, 8191, 8192, 1 * MIB - 1, 1 * MIB, 1 * MIB + 4096, 2 * MIB,
                                   3 * MIB, 3 * MIB + 4095, 3 * MIB + 4096, 5 * MIB - 1, 5 * MIB, 6 * MIB, -1};
    printf("-- %s\n", when);
    for (unsigned i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        off_t d = lseek(fd, offsets[i], SEEK_DATA);
        int de = errno;
        off_t h = lseek(fd, offsets[i], SEEK_HOLE);
        int he = errno;
        printf("at %ld: data ", offsets[i]);
        if (d < 0) {
            errno = de;
            printf("%s", err());
        } else {
            printf("%ld", (long)d);
        }
        printf(" hole ");
        if (h < 0) {
            errno = he;
            printf("%s", err());
        } else {
            printf("%ld", (long)h);
        }
        printf("\n");
    }
    struct stat st;
    fstat(fd, &st);
    printf("size %ld", (long)st.st_size);
    if (tmpfs)
        printf(" blocks %ld", (long)st.st_blocks);
    printf(" position after the last seek %ld\n", (long)lseek(fd, 0, SEEK_CUR));
}

/* A checksum of the whole file and where its non-zero bytes are. */
static void contents(const char *when)
{
    struct stat st;
    fstat(fd, &st);
    unsigned long sum = 0, nonzero = 0;
    long first = -1, last = -1;
    static char buf[64 * 1024];
    for (off_t at = 0; at < st.st_size;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            sum = sum * 31 + (unsigned char)buf[i];
            if (buf[i]) {
                nonzero++;
                if (first < 0)
                    first = at + i;
                last = at + i;
            }
        }
        at += n;
    }
    printf("%s: sum %lx nonzero %lu first %ld last %ld\n", when, sum, nonzero, first, last);
}

static void fill(long at, long len, int c)
{
    char *b = malloc(len);
    memset(b, c, len);
    if (pwrite(fd, b, len, at) != len)
        printf("pwrite at %ld: %s\n", at, err());
    free(b);
}

static void punch(long at, long len, int keep)
{
    int mode = FALLOC_FL_PUNCH_HOLE | (keep ? FALLOC_FL_KEEP_SIZE : 0);
    int r = fallocate(fd, mode, at, len);
    printf("punch %ld+%ld%s: %d %s\n", at, len, keep ? "" : " without KEEP_SIZE", r, r ? err() : "");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: disk_sparse DIR tmpfs|ext4\n");
        return 2;
    }
    tmpfs = !strcmp(argv[2], "tmpfs");
    struct statfs sfs;
    if (statfs(argv[1], &sfs) != 0) {
        perror("statfs");
        return 1;
    }
    printf("fs: %s\n", sfs.f_type == 0x01021994 ? "tmpfs" : sfs.f_type == 0xEF53 ? "ext4" : "other");
    char path[4096];
    snprintf(path, sizeof path, "%s/sparse", argv[1]);
    fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    seeks("empty");
    fill(0, 8192, 'a');
    fill(1 * MIB, 4096, 'b');
    fill(3 * MIB + 100, 100, 'c');
    ftruncate(fd, 5 * MIB);
    /* A read of a hole caches a page of zeros: still a hole. */
    char z[16];
    pread(fd, z, sizeof z, 4 * MIB);
    seeks("written");
    fsync(fd);
    seeks("after fsync");
    if (!tmpfs) {
        /* Unwritten extents without cached pages are holes. */
        int r = fallocate(fd, 0, 2 * MIB, 8192);
        printf("preallocate: %d\n", r);
        seeks("preallocated");
    }
    contents("before punching");
    punch(100, 100, 1);
    punch(1 * MIB, 4096, 1);
    punch(3 * MIB, 8192, 1);
    punch(6 * MIB, MIB, 1);
    punch(0, 1, 1);
    punch(4096, 4096, 0);
    contents("punched");
    seeks("punched");
    /* A mapped page of a punched range leaves the mapping: zeros after. */
    /* Only pages the file holds are mapped: vkernel's fault-around would
     * give a tmpfs hole in the window a page, where Linux maps only the
     * pages already there. */
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    m[4096] = 'm';
    m[0] = 'n';
    printf("mapped before: %c %c\n", m[4096], m[0]);
    punch(4096, 4096, 1);
    printf("mapped after: %d %c\n", m[4096], m[0]);
    pread(fd, z, 1, 4096);
    printf("read after: %d\n", z[0]);
    munmap(m, 8192);
    contents("after the mapped punch");
    seeks("after the mapped punch");
    fsync(fd);
    seeks("final");
    close(fd);
    unlink(path);
    return 0;
}
