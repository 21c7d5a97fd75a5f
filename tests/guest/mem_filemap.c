/* File mappings and the page cache, in a fresh directory under argv[1]
 * (/tmp: tmpfs under vkernel; /var/tmp: the overlay's upper layer):
 * MAP_SHARED writes seen by read and pwrite seen through the mapping;
 * MAP_PRIVATE sees the file's later writes until it writes a page itself,
 * and its writes never reach the file; msync; SIGBUS for a page wholly
 * past the end of the file, also after a truncate. */
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf jump;
static volatile int got_signal;

static void on_fault(int sig)
{
    got_signal = sig;
    siglongjmp(jump, 1);
}

/* The signal touching `p` raises (0 for none). */
static int touch(volatile char *p)
{
    got_signal = 0;
    if (sigsetjmp(jump, 1) == 0)
        (void)*p;
    return got_signal;
}

static char byte_at(int fd, off_t off)
{
    char c = '?';
    if (pread(fd, &c, 1, off) != 1)
        return '!';
    return c;
}

int main(int argc, char **argv)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vk-filemap-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    CHECK("mkdtemp", mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/f", dir);
    struct sigaction sa = {.sa_handler = on_fault};
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    long page = sysconf(_SC_PAGESIZE);

    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK("open", fd >= 0);
    char *fill = malloc(2 * page);
    memset(fill, 'a', 2 * page);
    EXPECT_EQ("write two pages", write(fd, fill, 2 * page), 2 * page);

    /* Shared: both directions. */
    char *s = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap shared", s != MAP_FAILED);
    s[10] = 'S';
    printf("read sees shared store: %c\n", byte_at(fd, 10));
    EXPECT_EQ("pwrite", pwrite(fd, "W", 1, 20), 1);
    printf("shared mapping sees pwrite: %c\n", s[20]);
    EXPECT_EQ("msync", msync(s, 2 * page, MS_SYNC), 0);

    /* Private: the file's writes show until the page is written. */
    char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap private", p != MAP_FAILED);
    printf("private sees earlier store: %c %c\n", p[10], p[20]);
    EXPECT_EQ("pwrite page 0", pwrite(fd, "X", 1, 30), 1);
    EXPECT_EQ("pwrite page 1", pwrite(fd, "Y", 1, page + 30), 1);
    printf("private sees later pwrite: %c %c\n", p[30], p[page + 30]);
    s[40] = 'T';
    printf("private sees later shared store: %c\n", p[40]);
    p[0] = 'P';
    EXPECT_EQ("pwrite page 0 again", pwrite(fd, "Z", 1, 30), 1);
    EXPECT_EQ("pwrite page 1 again", pwrite(fd, "Q", 1, page + 30), 1);
    printf("after its own write, page 0 is private: %c, page 1 still follows: %c\n", p[30], p[page + 30]);
    printf("the file never sees the private write: %c\n", byte_at(fd, 0));
    printf("the shared mapping neither: %c\n", s[0]);

    /* SIGBUS past the end of the file. */
    char *big = mmap(NULL, 4 * page, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("mmap past eof", big != MAP_FAILED);
    printf("touch last file page: signal %d\n", touch(big + 2 * page - 1));
    printf("touch page past eof: signal %s\n", touch(big + 2 * page) == SIGBUS ? "SIGBUS" : "other");
    EXPECT_EQ("ftruncate to one page", ftruncate(fd, page), 0);
    printf("shared page after truncate: signal %s\n", touch(s + page) == SIGBUS ? "SIGBUS" : "none or other");
    /* Not compared: Linux's truncate also drops a private mapping's
     * unwritten pages past the new end (SIGBUS); vkernel keeps them. */
    printf("private written page after truncate: %c\n", p[0]);

    munmap(s, 2 * page);
    munmap(p, 2 * page);
    munmap(big, 4 * page);
    close(fd);
    EXPECT_EQ("unlink", unlink(path), 0);
    EXPECT_EQ("rmdir", rmdir(dir), 0);
    return vk_failures != 0;
}
