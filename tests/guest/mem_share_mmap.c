/* MAP_SHARED mappings of a host file (tests/share.rs: natively in a host
 * directory, under vkernel in a `--share` of one): stores seen by pread and
 * pwrite seen through the map, also by a second mapping, a forked child and
 * a private mapping until it writes; msync; mprotect's SIGSEGV; SIGBUS past
 * a truncated end and zeroes after regrowth; write(2) from and read(2) into
 * such pages; mremap; MADV_DONTNEED; EACCES for an O_RDONLY file;
 * /proc/self/maps; a process-shared futex in the file.
 *
 * usage: mem_share_mmap DIR [KEEP]       the checks, in a fresh directory
 *                                        under DIR removed at the end; then
 *                                        DIR/KEEP, written only through a
 *                                        mapping, is left for the host
 *        mem_share_mmap watch FILE OFF   maps FILE shared read-only, says
 *                                        "ready", waits up to 10 s for the
 *                                        byte at OFF to change
 *        mem_share_mmap store FILE TEXT  stores TEXT at both ends of FILE
 *                                        through a shared mapping, msyncs,
 *                                        says "synced", unmaps at EOF on
 *                                        stdin */
#include "common.h"
#include "fault.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define RW (PROT_READ | PROT_WRITE)

static long page;
static char dir[256];


static int poke(volatile char *p, char v)
{
    got_signal = 0;
    if (sigsetjmp(jump, 1) == 0)
        *p = v;
    return got_signal;
}

/* What the last touch or poke of `p` raised, by name. */
static const char *fault_name(int sig, volatile char *p)
{
    static char buf[96];
    if (sig == 0)
        return "none";
    const char *code = sig == SIGSEGV && got_code == SEGV_ACCERR   ? "SEGV_ACCERR"
                       : sig == SIGSEGV && got_code == SEGV_MAPERR ? "SEGV_MAPERR"
                       : sig == SIGBUS && got_code == BUS_ADRERR   ? "BUS_ADRERR"
                                                                   : NULL;
    snprintf(buf, sizeof buf, "%s %s%s", sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : "other signal", code ? code : "other code",
             got_addr == (void *)p ? " at it" : " elsewhere");
    return buf;
}

static const char *read_fault(volatile char *p)
{
    return fault_name(touch(p), p);
}

static const char *write_fault(volatile char *p, char v)
{
    return fault_name(poke(p, v), p);
}

/* A byte for the output: itself if printable, else its number. */
static const char *ch(int c)
{
    static char ring[16][8];
    static int next;
    char *s = ring[next++ % 16];
    if (c > ' ' && c < 127)
        snprintf(s, 8, "%c", c);
    else
        snprintf(s, 8, "\\%d", c);
    return s;
}

static int byte_at(int fd, off_t off)
{
    unsigned char c;
    if (pread(fd, &c, 1, off) != 1)
        return -1;
    return c;
}

static const char *in_dir(const char *name)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int create(const char *name, off_t size)
{
    int fd = open(in_dir(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, size) != 0) {
        printf("%s: create: %s  FAIL\n", name, errname(errno));
        vk_failures++;
    }
    return fd;
}

/* A mapping of `fd`, or NULL with the error printed. */
static char *map(const char *what, size_t len, int prot, int flags, int fd)
{
    char *p = mmap(NULL, len, prot, flags, fd, 0);
    if (p == MAP_FAILED) {
        printf("%s: -1 %s  FAIL: expected a mapping\n", what, errname(errno));
        vk_failures++;
        return NULL;
    }
    printf("%s: ok\n", what);
    return p;
}

