/* Memory locking and the address-space limits: mlock, mlock2, munlock,
 * mlockall, munlockall and MAP_LOCKED against RLIMIT_MEMLOCK (VmLck shows
 * what is locked), mincore, and RLIMIT_AS / RLIMIT_DATA for mmap and brk.
 * Each part runs in a forked child. Run as root (CAP_IPC_LOCK lifts the
 * lock limit) and as nobody. Prints only facts that are the same natively
 * and under vkernel: sizes relative to the program's own. */
#include "proc.h"
#include <sys/mman.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

#define PAGE 4096L

static int is_root;

static long status_kb(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static char *map(long pages, int prot, int flags)
{
    char *p = mmap(NULL, pages * PAGE, prot, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void set_memlock(long bytes)
{
    struct rlimit r;
    getrlimit(RLIMIT_MEMLOCK, &r);
    r.rlim_cur = bytes;
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < (rlim_t)bytes)
        r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_MEMLOCK, &r) != 0)
        printf("setrlimit RLIMIT_MEMLOCK: %s\n", errname(errno));
}

static void lock_calls(void)
{
    char *p = map(8, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    set_memlock(64 * PAGE);
    EXPECT_EQ("mlock 4 pages", mlock(p, 4 * PAGE), 0);
    EXPECT_EQ("VmLck after mlock", status_kb("VmLck"), 16);
    EXPECT_EQ("mlock the same pages again", mlock(p, 4 * PAGE), 0);
    EXPECT_EQ("VmLck counts them once", status_kb("VmLck"), 16);
    EXPECT_EQ("mlock an unaligned byte", mlock(p + 5 * PAGE + 7, 1), 0);
    EXPECT_EQ("VmLck with its page", status_kb("VmLck"), 20);
    EXPECT_EQ("mlock length 0", mlock(p, 0), 0);
    EXPECT_EQ("munlock 2 pages", munlock(p, 2 * PAGE), 0);
    EXPECT_EQ("VmLck after munlock", status_kb("VmLck"), 12);
    EXPECT_EQ("munlock pages never locked", munlock(p + 6 * PAGE, PAGE), 0);
    EXPECT_EQ("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, p, PAGE, MLOCK_ONFAULT), 0);
    EXPECT_ERR("mlock2 unknown flag", syscall(SYS_mlock2, p, PAGE, 2), EINVAL);
    munmap(p + 7 * PAGE, PAGE);
    EXPECT_ERR("mlock over a hole", mlock(p + 6 * PAGE, 2 * PAGE), ENOMEM);
    EXPECT_EQ("VmLck keeps the page before the hole", status_kb("VmLck"), 20);
    EXPECT_ERR("munlock over a hole", munlock(p + 6 * PAGE, 2 * PAGE), ENOMEM);
    EXPECT_ERR("mlock unmapped", mlock((void *)0x10000, PAGE), ENOMEM);
    /* The limit is checked first: unprivileged, a wrapping range is too big. */
    EXPECT_ERR("mlock wrapping range", mlock(p, -PAGE * 4), is_root ? EINVAL : ENOMEM);
    char *none = map(2, PROT_NONE, MAP_PRIVATE);
    EXPECT_ERR("mlock PROT_NONE", mlock(none, 2 * PAGE), ENOMEM);
    munmap(none, 2 * PAGE);
    EXPECT_EQ("munmap unlocks", status_kb("VmLck"), 16);
    munmap(p, 7 * PAGE);
    EXPECT_EQ("VmLck after munmap", status_kb("VmLck"), 0);
}

/* The smaps entry that starts at `p`: its Locked line and whether
 * VmFlags has "lo". */
static void smaps_of(const char *label, void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512], start[32];
    snprintf(start, sizeof start, "%lx-", (unsigned long)p);
    int in = 0;
    long locked = -1;
    int lo = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
            in = !strncmp(line, start, strlen(start));
        if (in && !strncmp(line, "Locked:", 7))
            locked = strtol(line + 7, NULL, 10);
        if (in && !strncmp(line, "VmFlags:", 8))
            lo = strstr(line, " lo ") != NULL;
    }
    if (f)
        fclose(f);
    printf("%s: smaps Locked %ld kB, VmFlags lo %d\n", label, locked, lo);
}

static void lock_shown(void)
{
    char *p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memset(p, 1, 4 * PAGE);
    set_memlock(64 * PAGE);
    smaps_of("before mlock", p);
    mlock(p, 4 * PAGE);
    smaps_of("after mlock", p);
    munlock(p, 4 * PAGE);
    smaps_of("after munlock", p);
}

