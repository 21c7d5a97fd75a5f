/* Model-based filesystem test: a seeded random sequence of operations
 * (create, write, append, truncate, punch, mkdir, rmdir, unlink, rename,
 * link, symlink, xattrs, fsync, writes through a shared mapping, reads)
 * on the tree under BASE, each printed with its result, then the
 * manifest. Targets are picked from sorted directory listings, so two runs
 * on equal trees make the same choices: natively on a host directory and
 * under vkernel on an image, the outputs must be identical.
 *
 * usage: disk_model SEED OPS BASE */
#include "disk_tree.h"
#include <sys/mman.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
    return n ? next() % n : 0;
}

static void result(long r)
{
    if (r < 0) {
        printf(" -> %s\n", strerror(errno));
    } else {
        printf(" -> %ld\n", r);
    }
}

/* Sorted names in `dir`; `want_dirs`: 1 only directories, 0 anything. */
static int list(const char *dir, char names[][256], int max, int want_dirs)
{
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        if (want_dirs) {
            char p[4096];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
                continue;
            }
        }
        snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

static char names[512][256];

/* A random directory: descend from `base` while a coin says so. */
static void pick_dir(const char *base, char *out)
{
    strcpy(out, base);
    for (int depth = 0; depth < 8 && below(3) != 0; depth++) {
        int n = list(out, names, 512, 1);
        if (n == 0) {
            break;
        }
        strcat(out, "/");
        strcat(out, names[below(n)]);
    }
}

/* A random existing entry (or a fresh name when `fresh` or none exist). */
static void pick_entry(const char *base, char *out, int fresh)
{
    char dir[4096];
    pick_dir(base, dir);
    int n = list(dir, names, 512, 0);
    if (fresh || n == 0) {
        snprintf(out, 4096, "%s/n%03d", dir, (int)below(1000));
    } else {
        snprintf(out, 4096, "%s/%s", dir, names[below(n)]);
    }
}

/* Mostly an existing non-directory (what data operations want). */
static void pick_file(const char *base, char *out)
{
    char dir[4096];
    pick_dir(base, dir);
    int n = list(dir, names, 512, 0), files = 0;
    static char found[512][256];
    for (int i = 0; i < n; i++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode)) {
            strcpy(found[files++], names[i]);
        }
    }
    if (files == 0 || below(10) == 0) {
        pick_entry(base, out, 0);
    } else {
        snprintf(out, 4096, "%s/%s", dir, found[below(files)]);
    }
}

static const char *shown(const char *path, const char *base)
{
    return path + strlen(base);
}

static unsigned char buf[1 << 18];