static void basics(void)
{
    int fd = create("basic", 3 * page);
    char *m = map("basic: mmap MAP_SHARED rw of 3 pages", 3 * page, RW, MAP_SHARED, fd);
    if (m) {
        printf("basic: fresh pages read %d %d %d\n", m[0], m[page], m[3 * page - 1]);
        m[0] = 'a';
        m[page + 1] = 'b';
        m[3 * page - 1] = 'c';
        printf("basic: pread sees the stores: %s %s %s\n", ch(byte_at(fd, 0)), ch(byte_at(fd, page + 1)), ch(byte_at(fd, 3 * page - 1)));
        EXPECT_EQ("basic: pwrite", pwrite(fd, "xyz", 3, 2 * page + 5), 3);
        printf("basic: the mapping sees the pwrite: %.3s\n", m + 2 * page + 5);
        int fd2 = open(in_dir("basic"), O_RDWR);
        char *m2 = map("basic: a second mapping, other fd", 3 * page, RW, MAP_SHARED, fd2);
        if (m2) {
            printf("basic: the second sees the first's stores: %s %s %s %.3s\n", ch(m2[0]), ch(m2[page + 1]), ch(m2[3 * page - 1]), m2 + 2 * page + 5);
            m2[10] = 'S';
            m[11] = 'F';
            printf("basic: each sees the other's later store: %s %s\n", ch(m[10]), ch(m2[11]));
            munmap(m2, 3 * page);
        }
        close(fd2);
        EXPECT_EQ("basic: msync MS_SYNC", msync(m, 3 * page, MS_SYNC), 0);
        EXPECT_EQ("basic: msync MS_ASYNC", msync(m + page, page, MS_ASYNC), 0);
        EXPECT_EQ("basic: munmap", munmap(m, 3 * page), 0);
        m = map("basic: mmap again", 3 * page, RW, MAP_SHARED, fd);
        if (m) {
            printf("basic: after re-mmap: %s %s %s %.3s %s %s\n", ch(m[0]), ch(m[page + 1]), ch(m[3 * page - 1]), m + 2 * page + 5, ch(m[10]), ch(m[11]));
            munmap(m, 3 * page);
        }
    }
    int fd3 = open(in_dir("basic"), O_RDONLY);
    char buf[4] = {0};
    EXPECT_EQ("basic: read on a new fd", pread(fd3, buf, 3, 2 * page + 5), 3);
    printf("basic: it reads %s and %s\n", buf, ch(byte_at(fd3, 11)));
    close(fd3);
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("basic: fstat size", st.st_size, 3 * page);
    close(fd);
    EXPECT_EQ("basic: unlink", unlink(in_dir("basic")), 0);
}

static void fork_checks(void)
{
    int fd = create("fork", 2 * page);
    char *m = map("fork: mmap MAP_SHARED rw", 2 * page, RW, MAP_SHARED, fd);
    if (m) {
        m[0] = 'p';
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            m[1] = 'c';
            m[page] = 'C';
            char *p = mmap(NULL, 2 * page, RW, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                printf("fork child: mmap MAP_PRIVATE: -1 %s\n", errname(errno));
                fflush(stdout);
                _exit(1);
            }
            printf("fork child: the private mapping sees the shared stores: %s %s %s\n", ch(p[0]), ch(p[1]), ch(p[page]));
            /* Whether a private mapping shows the file's later changes
               is unspecified (POSIX); Linux shows them until the page is
               written, vkernel's private mappings of host files keep the
               pages they first read. Only the copy-on-write is checked. */
            m[2] = 'd';
            p[3] = 'P';
            m[4] = 'e';
            m[page + 1] = 'f';
            printf("fork child: after its own write, private page 0 is its copy: %s %d\n", ch(p[3]), p[4]);
            printf("fork child: the file does not see the private write: %d, the shared mapping neither: %d\n", byte_at(fd, 3), m[3]);
            fflush(stdout);
            _exit(0);
        }
        int status = -1;
        waitpid(child, &status, 0);
        EXPECT_EQ("fork: child exit status", status, 0);
        printf("fork: the parent sees the child's stores: %s %s %s %s %s\n", ch(m[1]), ch(m[page]), ch(m[2]), ch(m[4]), ch(m[page + 1]));
        printf("fork: and pread too: %s %s\n", ch(byte_at(fd, 1)), ch(byte_at(fd, page)));
        printf("fork: the child's private write is nowhere: %d %d\n", m[3], byte_at(fd, 3));
        munmap(m, 2 * page);
    }
    close(fd);
    unlink(in_dir("fork"));
}

