/* memfd_create: an unnamed, unlinked regular file (its /proc name, mode,
 * size and data through read, write, ftruncate and a shared mapping, seen
 * across fork), its flag and name checks, and the seals of a memfd made
 * without MFD_ALLOW_SEALING (F_SEAL_SEAL only), F_GET_SEALS/F_ADD_SEALS on
 * other files. Sealing itself: mem_memfd_seals.c. */
#include "proc.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_WRITE 8
#endif

static void basics(void)
{
    int fd = syscall(SYS_memfd_create, "hi there", 1 /* MFD_CLOEXEC */);
    CHECK("memfd_create", fd >= 0);
    CHECK("close-on-exec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
    char link[256] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("link: %s\n", link);
    struct stat st;
    fstat(fd, &st);
    printf("mode %o size %ld nlink %ld owner is me %d\n", st.st_mode, (long)st.st_size, (long)st.st_nlink,
           st.st_uid == geteuid() && st.st_gid == getegid());
    printf("flags O_RDWR %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    EXPECT_EQ("write", write(fd, "hello", 5), 5);
    char buf[16] = {0};
    EXPECT_EQ("pread", pread(fd, buf, sizeof buf, 0), 5);
    printf("read back: %s\n", buf);
    EXPECT_EQ("ftruncate", ftruncate(fd, 8192), 0);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap shared", m != MAP_FAILED);
    printf("mapping sees: %s\n", m);
    strcpy(m + 4096, "through the mapping");
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 7, 4096);
    printf("pread sees: %s\n", buf);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char c[6] = {0};
        pread(fd, c, 5, 0);
        strcpy(m, "child");
        _exit(strcmp(c, "hello") ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK("the child read the data", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("parent sees the child's write: %.5s\n", m);
    EXPECT_EQ("F_GET_SEALS", fcntl(fd, F_GET_SEALS), 1);
    EXPECT_ERR("F_ADD_SEALS past F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
    EXPECT_ERR("F_ADD_SEALS unknown seal", fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);
    int again = syscall(SYS_memfd_create, "hi there", 0);
    CHECK("a second memfd of that name is another file", again >= 0 && again != fd);
    struct stat st2;
    fstat(again, &st2);
    CHECK("  with its own inode", st2.st_ino != st.st_ino && st2.st_size == 0);
}

static void errors(void)
{
    EXPECT_ERR("unknown flag", syscall(SYS_memfd_create, "x", 0x100), EINVAL);
    EXPECT_ERR("MFD_EXEC with MFD_NOEXEC_SEAL", syscall(SYS_memfd_create, "x", 0x18), EINVAL);
    EXPECT_ERR("NULL name", syscall(SYS_memfd_create, NULL, 0), EFAULT);
    char name[300];
    memset(name, 'n', sizeof name);
    name[250] = 0;
    EXPECT_ERR("a 250-byte name", syscall(SYS_memfd_create, name, 0), EINVAL);
    name[249] = 0;
    CHECK("a 249-byte name", syscall(SYS_memfd_create, name, 0) >= 0);
    EXPECT_EQ("an empty name", syscall(SYS_memfd_create, "", 0) >= 0, 1);
    int p[2];
    pipe(p);
    EXPECT_ERR("F_GET_SEALS on a pipe", fcntl(p[0], F_GET_SEALS), EINVAL);
    EXPECT_ERR("F_ADD_SEALS on a pipe's write end", fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE), EINVAL);
    int ro = open("/proc/self/status", O_RDONLY);
    EXPECT_ERR("F_ADD_SEALS on a read-only file", fcntl(ro, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
}

/* Under vkernel only (its /tmp is its own tmpfs): a read fault in a hole
 * of a MAP_SHARED mapping of a sparse file adds a page write never saw;
 * unlinking the file gives back exactly the space it had. */
static int tmpfs_space(void)
{
    struct statfs before, after;
    int keep = open("/tmp/keep", O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(keep, "kept", 4);
    statfs("/tmp", &before);
    int fd = open("/tmp/sparse", O_RDWR | O_CREAT | O_TRUNC, 0600);
    pwrite(fd, "tail", 4, (1L << 31) - 2);
    char *m = mmap(NULL, 1L << 31, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("mmap the sparse file", m != MAP_FAILED);
    volatile char c = m[1 << 20];
    (void)c;
    CHECK("the hole reads as zero", m[(1L << 31) - 2] == 't' && m[1 << 20] == 0);
    munmap(m, 1L << 31);
    close(fd);
    unlink("/tmp/sparse");
    statfs("/tmp", &after);
    printf("free blocks before %ld after %ld\n", (long)before.f_bfree, (long)after.f_bfree);
    CHECK("the space came back", after.f_bfree == before.f_bfree);
    fd = open("/tmp/after", O_RDWR | O_CREAT | O_TRUNC, 0600);
    EXPECT_EQ("a write after it", write(fd, "data", 4), 4);
    return finish();
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "tmpfs-space"))
        return tmpfs_space();
    reset_signals();
    section("memfd files", basics);
    section("memfd errors", errors);
    return finish();
}
