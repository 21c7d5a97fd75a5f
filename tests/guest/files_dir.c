/* Directories and names in a fresh /tmp directory: mkdir, mkdirat, rmdir,
 * unlink, unlinkat, rename, renameat, renameat2, link, linkat, symlink,
 * symlinkat, readlink, readlinkat, getdents64, getcwd, chdir, fchdir, and the
 * errors ENOENT EEXIST ENOTDIR EISDIR ENOTEMPTY EINVAL ENAMETOOLONG ELOOP. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>

static char dir[] = "/tmp/vk-files-dir-XXXXXX";

static void touch(const char *p, const char *content)
{
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, content, strlen(content)) < 0)
            perror("write");
        close(fd);
    }
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List a directory through raw getdents64 with a small buffer so that
 * several calls are needed; print sorted "name type" lines. */
static void list(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    char buf[64] __attribute__((aligned(8)));
    char *names[64];
    int n = 0, calls = 0;
    long r;
    while ((r = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        calls++;
        for (long off = 0; off < r;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            char *line = malloc(300);
            const char *t = d->d_type == DT_DIR ? "dir" : d->d_type == DT_REG ? "reg"
                          : d->d_type == DT_LNK ? "lnk" : "other";
            snprintf(line, 300, "%s %s", d->d_name, t);
            if (n < 64)
                names[n++] = line;
            off += d->d_reclen;
        }
    }
    printf("getdents64 %s: last call returned %ld, needed more than one call: %s\n", path, r,
           calls > 1 ? "yes" : "no");
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) {
        printf("  %s\n", names[i]);
        free(names[i]);
    }
    close(fd);
}