static void mprotect_checks(void)
{
    int fd = create("mprotect", page);
    char *m = map("mprotect: mmap MAP_SHARED rw", page, RW, MAP_SHARED, fd);
    if (m) {
        m[0] = 'r';
        EXPECT_EQ("mprotect: to PROT_READ", mprotect(m, page, PROT_READ), 0);
        printf("mprotect: store to the read-only page: %s\n", write_fault(m + 1, 'x'));
        printf("mprotect: reading it: %s, byte %s\n", read_fault(m), ch(m[0]));
        printf("mprotect: the failed store is not in the file: %d\n", byte_at(fd, 1));
        EXPECT_EQ("mprotect: back to PROT_READ|PROT_WRITE", mprotect(m, page, RW), 0);
        printf("mprotect: store after: %s\n", write_fault(m + 1, 'y'));
        printf("mprotect: the file sees it: %s\n", ch(byte_at(fd, 1)));
        munmap(m, page);
    }
    close(fd);
    unlink(in_dir("mprotect"));
}

static void truncate_checks(void)
{
    int fd = create("truncate", 3 * page);
    char *m = map("truncate: mmap MAP_SHARED rw of 3 pages", 3 * page, RW, MAP_SHARED, fd);
    if (m) {
        memset(m, 'T', 3 * page);
        EXPECT_EQ("truncate: ftruncate to 1 page", ftruncate(fd, page), 0);
        printf("truncate: page 0: %s", read_fault(m + 5));
        printf(", byte %s\n", ch(m[5]));
        printf("truncate: page 1: %s\n", read_fault(m + page));
        printf("truncate: page 2: %s\n", read_fault(m + 2 * page + 100));
        printf("truncate: store to page 2: %s\n", write_fault(m + 2 * page, 'x'));
        EXPECT_EQ("truncate: ftruncate back to 3 pages", ftruncate(fd, 3 * page), 0);
        printf("truncate: page 2 after regrowth: %s", read_fault(m + 2 * page + 100));
        printf(", reads %d %d, page 1 reads %d, page 0 %s\n", m[2 * page], m[2 * page + 100], m[page], ch(m[page - 1]));
        m[2 * page] = 'g';
        printf("truncate: a store there reaches the file: %s\n", ch(byte_at(fd, 2 * page)));
        munmap(m, 3 * page);
    }
    close(fd);
    unlink(in_dir("truncate"));
}

/* The kernel copying from and to pages of a shared file mapping that the
 * process never touched, across a page boundary. */
