/* Changes to a tree as a program sees them: writes, deletes, renames of
 * files and directories, hard links, chmod and times, directory
 * replacement, xattrs, and directory listings changed while they are
 * read. Run natively on a scratch copy of a fixture tree, and under
 * vkernel on the fixture itself, where every change goes to the overlay's
 * upper layer (tests/overlay.rs checks the fixture is unchanged).
 *
 * usage: overlay_ops DIR   (the fixture tree tests/overlay.rs builds) */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static void cat(const char *label, const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: open -1 %s\n", label, errname(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    printf("%s: \"", label);
    for (char *p = buf; *p; p++)
        printf(*p == '\n' ? "\\n" : "%c", *p);
    printf("\"\n");
}

static void put(const char *path, const char *text, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0) {
        printf("put %s: -1 %s\n", path, errname(errno));
        vk_failures++;
        return;
    }
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        vk_failures++;
    close(fd);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, "." and ".." aside. */
static void list(const char *label, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("%s: opendir -1 %s\n", label, errname(errno));
        return;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    printf("%s:", label);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static uint64_t hash_file(const char *path, off_t *size)
{
    uint64_t h = 1469598103934665603ull;
    char buf[65536];
    *size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
        *size += n;
    }
    close(fd);
    return h;
}

/* Every object below `path`: type, mode, size, owner, data hash, link target. */
static void tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (!d || depth > 8)
        return;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
        struct stat st;
        if (lstat(sub, &st) < 0) {
            printf("  %s: lstat -1 %s\n", sub, errname(errno));
        } else if (S_ISDIR(st.st_mode)) {
            printf("  %s/ %04o %u:%u\n", sub, st.st_mode & 07777, st.st_uid, st.st_gid);
            tree(sub, depth + 1);
        } else if (S_ISLNK(st.st_mode)) {
            char target[256] = {0};
            readlink(sub, target, sizeof target - 1);
            printf("  %s -> %s\n", sub, target);
        } else {
            off_t size;
            uint64_t h = hash_file(sub, &size);
            printf("  %s %04o %u:%u size %lld read %lld hash %016llx\n", sub, st.st_mode & 07777, st.st_uid, st.st_gid, (long long)st.st_size,
                   (long long)size, (unsigned long long)h);
        }
        free(names[i]);
    }
}

static ino_t ino_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* Walks `dir` with small getdents64 calls, doing `what` to each entry
 * between calls ('c': chmod, which copies it up; 'u': unlink), and
 * reports how many entries it saw and whether any showed twice. */
