/* madvise(MADV_REMOVE), in a fresh directory under argv[1] (/tmp and
 * /dev/shm: tmpfs under vkernel; /var/tmp: the overlay's upper layer):
 * on a shared mapping of a file it punches a hole (as fallocate
 * PUNCH_HOLE|KEEP_SIZE: the blocks go, the size stays, every mapping and
 * read see zeros, a private mapping keeps the pages it wrote), also in
 * shared anonymous memory; and Linux's refusals in madvise_remove's order
 * (VM_LOCKED EINVAL, no file EINVAL, not shared-maywrite EACCES), after
 * punching what came before, and ENOMEM for a gap. The punch is an
 * inotify IN_MODIFY of the file, as fallocate's. */
#include "common.h"
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif

static long page;

static char byte_at(int fd, off_t off)
{
    char c = '?';
    if (pread(fd, &c, 1, off) != 1)
        return '!';
    return c ? c : '0';
}

static char shown(char c)
{
    return c ? c : '0';
}

static long blocks(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_blocks : -1;
}

static off_t size_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static void file_holes(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK("open", fd >= 0);
    char *fill = malloc(4 * page);
    memset(fill, 'a', 4 * page);
    EXPECT_EQ("write four pages", write(fd, fill, 4 * page), 4 * page);
    EXPECT_EQ("fsync", fsync(fd), 0);
    long before = blocks(fd);
    char *s = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *other = mmap(NULL, 4 * page, PROT_READ, MAP_SHARED, fd, 0);
    char *priv = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmaps", s != MAP_FAILED && other != MAP_FAILED && priv != MAP_FAILED);
    printf("before: %c %c %c\n", other[page], other[2 * page], priv[page]);
    priv[2 * page] = 'P';
    s[3 * page] = 'S';

    int in = inotify_init1(IN_NONBLOCK);
    CHECK("inotify watch", in >= 0 && inotify_add_watch(in, path, IN_MODIFY) >= 0);
    EXPECT_ERR("unaligned start", madvise(s + 1, page, MADV_REMOVE), EINVAL);
    EXPECT_EQ("zero length", madvise(s, 0, MADV_REMOVE), 0);
    EXPECT_EQ("remove pages 1 and 2", madvise(s + page, 2 * page, MADV_REMOVE), 0);
    char events[4096];
    long got = read(in, events, sizeof events);
    int modified = 0;
    for (long at = 0; at + (long)sizeof(struct inotify_event) <= got;) {
        struct inotify_event *e = (struct inotify_event *)(events + at);
        modified += (e->mask & IN_MODIFY) != 0;
        at += sizeof *e + e->len;
    }
    printf("IN_MODIFY events for the punch: %d\n", modified);
    close(in);
    /* Before anything reads the hole: a read fault in shared tmpfs
     * memory allocates its page again. */
    CHECK("blocks freed", blocks(fd) < before);
    printf("the mapping: %c %c %c %c\n", shown(s[0]), shown(s[page]), shown(s[2 * page]), shown(s[3 * page]));
    printf("another shared mapping: %c %c\n", shown(other[page]), shown(other[2 * page]));
    printf("read: %c %c %c\n", byte_at(fd, page), byte_at(fd, 2 * page + 5), byte_at(fd, 3 * page));
    printf("private mapping: read page %c, written page %c\n", shown(priv[page]), shown(priv[2 * page]));
    printf("size unchanged: %d\n", size_of(fd) == 4 * page);
    /* The hole fills again on a write through the mapping. */
    s[page] = 'N';
    printf("written again: %c\n", byte_at(fd, page));

    /* A length that is not a page multiple is rounded up. */
    EXPECT_EQ("remove a byte of page 3", madvise(s + 3 * page, 1, MADV_REMOVE), 0);
    printf("page 3: %c\n", byte_at(fd, 3 * page));

    /* Mapped read-only from a file open for writing: shared and may
     * write (VM_MAYWRITE), so it punches on Linux 6.7+. */
    s[0] = 'R';
    EXPECT_EQ("read-only mapping of a writable file", madvise(other, page, MADV_REMOVE), 0);
    printf("page 0: %c\n", byte_at(fd, 0));

    EXPECT_ERR("private file mapping", madvise(priv, page, MADV_REMOVE), EACCES);

    int ro = open(path, O_RDONLY);
    char *rs = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
    CHECK("mmap read-only file", rs != MAP_FAILED);
    EXPECT_ERR("shared mapping of a read-only file", madvise(rs, page, MADV_REMOVE), EACCES);
    munmap(rs, page);
    close(ro);

    /* Locked: EINVAL. */
    s[0] = 'L';
    if (mlock(s, page) == 0) {
        EXPECT_ERR("locked range", madvise(s, page, MADV_REMOVE), EINVAL);
        munlock(s, page);
    } else {
        printf("locked range: -1 EINVAL\n");
    }
    printf("page 0 kept: %c\n", byte_at(fd, 0));

    /* A range over two mappings with a gap: the first is punched, then
     * ENOMEM for the gap. */
    munmap(s, 4 * page);
    s = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap again", s != MAP_FAILED);
    s[0] = 'G';
    s[2 * page] = 'H';
    munmap(s + page, page);
    EXPECT_ERR("range with a gap", madvise(s, 3 * page, MADV_REMOVE), ENOMEM);
    printf("both sides punched: %c %c\n", byte_at(fd, 0), byte_at(fd, 2 * page));

    /* Shared then private: the shared part is punched, then EACCES. */
    munmap(s, page);
    munmap(s + 2 * page, page);
    char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap two", two != MAP_FAILED);
    CHECK("mmap private after it", mmap(two + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, page) == two + page);
    two[0] = 'X';
    EXPECT_ERR("shared then private", madvise(two, 2 * page, MADV_REMOVE), EACCES);
    printf("the shared part was punched: %c\n", byte_at(fd, 0));
    munmap(two, 2 * page);
    munmap(other, 4 * page);
    munmap(priv, 4 * page);
    close(fd);
    free(fill);
    EXPECT_EQ("unlink", unlink(path), 0);
}

static void anonymous(void)
{
    char *a = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a[0] = 1;
    EXPECT_ERR("private anonymous", madvise(a, page, MADV_REMOVE), EINVAL);
    munmap(a, 2 * page);

    char *sh = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap shared anonymous", sh != MAP_FAILED);
    memset(sh, 'z', 2 * page);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        /* The child punches; the parent sees zeros. */
        _exit(madvise(sh, page, MADV_REMOVE) != 0);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("the child removed the page", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("shared anonymous after remove: %d %c\n", sh[0], sh[page]);
    sh[0] = 'y';
    printf("written again: %c\n", sh[0]);
    munmap(sh, 2 * page);

    int z = open("/dev/zero", O_RDWR);
    char *dz = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
    CHECK("mmap /dev/zero shared", dz != MAP_FAILED);
    dz[0] = 'q';
    EXPECT_EQ("/dev/zero shared", madvise(dz, page, MADV_REMOVE), 0);
    printf("/dev/zero page after remove: %d\n", dz[0]);
    munmap(dz, page);
    close(z);
}

int main(int argc, char **argv)
{
    page = sysconf(_SC_PAGESIZE);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vk-madvremove-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    CHECK("mkdtemp", mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/f", dir);
    file_holes(path);
    anonymous();
    EXPECT_EQ("rmdir", rmdir(dir), 0);
    return finish();
}