static void copy_checks(void)
{
    int fd = create("copy", 2 * page);
    char *pattern = malloc(2 * page);
    for (long i = 0; i < 2 * page; i++)
        pattern[i] = 'a' + i % 26;
    EXPECT_EQ("copy: pwrite a pattern", pwrite(fd, pattern, 2 * page, 0), 2 * page);
    int out = open(in_dir("copy-out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    char *m = map("copy: mmap MAP_SHARED rw", 2 * page, RW, MAP_SHARED, fd);
    if (m) {
        EXPECT_EQ("copy: write(2) from the mapping across a page boundary", write(out, m + page - 100, 200), 200);
        char buf[300];
        EXPECT_EQ("copy: pread the other file", pread(out, buf, 200, 0), 200);
        CHECK("copy: the other file holds the mapped bytes", memcmp(buf, pattern + page - 100, 200) == 0);
        munmap(m, 2 * page);
    }
    m = map("copy: mmap MAP_SHARED rw again", 2 * page, RW, MAP_SHARED, fd);
    if (m) {
        int p[2];
        EXPECT_EQ("copy: pipe", pipe(p), 0);
        char msg[300];
        for (int i = 0; i < 300; i++)
            msg[i] = '0' + i % 10;
        EXPECT_EQ("copy: write the pipe", write(p[1], msg, 300), 300);
        EXPECT_EQ("copy: read(2) from the pipe into the mapping across a page boundary", read(p[0], m + page - 150, 300), 300);
        CHECK("copy: the mapping holds the pipe's bytes", memcmp(m + page - 150, msg, 300) == 0);
        char buf[300];
        EXPECT_EQ("copy: pread the file", pread(fd, buf, 300, page - 150), 300);
        CHECK("copy: so does the file", memcmp(buf, msg, 300) == 0);
        CHECK("copy: the bytes around are untouched", m[page - 151] == pattern[page - 151] && m[page + 150] == pattern[page + 150]);
        close(p[0]);
        close(p[1]);
        munmap(m, 2 * page);
    }
    free(pattern);
    close(out);
    close(fd);
    unlink(in_dir("copy-out"));
    unlink(in_dir("copy"));
}

static void mremap_checks(void)
{
    int fd = create("mremap", 3 * page);
    /* A PROT_NONE page right after the mapping: growing must move it. */
    char *area = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *m = mmap(area, 3 * page, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    if (m == MAP_FAILED) {
        printf("mremap: mmap MAP_SHARED rw: -1 %s  FAIL\n", errname(errno));
        vk_failures++;
    } else {
        m[0] = '0';
        m[page] = '1';
        m[3 * page - 1] = '2';
        EXPECT_EQ("mremap: ftruncate to 5 pages", ftruncate(fd, 5 * page), 0);
        char *n = mremap(m, 3 * page, 5 * page, MREMAP_MAYMOVE);
        if (n == MAP_FAILED) {
            printf("mremap: to 5 pages: -1 %s  FAIL\n", errname(errno));
            vk_failures++;
            munmap(m, 3 * page);
        } else {
            printf("mremap: to 5 pages: moved %s\n", n != m ? "yes" : "no");
            printf("mremap: the old content: %s %s %s\n", ch(n[0]), ch(n[page]), ch(n[3 * page - 1]));
            printf("mremap: the new pages read %d %d\n", n[3 * page], n[5 * page - 1]);
            n[4 * page] = '4';
            printf("mremap: a store in a new page reaches the file: %s\n", ch(byte_at(fd, 4 * page)));
            EXPECT_EQ("mremap: pwrite into the last page", pwrite(fd, "5", 1, 5 * page - 1), 1);
            printf("mremap: the mapping sees it: %s\n", ch(n[5 * page - 1]));
            printf("mremap: the old address: %s\n", write_fault(m + 1, 'x'));
            munmap(n, 5 * page);
        }
    }
    munmap(area + 3 * page, page);
    close(fd);
    unlink(in_dir("mremap"));
}

static void madvise_checks(void)
{
    int fd = create("madvise", 2 * page);
    char *m = map("madvise: mmap MAP_SHARED rw", 2 * page, RW, MAP_SHARED, fd);
    if (m) {
        m[0] = 'k';
        m[page + 7] = 'l';
        EXPECT_EQ("madvise: MADV_DONTNEED", madvise(m, 2 * page, MADV_DONTNEED), 0);
        printf("madvise: the contents stay: %s %s\n", ch(m[0]), ch(m[page + 7]));
        EXPECT_EQ("madvise: pwrite", pwrite(fd, "n", 1, 1), 1);
        EXPECT_EQ("madvise: MADV_DONTNEED again", madvise(m, page, MADV_DONTNEED), 0);
        printf("madvise: re-read from the file: %s %s\n", ch(m[0]), ch(m[1]));
        munmap(m, 2 * page);
    }
    close(fd);
    unlink(in_dir("madvise"));
}

/* mincore of a shared file mapping reports the file's page cache: pages
 * written with pwrite are resident, pages of the hole never touched not. */
static void mincore_checks(void)
{
    int fd = create("mincore", 4 * page);
    EXPECT_EQ("mincore: pwrite page 0", pwrite(fd, "a", 1, 0), 1);
    EXPECT_EQ("mincore: pwrite page 2", pwrite(fd, "c", 1, 2 * page), 1);
    char *m = map("mincore: mmap MAP_SHARED PROT_READ", 4 * page, PROT_READ, MAP_SHARED, fd);
    if (m) {
        unsigned char vec[4] = {9, 9, 9, 9};
        EXPECT_EQ("mincore: mincore", mincore(m, 4 * page, vec), 0);
        printf("mincore: resident %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
        munmap(m, 4 * page);
    }
    close(fd);
    unlink(in_dir("mincore"));
}

static void read_only_checks(void)
{
    int w = create("rdonly", page);
    EXPECT_EQ("rdonly: pwrite", pwrite(w, "read only", 9, 0), 9);
    close(w);
    int fd = open(in_dir("rdonly"), O_RDONLY);
    EXPECT_ERR("rdonly: mmap MAP_SHARED PROT_READ|PROT_WRITE", mmap(NULL, page, RW, MAP_SHARED, fd, 0), EACCES);
    EXPECT_ERR("rdonly: mmap MAP_SHARED PROT_WRITE", mmap(NULL, page, PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    char *r = map("rdonly: mmap MAP_SHARED PROT_READ", page, PROT_READ, MAP_SHARED, fd);
    if (r) {
        printf("rdonly: it reads %.9s\n", r);
        EXPECT_ERR("rdonly: mprotect PROT_READ|PROT_WRITE", mprotect(r, page, RW), EACCES);
        EXPECT_ERR("rdonly: mprotect PROT_WRITE", mprotect(r, page, PROT_WRITE), EACCES);
        printf("rdonly: a store: %s\n", write_fault(r, 'x'));
        munmap(r, page);
    }
    char *p = map("rdonly: mmap MAP_PRIVATE PROT_READ|PROT_WRITE", page, RW, MAP_PRIVATE, fd);
    if (p) {
        p[0] = 'X';
        printf("rdonly: the private copy %.9s, the file %s\n", p, ch(byte_at(fd, 0)));
        munmap(p, page);
    }
    close(fd);
    unlink(in_dir("rdonly"));
}

/* The maps line starting at `addr`: its perms and inode, and whether it
 * names the file. */
static int maps_line(void *addr, const char *name, char perms[8], unsigned long *ino)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[8192];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        unsigned maj, min;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms, &off, &maj, &min, ino, &name_at) < 7 || start != (unsigned long)addr)
            continue;
        line[strcspn(line, "\n")] = 0;
        const char *slash = strrchr(line + name_at, '/');
        found = slash && !strcmp(slash + 1, name);
        break;
    }
    if (f)
        fclose(f);
    return found;
}

static void maps_checks(void)
{
    int fd = create("mapped-file", 2 * page);
    struct stat st;
    fstat(fd, &st);
    char *m = map("maps: mmap MAP_SHARED rw", 2 * page, RW, MAP_SHARED, fd);
    char *r = map("maps: mmap MAP_SHARED PROT_READ", page, PROT_READ, MAP_SHARED, fd);
    if (m) {
        m[0] = 1;
        char perms[8] = "";
        unsigned long ino = 0;
        int named = maps_line(m, "mapped-file", perms, &ino);
        printf("maps: a line with the file's name and rw-s: %d\n", named && !strcmp(perms, "rw-s"));
        printf("maps: its inode is the file's st_ino: %d\n", ino == st.st_ino);
        munmap(m, 2 * page);
    }
    if (r) {
        char perms[8] = "";
        unsigned long ino = 0;
        int named = maps_line(r, "mapped-file", perms, &ino);
        printf("maps: a line with the file's name and r--s: %d\n", named && !strcmp(perms, "r--s"));
        printf("maps: its inode is the file's st_ino: %d\n", ino == st.st_ino);
        munmap(r, page);
    }
    close(fd);
    unlink(in_dir("mapped-file"));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A child maps the file anew (another address) and waits on a word of it;
 * the parent sets the word through its own mapping and wakes. */
static void futex_checks(void)
{
    int fd = create("futex", page);
    char *m = map("futex: mmap MAP_SHARED rw", page, RW, MAP_SHARED, fd);
    if (m) {
        int *word = (int *)(m + 64), *ready = (int *)(m + 128);
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            int cfd = open(in_dir("futex"), O_RDWR);
            char *c = mmap(NULL, page, RW, MAP_SHARED, cfd, 0);
            if (c == MAP_FAILED)
                _exit(3);
            int *cword = (int *)(c + 64);
            __atomic_store_n((int *)(c + 128), 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(cword, __ATOMIC_SEQ_CST) == 0) {
                struct timespec timeout = {5, 0};
                if (syscall(SYS_futex, cword, FUTEX_WAIT, 0, &timeout, NULL, 0) == -1 && errno == ETIMEDOUT)
                    _exit(2);
            }
            _exit(__atomic_load_n(cword, __ATOMIC_SEQ_CST) == 1 ? 0 : 4);
        }
        double end = now() + 5;
        while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) == 0 && now() < end)
            usleep(1000);
        printf("futex: the child is about to wait: %s\n", *ready ? "yes" : "no");
        usleep(100000);
        __atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
        long woken = syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
        printf("futex: FUTEX_WAKE: %s\n", woken == 0 || woken == 1 ? "ok" : errname(errno));
        int status = -1;
        waitpid(child, &status, 0);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        printf("futex: the child %s\n", code == 0 ? "woke and saw 1" : code == 2 ? "timed out" : code == 3 ? "could not map the file" : "failed");
        if (code != 0)
            vk_failures++;
        munmap(m, page);
    }
    close(fd);
    unlink(in_dir("futex"));
}

