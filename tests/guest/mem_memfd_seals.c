/* memfd sealing: what each memfd_create flag starts with (seals and mode),
 * F_ADD_SEALS/F_GET_SEALS and their errors in Linux's order, and each
 * seal's hold on every way to change the file: write, pwrite, writev,
 * O_APPEND, sendfile, splice, copy_file_range, ftruncate, O_TRUNC,
 * fallocate, shared mappings and mprotect, chmod. F_SEAL_WRITE is EBUSY
 * while a writable shared mapping lives (in a forked child too);
 * F_SEAL_FUTURE_WRITE leaves such a mapping writing. Seals belong to the
 * inode: dup, a reopen through /proc and a fork see the same ones. A plain
 * tmpfs file (/dev/shm, tmpfs natively too) carries F_SEAL_SEAL. */
#include "proc.h"
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#define SEAL_SEAL 0x1
#define SEAL_SHRINK 0x2
#define SEAL_GROW 0x4
#define SEAL_WRITE 0x8
#define SEAL_FUTURE_WRITE 0x10
#define SEAL_EXEC 0x20

#define MFD_CLOEXEC_ 0x1
#define MFD_ALLOW_SEALING_ 0x2
#define MFD_NOEXEC_SEAL_ 0x8
#define MFD_EXEC_ 0x10

static int mfd(unsigned flags)
{
    int fd = syscall(SYS_memfd_create, "seals", flags);
    if (fd < 0) {
        printf("memfd_create(%#x): %s  FAIL\n", flags, errname(errno));
        vk_failures++;
    }
    return fd;
}

/* A memfd that may be sealed, holding `size` bytes of 'a'. */
static int sealable(long size)
{
    int fd = mfd(MFD_ALLOW_SEALING_);
    char *buf = malloc(size + 1);
    memset(buf, 'a', size);
    if (size && write(fd, buf, size) != size) {
        printf("fill: %s  FAIL\n", errname(errno));
        vk_failures++;
    }
    free(buf);
    return fd;
}

static long size_of(int fd)
{
    struct stat st;
    fstat(fd, &st);
    return (long)st.st_size;
}

static int mode_of(int fd)
{
    struct stat st;
    fstat(fd, &st);
    return st.st_mode & 07777;
}

/* The same file opened again through /proc/self/fd. */
static int reopen(int fd, int flags)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, flags);
}

