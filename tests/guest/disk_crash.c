/* The guest side of the crash test.
 *
 * disk_crash write DIR: forever, write numbered files the durable way
 * (write "tmp", fsync it, rename it to fNNNNNN, fsync the directory) and
 * report "done N" on stdout once each is durable; meanwhile leave other
 * work in flight (unsynced files, an unlinked file held open) so a crash
 * finds dirty pages and orphans too.
 *
 * disk_crash check DIR LAST: every fNNNNNN with N <= LAST must be there,
 * and every fNNNNNN there must be complete. Prints what is wrong. */
#include "disk_tree.h"

static size_t size_of(long i)
{
    return 1000 + (size_t)(i * 7919) % 24000;
}

static int write_file(const char *path, const unsigned char *buf, size_t n, int sync)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done > 4096 ? 4096 : n - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    if (sync && fsync(fd) != 0) {
        close(fd);
        return -1;
    }
    return close(fd);
}

static int writer(const char *dir)
{
    static unsigned char buf[61000];
    char tmp[4096], name[4096], junk[4096];
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    int held = -1;
    /* Numbering goes on from the files earlier runs left. */
    long first = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        long k;
        if (sscanf(e->d_name, "f%ld", &k) == 1 && k + 1 > first) {
            first = k + 1;
        }
    }
    if (d) {
        closedir(d);
    }
    for (long i = first;; i++) {
        size_t n = size_of(i);
        fill(buf, n, (uint64_t)i);
        snprintf(tmp, sizeof tmp, "%s/tmp", dir);
        snprintf(name, sizeof name, "%s/f%06ld", dir, i);
        if (write_file(tmp, buf, n, 1) != 0 || rename(tmp, name) != 0 || fsync(dfd) != 0) {
            printf("writer: %s\n", strerror(errno));
            return 1;
        }
        char line[64];
        int len = snprintf(line, sizeof line, "done %ld\n", i);
        if (write(1, line, (size_t)len) != len) {
            return 1;
        }
        /* Work in flight: unsynced junk, replaced now and then, and an
         * unlinked file kept open (an orphan). */
        snprintf(junk, sizeof junk, "%s/junk%ld", dir, i % 7);
        write_file(junk, buf, n / 2, 0);
        if (i % 5 == 0) {
            if (held >= 0) {
                close(held);
            }
            held = open(junk, O_RDWR);
            unlink(junk);
        }
    }
}

static int check(const char *dir, long last)
{
    static unsigned char want[61000], got[61000];
    int bad = 0;
    long present = 0;
    for (long i = 0; i <= last + 1000; i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s/f%06ld", dir, i);
        int fd = open(name, O_RDONLY);
        if (fd < 0) {
            if (i <= last) {
                printf("missing f%06ld (its fsync had returned)\n", i);
                bad++;
            }
            continue;
        }
        present++;
        size_t n = size_of(i);
        fill(want, n, (uint64_t)i);
        ssize_t r = pread(fd, got, sizeof got, 0);
        close(fd);
        if (r != (ssize_t)n || memcmp(want, got, n) != 0) {
            printf("f%06ld is not complete: %zd bytes, want %zu\n", i, r, n);
            bad++;
        }
    }
    printf("checked %ld files, %d bad\n", present, bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "write")) {
        return writer(argv[2]);
    }
    if (argc == 4 && !strcmp(argv[1], "check")) {
        return check(argv[2], atol(argv[3]));
    }
    fprintf(stderr, "usage: disk_crash write DIR | disk_crash check DIR LAST\n");
    return 2;
}
