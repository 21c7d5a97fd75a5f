/* /proc/self/maps for MAP_SHARED mappings: a file's mapping shows the
 * file's path, device and inode (" (deleted)" once unlinked); anonymous
 * shared memory shows "/dev/zero (deleted)".
 * usage: maps_shared DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Prints what maps says about the mapping at `addr`, compared with `path`
 * and the file's identity. */
static void show(const char *what, void *addr, const char *path, const struct stat *st)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[8192];
    unsigned long want = (unsigned long)addr;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        char perms[8];
        unsigned maj, min;
        unsigned long ino;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms, &off, &maj, &min, &ino, &name_at) < 7 || start != want)
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = 0;
        printf("%s: %s offset %lx pages %lu", what, perms, off, (end - start) / 4096);
        if (path)
            printf(" name %s", !strcmp(name, path) ? "is the file's path" : name);
        else
            printf(" name %s", name);
        if (st)
            printf(" dev:ino %s", makedev(maj, min) == st->st_dev && ino == st->st_ino ? "are the file's" : "differ");
        printf("\n");
    }
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: maps_shared DIR\n");
        return 2;
    }
    char dir[4096], path[4200], deleted[4300];
    if (!realpath(argv[1], dir)) {
        perror("realpath");
        return 1;
    }
    snprintf(path, sizeof path, "%s/mapped", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0 || ftruncate(fd, 3 * 4096) != 0) {
        perror("create");
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    char *rw = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    char *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rw == MAP_FAILED || ro == MAP_FAILED || anon == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    rw[0] = 1;
    show("shared read-write", rw, path, &st);
    show("shared read-only", ro, path, &st);
    show("shared anonymous", anon, NULL, NULL);
    unlink(path);
    snprintf(deleted, sizeof deleted, "%s (deleted)", path);
    show("unlinked", rw, deleted, &st);
    return 0;
}
