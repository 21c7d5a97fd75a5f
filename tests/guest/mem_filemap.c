/* File mappings and the page cache, in a fresh directory under argv[1]
 * (/tmp: tmpfs under vkernel; /var/tmp: the overlay's upper layer):
 * MAP_SHARED writes seen by read and pwrite seen through the mapping;
 * MAP_PRIVATE sees the file's later writes until it writes a page itself,
 * and its writes never reach the file; msync; SIGBUS (BUS_ADRERR at the
 * page) for a page wholly past the end of the file, shared or private,
 * also after a truncate by this or another process, which takes a private
 * mapping's own copies past the end too (Linux's even_cows); a hole punch
 * takes only the pages a private mapping still shares with the file. */
#include "common.h"
#include "fault.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* "none", "SIGBUS BUS_ADRERR at it", or what else touching `p` did. */
static const char *bus_at(volatile char *p)
{
    static char buf[64];
    int sig = touch(p);
    if (sig == 0)
        return "none";
    if (sig == SIGBUS && got_code == BUS_ADRERR && got_addr == (void *)p)
        return "SIGBUS BUS_ADRERR at it";
    snprintf(buf, sizeof buf, "signal %d code %d%s", sig, got_code, got_addr == (void *)p ? "" : " elsewhere");
    return buf;
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
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
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
    printf("private written page after truncate: %c\n", p[0]);
    printf("private unwritten page past the new end: %s\n", bus_at(p + page));

    munmap(s, 2 * page);
    munmap(p, 2 * page);
    munmap(big, 4 * page);

    /* Private mappings and truncation, page by page: four pages, page 1
     * cut to 100 bytes; page 0 read, pages 1 and 2 written (copied). */
    EXPECT_EQ("ftruncate to zero", ftruncate(fd, 0), 0);
    EXPECT_EQ("rewind", lseek(fd, 0, SEEK_SET), 0);
    memset(fill, 'b', 2 * page);
    EXPECT_EQ("write 1", write(fd, fill, 2 * page), 2 * page);
    EXPECT_EQ("write 2", write(fd, fill, 2 * page), 2 * page);
    char *q = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap private 4", q != MAP_FAILED);
    (void)q[0];
    (void)q[3 * page];
    q[page] = 'C';
    q[page + 200] = 'D';
    q[2 * page] = 'E';
    /* Truncated by another process. */
    pid_t child = fork();
    if (child == 0)
        _exit(ftruncate(fd, page + 100) != 0);
    int status = -1;
    waitpid(child, &status, 0);
    EXPECT_EQ("child truncated", status, 0);
    printf("page 0 (shared with the file): %c %s\n", q[0], bus_at(q));
    printf("page 1 (own copy, partly past the end): %c %c %s\n", q[page], q[page + 200], bus_at(q + page));
    printf("page 2 (own copy, wholly past the end): %s\n", bus_at(q + 2 * page));
    printf("page 3 (shared, wholly past the end): %s\n", bus_at(q + 3 * page));
    printf("page 2 touched again: %s\n", touch(q + 2 * page) ? "yes" : "no");
    /* The file grows again: the pages come back from the file. */
    EXPECT_EQ("ftruncate to four pages", ftruncate(fd, 4 * page), 0);
    printf("page 2 after regrowth: %d %s\n", q[2 * page], bus_at(q + 2 * page));
    munmap(q, 4 * page);

    /* A private mapping larger than the file from the start. */
    EXPECT_EQ("ftruncate to a page and a bit", ftruncate(fd, page + 10), 0);
    char *r = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap private past eof", r != MAP_FAILED);
    printf("last file page: %s, byte 9 %c, bytes past the end %d %d\n", bus_at(r + page), r[page + 9], r[page + 10], r[2 * page - 1]);
    printf("the page after it: %s\n", bus_at(r + 2 * page));
    munmap(r, 3 * page);

    /* A hole punched under a private mapping: a page it only read shows
     * the hole, a page it wrote keeps its copy. */
    EXPECT_EQ("ftruncate to zero again", ftruncate(fd, 0), 0);
    EXPECT_EQ("rewind again", lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ("write 3", write(fd, fill, 2 * page), 2 * page);
    char *h = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap private for a hole", h != MAP_FAILED);
    printf("before the punch: %c %c\n", h[0], h[page]);
    h[page] = 'W';
    EXPECT_EQ("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * page), 0);
    printf("after the punch: read page %d, written page %c\n", h[0], h[page]);
    munmap(h, 2 * page);

    /* Private mappings of holes see what is later written to the file
     * there (the fault fills the hole in the file's cache, as shmem's
     * does), read-only and writable ones alike, until they write the page. */
    EXPECT_EQ("ftruncate to zero for holes", ftruncate(fd, 0), 0);
    EXPECT_EQ("grow sparse", ftruncate(fd, 3 * page), 0);
    char *ro = mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    char *rw = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap private over holes", ro != MAP_FAILED && rw != MAP_FAILED);
    printf("holes read: %d %d %d\n", ro[0], rw[page], rw[2 * page]);
    rw[2 * page] = 'P';
    EXPECT_EQ("pwrite into hole 0", pwrite(fd, "H", 1, 0), 1);
    EXPECT_EQ("pwrite into hole 1", pwrite(fd, "I", 1, page), 1);
    EXPECT_EQ("pwrite into hole 2", pwrite(fd, "J", 1, 2 * page), 1);
    printf("after pwrite: read-only %c, writable unwritten %c, writable written %c, file %c\n", ro[0], rw[page], rw[2 * page], byte_at(fd, 2 * page));
    munmap(ro, 3 * page);
    munmap(rw, 3 * page);
    close(fd);
    EXPECT_EQ("unlink", unlink(path), 0);
    EXPECT_EQ("rmdir", rmdir(dir), 0);
    return vk_failures != 0;
}