int main(void)
{
    char buf[5000];
    struct stat st;

    CHECK("mkdtemp under /tmp", mkdtemp(dir) != NULL);
    EXPECT_EQ("chdir", chdir(dir), 0);
    CHECK("getcwd returns the new directory", getcwd(buf, sizeof buf) && strcmp(buf, dir) == 0);
    EXPECT_ERR("getcwd into a 1-byte buffer", syscall(SYS_getcwd, buf, 1), ERANGE);
    EXPECT_EQ("raw getcwd returns length + 1", syscall(SYS_getcwd, buf, sizeof buf), (long)strlen(dir) + 1);

    /* mkdir / rmdir */
    EXPECT_EQ("mkdir a", syscall(SYS_mkdir, "a", 0755), 0);
    EXPECT_ERR("mkdir a again", syscall(SYS_mkdir, "a", 0755), EEXIST);
    EXPECT_ERR("mkdir under a missing parent", syscall(SYS_mkdir, "x/y", 0755), ENOENT);
    int dfd = open("a", O_RDONLY | O_DIRECTORY);
    EXPECT_EQ("open a", dfd, 3);
    EXPECT_EQ("mkdirat(a, b)", mkdirat(dfd, "b", 0755), 0);
    EXPECT_EQ("stat a/b", stat("a/b", &st), 0);
    printf("a/b is a dir: %d, nlink of a: %lu\n", S_ISDIR(st.st_mode),
           (stat("a", &st), (unsigned long)st.st_nlink));
    touch("a/file", "data");
    EXPECT_ERR("mkdir over a file", syscall(SYS_mkdir, "a/file", 0755), EEXIST);
    EXPECT_ERR("mkdir under a file", syscall(SYS_mkdir, "a/file/x", 0755), ENOTDIR);
    EXPECT_ERR("rmdir a non-empty directory", syscall(SYS_rmdir, "a"), ENOTEMPTY);
    EXPECT_ERR("rmdir a file", syscall(SYS_rmdir, "a/file"), ENOTDIR);
    EXPECT_ERR("rmdir missing", syscall(SYS_rmdir, "missing"), ENOENT);
    EXPECT_ERR("rmdir .", syscall(SYS_rmdir, "a/b/."), EINVAL);
    EXPECT_ERR("unlink a directory", syscall(SYS_unlink, "a/b"), EISDIR);
    EXPECT_ERR("unlinkat a directory without AT_REMOVEDIR", unlinkat(dfd, "b", 0), EISDIR);
    EXPECT_ERR("unlinkat a file with AT_REMOVEDIR", unlinkat(dfd, "file", AT_REMOVEDIR), ENOTDIR);
    EXPECT_ERR("unlinkat unknown flag", unlinkat(dfd, "file", 0x1), EINVAL);

    /* getdents64 */
    touch("a/zeta", "");
    touch("a/alpha-with-a-long-name-to-fill-the-buffer", "");
    symlink("zeta", "a/link");
    list("a");

    /* links */
    EXPECT_EQ("link", syscall(SYS_link, "a/file", "hard"), 0);
    stat("hard", &st);
    printf("nlink after link: %lu\n", (unsigned long)st.st_nlink);
    EXPECT_ERR("link onto an existing name", syscall(SYS_link, "a/file", "hard"), EEXIST);
    EXPECT_ERR("link a directory", syscall(SYS_link, "a", "adir"), EPERM);
    EXPECT_ERR("link a missing file", syscall(SYS_link, "missing", "m2"), ENOENT);
    EXPECT_EQ("linkat", linkat(dfd, "file", AT_FDCWD, "hard2", 0), 0);
    EXPECT_ERR("linkat unknown flag", linkat(dfd, "file", AT_FDCWD, "hard3", 0x1), EINVAL);
    EXPECT_EQ("unlink hard2", syscall(SYS_unlink, "hard2"), 0);
    EXPECT_EQ("unlinkat(dfd, file)", unlinkat(dfd, "file", 0), 0);
    stat("hard", &st);
    printf("nlink after two unlinks: %lu, size %ld\n", (unsigned long)st.st_nlink, (long)st.st_size);

    /* symlinks */
    EXPECT_EQ("symlink", syscall(SYS_symlink, "hard", "sym"), 0);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("readlink", syscall(SYS_readlink, "sym", buf, sizeof buf), 4);
    printf("readlink sym: %s\n", buf);
    EXPECT_EQ("readlink truncates silently", syscall(SYS_readlink, "sym", buf, 2), 2);
    EXPECT_EQ("symlinkat", symlinkat("/nonexistent/target", dfd, "dangling"), 0);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("readlinkat", readlinkat(dfd, "dangling", buf, sizeof buf), 19);
    printf("readlinkat dangling: %s\n", buf);
    EXPECT_ERR("open a dangling symlink", open("a/dangling", O_RDONLY), ENOENT);
    EXPECT_ERR("readlink of a regular file", syscall(SYS_readlink, "hard", buf, sizeof buf), EINVAL);
    EXPECT_ERR("readlink with size 0", syscall(SYS_readlink, "sym", buf, 0), EINVAL);
    EXPECT_ERR("symlink onto an existing name", syscall(SYS_symlink, "x", "sym"), EEXIST);
    EXPECT_EQ("symlink loop1 -> loop2", symlink("loop2", "loop1"), 0);
    EXPECT_EQ("symlink loop2 -> loop1", symlink("loop1", "loop2"), 0);
    EXPECT_ERR("open through a symlink loop", open("loop1", O_RDONLY), ELOOP);
    EXPECT_ERR("stat through a symlink loop", stat("loop1", &st), ELOOP);
    EXPECT_ERR("O_NOFOLLOW on a symlink", open("sym", O_RDONLY | O_NOFOLLOW), ELOOP);
    EXPECT_EQ("O_PATH|O_NOFOLLOW opens the link itself", open("sym", O_PATH | O_NOFOLLOW), 4);
    close(4);
    EXPECT_EQ("symlink to a directory", symlink("a", "alink"), 0);
    EXPECT_EQ("chdir through it", chdir("alink/b"), 0);
    CHECK("getcwd shows the resolved path", getcwd(buf, sizeof buf) && strstr(buf, "/a/b") &&
                                                strncmp(buf, dir, strlen(dir)) == 0);
    EXPECT_EQ("chdir ..", chdir(".."), 0);
    CHECK("'..' goes to the physical parent", getcwd(buf, sizeof buf) &&
                                                  strlen(buf) == strlen(dir) + 2);
    EXPECT_EQ("chdir ../..", chdir("../.."), 0);
    CHECK("back at /tmp", getcwd(buf, sizeof buf) && strcmp(buf, "/tmp") == 0);
    EXPECT_EQ("fchdir", fchdir(dfd), 0);
    CHECK("fchdir moved into a", getcwd(buf, sizeof buf) && strlen(buf) == strlen(dir) + 2);
    snprintf(buf, sizeof buf, "%s/hard", dir);
    int ffd = open(buf, O_RDONLY);
    EXPECT_ERR("fchdir to a file", fchdir(ffd), ENOTDIR);
    close(ffd);
    EXPECT_ERR("fchdir to a closed fd", fchdir(99), EBADF);
    EXPECT_EQ("chdir back", chdir(dir), 0);
    EXPECT_ERR("chdir to a file", chdir("hard"), ENOTDIR);
    EXPECT_ERR("chdir missing", chdir("missing"), ENOENT);

    /* rename family */
    touch("r1", "one");
    touch("r2", "two");
    EXPECT_EQ("rename r1 -> r3", syscall(SYS_rename, "r1", "r3"), 0);
    EXPECT_ERR("old name gone", stat("r1", &st), ENOENT);
    EXPECT_EQ("rename over an existing file", syscall(SYS_rename, "r3", "r2"), 0);
    stat("r2", &st);
    printf("r2 size after replace: %ld\n", (long)st.st_size);
    EXPECT_EQ("renameat into a", renameat(AT_FDCWD, "r2", dfd, "moved"), 0);
    touch("r4", "four");
    EXPECT_ERR("renameat2 RENAME_NOREPLACE onto existing",
               syscall(SYS_renameat2, AT_FDCWD, "r4", dfd, "moved", RENAME_NOREPLACE), EEXIST);
    EXPECT_EQ("renameat2 RENAME_NOREPLACE to a free name",
              syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r5", RENAME_NOREPLACE), 0);
    EXPECT_EQ("renameat2 RENAME_EXCHANGE",
              syscall(SYS_renameat2, AT_FDCWD, "r5", dfd, "moved", RENAME_EXCHANGE), 0);
    stat("r5", &st);
    printf("r5 size after exchange: %ld\n", (long)st.st_size);
    EXPECT_ERR("renameat2 RENAME_EXCHANGE with a missing side",
               syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "missing", RENAME_EXCHANGE), ENOENT);
    EXPECT_ERR("renameat2 NOREPLACE|EXCHANGE",
               syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r6", RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
    EXPECT_ERR("renameat2 unknown flag", syscall(SYS_renameat2, AT_FDCWD, "r5", AT_FDCWD, "r6", 0x100), EINVAL);
    EXPECT_ERR("rename a directory into itself", syscall(SYS_rename, "a", "a/b/c"), EINVAL);
    EXPECT_ERR("rename a directory over a file", syscall(SYS_rename, "a/b", "r5"), ENOTDIR);
    EXPECT_ERR("rename a file over a directory", syscall(SYS_rename, "r5", "a/b"), EISDIR);
    syscall(SYS_mkdir, "full", 0755);
    touch("full/x", "");
    syscall(SYS_mkdir, "empty", 0755);
    EXPECT_ERR("rename a directory over a non-empty one", syscall(SYS_rename, "empty", "full"), ENOTEMPTY);
    EXPECT_EQ("rename a directory over an empty one", syscall(SYS_rename, "full", "empty"), 0);
    EXPECT_ERR("rename missing", syscall(SYS_rename, "missing", "x"), ENOENT);
    EXPECT_EQ("rename onto itself", syscall(SYS_rename, "r5", "r5"), 0);

    /* long names */
    char longname[300];
    memset(longname, 'n', 256);
    longname[256] = 0;
    EXPECT_ERR("256-byte name component", open(longname, O_CREAT | O_RDWR, 0644), ENAMETOOLONG);
    longname[255] = 0;
    int lfd = open(longname, O_CREAT | O_RDWR, 0644);
    CHECK("255-byte name component works", lfd >= 0);
    close(lfd);
    unlink(longname);
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 4200; i += 2)
        memcpy(buf + i, "a/", 2);
    EXPECT_ERR("path longer than PATH_MAX", open(buf, O_RDONLY), ENAMETOOLONG);
    EXPECT_ERR("mkdir with a 256-byte component", syscall(SYS_mkdir, (memset(longname, 'd', 256), longname), 0755), ENAMETOOLONG);

    /* clean up */
    list(".");
    const char *files[] = {"a/zeta", "a/alpha-with-a-long-name-to-fill-the-buffer", "a/link",
                           "a/dangling", "a/moved", "hard", "sym", "loop1", "loop2", "alink",
                           "r5", "empty/x", NULL};
    int ok = 1;
    for (int i = 0; files[i]; i++)
        ok &= unlink(files[i]) == 0;
    CHECK("unlink everything", ok);
    ok = rmdir("a/b") == 0 && rmdir("a") == 0 && rmdir("empty") == 0;
    CHECK("rmdir everything", ok);
    close(dfd);
    EXPECT_EQ("chdir /", chdir("/"), 0);
    EXPECT_EQ("rmdir the test directory", rmdir(dir), 0);
    return finish();
}