static void lock_limit(void)
{
    char *p = map(8, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    set_memlock(2 * PAGE);
    if (is_root) {
        EXPECT_EQ("mlock past RLIMIT_MEMLOCK with CAP_IPC_LOCK", mlock(p, 4 * PAGE), 0);
        munlock(p, 4 * PAGE);
    } else {
        EXPECT_ERR("mlock past RLIMIT_MEMLOCK", mlock(p, 3 * PAGE), ENOMEM);
        EXPECT_EQ("VmLck unchanged", status_kb("VmLck"), 0);
    }
    EXPECT_EQ("mlock up to RLIMIT_MEMLOCK", mlock(p, 2 * PAGE), 0);
    EXPECT_EQ("mlock locked pages again", mlock(p + 1, PAGE), 0);
    if (!is_root)
        EXPECT_ERR("one page more", mlock(p + 2 * PAGE, PAGE), ENOMEM);
    munlock(p, 8 * PAGE);
    EXPECT_EQ("MAP_LOCKED within the limit", map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_LOCKED) != NULL, 1);
    EXPECT_EQ("VmLck of MAP_LOCKED", status_kb("VmLck"), 8);
    if (is_root) {
        EXPECT_EQ("MAP_LOCKED past the limit with CAP_IPC_LOCK", map(4, PROT_READ, MAP_PRIVATE | MAP_LOCKED) != NULL, 1);
    } else {
        errno = 0;
        CHECK("MAP_LOCKED past the limit is EAGAIN", map(4, PROT_READ, MAP_PRIVATE | MAP_LOCKED) == NULL && errno == EAGAIN);
    }
    set_memlock(0);
    if (is_root) {
        EXPECT_EQ("mlock with RLIMIT_MEMLOCK 0 and CAP_IPC_LOCK", mlock(p, PAGE), 0);
    } else {
        EXPECT_ERR("mlock with RLIMIT_MEMLOCK 0", mlock(p, PAGE), EPERM);
        EXPECT_ERR("mlockall with RLIMIT_MEMLOCK 0", mlockall(MCL_CURRENT), EPERM);
        errno = 0;
        CHECK("MAP_LOCKED with RLIMIT_MEMLOCK 0 is EPERM", map(1, PROT_READ, MAP_PRIVATE | MAP_LOCKED) == NULL && errno == EPERM);
    }
    EXPECT_EQ("munlock needs no limit", munlock(p, PAGE), 0);
}