static void creation(void)
{
    struct { const char *name; unsigned flags; } cases[] = {
        {"no flags", 0},
        {"MFD_CLOEXEC", MFD_CLOEXEC_},
        {"MFD_ALLOW_SEALING", MFD_ALLOW_SEALING_},
        {"MFD_EXEC", MFD_EXEC_},
        {"MFD_EXEC|MFD_ALLOW_SEALING", MFD_EXEC_ | MFD_ALLOW_SEALING_},
        {"MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL_},
        {"MFD_NOEXEC_SEAL|MFD_ALLOW_SEALING", MFD_NOEXEC_SEAL_ | MFD_ALLOW_SEALING_},
    };
    /* The mode is not masked by the umask. */
    umask(077);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = mfd(cases[i].flags);
        printf("%s: seals %#x mode %o\n", cases[i].name, fcntl(fd, F_GET_SEALS), mode_of(fd));
        close(fd);
    }
    umask(022);
    EXPECT_ERR("MFD_EXEC|MFD_NOEXEC_SEAL with a NULL name", syscall(SYS_memfd_create, NULL, 0x18), EINVAL);
    EXPECT_ERR("an unknown flag with a NULL name", syscall(SYS_memfd_create, NULL, 0x40), EINVAL);
    EXPECT_ERR("MFD_NOEXEC_SEAL with a NULL name", syscall(SYS_memfd_create, NULL, MFD_NOEXEC_SEAL_), EFAULT);
    int fd = mfd(MFD_NOEXEC_SEAL_);
    SHOW("MFD_NOEXEC_SEAL then F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, SEAL_SHRINK));
    SHOW("  seals", fcntl(fd, F_GET_SEALS));
}

static void add_errors(void)
{
    int fd = mfd(MFD_ALLOW_SEALING_);
    EXPECT_EQ("F_ADD_SEALS 0", fcntl(fd, F_ADD_SEALS, 0), 0);
    EXPECT_ERR("an unknown seal", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
    EXPECT_ERR("an unknown seal beside a known one", fcntl(fd, F_ADD_SEALS, 0x80 | SEAL_GROW), EINVAL);
    EXPECT_EQ("  nothing was added", fcntl(fd, F_GET_SEALS), 0);
    SHOW("a seal with bits above 32", syscall(SYS_fcntl, fd, F_ADD_SEALS, (1UL << 32) | SEAL_GROW));
    SHOW("  seals", fcntl(fd, F_GET_SEALS));
    int ro = reopen(fd, O_RDONLY);
    CHECK("reopen read-only", ro >= 0);
    EXPECT_EQ("F_GET_SEALS on the read-only fd", fcntl(ro, F_GET_SEALS), fcntl(fd, F_GET_SEALS));
    EXPECT_ERR("F_ADD_SEALS on the read-only fd", fcntl(ro, F_ADD_SEALS, SEAL_SHRINK), EPERM);
    EXPECT_ERR("  with an unknown seal (EPERM first)", fcntl(ro, F_ADD_SEALS, 0x40), EPERM);
    EXPECT_ERR("  adding nothing", fcntl(ro, F_ADD_SEALS, 0), EPERM);
    int wo = reopen(fd, O_WRONLY);
    EXPECT_EQ("F_ADD_SEALS on a write-only fd", fcntl(wo, F_ADD_SEALS, SEAL_SHRINK), 0);
    int path = reopen(fd, O_PATH);
    SHOW("F_GET_SEALS on an O_PATH fd", fcntl(path, F_GET_SEALS));
    SHOW("F_ADD_SEALS on an O_PATH fd", fcntl(path, F_ADD_SEALS, SEAL_SHRINK));
    EXPECT_EQ("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, SEAL_SEAL), 0);
    SHOW("  seals", fcntl(fd, F_GET_SEALS));
    EXPECT_ERR("then any seal", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), EPERM);
    EXPECT_ERR("  or none", fcntl(fd, F_ADD_SEALS, 0), EPERM);
    EXPECT_ERR("  or F_SEAL_SEAL again", fcntl(fd, F_ADD_SEALS, SEAL_SEAL), EPERM);
    EXPECT_ERR("  an unknown seal is EINVAL first", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
    EXPECT_ERR("  on the read-only fd EPERM", fcntl(ro, F_ADD_SEALS, 0x40), EPERM);
}

/* Under F_SEAL_WRITE (or FUTURE_WRITE): every write path is EPERM. */
static void write_paths(int fd, const char *what)
{
    char buf[16];
    printf("-- %s\n", what);
    SHOW("write", write(fd, "x", 1));
    SHOW("write of nothing", write(fd, "x", 0));
    SHOW("pwrite", pwrite(fd, "x", 1, 0));
    SHOW("pwrite past the end", pwrite(fd, "x", 1, 100000));
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    SHOW("writev", writev(fd, iov, 2));
    SHOW("pwritev", pwritev(fd, iov, 2, 0));
    int app = reopen(fd, O_WRONLY | O_APPEND);
    SHOW("an O_APPEND write", write(app, "x", 1));
    close(app);
    int rw = reopen(fd, O_RDWR);
    SHOW("a write through a new O_RDWR open", write(rw, "x", 1));
    close(rw);
    int src = mfd(0);
    write(src, "source", 6);
    lseek(src, 0, SEEK_SET);
    SHOW("sendfile into it", sendfile(fd, src, NULL, 6));
    loff_t in = 0, out = 0;
    SHOW("copy_file_range into it", syscall(SYS_copy_file_range, src, &in, fd, &out, 6, 0));
    int p[2];
    pipe(p);
    write(p[1], "piped", 5);
    SHOW("splice into it", splice(p[0], NULL, fd, NULL, 5, 0));
    close(p[0]);
    close(p[1]);
    close(src);
    SHOW("fallocate PUNCH_HOLE", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    SHOW("fallocate inside", fallocate(fd, 0, 0, 10));
    SHOW("mmap MAP_SHARED PROT_WRITE", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
    SHOW("mmap MAP_SHARED_VALIDATE PROT_WRITE", mmap(NULL, 4096, PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0) == MAP_FAILED ? -1 : 0);
    int ro = reopen(fd, O_RDONLY);
    SHOW("mmap MAP_SHARED PROT_WRITE of a read-only fd", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? -1 : 0);
    close(ro);
    char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("mmap MAP_SHARED PROT_READ", m != MAP_FAILED);
    SHOW("  mprotect it PROT_WRITE", mprotect(m, 4096, PROT_READ | PROT_WRITE));
    SHOW("  mprotect it PROT_EXEC", mprotect(m, 4096, PROT_READ | PROT_EXEC));
    munmap(m, 4096);
    char *p2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap MAP_PRIVATE PROT_WRITE", p2 != MAP_FAILED);
    if (p2 != MAP_FAILED) {
        p2[0] = 'P';
        memset(buf, 0, sizeof buf);
        pread(fd, buf, 1, 0);
        printf("  a private write leaves the file: %s\n", buf);
        munmap(p2, 4096);
    }
    memset(buf, 0, sizeof buf);
    SHOW("read", pread(fd, buf, 4, 0));
    printf("  data: %s\n", buf);
    SHOW("ftruncate down", ftruncate(fd, 5000));
    SHOW("ftruncate up", ftruncate(fd, 9000));
    printf("  size %ld\n", size_of(fd));
}

static void seal_write(void)
{
    int fd = sealable(8192);
    EXPECT_EQ("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), 0);
    write_paths(fd, "F_SEAL_WRITE");
    EXPECT_EQ("F_SEAL_WRITE twice", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), 0);
    EXPECT_EQ("F_SEAL_FUTURE_WRITE beside it", fcntl(fd, F_ADD_SEALS, SEAL_FUTURE_WRITE), 0);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), SEAL_WRITE | SEAL_FUTURE_WRITE);
    int fw = sealable(8192);
    EXPECT_EQ("F_SEAL_FUTURE_WRITE", fcntl(fw, F_ADD_SEALS, SEAL_FUTURE_WRITE), 0);
    write_paths(fw, "F_SEAL_FUTURE_WRITE");
}

static void busy(void)
{
    int fd = sealable(8192);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("a writable shared mapping", m != MAP_FAILED);
    EXPECT_ERR("F_SEAL_WRITE while it lives", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), EBUSY);
    EXPECT_ERR("  with other seals", fcntl(fd, F_ADD_SEALS, SEAL_WRITE | SEAL_SHRINK), EBUSY);
    EXPECT_EQ("  nothing was added", fcntl(fd, F_GET_SEALS), 0);
    EXPECT_EQ("other seals meanwhile", fcntl(fd, F_ADD_SEALS, SEAL_GROW), 0);
    SHOW("mprotect it read-only", mprotect(m, 8192, PROT_READ));
    SHOW("  F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    SHOW("unmap half", munmap(m, 4096));
    SHOW("  F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    char *moved = mremap(m + 4096, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, m);
    CHECK("mremap the other half", moved == m);
    SHOW("  F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    EXPECT_EQ("munmap it", munmap(moved, 4096), 0);
    SHOW("F_SEAL_WRITE after munmap", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    SHOW("  seals", fcntl(fd, F_GET_SEALS));

    fd = sealable(4096);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    SHOW("a read-only shared mapping of the O_RDWR fd, then F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    munmap(m, 4096);
    int ro = reopen(fd, O_RDONLY);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    CHECK("a shared mapping of a read-only fd", m != MAP_FAILED);
    char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("a writable private mapping", priv != MAP_FAILED);
    SHOW("  F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, SEAL_WRITE));
    SHOW("  seals", fcntl(fd, F_GET_SEALS));
    if (m != MAP_FAILED)
        printf("  the shared mapping reads: %c\n", m[0]);
    munmap(m, 4096);
    munmap(priv, 4096);

    /* A forked child's copy of the mapping keeps the file busy. */
    fd = sealable(4096);
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t pid = xfork();
    if (pid == 0) {
        char c;
        m[0] = 'c';
        write(done[1], "r", 1);
        read(go[0], &c, 1);
        _exit(0);
    }
    char c;
    read(done[0], &c, 1);
    munmap(m, 4096);
    EXPECT_ERR("F_SEAL_WRITE while a child maps it", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), EBUSY);
    write(go[1], "g", 1);
    wait_status(pid, 0);
    EXPECT_EQ("F_SEAL_WRITE after the child exits", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), 0);
    memset(&c, 0, 1);
    pread(fd, &c, 1, 0);
    printf("  the child's write is in the file: %c\n", c);
}

static void future_write(void)
{
    int fd = sealable(4096);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("a writable shared mapping", m != MAP_FAILED);
    EXPECT_EQ("F_SEAL_FUTURE_WRITE while it lives", fcntl(fd, F_ADD_SEALS, SEAL_FUTURE_WRITE), 0);
    strcpy(m, "still writing");
    char buf[32] = {0};
    pread(fd, buf, 13, 0);
    printf("the old mapping still writes: %s\n", buf);
    EXPECT_ERR("write", write(fd, "x", 1), EPERM);
    EXPECT_ERR("a new writable shared mapping", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EPERM);
    SHOW("the old one mprotect read-only and back", mprotect(m, 4096, PROT_READ) | mprotect(m, 4096, PROT_READ | PROT_WRITE));
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("a new read-only shared mapping", ro != MAP_FAILED);
    EXPECT_ERR("  mprotect PROT_WRITE", mprotect(ro, 4096, PROT_READ | PROT_WRITE), EACCES);
    printf("  it sees the old mapping's writes: %.13s\n", ro);
    EXPECT_ERR("F_SEAL_WRITE with the old mapping", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), EBUSY);
    munmap(m, 4096);
    EXPECT_EQ("F_SEAL_WRITE once it is gone (the new one may not write)", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), 0);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), SEAL_WRITE | SEAL_FUTURE_WRITE);
    /* The read-only mapping splits and merges without regaining write. */
    munmap(ro, 4096);
    char *two = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("a two-page read-only shared mapping", two != MAP_FAILED);
    EXPECT_ERR("  mprotect one page PROT_WRITE", mprotect(two + 4096, 4096, PROT_READ | PROT_WRITE), EACCES);
    EXPECT_EQ("  mprotect one page PROT_NONE", mprotect(two + 4096, 4096, PROT_NONE), 0);
    EXPECT_ERR("  then PROT_WRITE", mprotect(two + 4096, 4096, PROT_WRITE), EACCES);
    pid_t pid = xfork();
    if (pid == 0)
        _exit(mprotect(two, 4096, PROT_READ | PROT_WRITE) == -1 && errno == EACCES ? 0 : 1);
    printf("  a forked child's copy cannot mprotect PROT_WRITE either: %s\n", status_str(wait_status(pid, 0)));
}

static void shrink_grow(void)
{
    int fd = sealable(100);
    EXPECT_EQ("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, SEAL_SHRINK), 0);
    EXPECT_ERR("ftruncate down", ftruncate(fd, 50), EPERM);
    EXPECT_EQ("ftruncate to the same size", ftruncate(fd, 100), 0);
    EXPECT_EQ("ftruncate up", ftruncate(fd, 200), 0);
    EXPECT_EQ("write past the end", pwrite(fd, "x", 1, 300), 1);
    EXPECT_EQ("fallocate PUNCH_HOLE", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
    EXPECT_ERR("an O_TRUNC open", reopen(fd, O_RDWR | O_TRUNC), EPERM);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_ERR("truncate by name", truncate(path, 0), EPERM);
    printf("  size %ld\n", size_of(fd));
    close(fd);

    fd = sealable(100);
    EXPECT_EQ("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, SEAL_GROW), 0);
    EXPECT_ERR("ftruncate up", ftruncate(fd, 101), EPERM);
    EXPECT_EQ("ftruncate to the same size", ftruncate(fd, 100), 0);
    EXPECT_EQ("write inside", pwrite(fd, "bb", 2, 98), 2);
    EXPECT_ERR("write at the end", pwrite(fd, "x", 1, 100), EPERM);
    EXPECT_ERR("write past the end", pwrite(fd, "x", 1, 5000), EPERM);
    SHOW("write across the end", pwrite(fd, "xyz", 3, 99));
    SHOW("write of nothing past the end", pwrite(fd, "x", 0, 5000));
    int app = reopen(fd, O_WRONLY | O_APPEND);
    EXPECT_ERR("an O_APPEND write", write(app, "x", 1), EPERM);
    close(app);
    EXPECT_ERR("fallocate past the end", fallocate(fd, 0, 0, 200), EPERM);
    EXPECT_ERR("fallocate KEEP_SIZE past the end", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 200), EPERM);
    EXPECT_EQ("fallocate inside", fallocate(fd, 0, 0, 100), 0);
    EXPECT_EQ("fallocate PUNCH_HOLE", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
    EXPECT_EQ("ftruncate down", ftruncate(fd, 50), 0);
    printf("  size %ld\n", size_of(fd));
    close(fd);

    /* A write across the end of a larger file stops at a page boundary. */
    fd = sealable(4096 + 10);
    fcntl(fd, F_ADD_SEALS, SEAL_GROW);
    char *big = calloc(1, 3 * 4096);
    SHOW("a 3-page write at 0 of a 4106-byte file", pwrite(fd, big, 3 * 4096, 0));
    SHOW("a 10-byte write at 4090", pwrite(fd, big, 10, 4090));
    SHOW("a 100-byte write at 4000", pwrite(fd, big, 100, 4000));
    SHOW("a 20-byte write at 4100", pwrite(fd, big, 20, 4100));
    struct iovec iov[2] = {{big, 4096}, {big, 4096}};
    SHOW("a 2-page writev at 0", pwritev(fd, iov, 2, 0));
    printf("  size %ld\n", size_of(fd));
    free(big);
    close(fd);

    fd = sealable(100);
    EXPECT_EQ("F_SEAL_SHRINK|F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, SEAL_SHRINK | SEAL_GROW), 0);
    EXPECT_ERR("ftruncate down", ftruncate(fd, 0), EPERM);
    EXPECT_ERR("ftruncate up", ftruncate(fd, 1000), EPERM);
    EXPECT_EQ("write inside", pwrite(fd, "c", 1, 0), 1);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("a writable shared mapping", m != MAP_FAILED);
    m[1] = 'm';
    char buf[3] = {0};
    pread(fd, buf, 2, 0);
    printf("  it writes: %s\n", buf);
    printf("  size %ld\n", size_of(fd));
}

static void exec_seal(void)
{
    int fd = mfd(MFD_NOEXEC_SEAL_);
    printf("MFD_NOEXEC_SEAL: mode %o\n", mode_of(fd));
    EXPECT_ERR("fchmod 0755", fchmod(fd, 0755), EPERM);
    EXPECT_ERR("fchmod 0667", fchmod(fd, 0667), EPERM);
    EXPECT_EQ("fchmod 0600 (no exec bit changes)", fchmod(fd, 0600), 0);
    EXPECT_EQ("fchmod 0666", fchmod(fd, 0666), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    EXPECT_ERR("chmod 0700 by name", chmod(path, 0700), EPERM);
    printf("  mode %o\n", mode_of(fd));
    EXPECT_EQ("it still writes", write(fd, "data", 4), 4);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), SEAL_EXEC);
    close(fd);

    fd = mfd(MFD_ALLOW_SEALING_);
    EXPECT_EQ("F_SEAL_EXEC on a 0777 memfd", fcntl(fd, F_ADD_SEALS, SEAL_EXEC), 0);
    SHOW("  seals", fcntl(fd, F_GET_SEALS));
    SHOW("  write", write(fd, "x", 1));
    SHOW("  ftruncate up", ftruncate(fd, 10));
    EXPECT_ERR("  fchmod 0666", fchmod(fd, 0666), EPERM);
    EXPECT_EQ("  fchmod 0711", fchmod(fd, 0711), 0);
    close(fd);

    fd = mfd(MFD_ALLOW_SEALING_);
    EXPECT_EQ("fchmod 0644 first", fchmod(fd, 0644), 0);
    EXPECT_EQ("F_SEAL_EXEC", fcntl(fd, F_ADD_SEALS, SEAL_EXEC), 0);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), SEAL_EXEC);
    EXPECT_EQ("  write", write(fd, "x", 1), 1);
    EXPECT_ERR("  fchmod 0744", fchmod(fd, 0744), EPERM);
    close(fd);

    fd = mfd(MFD_EXEC_ | MFD_ALLOW_SEALING_);
    EXPECT_EQ("MFD_EXEC: fchmod 0644 then 0755", fchmod(fd, 0644) | fchmod(fd, 0755), 0);
    close(fd);

    /* The write seal F_SEAL_EXEC brings looks for mappings too. */
    fd = sealable(4096);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("a writable shared mapping", m != MAP_FAILED);
    EXPECT_ERR("F_SEAL_EXEC on the 0777 memfd", fcntl(fd, F_ADD_SEALS, SEAL_EXEC), EBUSY);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), 0);
    munmap(m, 4096);
    EXPECT_EQ("  after munmap", fcntl(fd, F_ADD_SEALS, SEAL_EXEC), 0);
    EXPECT_EQ("  seals", fcntl(fd, F_GET_SEALS), SEAL_EXEC | SEAL_WRITE | SEAL_FUTURE_WRITE | SEAL_SHRINK | SEAL_GROW);
}

static void shared_by_inode(void)
{
    int fd = mfd(MFD_ALLOW_SEALING_);
    int d = dup(fd);
    EXPECT_EQ("F_SEAL_SHRINK through a dup", fcntl(d, F_ADD_SEALS, SEAL_SHRINK), 0);
    EXPECT_EQ("  the original sees it", fcntl(fd, F_GET_SEALS), SEAL_SHRINK);
    int again = reopen(fd, O_RDWR);
    EXPECT_EQ("  a reopen sees it", fcntl(again, F_GET_SEALS), SEAL_SHRINK);
    EXPECT_EQ("F_SEAL_GROW through the reopen", fcntl(again, F_ADD_SEALS, SEAL_GROW), 0);
    EXPECT_EQ("  the dup sees it", fcntl(d, F_GET_SEALS), SEAL_SHRINK | SEAL_GROW);
    pid_t pid = xfork();
    if (pid == 0) {
        int ok = fcntl(fd, F_GET_SEALS) == (SEAL_SHRINK | SEAL_GROW) && fcntl(fd, F_ADD_SEALS, SEAL_WRITE) == 0;
        _exit(ok ? 0 : 1);
    }
    printf("a forked child sees them and adds F_SEAL_WRITE: %s\n", status_str(wait_status(pid, 0)));
    EXPECT_EQ("  the parent sees it", fcntl(fd, F_GET_SEALS), SEAL_SHRINK | SEAL_GROW | SEAL_WRITE);
    EXPECT_ERR("  and may not write", write(fd, "x", 1), EPERM);
    close(fd);
    close(d);
    EXPECT_ERR("  nor through the last fd", write(again, "x", 1), EPERM);
}

static void plain_tmpfs(void)
{
    char name[64];
    snprintf(name, sizeof name, "/dev/shm/vk-seals-%d", (int)getpid());
    int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK("a file on /dev/shm", fd >= 0);
    unlink(name);
    EXPECT_EQ("F_GET_SEALS", fcntl(fd, F_GET_SEALS), SEAL_SEAL);
    EXPECT_ERR("F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, SEAL_WRITE), EPERM);
    EXPECT_ERR("F_ADD_SEALS of an unknown seal", fcntl(fd, F_ADD_SEALS, 0x40), EINVAL);
    int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("F_GET_SEALS on /dev/shm itself", fcntl(dir, F_GET_SEALS), EINVAL);
    int p[2];
    pipe(p);
    EXPECT_ERR("F_GET_SEALS on a pipe", fcntl(p[0], F_GET_SEALS), EINVAL);
    snprintf(name, sizeof name, "/var/tmp/vk-seals-%d", (int)getpid());
    int disk = open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    unlink(name);
    EXPECT_ERR("F_GET_SEALS on a /var/tmp file", fcntl(disk, F_GET_SEALS), EINVAL);
    EXPECT_ERR("F_ADD_SEALS on a /var/tmp file", fcntl(disk, F_ADD_SEALS, SEAL_WRITE), EINVAL);
    int null = open("/dev/null", O_RDWR);
    EXPECT_ERR("F_ADD_SEALS on /dev/null", fcntl(null, F_ADD_SEALS, SEAL_WRITE), EINVAL);
}

int main(void)
{
    reset_signals();
    section("memfd_create flags", creation);
    section("F_ADD_SEALS errors", add_errors);
    section("F_SEAL_WRITE and F_SEAL_FUTURE_WRITE", seal_write);
    section("F_SEAL_WRITE and writable shared mappings", busy);
    section("F_SEAL_FUTURE_WRITE keeps old mappings", future_write);
    section("F_SEAL_SHRINK and F_SEAL_GROW", shrink_grow);
    section("F_SEAL_EXEC", exec_seal);
    section("seals belong to the inode", shared_by_inode);
    section("plain tmpfs files", plain_tmpfs);
    return finish();
}