/* DIR/KEEP: two pages and 100 bytes, written only through a mapping. */
static void keep(const char *top, const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", top, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ("keep: ftruncate", ftruncate(fd, 2 * page + 100), 0);
    char *m = mmap(NULL, 3 * page, RW, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        printf("keep: mmap: -1 %s  FAIL\n", errname(errno));
        vk_failures++;
    } else {
        static const char text[] = "written through a shared mapping\n";
        memset(m, 'A', page);
        memcpy(m, text, sizeof text - 1);
        memset(m + page, 'B', page);
        memset(m + 2 * page, 'C', 100);
        /* Past the end in the last page: allowed, and never in the file. */
        memset(m + 2 * page + 100, 'X', page - 100);
        EXPECT_EQ("keep: munmap", munmap(m, 3 * page), 0);
    }
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("keep: size", st.st_size, 2 * page + 100);
    close(fd);
}

static int watch(const char *path, long off)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        printf("open %s: %s\n", path, errname(errno));
        return 1;
    }
    volatile char *m = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        printf("mmap: -1 %s\n", errname(errno));
        return 1;
    }
    /* The mapping alone must follow the file. */
    close(fd);
    char before = m[off];
    printf("before: %s\n", ch(before));
    printf("ready\n");
    fflush(stdout);
    double end = now() + 10;
    while (m[off] == before && now() < end)
        usleep(5000);
    if (m[off] == before) {
        printf("unchanged after 10 s: %s\n", ch(before));
        return 1;
    }
    printf("saw: %s\n", ch(m[off]));
    return 0;
}