static void remap_locked(void)
{
    char *p = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    set_memlock(is_root ? PAGE : 6 * PAGE);
    mlock(p, 2 * PAGE);
    char *q = mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    CHECK("mremap grows locked pages", q != MAP_FAILED);
    EXPECT_EQ("VmLck after growing", status_kb("VmLck"), 16);
    char *far = map(8, PROT_NONE, MAP_PRIVATE);
    munmap(far, 8 * PAGE);
    CHECK("mremap moves them", mremap(q, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, far) == far);
    EXPECT_EQ("VmLck after moving", status_kb("VmLck"), 16);
    errno = 0;
    if (is_root)
        CHECK("growing past RLIMIT_MEMLOCK with CAP_IPC_LOCK", mremap(far, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE) != MAP_FAILED);
    else
        CHECK("growing past RLIMIT_MEMLOCK is EAGAIN", mremap(far, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == EAGAIN);
    char *r = map(2, PROT_READ, MAP_PRIVATE);
    CHECK("unlocked pages grow unlocked", mremap(r, 2 * PAGE, 16 * PAGE, MREMAP_MAYMOVE) != MAP_FAILED);
    EXPECT_EQ("VmLck unchanged", status_kb("VmLck"), is_root ? 32 : 16);
}

static void lock_all(void)
{
    EXPECT_ERR("mlockall 0", mlockall(0), EINVAL);
    EXPECT_ERR("mlockall MCL_ONFAULT alone", mlockall(MCL_ONFAULT), EINVAL);
    EXPECT_ERR("mlockall unknown flag", mlockall(MCL_CURRENT | 8), EINVAL);
    long size_kb = status_kb("VmSize");
    set_memlock(is_root ? PAGE : (size_kb + 256) * 1024);
    EXPECT_EQ("mlockall MCL_CURRENT", mlockall(MCL_CURRENT), 0);
    /* All but the kernel's special mappings ([vvar], [vdso]). */
    long locked_kb = status_kb("VmLck");
    CHECK("VmLck is VmSize but for vdso and vvar", locked_kb > 0 && status_kb("VmSize") - locked_kb <= 64);
    char *later = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    CHECK("a later mapping is not locked", status_kb("VmLck") == locked_kb);
    munmap(later, 4 * PAGE);
    EXPECT_EQ("munlockall", munlockall(), 0);
    EXPECT_EQ("VmLck after munlockall", status_kb("VmLck"), 0);
    EXPECT_EQ("mlockall MCL_FUTURE", mlockall(MCL_FUTURE), 0);
    EXPECT_EQ("VmLck with only MCL_FUTURE", status_kb("VmLck"), 0);
    later = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    EXPECT_EQ("a mapping after MCL_FUTURE is locked", status_kb("VmLck"), 16);
    if (is_root) {
        CHECK("a big mapping after MCL_FUTURE with CAP_IPC_LOCK", map(1024, PROT_READ, MAP_PRIVATE) != NULL);
    } else {
        errno = 0;
        CHECK("a mapping past the limit after MCL_FUTURE is EAGAIN", map(1024, PROT_READ, MAP_PRIVATE) == NULL && errno == EAGAIN);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = status_kb("VmLck") == 0;
        char *q = map(4, PROT_READ, MAP_PRIVATE);
        ok = ok && q && status_kb("VmLck") == 0;
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK("a child has nothing locked and no MCL_FUTURE", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    munlockall();
    munmap(later, 4 * PAGE);
}

static void residency(void)
{
    char *p = map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    unsigned char vec[64];
    p[0] = 1;
    memset(vec, 0xff, sizeof vec);
    EXPECT_EQ("mincore", mincore(p, 64 * PAGE, vec), 0);
    printf("first page resident %d, last page resident %d, only 0/1 %d\n", vec[0], vec[63],
           (int)(memchr(vec, 0xff, sizeof vec) == NULL));
    EXPECT_EQ("mincore of a partial page", mincore(p, 1, vec), 0);
    EXPECT_ERR("mincore unaligned", mincore(p + 1, PAGE, vec), EINVAL);
    EXPECT_ERR("mincore bad vector", mincore(p, PAGE, (unsigned char *)8), EFAULT);
    munmap(p + 32 * PAGE, PAGE);
    EXPECT_ERR("mincore over a hole", mincore(p, 64 * PAGE, vec), ENOMEM);
    EXPECT_ERR("mincore past the user range", mincore((void *)0x7ffffffff000, 4 * PAGE, vec), ENOMEM);
    EXPECT_EQ("mincore length 0", mincore(p, 0, vec), 0);
}

static void address_space_limit(void)
{
    long size_kb = status_kb("VmSize");
    struct rlimit as = {(size_kb + 1024) * 1024, RLIM_INFINITY};
    EXPECT_EQ("setrlimit RLIMIT_AS", setrlimit(RLIMIT_AS, &as), 0);
    errno = 0;
    CHECK("mmap past RLIMIT_AS is ENOMEM", map(1024, PROT_READ, MAP_PRIVATE) == NULL && errno == ENOMEM);
    char *p = map(128, PROT_READ, MAP_PRIVATE);
    CHECK("mmap within RLIMIT_AS", p != NULL);
    errno = 0;
    CHECK("mremap growing past RLIMIT_AS is ENOMEM", mremap(p, 128 * PAGE, 1024 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED && errno == ENOMEM);
    CHECK("mmap MAP_FIXED over itself within RLIMIT_AS", mmap(p, 128 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == p);
}

static void data_limit(void)
{
    long data_kb = status_kb("VmData");
    struct rlimit data = {(data_kb + 1024) * 1024, RLIM_INFINITY};
    EXPECT_EQ("setrlimit RLIMIT_DATA", setrlimit(RLIMIT_DATA, &data), 0);
    errno = 0;
    CHECK("private writable mmap past RLIMIT_DATA is ENOMEM", map(1024, PROT_READ | PROT_WRITE, MAP_PRIVATE) == NULL && errno == ENOMEM);
    CHECK("read-only private mmap is not data", map(1024, PROT_READ, MAP_PRIVATE) != NULL);
    CHECK("shared writable mmap is not data", map(1024, PROT_READ | PROT_WRITE, MAP_SHARED) != NULL);
    CHECK("private writable mmap within RLIMIT_DATA", map(64, PROT_READ | PROT_WRITE, MAP_PRIVATE) != NULL);
    void *top = sbrk(0);
    errno = 0;
    CHECK("brk past RLIMIT_DATA fails", sbrk(2 << 20) == (void *)-1 && errno == ENOMEM);
    CHECK("the break did not move", sbrk(0) == top);
}

int main(void)
{
    reset_signals();
    is_root = geteuid() == 0;
    printf("running as %s\n", is_root ? "root" : "an unprivileged user");
    section("mlock, munlock, mlock2", lock_calls);
    section("smaps shows locked pages", lock_shown);
    section("RLIMIT_MEMLOCK", lock_limit);
    section("mremap of locked pages", remap_locked);
    section("mlockall", lock_all);
    section("mincore", residency);
    section("RLIMIT_AS", address_space_limit);
    section("RLIMIT_DATA", data_limit);
    return finish();
}