static void walk_while_changing(const char *dir, char what)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        printf("walk %s: -1 %s\n", dir, errname(errno));
        vk_failures++;
        return;
    }
    char buf[200];
    char seen[128][64];
    int count = 0, twice = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *de = (void *)(buf + off);
            for (int i = 0; i < count && i < 128; i++)
                if (!strcmp(seen[i], de->name))
                    twice++;
            if (count < 128)
                snprintf(seen[count], sizeof seen[count], "%s", de->name);
            count++;
            if (strcmp(de->name, ".") && strcmp(de->name, "..")) {
                if (what == 'c' && fchmodat(fd, de->name, 0600, 0) < 0)
                    vk_failures++;
                if (what == 'u' && unlinkat(fd, de->name, 0) < 0)
                    vk_failures++;
            }
            off += de->reclen;
        }
    }
    close(fd);
    printf("walk %s doing %c: %d entries, %d twice\n", dir, what, count, twice);
    if (twice)
        vk_failures++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: overlay_ops DIR\n");
        return 2;
    }
    if (chdir(argv[1]) < 0) {
        perror("chdir");
        return 2;
    }
    umask(022);
    struct stat st, st2;

    /* Writing copies up; a reader opened before sees the new data. */
    put("etc/passwd", "guest:x:1000:1000::/home/guest:/bin/sh\n", O_APPEND);
    cat("appended passwd", "etc/passwd");
    int ro = open("etc/hosts", O_RDONLY);
    int rw = open("etc/hosts", O_RDWR);
    EXPECT_EQ("pwrite hosts", pwrite(rw, "::1", 3, 0), 3);
    char buf[64] = {0};
    EXPECT_EQ("pread through the earlier read-only fd", pread(ro, buf, 9, 0), 9);
    printf("it reads: %s\n", buf);
    close(ro);
    close(rw);

    /* chmod keeps the inode number, data and mtime. */
    ino_t ino = ino_of("usr/bin/tool");
    lstat("usr/bin/tool", &st);
    EXPECT_OK("chmod tool 0700", chmod("usr/bin/tool", 0700));
    lstat("usr/bin/tool", &st2);
    printf("tool mode %04o\n", st2.st_mode & 07777);
    CHECK("tool keeps its inode number", ino_of("usr/bin/tool") == ino);
    CHECK("tool keeps its mtime", st.st_mtim.tv_sec == st2.st_mtim.tv_sec && st.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
    cat("tool", "usr/bin/tool");
    EXPECT_OK("chown passwd 1:2", chown("etc/passwd", 1, 2));
    lstat("etc/passwd", &st);
    printf("passwd owner %u:%u\n", st.st_uid, st.st_gid);
    struct timespec times[2] = {{1000000000, 5}, {1200000000, 7}};
    EXPECT_OK("utimensat COPYING", utimensat(AT_FDCWD, "usr/share/doc/pkg/COPYING", times, 0));
    lstat("usr/share/doc/pkg/COPYING", &st);
    printf("COPYING times %lld.%ld %lld.%ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);

    /* O_TRUNC, and the xattrs a file had come along. */
    put("etc/motd", "new motd\n", O_TRUNC);
    cat("motd", "etc/motd");
    memset(buf, 0, sizeof buf);
    SHOW("getxattr motd user.note", getxattr("etc/motd", "user.note", buf, sizeof buf));
    printf("  value: %s\n", buf);
    EXPECT_OK("setxattr tool user.new", setxattr("usr/bin/tool", "user.new", "1", 1, 0));
    memset(buf, 0, sizeof buf);
    SHOW("listxattr tool", listxattr("usr/bin/tool", buf, sizeof buf));
    printf("  first: %s\n", buf);
    EXPECT_ERR("removexattr of a missing name", removexattr("usr/share/doc/pkg/README", "user.none"), ENODATA);

    /* Deletes hide the file; a new one of the name is a new file. */
    EXPECT_OK("unlink hosts", unlink("etc/hosts"));
    EXPECT_ERR("stat hosts", stat("etc/hosts", &st), ENOENT);
    EXPECT_ERR("unlink hosts again", unlink("etc/hosts"), ENOENT);
    list("etc", "etc");
    put("etc/hosts", "recreated\n", O_EXCL);
    cat("hosts", "etc/hosts");

    /* Directories: rename with contents, across parents, over an empty one. */
    EXPECT_OK("mkdir doc/new", mkdir("usr/share/doc/new", 0755));
    put("usr/share/doc/new/file", "in new\n", 0);
    EXPECT_OK("rename doc/pkg -> share/pkgdoc", rename("usr/share/doc/pkg", "usr/share/pkgdoc"));
    EXPECT_ERR("stat doc/pkg", stat("usr/share/doc/pkg", &st), ENOENT);
    list("pkgdoc", "usr/share/pkgdoc");
    EXPECT_OK("rename share/pkgdoc -> data/moved", rename("usr/share/pkgdoc", "data/moved"));
    cat("moved README", "data/moved/README");
    list("doc", "usr/share/doc");
    EXPECT_ERR("rename data into its own subdirectory", rename("data", "data/moved/sub"), EINVAL);
    EXPECT_ERR("rename data over non-empty var/lib", rename("data", "var/lib"), ENOTEMPTY);
    EXPECT_OK("mkdir var/a", mkdir("var/a", 0755));
    put("var/a/inside", "a\n", 0);
    EXPECT_OK("rename var/a over the empty var/spool", rename("var/a", "var/spool"));
    list("spool", "var/spool");
    EXPECT_ERR("rename a file over a directory", rename("etc/motd", "var/spool"), EISDIR);
    EXPECT_ERR("rename a directory over a file", rename("var/spool", "etc/motd"), ENOTDIR);

    /* A file replaces a file; a symlink to it dangles. */
    EXPECT_OK("rename links/target over etc/motd", rename("links/target", "etc/motd"));
    cat("motd now", "etc/motd");
    EXPECT_ERR("stat through links/sym", stat("links/sym", &st), ENOENT);
    EXPECT_OK("symlink links/new", symlink("../etc/motd", "links/new"));
    cat("through links/new", "links/new");

    /* Hard links: to a copied-up file, and to a file never touched. */
    EXPECT_OK("link passwd passwd.bak", link("etc/passwd", "etc/passwd.bak"));
    lstat("etc/passwd.bak", &st);
    printf("passwd.bak nlink %lu\n", (unsigned long)st.st_nlink);
    CHECK("passwd.bak is passwd", ino_of("etc/passwd.bak") == ino_of("etc/passwd"));
    put("etc/passwd.bak", "via bak\n", O_TRUNC);
    cat("passwd", "etc/passwd");
    EXPECT_OK("link COPYING", link("data/moved/COPYING", "COPYING.link"));
    lstat("COPYING.link", &st);
    printf("COPYING.link nlink %lu\n", (unsigned long)st.st_nlink);
    CHECK("COPYING.link is COPYING", ino_of("COPYING.link") == ino_of("data/moved/COPYING"));
    EXPECT_OK("unlink COPYING", unlink("data/moved/COPYING"));
    lstat("COPYING.link", &st);
    printf("COPYING.link nlink %lu after unlink\n", (unsigned long)st.st_nlink);
    cat("COPYING.link", "COPYING.link");

    /* Directory replacement: a tree removed, a file and a directory in its place. */
    EXPECT_ERR("rmdir non-empty doc/other", rmdir("usr/share/doc/other"), ENOTEMPTY);
    EXPECT_OK("unlink doc/other/x", unlink("usr/share/doc/other/x"));
    EXPECT_OK("rmdir doc/other", rmdir("usr/share/doc/other"));
    EXPECT_OK("mkdir doc/other again", mkdir("usr/share/doc/other", 0700));
    list("new doc/other", "usr/share/doc/other");
    EXPECT_OK("rmdir var/log/empty", rmdir("var/log/empty"));
    EXPECT_OK("rmdir var/log", rmdir("var/log"));
    put("var/log", "a file now\n", O_EXCL);
    lstat("var/log", &st);
    CHECK("var/log is a regular file", S_ISREG(st.st_mode));
    EXPECT_OK("unlink var/log", unlink("var/log"));
    EXPECT_OK("mkdir var/log", mkdir("var/log", 0755));
    list("var/log", "var/log");

    /* Exchange two directories with lower contents. */
    EXPECT_OK("renameat2 RENAME_EXCHANGE etc usr", syscall(SYS_renameat2, AT_FDCWD, "etc", AT_FDCWD, "usr", 2));
    list("etc after exchange", "etc");
    list("usr after exchange", "usr");

    /* A sparse file: a byte written at its start copies it up. */
    int sp = open("data/sparse", O_RDWR);
    EXPECT_EQ("pwrite sparse", pwrite(sp, "S", 1, 0), 1);
    fstat(sp, &st);
    printf("sparse size %lld\n", (long long)st.st_size);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("pread at 512K", pread(sp, buf, 4, 512 * 1024), 4);
    printf("  it reads: %s\n", buf);
    close(sp);

    /* Listings changed while read show each entry once. */
    walk_while_changing("many", 'c');
    walk_while_changing("many2", 'u');
    list("many2", "many2");

    printf("the tree:\n");
    tree(".", 0);
    return finish();
}
