/* A manifest of a directory tree, the same natively and under vkernel:
 * one line per entry, in sorted order, with type, permission bits, link
 * count, size and a checksum of the contents (files), the target
 * (symlinks) and the extended attributes. Directory sizes and times are
 * left out: they are the filesystem's business. Files past 16 MiB are
 * checksummed in windows (a sparse file of gigabytes stays fast). */
#ifndef VK_DISK_TREE_H
#define VK_DISK_TREE_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_range(int fd, off_t off, off_t len, uint64_t h)
{
    static unsigned char buf[65536];
    while (len > 0) {
        size_t want = len < (off_t)sizeof buf ? (size_t)len : sizeof buf;
        ssize_t n = pread(fd, buf, want, off);
        if (n <= 0) {
            return h ^ 0xdead;
        }
        h = fnv(h, buf, (size_t)n);
        off += n;
        len -= n;
    }
    return h;
}

static uint64_t hash_file(const char *path, off_t size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) {
        return 0;
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    const off_t big = 16 << 20, window = 65536;
    if (size <= big) {
        h = hash_range(fd, 0, size, h);
    } else {
        for (int k = 0; k <= 16; k++) {
            off_t at = (size / 16) * k;
            if (at + window > size) {
                at = size - window;
            }
            h = hash_range(fd, at, window, h);
        }
    }
    close(fd);
    return h;
}

static void print_xattrs(const char *path)
{
    char names[4096];
    ssize_t n = llistxattr(path, names, sizeof names);
    if (n <= 0) {
        return;
    }
    /* Sorted: names come in the filesystem's order. */
    const char *list[64];
    int count = 0;
    for (char *p = names; p < names + n && count < 64; p += strlen(p) + 1) {
        list[count++] = p;
    }
    for (int i = 1; i < count; i++) {
        for (int j = i; j > 0 && strcmp(list[j - 1], list[j]) > 0; j--) {
            const char *t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    }
    for (int i = 0; i < count; i++) {
        unsigned char v[256];
        ssize_t vn = lgetxattr(path, list[i], v, sizeof v);
        printf(" %s=", list[i]);
        for (ssize_t k = 0; k < vn; k++) {
            printf("%02x", v[k]);
        }
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints `dir` (shown as `shown`) and everything below it. */
static void manifest(const char *dir, const char *shown)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: opendir %s\n", shown, strerror(errno));
        return;
    }
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "lost+found")) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096], sub[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(sub, sizeof sub, "%s/%s", shown, names[i]);
        struct stat st;
        if (lstat(path, &st) != 0) {
            printf("%s lstat %s\n", sub, strerror(errno));
            continue;
        }
        unsigned mode = st.st_mode & 07777;
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
            printf("%s d %04o %lu", sub, mode, (unsigned long)st.st_nlink);
            break;
        case S_IFREG:
            printf("%s f %04o %lu %lld %016llx", sub, mode, (unsigned long)st.st_nlink, (long long)st.st_size,
                   (unsigned long long)hash_file(path, st.st_size));
            break;
        case S_IFLNK: {
            char target[4096];
            ssize_t len = readlink(path, target, sizeof target - 1);
            target[len < 0 ? 0 : len] = 0;
            printf("%s l %lu %lld %s", sub, (unsigned long)st.st_nlink, (long long)st.st_size, target);
            break;
        }
        case S_IFIFO:
            printf("%s p %04o %lu", sub, mode, (unsigned long)st.st_nlink);
            break;
        case S_IFSOCK:
            printf("%s s %04o %lu", sub, mode, (unsigned long)st.st_nlink);
            break;
        default:
            printf("%s ? %o", sub, st.st_mode);
        }
        print_xattrs(path);
        printf("\n");
        if (S_ISDIR(st.st_mode)) {
            manifest(path, sub);
        }
        free(names[i]);
    }
    free(names);
}

/* Deterministic data for file number `k`. */
static void fill(unsigned char *buf, size_t n, uint64_t k)
{
    uint64_t x = k * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

#endif
