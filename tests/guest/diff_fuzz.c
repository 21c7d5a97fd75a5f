/* A differential fuzzer, run natively and under vkernel with the same seed:
 * a seeded PRNG picks calls from a small set that can only touch a fresh
 * directory under /dev/shm (tmpfs on both sides) and this process's own
 * memory, with valid and invalid arguments (fds open, closed and absurd;
 * paths inside the directory, missing, too long, through symlinks and
 * non-directories; pointers to its buffer, NULL, unmapped, kernel,
 * misaligned; lengths, offsets, flags and modes from edge values). Each
 * call prints its arguments and its result; the two outputs must be the
 * same line for line, so the first differing line is a call vkernel
 * answers differently from Linux.
 *
 * Safe to run natively, unlike tests/fuzz/syscall_fuzz.c: no absolute or
 * ".."-escaping paths, no call that acts on other processes or the
 * machine, pointer+length pairs never exceed the buffer they point into
 * (an invalid pointer may have any length), dup2 never replaces fds 0-2.
 * Nondeterministic facts are not printed: addresses, inode numbers, times,
 * directory order (names are sorted).
 *
 * Usage: diff_fuzz SEED CALLS */
#include "proc.h"
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define KERNEL_ADDR 0xffff800000000000ull
#define BUF 8192

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
#define PICK(...) pick_((const int64_t[]){__VA_ARGS__}, sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
static int64_t pick_(const int64_t *v, size_t n) { return v[below(n)]; }

static char *buf;    /* BUF bytes, then an unmapped page */
static char *hole;   /* the unmapped page */
static char *maps[8];
static size_t map_len[8];
static sigjmp_buf fault_env;
static void on_fault(int s) { siglongjmp(fault_env, s); }

static const char *const paths[] = {
    "f0", "f1", "f2", "d0", "d1", "d0/f", "d0/d", "l0", "l1", "nonexistent", "", "f0/x", "d1/../f0", "d0/",
    "f0/", "p0", "l0/x", "d0/d/e", "LONG",
};
static char long_name[300];

static const char *path(void)
{
    const char *p = paths[below(sizeof paths / sizeof paths[0])];
    return strcmp(p, "LONG") ? p : long_name;
}

static const char *show_path(const char *p) { return p == long_name ? "<300 x n>" : p; }

static int fd_arg(void)
{
    if (below(10) < 7)
        return (int)(3 + below(8)); /* the fds this program opens are 3.. */
    return (int)PICK(-1, 999, 65536, INT_MAX, AT_FDCWD);
}

/* A pointer and a length that fit together: an invalid pointer may take
 * any length, a valid one only what is left of the buffer. */
struct span {
    char *p;
    size_t len;
    const char *what;
};

static size_t len_pool(void) { return (size_t)PICK(0, 1, 7, 16, 100, 4096, 4097, BUF, 1 << 20, -1); }

static struct span span(void)
{
    struct span s;
    size_t want = len_pool();
    switch (below(10)) {
    case 0: s.p = NULL; s.len = want; s.what = "NULL"; return s;
    case 1: s.p = (char *)KERNEL_ADDR; s.len = want; s.what = "kernel"; return s;
    case 2: s.p = hole; s.len = want; s.what = "unmapped"; return s;
    case 3: s.p = buf + 1 + below(64); s.what = "buf+odd"; break;
    default: s.p = buf; s.what = "buf"; break;
    }
    size_t room = (size_t)(buf + BUF - s.p);
    s.len = want > room ? room : want;
    return s;
}

static int64_t off_arg(void) { return PICK(0, 0, 1, 10, 4095, 4096, 100000, -1, INT64_MAX, INT64_MIN, 1LL << 40); }
static int flags_arg(void)
{
    static const int bits[] = {O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC, O_PATH,
                               O_NOCTTY, O_SYNC, O_DSYNC, O_NOATIME, 0x40000000};
    int f = (int)below(3);
    for (int i = 0; i < 3; i++)
        if (below(3) == 0)
            f |= bits[below(sizeof bits / sizeof bits[0])];
    if (below(16) == 0)
        f = (int)rnd();
    return f;
}

