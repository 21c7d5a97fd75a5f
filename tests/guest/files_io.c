/* File I/O on a regular file in a fresh /tmp directory: read, write, pread64,
 * pwrite64, readv, writev, lseek, open, openat, close, close_range, dup, dup2,
 * dup3, fcntl, fsync, fdatasync, truncate, ftruncate, and their errors. */
#include "common.h"
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>

static char dir[] = "/tmp/vk-files-io-XXXXXX";

static long fsize(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    char buf[256];

    CHECK("mkdtemp under /tmp", mkdtemp(dir) != NULL);
    EXPECT_EQ("chdir into it", chdir(dir), 0);

    /* open/read/write/lseek */
    EXPECT_EQ("open(O_CREAT|O_RDWR|O_TRUNC) gets the lowest fd",
              syscall(SYS_open, "data", O_CREAT | O_RDWR | O_TRUNC, 0644), 3);
    EXPECT_EQ("write", write(3, "hello world\n", 12), 12);
    EXPECT_EQ("lseek SEEK_CUR", lseek(3, 0, SEEK_CUR), 12);
    EXPECT_EQ("lseek SEEK_SET 0", lseek(3, 0, SEEK_SET), 0);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("read", read(3, buf, sizeof buf), 12);
    CHECK("read back what was written", strcmp(buf, "hello world\n") == 0);
    EXPECT_EQ("read at EOF", read(3, buf, sizeof buf), 0);
    EXPECT_EQ("read of 0 bytes", read(3, buf, 0), 0);

    /* pread/pwrite leave the offset alone; holes read as zero */
    EXPECT_EQ("pwrite64 at 100", pwrite(3, "XYZ", 3, 100), 3);
    EXPECT_EQ("offset unchanged by pwrite64", lseek(3, 0, SEEK_CUR), 12);
    EXPECT_EQ("size after pwrite64 past EOF", fsize(3), 103);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("pread64 at 6", pread(3, buf, 5, 6), 5);
    CHECK("pread64 got 'world'", memcmp(buf, "world", 5) == 0);
    memset(buf, 1, sizeof buf);
    EXPECT_EQ("pread64 inside the hole", pread(3, buf, 10, 50), 10);
    CHECK("hole reads as zeros", memcmp(buf, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
    EXPECT_EQ("pread64 across EOF is short", pread(3, buf, 50, 90), 13);
    EXPECT_ERR("pread64 negative offset", pread(3, buf, 1, -1), EINVAL);
    EXPECT_EQ("lseek SEEK_END -3", lseek(3, -3, SEEK_END), 100);
    EXPECT_EQ("lseek beyond EOF", lseek(3, 5000, SEEK_SET), 5000);
    EXPECT_ERR("lseek to a negative offset", lseek(3, -1, SEEK_SET), EINVAL);
    EXPECT_ERR("lseek bad whence", lseek(3, 0, 99), EINVAL);

    /* readv/writev */
    struct iovec wv[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    lseek(3, 0, SEEK_SET);
    EXPECT_EQ("writev 3 iovecs", writev(3, wv, 3), 8);
    char r1[2], r2[4], r3[10];
    struct iovec rv[3] = {{r1, 2}, {r2, 4}, {r3, 10}};
    lseek(3, 0, SEEK_SET);
    EXPECT_EQ("readv 3 iovecs", readv(3, rv, 3), 16);
    CHECK("readv scattered in order",
          memcmp(r1, "ab", 2) == 0 && memcmp(r2, "cdef", 4) == 0 && memcmp(r3, "gh", 2) == 0);
    EXPECT_ERR("writev with iovcnt -1", syscall(SYS_writev, 3, wv, -1), EINVAL);
    EXPECT_ERR("readv with iovcnt 1025", syscall(SYS_readv, 3, rv, 1025), EINVAL);

    /* fcntl */
    printf("F_GETFL O_RDWR file: %#lx\n", (long)fcntl(3, F_GETFL));
    EXPECT_EQ("F_GETFD", fcntl(3, F_GETFD), 0);
    EXPECT_EQ("F_SETFD FD_CLOEXEC", fcntl(3, F_SETFD, FD_CLOEXEC), 0);
    EXPECT_EQ("F_GETFD after set", fcntl(3, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ("F_SETFD 0", fcntl(3, F_SETFD, 0), 0);
    EXPECT_EQ("F_SETFL O_APPEND|O_NONBLOCK|O_RDONLY", fcntl(3, F_SETFL, O_APPEND | O_NONBLOCK | O_RDONLY), 0);
    printf("F_GETFL after F_SETFL (access mode kept): %#lx\n", (long)fcntl(3, F_GETFL));
    EXPECT_EQ("F_SETFL 0", fcntl(3, F_SETFL, 0), 0);
    EXPECT_EQ("F_DUPFD 20", fcntl(3, F_DUPFD, 20), 20);
    EXPECT_EQ("F_DUPFD_CLOEXEC 20 takes the next free", fcntl(3, F_DUPFD_CLOEXEC, 20), 21);
    EXPECT_EQ("F_GETFD of F_DUPFD fd", fcntl(20, F_GETFD), 0);
    EXPECT_EQ("F_GETFD of F_DUPFD_CLOEXEC fd", fcntl(21, F_GETFD), FD_CLOEXEC);
    EXPECT_ERR("fcntl unknown command", fcntl(3, 12345), EINVAL);
    EXPECT_ERR("fcntl on a closed fd", fcntl(99, F_GETFD), EBADF);
    EXPECT_ERR("F_DUPFD with negative minimum", fcntl(3, F_DUPFD, -1), EINVAL);

    /* close_range */
    EXPECT_EQ("close_range(20, 30, 0)", syscall(SYS_close_range, 20, 30, 0), 0);
    EXPECT_ERR("fd 20 is closed", fcntl(20, F_GETFD), EBADF);
    EXPECT_ERR("fd 21 is closed", fcntl(21, F_GETFD), EBADF);
    EXPECT_ERR("close_range first > last", syscall(SYS_close_range, 5, 4, 0), EINVAL);
    EXPECT_ERR("close_range unknown flag", syscall(SYS_close_range, 20, 30, 0x80), EINVAL);

    /* dup family: shared offsets, lowest free fd */
    EXPECT_EQ("dup gets fd 4", dup(3), 4);
    EXPECT_EQ("CLOSE_RANGE_CLOEXEC on fd 4",
              syscall(SYS_close_range, 4, 4, CLOSE_RANGE_CLOEXEC), 0);
    EXPECT_EQ("fd 4 now close-on-exec", fcntl(4, F_GETFD), FD_CLOEXEC);
    lseek(3, 2, SEEK_SET);
    EXPECT_EQ("dup shares the file offset", lseek(4, 0, SEEK_CUR), 2);
    EXPECT_EQ("dup2 to 10", syscall(SYS_dup2, 3, 10), 10);
    EXPECT_EQ("dup2 onto itself", syscall(SYS_dup2, 3, 3), 3);
    EXPECT_ERR("dup2 from a closed fd", syscall(SYS_dup2, 99, 11), EBADF);
    EXPECT_ERR("dup3 onto itself", dup3(3, 3, 0), EINVAL);
    EXPECT_ERR("dup3 unknown flag", dup3(3, 11, 1), EINVAL);
    EXPECT_EQ("dup3 O_CLOEXEC", dup3(3, 11, O_CLOEXEC), 11);
    EXPECT_EQ("dup3 fd is close-on-exec", fcntl(11, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ("dup2 over an open fd replaces it", syscall(SYS_dup2, 4, 11), 11);
    EXPECT_EQ("replaced fd lost close-on-exec", fcntl(11, F_GETFD), 0);
    EXPECT_EQ("close 10", close(10), 0);
    EXPECT_ERR("close 10 again", close(10), EBADF);
    EXPECT_ERR("close -1", close(-1), EBADF);
    EXPECT_EQ("dup after close reuses the lowest", dup(3), 5);
    close(4);
    close(5);
    close(11);

    /* O_APPEND writes go to the end whatever the offset */
    EXPECT_EQ("open O_WRONLY|O_APPEND", open("data", O_WRONLY | O_APPEND), 4);
    lseek(4, 0, SEEK_SET);
    EXPECT_EQ("append write", write(4, "END", 3), 3);
    EXPECT_EQ("append landed at the end", fsize(3), 106);
    EXPECT_ERR("read from O_WRONLY fd", read(4, buf, 1), EBADF);
    close(4);
    EXPECT_EQ("open O_RDONLY", open("data", O_RDONLY), 4);
    printf("F_GETFL O_RDONLY file: %#lx\n", (long)fcntl(4, F_GETFL));
    EXPECT_ERR("write to O_RDONLY fd", write(4, "x", 1), EBADF);
    EXPECT_ERR("ftruncate O_RDONLY fd", ftruncate(4, 0), EINVAL);
    close(4);

    /* truncate */
    EXPECT_EQ("ftruncate to 5", ftruncate(3, 5), 0);
    EXPECT_EQ("size after shrink", fsize(3), 5);
    EXPECT_EQ("ftruncate to 8192", ftruncate(3, 8192), 0);
    memset(buf, 1, sizeof buf);
    EXPECT_EQ("pread grown area", pread(3, buf, 16, 4000), 16);
    CHECK("grown area is zero", memcmp(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    EXPECT_ERR("ftruncate negative", ftruncate(3, -1), EINVAL);
    EXPECT_EQ("truncate by path", truncate("data", 1), 0);
    EXPECT_EQ("size after truncate", fsize(3), 1);
    EXPECT_ERR("truncate missing file", truncate("nope", 0), ENOENT);
    EXPECT_EQ("fsync", fsync(3), 0);
    EXPECT_EQ("fdatasync", fdatasync(3), 0);
    EXPECT_ERR("fsync closed fd", fsync(99), EBADF);

    /* openat and dirfds */
    int d = open(".", O_RDONLY | O_DIRECTORY);
    EXPECT_EQ("open . O_DIRECTORY", d, 4);
    EXPECT_EQ("openat(dirfd, data)", openat(d, "data", O_RDONLY), 5);
    close(5);
    EXPECT_ERR("read on a directory fd", read(d, buf, 1), EISDIR);
    EXPECT_ERR("openat relative to a file fd", openat(3, "x", O_RDONLY), ENOTDIR);
    EXPECT_ERR("openat relative to a closed fd", openat(99, "data", O_RDONLY), EBADF);
    EXPECT_EQ("openat absolute path ignores a bad dirfd", openat(99, "/tmp", O_RDONLY), 5);
    close(5);
    EXPECT_ERR("O_CREAT|O_EXCL on existing", open("data", O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
    EXPECT_ERR("open missing without O_CREAT", open("missing", O_RDONLY), ENOENT);
    EXPECT_ERR("O_DIRECTORY on a file", open("data", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERR("open a directory for writing", open(".", O_WRONLY), EISDIR);
    EXPECT_ERR("O_CREAT on a directory", open(".", O_CREAT | O_RDONLY, 0600), EISDIR);
    EXPECT_ERR("open through a file as a directory", open("data/x", O_RDONLY), ENOTDIR);
    EXPECT_ERR("open empty path", open("", O_RDONLY), ENOENT);
    close(d);

    /* RLIMIT_NOFILE bounds fd numbers */
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    lim.rlim_cur = 16;
    lim.rlim_max = old.rlim_max;
    EXPECT_EQ("setrlimit NOFILE 16", setrlimit(RLIMIT_NOFILE, &lim), 0);
    int last = -1, fd, e = 0;
    while ((fd = dup(3)) >= 0)
        last = fd;
    e = errno;
    printf("dup until failure: last fd %d, then %s\n", last, errname(e));
    EXPECT_ERR("dup2 to fd == limit", syscall(SYS_dup2, 3, 16), EBADF);
    EXPECT_ERR("F_DUPFD at the limit", fcntl(3, F_DUPFD, 16), EINVAL);
    EXPECT_EQ("close_range(4, ~0)", syscall(SYS_close_range, 4, ~0u, 0), 0);
    setrlimit(RLIMIT_NOFILE, &old);
    EXPECT_EQ("next open after close_range is fd 4", open("data", O_RDONLY), 4);
    close(4);

    EXPECT_EQ("close 3", close(3), 0);
    EXPECT_EQ("unlink data", unlink("data"), 0);
    EXPECT_EQ("chdir /", chdir("/"), 0);
    EXPECT_EQ("rmdir the test directory", rmdir(dir), 0);
    return finish();
}