static int store(const char *path, const char *text)
{
    int fd = open(path, O_RDWR);
    struct stat st;
    size_t len = strlen(text);
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < 2 * len) {
        printf("open %s: %s\n", path, errname(errno));
        return 1;
    }
    char *m = mmap(NULL, st.st_size, RW, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        printf("mmap: -1 %s\n", errname(errno));
        return 1;
    }
    close(fd);
    memcpy(m, text, len);
    memcpy(m + st.st_size - len, text, len);
    EXPECT_EQ("msync MS_SYNC", msync(m, st.st_size, MS_SYNC), 0);
    printf("synced\n");
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    EXPECT_EQ("munmap", munmap(m, st.st_size), 0);
    return finish();
}

int main(int argc, char **argv)
{
    page = sysconf(_SC_PAGESIZE);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "watch"))
        return watch(argv[2], atol(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "store"))
        return store(argv[2], argv[3]);
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: mem_share_mmap DIR [KEEP] | watch FILE OFF | store FILE TEXT\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/vk-share-mmap-XXXXXX", argv[1]);
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", errname(errno));
        return 1;
    }
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO};
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);

    basics();
    fork_checks();
    mprotect_checks();
    truncate_checks();
    copy_checks();
    mremap_checks();
    madvise_checks();
    read_only_checks();
    maps_checks();
    mincore_checks();
    futex_checks();

    EXPECT_EQ("rmdir", rmdir(dir), 0);
    if (argc == 3)
        keep(argv[1], argv[2]);
    return finish();
}