static unsigned checksum(const char *p, long n)
{
    unsigned h = 2166136261u;
    for (long i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static int seq;

/* Every call runs under a 100 ms one-shot timer whose handler has no
 * SA_RESTART: a call that blocks (an empty pipe, a conflicting flock, a
 * full pipe) ends with EINTR the same way on both sides. */
static volatile int guard_fired;
static void on_guard(int s) { (void)s; guard_fired = 1; }
static void guard(int on)
{
    struct itimerval it = {{0, 0}, {0, on ? 100000 : 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Prints "#n text: result". */
static void report(const char *text, long r, int e)
{
    if (r == -1)
        printf("#%d %s: -1 %s\n", seq, text, errname(e));
    else
        printf("#%d %s: %ld\n", seq, text, r);
}

static void show_stat(const char *text, long r, int e, struct stat *st)
{
    if (r != 0) {
        report(text, r, e);
        return;
    }
    printf("#%d %s: 0 type %o mode %o size %lld nlink %lu\n", seq, text, st->st_mode & S_IFMT, st->st_mode & 07777,
           (long long)st->st_size, (unsigned long)st->st_nlink);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void show_dirents(const char *text, long r, int e, const char *p)
{
    if (r <= 0) {
        report(text, r, e);
        return;
    }
    char *names[256];
    int n = 0;
    for (long at = 0; at < r && n < 256;) {
        struct linux_dirent64 {
            uint64_t d_ino;
            int64_t d_off;
            unsigned short d_reclen;
            unsigned char d_type;
            char d_name[];
        } *d = (void *)(p + at);
        names[n++] = d->d_name;
        if (!d->d_reclen)
            break;
        at += d->d_reclen;
    }
    qsort(names, n, sizeof names[0], cmp_names);
    printf("#%d %s: %d entries:", seq, text, n);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

static void one(void)
{
    char text[512];
    long r = 0;
    int e = 0;
    struct span s;
    const char *p, *q;
    int fd, fd2;
    int64_t off;
    seq++;
    errno = 0;
    switch (below(30)) {
    case 0:
    case 1: {
        p = path();
        int fl = flags_arg(), mode = (int)PICK(0600, 0755, 07777, 0);
        if (!strcmp(p, "p0"))
            fl |= O_NONBLOCK; /* a FIFO open without a partner would block */
        r = syscall(SYS_open, p, fl, mode);
        e = errno;
        snprintf(text, sizeof text, "open(%s, %#x, %o)", show_path(p), fl, mode);
        break;
    }
    case 2: {
        fd = below(2) ? AT_FDCWD : fd_arg();
        p = path();
        int fl = flags_arg() | (strcmp(p, "p0") ? 0 : O_NONBLOCK);
        r = syscall(SYS_openat, fd, p, fl, 0644);
        e = errno;
        snprintf(text, sizeof text, "openat(%d, %s, %#x)", fd, show_path(p), fl);
        break;
    }
    case 3:
        fd = fd_arg();
        r = syscall(SYS_close, fd);
        e = errno;
        snprintf(text, sizeof text, "close(%d)", fd);
        break;
    case 4:
        fd = fd_arg();
        if (below(2)) {
            r = syscall(SYS_dup, fd);
            snprintf(text, sizeof text, "dup(%d)", fd);
        } else {
            fd2 = (int)PICK(3, 4, 5, 6, 7, 8, 9, 10, -1, 1 << 20);
            int fl = (int)PICK(0, O_CLOEXEC, 1);
            r = syscall(SYS_dup3, fd, fd2, fl);
            snprintf(text, sizeof text, "dup3(%d, %d, %#x)", fd, fd2, fl);
        }
        e = errno;
        break;
    case 5:
    case 6:
        fd = fd_arg();
        s = span();
        r = syscall(SYS_read, fd, s.p, s.len);
        e = errno;
        snprintf(text, sizeof text, "read(%d, %s, %zu)", fd, s.what, s.len);
        if (r > 0 && s.p >= buf && s.p < buf + BUF) {
            report(text, r, e);
            printf("  data %08x\n", checksum(s.p, r));
            return;
        }
        break;
    case 7:
    case 8:
        fd = fd_arg();
        s = span();
        r = syscall(SYS_write, fd, s.p, s.len);
        e = errno;
        snprintf(text, sizeof text, "write(%d, %s, %zu)", fd, s.what, s.len);
        break;
    case 9:
        fd = fd_arg();
        s = span();
        off = off_arg();
        if (below(2)) {
            r = syscall(SYS_pread64, fd, s.p, s.len, off);
            snprintf(text, sizeof text, "pread(%d, %s, %zu, %lld)", fd, s.what, s.len, (long long)off);
        } else {
            r = syscall(SYS_pwrite64, fd, s.p, s.len, off);
            snprintf(text, sizeof text, "pwrite(%d, %s, %zu, %lld)", fd, s.what, s.len, (long long)off);
        }
        e = errno;
        break;
    case 10: {
        fd = fd_arg();
        off = off_arg();
        int wh = (int)PICK(0, 1, 2, 3, 4, 5, -1);
        r = syscall(SYS_lseek, fd, off, wh);
        e = errno;
        snprintf(text, sizeof text, "lseek(%d, %lld, %d)", fd, (long long)off, wh);
        break;
    }
    case 11: {
        int64_t len = PICK(0, 1, 100, 5000, 70000, -1);
        if (below(2)) {
            fd = fd_arg();
            r = syscall(SYS_ftruncate, fd, len);
            snprintf(text, sizeof text, "ftruncate(%d, %lld)", fd, (long long)len);
        } else {
            p = path();
            r = syscall(SYS_truncate, p, len);
            snprintf(text, sizeof text, "truncate(%s, %lld)", show_path(p), (long long)len);
        }
        e = errno;
        break;
    }
    case 12: {
        fd = fd_arg();
        int mode = (int)PICK(0, 1, 3, 0x10, 0x20, 2, 0x100);
        int64_t o = PICK(0, 1, 4096, -1, 100000), l = PICK(0, 1, 4096, 70000, -1);
        r = syscall(SYS_fallocate, fd, mode, o, l);
        e = errno;
        snprintf(text, sizeof text, "fallocate(%d, %#x, %lld, %lld)", fd, mode, (long long)o, (long long)l);
        break;
    }
    case 13:
        p = path();
        if (below(2)) {
            int mode = (int)PICK(0755, 0700, 07777, 0);
            r = syscall(SYS_mkdir, p, mode);
            snprintf(text, sizeof text, "mkdir(%s, %o)", show_path(p), mode);
        } else {
            r = syscall(SYS_rmdir, p);
            snprintf(text, sizeof text, "rmdir(%s)", show_path(p));
        }
        e = errno;
        break;
    case 14:
        p = path();
        r = syscall(SYS_unlink, p);
        e = errno;
        snprintf(text, sizeof text, "unlink(%s)", show_path(p));
        break;
    case 15: {
        p = path();
        q = path();
        int fl = (int)PICK(0, 0, 1 /* NOREPLACE */, 2 /* EXCHANGE */, 3, 8);
        r = syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q, fl);
        e = errno;
        snprintf(text, sizeof text, "renameat2(%s, %s, %#x)", show_path(p), show_path(q), fl);
        break;
    }
    case 16:
        p = path();
        q = path();
        if (below(2)) {
            r = syscall(SYS_link, p, q);
            snprintf(text, sizeof text, "link(%s, %s)", show_path(p), show_path(q));
        } else {
            r = syscall(SYS_symlink, p, q);
            snprintf(text, sizeof text, "symlink(%s, %s)", show_path(p), show_path(q));
        }
        e = errno;
        break;
    case 17:
        p = path();
        s = span();
        r = syscall(SYS_readlink, p, s.p, s.len);
        e = errno;
        snprintf(text, sizeof text, "readlink(%s, %s, %zu)", show_path(p), s.what, s.len);
        if (r > 0) {
            report(text, r, e);
            printf("  target %.*s\n", (int)r, s.p);
            return;
        }
        break;
    case 18: {
        int mode = (int)(below(2) ? PICK(0, 0644, 0755, 04755, 07777) : (int64_t)(rnd() & 0xffff));
        if (below(2)) {
            p = path();
            r = syscall(SYS_chmod, p, mode);
            snprintf(text, sizeof text, "chmod(%s, %o)", show_path(p), mode);
        } else {
            fd = fd_arg();
            r = syscall(SYS_fchmod, fd, mode);
            snprintf(text, sizeof text, "fchmod(%d, %o)", fd, mode);
        }
        e = errno;
        break;
    }
    case 19: {
        p = path();
        int mode = (int)PICK(F_OK, R_OK, W_OK, X_OK, R_OK | W_OK, 8, 0x10);
        int fl = (int)PICK(0, 0, AT_SYMLINK_NOFOLLOW, AT_EACCESS, 0x1);
        r = syscall(SYS_faccessat2, AT_FDCWD, p, mode, fl);
        e = errno;
        snprintf(text, sizeof text, "faccessat2(%s, %d, %#x)", show_path(p), mode, fl);
        break;
    }
    case 20:
    case 21: {
        struct stat st;
        int which = (int)below(3);
        if (which == 0) {
            fd = fd_arg();
            r = syscall(SYS_fstat, fd, &st);
            snprintf(text, sizeof text, "fstat(%d)", fd);
        } else {
            p = path();
            int fl = which == 1 ? 0 : (int)PICK(AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, 0x1);
            r = syscall(SYS_newfstatat, AT_FDCWD, p, &st, fl);
            snprintf(text, sizeof text, "newfstatat(%s, %#x)", show_path(p), fl);
        }
        e = errno;
        show_stat(text, r, e, &st);
        return;
    }
    case 22:
        fd = fd_arg();
        s = span();
        r = syscall(SYS_getdents64, fd, s.p, s.len);
        e = errno;
        snprintf(text, sizeof text, "getdents64(%d, %s, %zu)", fd, s.what, s.len);
        if (r > 0 && s.p >= buf && s.p < buf + BUF) {
            show_dirents(text, r, e, s.p);
            /* The entries hold inode numbers: put the buffer's usual bytes
             * back, so that nothing written from it later differs. */
            for (long i = 0; i < r; i++)
                s.p[i] = (char)((s.p - buf + i) * 7);
            return;
        }
        break;
    case 23: {
        fd = fd_arg();
        int cmd = (int)PICK(F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD, F_DUPFD_CLOEXEC, F_GETLK, 9999);
        long arg = (long)PICK(0, 1, O_APPEND, O_NONBLOCK, O_APPEND | O_NONBLOCK, 5, -1);
        if (cmd == F_GETLK) {
            struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
            r = syscall(SYS_fcntl, fd, cmd, &fl);
        } else {
            r = syscall(SYS_fcntl, fd, cmd, arg);
        }
        e = errno;
        snprintf(text, sizeof text, "fcntl(%d, %d, %ld)", fd, cmd, arg);
        if (cmd == F_GETFL && r >= 0)
            r &= ~0x8000; /* O_LARGEFILE is an implementation detail */
        break;
    }
    case 24: {
        int fl = (int)PICK(0, O_CLOEXEC, O_NONBLOCK, O_DIRECT, 1);
        int pfd[2] = {-1, -1};
        r = syscall(SYS_pipe2, pfd, fl);
        e = errno;
        snprintf(text, sizeof text, "pipe2(%#x)", fl);
        if (r == 0) {
            printf("#%d %s: 0 fds %d %d\n", seq, text, pfd[0], pfd[1]);
            return;
        }
        break;
    }
    case 25: {
        struct pollfd pf[3];
        for (int i = 0; i < 3; i++) {
            pf[i].fd = fd_arg();
            pf[i].events = (short)PICK(POLLIN, POLLOUT, POLLIN | POLLOUT, 0, 0x7fff);
            pf[i].revents = 0;
        }
        r = syscall(SYS_poll, pf, 3, 0);
        e = errno;
        snprintf(text, sizeof text, "poll(%d/%#x %d/%#x %d/%#x, 0)", pf[0].fd, pf[0].events, pf[1].fd, pf[1].events, pf[2].fd,
                 pf[2].events);
        if (r >= 0) {
            printf("#%d %s: %ld revents %#x %#x %#x\n", seq, text, r, pf[0].revents, pf[1].revents, pf[2].revents);
            return;
        }
        break;
    }
    case 26: {
        int slot = (int)below(8);
        size_t len = (size_t)PICK(0, 1, 4096, 8192, 65536, -1);
        int prot = (int)PICK(PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_EXEC, 0x10);
        int fl = (int)PICK(MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, 0, MAP_ANONYMOUS);
        fd = (fl & MAP_ANONYMOUS) && below(2) ? -1 : fd_arg();
        off = PICK(0, 0, 4096, 1, -4096);
        void *a = (void *)syscall(SYS_mmap, 0, len, prot, fl, fd, off);
        e = errno;
        snprintf(text, sizeof text, "mmap(%zu, %#x, %#x, %d, %lld)", len, prot, fl, fd, (long long)off);
        if (a != MAP_FAILED) {
            if (maps[slot])
                munmap(maps[slot], map_len[slot]);
            maps[slot] = a;
            map_len[slot] = len;
            printf("#%d %s: an address\n", seq, text);
            return;
        }
        r = -1;
        break;
    }
    case 27: {
        /* All arguments are drawn before the slot is looked at, so that
         * the PRNG stays in step whatever earlier calls returned. */
        int slot = (int)below(8);
        size_t at = (size_t)PICK(0, 0, 1, 4096), len = (size_t)PICK(0, 4096, 8192, 1 << 20, -1);
        int which = (int)below(3);
        int prot = (int)PICK(PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE);
        int adv = (int)PICK(MADV_DONTNEED, MADV_NORMAL, MADV_WILLNEED, MADV_FREE, 9999);
        if (!maps[slot]) {
            printf("#%d no map%d\n", seq, slot);
            return;
        }
        if (which == 0) {
            r = syscall(SYS_munmap, maps[slot] + at, len);
            snprintf(text, sizeof text, "munmap(map%d+%zu, %zu)", slot, at, len);
            if (r == 0 && at == 0 && len >= map_len[slot])
                maps[slot] = NULL;
        } else if (which == 1) {
            r = syscall(SYS_mprotect, maps[slot] + at, len, prot);
            snprintf(text, sizeof text, "mprotect(map%d+%zu, %zu, %#x)", slot, at, len, prot);
        } else {
            r = syscall(SYS_madvise, maps[slot] + at, len, adv);
            snprintf(text, sizeof text, "madvise(map%d+%zu, %zu, %d)", slot, at, len, adv);
        }
        e = errno;
        break;
    }
    case 28: {
        /* Touch a mapping from user space: read or write its first byte. */
        int slot = (int)below(8);
        int write_it = (int)below(2);
        if (!maps[slot] || !map_len[slot]) {
            printf("#%d no map%d\n", seq, slot);
            return;
        }
        int sig = sigsetjmp(fault_env, 1);
        if (sig) {
            printf("#%d %s map%d: %s\n", seq, write_it ? "store to" : "load from", slot, signame(sig));
            return;
        }
        volatile char *c = maps[slot];
        if (write_it)
            *c = 'w';
        int v = *c;
        printf("#%d %s map%d: ok, byte %d\n", seq, write_it ? "store to" : "load from", slot, v);
        return;
    }
    default: {
        fd = fd_arg();
        int op = (int)PICK(LOCK_SH, LOCK_EX, LOCK_UN, LOCK_SH | LOCK_NB, LOCK_EX | LOCK_NB, 0, 7, 99);
        r = syscall(SYS_flock, fd, op);
        e = errno;
        snprintf(text, sizeof text, "flock(%d, %d)", fd, op);
        break;
    }
    }
    report(text, r, e);
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)f;
    if (type == FTW_DP)
        return rmdir(p);
    return unlink(p);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: diff_fuzz SEED CALLS\n");
        return 2;
    }
    rng = strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
    long calls = strtol(argv[2], NULL, 0);
    reset_signals();
    no_core_dumps();
    memset(long_name, 'n', sizeof long_name - 1);
    static char dir[] = "/dev/shm/vk-diff-fuzz-XXXXXX";
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", errname(errno));
        return 1;
    }
    /* The calls run in a child: its cwd is the directory, and whatever it
     * does to its own signal state or memory ends with it. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        if (chdir(dir) < 0)
            _exit(3);
        buf = mmap(NULL, BUF + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        hole = buf + BUF;
        munmap(hole, 4096);
        for (int i = 0; i < BUF; i++)
            buf[i] = (char)(i * 7);
        set_handler(SIGSEGV, on_fault, SA_NODEFER);
        set_handler(SIGBUS, on_fault, SA_NODEFER);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGXFSZ, SIG_IGN);
        close(open("f0", O_CREAT | O_WRONLY, 0644));
        int f1 = open("f1", O_CREAT | O_WRONLY, 0644);
        write(f1, "hello, world\n", 13);
        close(f1);
        mkdir("d0", 0755);
        mkdir("d1", 0755);
        close(open("d0/f", O_CREAT | O_WRONLY, 0644));
        symlink("f1", "l0");
        symlink("nowhere", "l1");
        mkfifo("p0", 0644);
        /* fds 3..: f0, f1, d0, a pipe */
        open("f0", O_RDWR);
        open("f1", O_RDONLY);
        open("d0", O_RDONLY | O_DIRECTORY);
        int pp[2];
        pipe(pp);
        set_handler(SIGALRM, on_guard, 0);
        for (long i = 0; i < calls; i++) {
            guard(1);
            one();
            guard(0);
            fflush(stdout);
        }
        _exit(0);
    }
    int st = wait_status(c, 0);
    printf("calls done: %s\n", status_str(st));
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
