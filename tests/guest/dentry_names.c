/* Names that follow renames and removals (the dentry cache): getcwd, `..`,
 * /proc/self/cwd and /proc/self/fd/N after a parent directory is renamed,
 * an open file is renamed, exchanged (RENAME_EXCHANGE) or replaced, one of
 * two hard links is unlinked, and the working directory is removed.
 * Paths are printed relative to a fresh /tmp directory. */
#include "common.h"
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/stat.h>

static char dir[] = "/tmp/vk-dentry-XXXXXX";

/* `path` with the test directory's name replaced by "D". */
static const char *shown(const char *path)
{
    static char out[PATH_MAX + 16];
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) == 0)
        snprintf(out, sizeof out, "D%s", path + n);
    else
        snprintf(out, sizeof out, "%s", path);
    return out;
}

static void show_link(const char *label, const char *link)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0) {
        printf("%s: -1 %s\n", label, errname(errno));
        return;
    }
    buf[n] = 0;
    printf("%s: %s\n", label, shown(buf));
}

static void show_fd(const char *label, int fd)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    show_link(label, link);
}

static void show_cwd(const char *label)
{
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf))
        printf("%s: %s\n", label, shown(buf));
    else
        printf("%s: -1 %s\n", label, errname(errno));
}

static int make(const char *path)
{
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(shown(path), fd >= 0);
    return fd;
}

static char *at(const char *rel)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", dir, rel);
    return b;
}

int main(void)
{
    CHECK("mkdtemp", mkdtemp(dir) != NULL);

    /* A renamed parent: cwd, fds and `..` follow it. */
    EXPECT_EQ("mkdir a", mkdir(at("a"), 0755), 0);
    EXPECT_EQ("mkdir a/b", mkdir(at("a/b"), 0755), 0);
    EXPECT_EQ("chdir a/b", chdir(at("a/b")), 0);
    int f = make("f");
    show_cwd("cwd");
    EXPECT_EQ("rename a -> z", rename(at("a"), at("z")), 0);
    show_cwd("cwd after parent rename");
    show_link("/proc/self/cwd", "/proc/self/cwd");
    show_fd("fd of f", f);
    EXPECT_EQ("chdir ..", chdir(".."), 0);
    show_cwd("cwd after ..");
    EXPECT_EQ("chdir b", chdir("b"), 0);

    /* Moving the working directory itself to another parent. */
    EXPECT_EQ("mkdir y", mkdir(at("y"), 0755), 0);
    EXPECT_EQ("rename z/b -> y/c", rename(at("z/b"), at("y/c")), 0);
    show_cwd("cwd after own move");
    show_fd("fd of f after own move", f);

    /* An open file renamed, then replaced by another rename. */
    int g = make(at("g"));
    EXPECT_EQ("rename g -> h", rename(at("g"), at("h")), 0);
    show_fd("fd of g after rename", g);
    int k = make(at("k"));
    EXPECT_EQ("rename k over h", rename(at("k"), at("h")), 0);
    show_fd("fd of g, replaced", g);
    show_fd("fd of k, now h", k);

    /* RENAME_EXCHANGE swaps the names. */
    int p = make(at("p")), q = make(at("q"));
    EXPECT_EQ("exchange p q", syscall(SYS_renameat2, AT_FDCWD, at("p"), AT_FDCWD, at("q"), RENAME_EXCHANGE), 0);
    show_fd("fd of p after exchange", p);
    show_fd("fd of q after exchange", q);

    /* Two hard links: unlinking one name marks only that name. */
    int l1 = make(at("l1"));
    EXPECT_EQ("link l1 l2", link(at("l1"), at("l2")), 0);
    int l2 = open(at("l2"), O_RDONLY);
    EXPECT_EQ("unlink l1", unlink(at("l1")), 0);
    show_fd("fd opened as l1", l1);
    show_fd("fd opened as l2", l2);

    /* The working directory removed. */
    EXPECT_EQ("mkdir gone", mkdir(at("gone"), 0755), 0);
    EXPECT_EQ("chdir gone", chdir(at("gone")), 0);
    EXPECT_EQ("rmdir gone", rmdir(at("gone")), 0);
    show_cwd("cwd after rmdir");
    show_link("/proc/self/cwd after rmdir", "/proc/self/cwd");
    EXPECT_ERR("create in removed cwd", open("x", O_CREAT | O_RDWR, 0644), ENOENT);

    /* Clean up. */
    EXPECT_EQ("chdir /", chdir("/"), 0);
    unlink(at("y/c/f"));
    rmdir(at("y/c"));
    rmdir(at("y"));
    rmdir(at("z"));
    unlink(at("h"));
    unlink(at("p"));
    unlink(at("q"));
    unlink(at("l2"));
    EXPECT_EQ("rmdir test dir", rmdir(dir), 0);
    return vk_failures != 0;
}
