/* Block device I/O.
 *
 * blockdev_io io PATH: read/write/pread/pwrite/readv/lseek/fsync on PATH, a
 *   4 MiB target: the same output for a regular file natively and for
 *   /dev/vda under vkernel.
 * blockdev_io dev PATH [PARTITION]: what only a block device does, checked
 *   against Linux's documented answers (ioctls, O_DIRECT alignment, ENOSPC
 *   at the end, lseek limits, BLKDISCARD, O_EXCL, stat, sysfs).
 * blockdev_io cdrom PATH: a read-only CD-ROM (2048-byte sectors). */
#include "common.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#define SIZE (4 << 20)

static void fill(unsigned char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 31 + (i >> 8));
}

static void io(const char *path)
{
    static unsigned char a[65536], b[65536];
    int fd = open(path, O_RDWR);
    EXPECT_OK("open", fd);
    EXPECT_EQ("lseek end", lseek(fd, 0, SEEK_END), SIZE);
    EXPECT_EQ("lseek set", lseek(fd, 4096, SEEK_SET), 4096);
    EXPECT_EQ("lseek cur", lseek(fd, -100, SEEK_CUR), 3996);
    fill(a, sizeof a, 1);
    EXPECT_EQ("pwrite aligned", pwrite(fd, a, 8192, 0), 8192);
    EXPECT_EQ("pwrite unaligned", pwrite(fd, a + 3, 5000, 12345), 5000);
    EXPECT_EQ("pread back", pread(fd, b, 5000, 12345), 5000);
    CHECK("same bytes", memcmp(a + 3, b, 5000) == 0);
    EXPECT_EQ("pos untouched", lseek(fd, 0, SEEK_CUR), 3996);
    EXPECT_EQ("lseek 0", lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ("read", read(fd, b, 8192), 8192);
    CHECK("read bytes", memcmp(a, b, 8192) == 0);
    EXPECT_EQ("pos after read", lseek(fd, 0, SEEK_CUR), 8192);
    EXPECT_EQ("write", write(fd, a, 1000), 1000);
    EXPECT_EQ("pos after write", lseek(fd, 0, SEEK_CUR), 9192);
    EXPECT_EQ("short read at end", pread(fd, b, 1000, SIZE - 100), 100);
    EXPECT_EQ("read at end", pread(fd, b, 1000, SIZE), 0);
    struct iovec iov[3] = {{a, 100}, {a + 200, 4000}, {a + 9000, 512}};
    EXPECT_EQ("pwritev", pwritev(fd, iov, 3, 1 << 20), 4612);
    struct iovec riov[2] = {{b, 4000}, {b + 4000, 612}};
    EXPECT_EQ("preadv", preadv(fd, riov, 2, 1 << 20), 4612);
    CHECK("vector bytes", memcmp(b, a, 100) == 0 && memcmp(b + 100, a + 200, 4000) == 0 && memcmp(b + 4100, a + 9000, 512) == 0);
    EXPECT_EQ("fsync", fsync(fd), 0);
    EXPECT_EQ("fdatasync", fdatasync(fd), 0);
    EXPECT_ERR("lseek negative", lseek(fd, -1, SEEK_SET), EINVAL);
    EXPECT_ERR("bad whence", lseek(fd, 0, 42), EINVAL);
    close(fd);
    int ro = open(path, O_RDONLY);
    EXPECT_ERR("write on O_RDONLY", write(ro, a, 1), EBADF);
    EXPECT_EQ("read on O_RDONLY", pread(ro, b, 16, 0), 16);
    close(ro);
}

static long sysfs_number(const char *file)
{
    char buf[64] = {0};
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : -1;
}

static long sysfs_ro(const char *dev)
{
    char file[128];
    snprintf(file, sizeof file, "/sys/block/%s/ro", strrchr(dev, '/') + 1);
    return sysfs_number(file);
}

static void dev(const char *path, const char *partition)
{
    unsigned char *buf;
    if (posix_memalign((void **)&buf, 4096, 65536))
        return;
    struct stat st;
    EXPECT_EQ("stat", stat(path, &st), 0);
    CHECK("is a block device", S_ISBLK(st.st_mode));
    printf("rdev: %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
    EXPECT_EQ("st_size", st.st_size, 0);
    int fd = open(path, O_RDWR);
    EXPECT_OK("open", fd);
    uint64_t size64 = 0;
    unsigned long sectors = 0;
    int ssz = 0, bsz = 0, ro = -1, alignoff = -1;
    unsigned int pbsz = 0, iomin = 0, ioopt = 1;
    EXPECT_EQ("BLKGETSIZE64", ioctl(fd, BLKGETSIZE64, &size64), 0);
    printf("size: %llu\n", (unsigned long long)size64);
    EXPECT_EQ("BLKGETSIZE", ioctl(fd, BLKGETSIZE, &sectors), 0);
    CHECK("BLKGETSIZE is in sectors", sectors == size64 / 512);
    EXPECT_EQ("BLKSSZGET", ioctl(fd, BLKSSZGET, &ssz), 0);
    printf("logical block: %d\n", ssz);
    EXPECT_EQ("BLKPBSZGET", ioctl(fd, BLKPBSZGET, &pbsz), 0);
    printf("physical block: %u\n", pbsz);
    EXPECT_EQ("BLKBSZGET", ioctl(fd, BLKBSZGET, &bsz), 0);
    printf("soft block: %d\n", bsz);
    EXPECT_EQ("BLKROGET", ioctl(fd, BLKROGET, &ro), 0);
    printf("read-only: %d\n", ro);
    EXPECT_EQ("BLKIOMIN", ioctl(fd, BLKIOMIN, &iomin), 0);
    EXPECT_EQ("BLKIOOPT", ioctl(fd, BLKIOOPT, &ioopt), 0);
    EXPECT_EQ("BLKALIGNOFF", ioctl(fd, BLKALIGNOFF, &alignoff), 0);
    printf("io min/opt/align: %u %u %d\n", iomin, ioopt, alignoff);
    /* CAP_SYS_ADMIN ioctls: EACCES without it. */
    int admin = geteuid() == 0;
    EXPECT_EQ("BLKFLSBUF", ioctl(fd, BLKFLSBUF, 0) == 0 || (!admin && errno == EACCES), 1);
    struct hd_geometry geo;
    EXPECT_EQ("HDIO_GETGEO", ioctl(fd, HDIO_GETGEO, &geo), 0);
    printf("geometry: %u heads %u sectors start %lu\n", geo.heads, geo.sectors, geo.start);
    EXPECT_ERR("unknown ioctl", ioctl(fd, _IO(0x12, 200), 0), ENOTTY);
    EXPECT_EQ("lseek end", lseek(fd, 0, SEEK_END), (long)size64);
    EXPECT_ERR("lseek past end", lseek(fd, size64 + 1, SEEK_SET), EINVAL);
    EXPECT_ERR("SEEK_DATA", lseek(fd, 0, SEEK_DATA), EINVAL);
    EXPECT_ERR("write at end", pwrite(fd, buf, 512, size64), ENOSPC);
    EXPECT_EQ("write across end", pwrite(fd, buf, 1024, size64 - 512), 512);
    /* BLKDISCARD: 512-aligned ranges inside the device; zeros after. */
    fill(buf, 8192, 9);
    EXPECT_EQ("pwrite before discard", pwrite(fd, buf, 8192, 65536), 8192);
    uint64_t range[2] = {65536, 8192};
    EXPECT_EQ("BLKDISCARD", ioctl(fd, BLKDISCARD, range), 0);
    EXPECT_EQ("pread discarded", pread(fd, buf, 8192, 65536), 8192);
    int zero = 1;
    for (int i = 0; i < 8192; i++)
        zero &= buf[i] == 0;
    CHECK("discarded range reads zeros", zero);
    uint64_t odd[2] = {100, 512};
    EXPECT_ERR("BLKDISCARD unaligned", ioctl(fd, BLKDISCARD, odd), EINVAL);
    uint64_t past[2] = {size64 - 512, 1024};
    EXPECT_ERR("BLKDISCARD past end", ioctl(fd, BLKDISCARD, past), EINVAL);
    EXPECT_EQ("BLKZEROOUT", ioctl(fd, BLKZEROOUT, range), 0);
    EXPECT_EQ("fsync", fsync(fd), 0);
    int on = 1, off = 0, now = 0;
    if (!admin) {
        EXPECT_ERR("BLKROSET unprivileged", ioctl(fd, BLKROSET, &on), EACCES);
        close(fd);
        return;
    }
    EXPECT_EQ("BLKROSET", ioctl(fd, BLKROSET, &on), 0);
    EXPECT_EQ("BLKROGET after BLKROSET", ioctl(fd, BLKROGET, &now), 0);
    CHECK("now read-only", now == 1);
    EXPECT_ERR("write while BLKROSET", pwrite(fd, buf, 512, 1 << 20), EPERM);
    CHECK("sysfs ro", sysfs_ro(path) == 1);
    EXPECT_EQ("BLKROSET off", ioctl(fd, BLKROSET, &off), 0);
    EXPECT_EQ("write after BLKROSET off", pwrite(fd, buf, 512, 1 << 20), 512);
    close(fd);
    int rofd = open(path, O_RDONLY);
    EXPECT_ERR("BLKDISCARD on O_RDONLY", ioctl(rofd, BLKDISCARD, range), EBADF);
    close(rofd);

    /* O_DIRECT: offsets and lengths in logical blocks. */
    int dfd = open(path, O_RDWR | O_DIRECT);
    EXPECT_OK("open O_DIRECT", dfd);
    EXPECT_EQ("direct aligned read", pread(dfd, buf, 4096, 8192), 4096);
    EXPECT_EQ("direct 512 read", pread(dfd, buf, 512, 512), 512);
    EXPECT_ERR("direct odd length", pread(dfd, buf, 100, 0), EINVAL);
    EXPECT_ERR("direct odd offset", pread(dfd, buf, 512, 256), EINVAL);
    EXPECT_ERR("direct odd write", pwrite(dfd, buf, 513, 0), EINVAL);
    EXPECT_EQ("direct write", pwrite(dfd, buf, 4096, 8192), 4096);
    close(dfd);

    /* O_EXCL claims the device. */
    int x1 = open(path, O_RDONLY | O_EXCL);
    EXPECT_OK("open O_EXCL", x1);
    EXPECT_ERR("second O_EXCL", open(path, O_RDONLY | O_EXCL), EBUSY);
    int plain = open(path, O_RDONLY);
    EXPECT_OK("plain open while claimed", plain);
    close(plain);
    close(x1);
    int x2 = open(path, O_RDONLY | O_EXCL);
    EXPECT_OK("O_EXCL after release", x2);
    EXPECT_ERR("F_GETFL hides O_EXCL", (fcntl(x2, F_GETFL) & O_EXCL) ? 0 : (errno = EINVAL, -1), EINVAL);
    close(x2);

    char sysfs[128];
    const char *name = strrchr(path, '/') + 1;
    snprintf(sysfs, sizeof sysfs, "/sys/block/%s/size", name);
    CHECK("sysfs size in sectors", sysfs_number(sysfs) == (long)(size64 / 512));
    snprintf(sysfs, sizeof sysfs, "/sys/dev/block/%u:%u/size", major(st.st_rdev), minor(st.st_rdev));
    CHECK("sysfs by number", sysfs_number(sysfs) == (long)(size64 / 512));

    if (partition) {
        int pfd = open(partition, O_RDONLY);
        EXPECT_OK("open partition", pfd);
        EXPECT_ERR("BLKRRPART on a partition", ioctl(pfd, BLKRRPART, 0), EINVAL);
        EXPECT_EQ("partition HDIO_GETGEO", ioctl(pfd, HDIO_GETGEO, &geo), 0);
        printf("partition start: %lu\n", geo.start);
        int wfd = open(path, O_RDONLY);
        EXPECT_ERR("BLKRRPART while a partition is open", ioctl(wfd, BLKRRPART, 0), EBUSY);
        close(pfd);
        EXPECT_EQ("BLKRRPART", ioctl(wfd, BLKRRPART, 0), 0);
        close(wfd);
        EXPECT_OK("partition node after rescan", open(partition, O_RDONLY));
    }
}

static void cdrom(const char *path)
{
    EXPECT_ERR("open O_RDWR", open(path, O_RDWR), EROFS);
    int fd = open(path, O_RDONLY);
    EXPECT_OK("open O_RDONLY", fd);
    int ssz = 0, ro = 0;
    EXPECT_EQ("BLKSSZGET", ioctl(fd, BLKSSZGET, &ssz), 0);
    printf("logical block: %d\n", ssz);
    EXPECT_EQ("BLKROGET", ioctl(fd, BLKROGET, &ro), 0);
    printf("read-only: %d\n", ro);
    char vd[6];
    EXPECT_EQ("volume descriptor", pread(fd, vd, 6, 32768), 6);
    CHECK("CD001", memcmp(vd + 1, "CD001", 5) == 0);
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 3)
        return 2;
    if (!strcmp(argv[1], "io"))
        io(argv[2]);
    else if (!strcmp(argv[1], "dev"))
        dev(argv[2], argc > 3 ? argv[3] : NULL);
    else if (!strcmp(argv[1], "cdrom"))
        cdrom(argv[2]);
    return finish();
}