static void random_bytes(size_t n)
{
    uint64_t x = next();
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

static long write_all(int fd, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        size_t chunk = 1 + below(n - done);
        ssize_t w = pwrite(fd, buf + done, chunk, off + (off_t)done);
        if (w < 0) {
            return -1;
        }
        done += (size_t)w;
    }
    return (long)done;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: disk_model SEED OPS BASE\n");
        return 2;
    }
    rng = strtoull(argv[1], 0, 10) * 0x9E3779B97F4A7C15ULL + 7;
    int ops = atoi(argv[2]);
    const char *base = argv[3];
    umask(022);
    char p[4096], q[4096];
    for (int op = 0; op < ops; op++) {
        int kind = (int)below(100);
        printf("%d ", op);
        if (kind < 14) {
            pick_entry(base, p, 1);
            size_t n = below(sizeof buf);
            random_bytes(n);
            printf("create %s %zu", shown(p, base), n);
            int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0600 | (below(2) ? 044 : 0));
            if (fd < 0) {
                result(-1);
                continue;
            }
            result(write_all(fd, n, 0));
            close(fd);
        } else if (kind < 26) {
            pick_file(base, p);
            size_t n = below(65536);
            off_t off = (off_t)below(1 << 20);
            random_bytes(n);
            printf("write %s %zu@%lld", shown(p, base), n, (long long)off);
            int fd = open(p, O_WRONLY | O_NOFOLLOW);
            if (fd < 0) {
                result(-1);
                continue;
            }
            result(write_all(fd, n, off));
            close(fd);
        } else if (kind < 31) {
            pick_file(base, p);
            size_t n = below(20000);
            random_bytes(n);
            printf("append %s %zu", shown(p, base), n);
            int fd = open(p, O_WRONLY | O_APPEND | O_NOFOLLOW);
            if (fd < 0) {
                result(-1);
                continue;
            }
            result(write(fd, buf, n));
            close(fd);
        } else if (kind < 37) {
            pick_file(base, p);
            off_t size = (off_t)below(300000);
            printf("truncate %s %lld", shown(p, base), (long long)size);
            result(truncate(p, size));
        } else if (kind < 40) {
            pick_file(base, p);
            off_t off = (off_t)below(200000), len = (off_t)below(100000) + 1;
            printf("punch %s %lld+%lld", shown(p, base), (long long)off, (long long)len);
            int fd = open(p, O_WRONLY | O_NOFOLLOW);
            if (fd < 0) {
                result(-1);
                continue;
            }
            result(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len));
            close(fd);
        } else if (kind < 50) {
            pick_entry(base, p, 1);
            printf("mkdir %s", shown(p, base));
            result(mkdir(p, below(2) ? 0755 : 0700));
        } else if (kind < 54) {
            pick_entry(base, p, 0);
            printf("rmdir %s", shown(p, base));
            result(rmdir(p));
        } else if (kind < 62) {
            pick_entry(base, p, 0);
            printf("unlink %s", shown(p, base));
            result(unlink(p));
        } else if (kind < 74) {
            pick_entry(base, p, 0);
            pick_entry(base, q, below(3) == 0 ? 0 : 1);
            printf("rename %s %s", shown(p, base), shown(q, base));
            result(rename(p, q));
        } else if (kind < 79) {
            pick_file(base, p);
            pick_entry(base, q, 1);
            printf("link %s %s", shown(p, base), shown(q, base));
            result(link(p, q));
        } else if (kind < 84) {
            pick_entry(base, p, 1);
            char target[200];
            size_t len = below(2) ? 1 + below(40) : 61 + below(130);
            for (size_t i = 0; i < len; i++) {
                target[i] = "abcdefgh/."[below(10)];
            }
            target[len] = 0;
            if (target[0] == '/') {
                /* Relative only: an absolute target would name host files natively. */
                target[0] = 'a';
            }
            printf("symlink %s %zu", shown(p, base), len);
            result(symlink(target, p));
        } else if (kind < 88) {
            pick_file(base, p);
            char name[32], value[64];
            snprintf(name, sizeof name, "user.k%d", (int)below(4));
            size_t vlen = below(sizeof value);
            memset(value, 'A' + (int)below(26), vlen);
            printf("setxattr %s %s %zu", shown(p, base), name, vlen);
            result(lsetxattr(p, name, value, vlen, 0));
        } else if (kind < 91) {
            pick_file(base, p);
            printf("fsync %s", shown(p, base));
            int fd = open(p, O_RDONLY | O_NOFOLLOW);
            if (fd < 0) {
                result(-1);
                continue;
            }
            result(fsync(fd));
            close(fd);
        } else if (kind < 96) {
            pick_file(base, p);
            printf("mmap-write %s", shown(p, base));
            int fd = open(p, O_RDWR | O_NOFOLLOW);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) != 0) {
                result(-1);
                if (fd >= 0) {
                    close(fd);
                }
                continue;
            }
            if (!S_ISREG(st.st_mode) || st.st_size == 0) {
                printf(" (empty)");
                result(0);
                close(fd);
                continue;
            }
            unsigned char *m = mmap(0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (m == MAP_FAILED) {
                result(-1);
                close(fd);
                continue;
            }
            off_t at = (off_t)below(st.st_size);
            size_t n = below(st.st_size - at) + 1;
            if (n > sizeof buf) {
                n = sizeof buf;
            }
            random_bytes(n);
            memcpy(m + at, buf, n);
            printf(" %zu@%lld", n, (long long)at);
            result(below(2) ? msync(m, st.st_size, MS_SYNC) : 0);
            munmap(m, st.st_size);
            close(fd);
        } else {
            pick_file(base, p);
            struct stat st;
            printf("read %s", shown(p, base));
            if (lstat(p, &st) != 0) {
                result(-1);
            } else if (S_ISREG(st.st_mode)) {
                printf(" %lld %016llx\n", (long long)st.st_size, (unsigned long long)hash_file(p, st.st_size));
            } else {
                printf(" not a file\n");
            }
        }
    }
    manifest(base, ".");
    fflush(stdout);
    return 0;
}
