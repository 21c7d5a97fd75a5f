/* File metadata in a fresh /tmp directory: stat, lstat, fstat, newfstatat,
 * statx, chmod, fchmod, fchmodat, chown, fchown, fchownat, utimensat, umask,
 * access, faccessat, faccessat2, statfs, fstatfs. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

static char dir[] = "/tmp/vk-files-meta-XXXXXX";

static unsigned mode_of(const char *path, int nofollow)
{
    struct stat st;
    if (fstatat(AT_FDCWD, path, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) != 0)
        return 0;
    return st.st_mode;
}

int main(void)
{
    struct stat st, st2;
    struct statx sx;

    CHECK("mkdtemp under /tmp", mkdtemp(dir) != NULL);
    EXPECT_EQ("chdir into it", chdir(dir), 0);

    /* umask shapes creation modes */
    umask(022);
    EXPECT_EQ("umask(077) returns the old mask", umask(077), 022);
    int fd = open("f", O_CREAT | O_RDWR, 0666);
    EXPECT_EQ("create f", fd, 3);
    printf("mode of f created 0666 under umask 077: %o\n", mode_of("f", 0));
    EXPECT_EQ("mkdir d 0777 under umask 077", mkdir("d", 0777), 0);
    printf("mode of d: %o\n", mode_of("d", 0));
    EXPECT_EQ("umask(022) returns 077", umask(022), 077);
    EXPECT_EQ("write 10 bytes", write(fd, "0123456789", 10), 10);

    /* stat family agree with each other */
    EXPECT_EQ("stat", syscall(SYS_stat, "f", &st), 0);
    EXPECT_EQ("fstat", syscall(SYS_fstat, fd, &st2), 0);
    CHECK("stat and fstat agree on dev/ino/size",
          st.st_dev == st2.st_dev && st.st_ino == st2.st_ino && st.st_size == st2.st_size);
    printf("size=%ld nlink=%lu type=%s\n", (long)st.st_size, (unsigned long)st.st_nlink,
           S_ISREG(st.st_mode) ? "regular" : "other");
    CHECK("owner is the caller", st.st_uid == geteuid() && st.st_gid == getegid());
    CHECK("st_blksize is positive", st.st_blksize > 0);
    EXPECT_EQ("newfstatat relative", syscall(SYS_newfstatat, AT_FDCWD, "f", &st2, 0), 0);
    CHECK("newfstatat agrees", st.st_ino == st2.st_ino);
    EXPECT_EQ("newfstatat AT_EMPTY_PATH on fd", syscall(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH), 0);
    CHECK("AT_EMPTY_PATH stats the fd", st.st_ino == st2.st_ino);
    EXPECT_ERR("newfstatat empty path without AT_EMPTY_PATH",
               syscall(SYS_newfstatat, fd, "", &st2, 0), ENOENT);
    EXPECT_ERR("newfstatat unknown flag", syscall(SYS_newfstatat, AT_FDCWD, "f", &st2, 0x1), EINVAL);

    /* symlinks: lstat sees the link, stat the target */
    EXPECT_EQ("symlink l -> f", symlink("f", "l"), 0);
    EXPECT_EQ("lstat l", syscall(SYS_lstat, "l", &st2), 0);
    printf("lstat l: link=%d size=%ld\n", S_ISLNK(st2.st_mode), (long)st2.st_size);
    EXPECT_EQ("stat l", syscall(SYS_stat, "l", &st2), 0);
    CHECK("stat follows the link", st2.st_ino == st.st_ino);

    /* statx */
    memset(&sx, 0, sizeof sx);
    EXPECT_EQ("statx f", syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx), 0);
    CHECK("statx returns the basic stats", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
    CHECK("statx agrees with stat", sx.stx_ino == st.st_ino && sx.stx_size == 10 &&
                                        sx.stx_mode == st.st_mode && sx.stx_nlink == 1 &&
                                        makedev(sx.stx_dev_major, sx.stx_dev_minor) == st.st_dev);
    EXPECT_EQ("statx AT_SYMLINK_NOFOLLOW on l",
              syscall(SYS_statx, AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx), 0);
    CHECK("statx sees the link", S_ISLNK(sx.stx_mode));
    EXPECT_ERR("statx reserved mask bit", syscall(SYS_statx, AT_FDCWD, "f", 0, 0x80000000u, &sx), EINVAL);
    EXPECT_ERR("statx missing", syscall(SYS_statx, AT_FDCWD, "nope", 0, STATX_BASIC_STATS, &sx), ENOENT);

    /* chmod family */
    EXPECT_EQ("chmod 0640", syscall(SYS_chmod, "f", 0640), 0);
    printf("mode after chmod: %o\n", mode_of("f", 0));
    EXPECT_EQ("fchmod 0604", fchmod(fd, 0604), 0);
    printf("mode after fchmod: %o\n", mode_of("f", 0));
    EXPECT_EQ("fchmodat 04755 (setuid kept by owner)", fchmodat(AT_FDCWD, "f", 04755, 0), 0);
    printf("mode after fchmodat: %o\n", mode_of("f", 0));
    EXPECT_EQ("chmod through a symlink changes the target", syscall(SYS_chmod, "l", 0600), 0);
    printf("mode of f after chmod l: %o\n", mode_of("f", 0));
    EXPECT_ERR("chmod missing", syscall(SYS_chmod, "nope", 0600), ENOENT);

    /* chown family: to oneself is always allowed */
    EXPECT_EQ("chown to self", syscall(SYS_chown, "f", geteuid(), getegid()), 0);
    EXPECT_EQ("chown -1 -1", syscall(SYS_chown, "f", -1, -1), 0);
    EXPECT_EQ("fchown to self", fchown(fd, geteuid(), getegid()), 0);
    EXPECT_EQ("fchownat AT_SYMLINK_NOFOLLOW on the link",
              fchownat(AT_FDCWD, "l", geteuid(), getegid(), AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_ERR("fchownat unknown flag", fchownat(AT_FDCWD, "f", -1, -1, 0x1), EINVAL);
    EXPECT_ERR("fchown closed fd", fchown(99, -1, -1), EBADF);

    /* utimensat */
    struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    EXPECT_EQ("utimensat explicit times", utimensat(AT_FDCWD, "f", ts, 0), 0);
    stat("f", &st2);
    printf("atime=%ld.%09ld mtime=%ld.%09ld\n", (long)st2.st_atim.tv_sec, st2.st_atim.tv_nsec,
           (long)st2.st_mtim.tv_sec, st2.st_mtim.tv_nsec);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1300000000, 5}};
    EXPECT_EQ("utimensat UTIME_OMIT atime", utimensat(AT_FDCWD, "f", omit, 0), 0);
    stat("f", &st2);
    printf("atime=%ld mtime=%ld.%09ld\n", (long)st2.st_atim.tv_sec, (long)st2.st_mtim.tv_sec,
           st2.st_mtim.tv_nsec);
    EXPECT_EQ("utimensat NULL (now)", utimensat(AT_FDCWD, "f", NULL, 0), 0);
    stat("f", &st2);
    CHECK("now is after 2020", st2.st_mtim.tv_sec > 1577836800);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    EXPECT_ERR("utimensat tv_nsec out of range", utimensat(AT_FDCWD, "f", bad, 0), EINVAL);
    EXPECT_ERR("utimensat missing file", utimensat(AT_FDCWD, "nope", ts, 0), ENOENT);
    EXPECT_EQ("futimens via utimensat(fd, NULL)", syscall(SYS_utimensat, fd, NULL, ts, 0), 0);

    /* access family; X_OK needs an execute bit even for root */
    fchmod(fd, 0644);
    EXPECT_EQ("access F_OK", syscall(SYS_access, "f", F_OK), 0);
    EXPECT_EQ("access R_OK", syscall(SYS_access, "f", R_OK), 0);
    EXPECT_ERR("access X_OK on 0644", syscall(SYS_access, "f", X_OK), EACCES);
    EXPECT_ERR("access missing", syscall(SYS_access, "nope", F_OK), ENOENT);
    EXPECT_ERR("access bad mode", syscall(SYS_access, "f", 0x10), EINVAL);
    EXPECT_EQ("faccessat R_OK", syscall(SYS_faccessat, AT_FDCWD, "f", R_OK), 0);
    EXPECT_EQ("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS), 0);
    EXPECT_EQ("faccessat2 AT_SYMLINK_NOFOLLOW",
              syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    EXPECT_ERR("faccessat2 unknown flag", syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, 0x1), EINVAL);
    EXPECT_EQ("access X_OK on a directory", syscall(SYS_access, "d", X_OK), 0);

    /* statfs family */
    struct statfs sf, sf2;
    EXPECT_EQ("statfs .", statfs(".", &sf), 0);
    EXPECT_EQ("fstatfs fd", fstatfs(fd, &sf2), 0);
    CHECK("statfs and fstatfs agree on f_type", sf.f_type == sf2.f_type);
    CHECK("f_bsize positive", sf.f_bsize > 0);
    CHECK("f_namelen is 255", sf.f_namelen == 255);
    EXPECT_ERR("statfs missing", statfs("nope", &sf), ENOENT);
    EXPECT_ERR("fstatfs closed fd", fstatfs(99, &sf), EBADF);

    close(fd);
    unlink("l");
    unlink("f");
    rmdir("d");
    EXPECT_EQ("chdir /", chdir("/"), 0);
    EXPECT_EQ("rmdir the test directory", rmdir(dir), 0);
    return finish();
}
