/* A filesystem workload, run natively in a scratch directory and under
 * vkernel on a disk image: untar a tree of 1,000+ files (busybox tar),
 * rename storms (with replacement and RENAME_EXCHANGE), hard links, fast
 * and slow symlinks, sparse files and one past 4 GiB, deep directories,
 * deleting half of the tree, truncation, FIFOs and xattrs. Prints what
 * each step returned and then the manifest of the whole tree.
 *
 * usage: disk_workload BASE TARBALL */
#include "disk_tree.h"
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif

static int failures;

static void step(const char *what, long r)
{
    if (r < 0) {
        printf("%s: %s\n", what, strerror(errno));
        failures++;
    }
}

static void write_file(const char *path, const unsigned char *data, size_t n, mode_t mode)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerror(errno));
        failures++;
        return;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0) {
            printf("write %s: %s\n", path, strerror(errno));
            failures++;
            break;
        }
        done += (size_t)w;
    }
    close(fd);
}

static void run_tar(const char *tarball, const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/busybox", "tar", "-x", "-p", "-f", tarball, "-C", dir, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("tar: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Removes every other entry below `dir` (files only), in sorted order. */
static int delete_half(const char *dir, int *counter)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int removed = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            removed += delete_half(path, counter);
        } else if ((*counter)++ % 2 == 0) {
            step("unlink", unlink(path));
            removed++;
        }
        free(names[i]);
    }
    return removed;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: disk_workload BASE TARBALL\n");
        return 2;
    }
    umask(022);
    const char *base = argv[1];
    char p[4096], q[4096];
    static unsigned char data[1 << 20];

    /* 1. Untar the tree, then delete half of it. */
    snprintf(p, sizeof p, "%s/untar", base);
    step("mkdir untar", mkdir(p, 0755));
    run_tar(argv[2], p);
    int counter = 0;
    printf("deleted: %d\n", delete_half(p, &counter));

    /* 2. A rename storm: 200 files through four directories, replacing
     * names that exist, then exchanging pairs. */
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/storm%d", base, i);
        step("mkdir storm", mkdir(p, 0755));
    }
    for (int i = 0; i < 200; i++) {
        fill(data, 100 + i * 37, i);
        snprintf(p, sizeof p, "%s/storm0/f%03d", base, i);
        write_file(p, data, 100 + i * 37, 0644);
    }
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 200; i++) {
            snprintf(p, sizeof p, "%s/storm%d/f%03d", base, round % 4, i);
            /* Every third file lands on another file's name (replacing it). */
            int to = (i % 3 == 0) ? (i + 1) % 200 : i;
            snprintf(q, sizeof q, "%s/storm%d/f%03d", base, (round + 1) % 4, to);
            if (rename(p, q) != 0 && errno != ENOENT) {
                step("rename", -1);
            }
        }
    }
    for (int i = 0; i < 200; i += 2) {
        snprintf(p, sizeof p, "%s/storm2/f%03d", base, i);
        snprintf(q, sizeof q, "%s/storm2/f%03d", base, i + 1);
        long r = syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q, RENAME_EXCHANGE);
        if (r != 0 && errno != ENOENT) {
            step("renameat2 exchange", r);
        }
    }

    /* 3. Hard links: three names, the first removed. */
    snprintf(p, sizeof p, "%s/links", base);
    step("mkdir links", mkdir(p, 0755));
    for (int i = 0; i < 20; i++) {
        fill(data, 5000, 1000 + i);
        snprintf(p, sizeof p, "%s/links/a%02d", base, i);
        write_file(p, data, 5000, 0640);
        snprintf(q, sizeof q, "%s/links/b%02d", base, i);
        step("link", link(p, q));
        snprintf(q, sizeof q, "%s/links/c%02d", base, i);
        step("link", link(p, q));
        if (i % 2) {
            step("unlink", unlink(p));
        }
    }

    /* 4. Fast and slow symlinks. */
    snprintf(p, sizeof p, "%s/links/fast", base);
    step("symlink fast", symlink("a01/../short-target", p));
    char longer[300];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    memcpy(longer, "slow-", 5);
    snprintf(p, sizeof p, "%s/links/slow", base);
    step("symlink slow", symlink(longer, p));

    /* 5. Sparse files: holes between pieces, and one past 4 GiB. */
    snprintf(p, sizeof p, "%s/sparse", base);
    int fd = open(p, O_CREAT | O_RDWR, 0600);
    step("open sparse", fd);
    fill(data, 8192, 77);
    step("pwrite", pwrite(fd, data, 8192, 0));
    step("pwrite", pwrite(fd, data, 3000, 1 << 20));
    step("pwrite", pwrite(fd, data, 100, (5LL << 30) + 12345));
    close(fd);

    /* 6. Deep directories. */
    snprintf(p, sizeof p, "%s/deep", base);
    for (int level = 0; level < 30; level++) {
        step("mkdir deep", mkdir(p, 0755));
        strcat(p, "/d");
    }
    strcat(p, "ile");
    write_file(p, (const unsigned char *)"at the bottom\n", 14, 0644);

    /* 7. Truncation: down into a page, up past the end, to zero. */
    snprintf(p, sizeof p, "%s/trunc", base);
    step("mkdir trunc", mkdir(p, 0755));
    for (int i = 0; i < 6; i++) {
        fill(data, 300000, 500 + i);
        snprintf(q, sizeof q, "%s/trunc/t%d", base, i);
        write_file(q, data, 300000, 0644);
        off_t sizes[6] = {0, 1, 4095, 4097, 123457, 1000000};
        step("truncate", truncate(q, sizes[i]));
    }
    /* Shrink and rewrite the tail: the old bytes must not come back. */
    snprintf(q, sizeof q, "%s/trunc/t5", base);
    step("truncate", truncate(q, 5000));
    step("truncate", truncate(q, 9000));

    /* 8. FIFOs. */
    snprintf(p, sizeof p, "%s/fifo", base);
    step("mkfifo", mkfifo(p, 0620));

    /* 9. Extended attributes, in the inode and spilling to a block. */
    snprintf(p, sizeof p, "%s/links/b00", base);
    step("setxattr", setxattr(p, "user.small", "v", 1, 0));
    /* (Small enough for one 1 KiB xattr block: Linux says ENOSPC past it.) */
    char value[120];
    for (int i = 0; i < 5; i++) {
        char name[32];
        memset(value, 'a' + i, sizeof value);
        snprintf(name, sizeof name, "user.big%02d", i);
        step("setxattr", setxattr(p, name, value, sizeof value, 0));
    }
    step("removexattr", removexattr(p, "user.big03"));
    snprintf(p, sizeof p, "%s/storm1", base);
    step("setxattr dir", setxattr(p, "user.dir", "dv", 2, 0));

    sync();
    printf("step failures: %d\n", failures);
    manifest(base, ".");
    fflush(stdout);
    return failures ? 1 : 0;
}
