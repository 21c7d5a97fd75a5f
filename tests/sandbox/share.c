/* Run under vkernel only, with a host directory shared at /data
 * (tests/share.rs). Natively these writes would land on the host.
 *
 * usage: share ops                 changes in /data the host then checks
 *        share escape NAME OUTSIDE tries to write outside the share: through
 *                                  "..", symlinks the guest plants, and the
 *                                  host's symlinks hostabs and hostrel
 *        share race SECONDS        writes through /data/d (by path and by a
 *                                  held directory fd) while the host swaps d
 *                                  for a symlink; prints what it managed
 *        share watch               waits for host-side changes to show */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok ? 0 : -1;
}

static int ops(void)
{
    umask(0);
    EXPECT_OK("create new.txt", put("/data/new.txt", "from the guest\n"));
    int fd = open("/data/new.txt", O_WRONLY | O_APPEND);
    EXPECT_EQ("append", write(fd, "more\n", 5), 5);
    EXPECT_OK("fsync", fsync(fd));
    EXPECT_OK("fdatasync", fdatasync(fd));
    EXPECT_OK("fallocate", fallocate(fd, 0, 0, 65536));
    close(fd);
    EXPECT_OK("truncate back", truncate("/data/new.txt", 20));
    EXPECT_OK("chmod 0640", chmod("/data/new.txt", 0640));
    EXPECT_OK("mkdir sub", mkdir("/data/sub", 0750));
    EXPECT_OK("mkdir sub/deeper", mkdir("/data/sub/deeper", 0700));
    EXPECT_OK("create sub/deeper/f", put("/data/sub/deeper/f", "deep\n"));
    EXPECT_OK("rename sub -> moved", rename("/data/sub", "/data/moved"));
    EXPECT_OK("link", link("/data/new.txt", "/data/hard"));
    EXPECT_OK("symlink", symlink("new.txt", "/data/sym"));
    EXPECT_OK("mkfifo", mkfifo("/data/fifo", 0600));
    EXPECT_ERR("mknod a device", mknod("/data/dev", S_IFCHR | 0600, makedev(1, 3)), EPERM);
    EXPECT_OK("unlink doomed", unlink("/data/doomed"));
    EXPECT_OK("rmdir gone", rmdir("/data/gone"));
    EXPECT_ERR("rmdir moved (not empty)", rmdir("/data/moved"), ENOTEMPTY);
    EXPECT_ERR("link from outside the share", link("/etc/passwd", "/data/passwd"), EXDEV);
    EXPECT_ERR("rename out of the share", rename("/data/new.txt", "/new.txt"), EXDEV);
    struct timespec t[2] = {{1000000000, 0}, {1100000000, 0}};
    EXPECT_OK("utimensat", utimensat(AT_FDCWD, "/data/existing", t, 0));
    char buf[64] = {0};
    fd = open("/data/existing", O_RDONLY);
    EXPECT_EQ("read existing", read(fd, buf, sizeof buf), 10);
    printf("it reads: %s", buf);
    close(fd);
    struct stat st;
    stat("/data/new.txt", &st);
    printf("new.txt mode %04o size %lld nlink %lu\n", st.st_mode & 07777, (long long)st.st_size, (unsigned long)st.st_nlink);
    return finish();
}

/* Each write here must stay in the guest or the share, never reach the
 * host outside it; whether it succeeds in the guest does not matter. */
static void attempt(const char *label, const char *path)
{
    errno = 0;
    int r = put(path, "escaped?\n");
    printf("%s: %s\n", label, r == 0 ? "written (in the guest)" : errname(errno));
}

static int escape(const char *name, const char *outside)
{
    char p[4096], t[4096];
    snprintf(p, sizeof p, "/data/../%s", name);
    attempt("through ..", p);
    int dfd = open("/data", O_RDONLY | O_DIRECTORY);
    snprintf(p, sizeof p, "../../../../%s", name);
    errno = 0;
    int fd = openat(dfd, p, O_WRONLY | O_CREAT, 0644);
    printf("openat(/data, ../../../../NAME): %s\n", fd >= 0 ? "created (in the guest)" : errname(errno));
    if (fd >= 0)
        close(fd);

    EXPECT_OK("plant an absolute symlink", symlink(outside, "/data/abs"));
    snprintf(p, sizeof p, "/data/abs/%s", name);
    attempt("through the guest's absolute symlink", p);
    snprintf(t, sizeof t, "../../../../../../../../..%s", outside);
    EXPECT_OK("plant a relative symlink", symlink(t, "/data/rel"));
    snprintf(p, sizeof p, "/data/rel/%s", name);
    attempt("through the guest's relative symlink", p);
    EXPECT_OK("plant a symlink to /", symlink("/", "/data/root"));
    snprintf(p, sizeof p, "/data/root%s/%s", outside, name);
    attempt("through the guest's symlink to /", p);
    snprintf(p, sizeof p, "/data/hostabs/%s", name);
    attempt("through the host's absolute symlink", p);
    snprintf(p, sizeof p, "/data/hostrel/%s", name);
    attempt("through the host's relative symlink", p);
    snprintf(p, sizeof p, "/data/hostfile");
    attempt("over the host's symlink to a file", p);
    /* Directories through symlinks, and renames onto them. */
    snprintf(p, sizeof p, "/data/abs/%s.d", name);
    errno = 0;
    printf("mkdir through a symlink: %s\n", mkdir(p, 0755) == 0 ? "made (in the guest)" : errname(errno));
    EXPECT_OK("create victim", put("/data/victim", "v\n"));
    snprintf(p, sizeof p, "/data/hostabs/%s.moved", name);
    errno = 0;
    printf("rename through the host's symlink: %s\n", rename("/data/victim", p) == 0 ? "moved (in the guest)" : errname(errno));
    errno = 0;
    fd = openat(dfd, "hostabs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    printf("O_NOFOLLOW on the host's symlink: %s\n", fd >= 0 ? "opened" : errname(errno));
    close(dfd);
    return finish();
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int race(double seconds)
{
    int by_path = 0, by_fd = 0, failed = 0, n = 0, errors[160] = {0};
    double end = now() + seconds;
    while (now() < end) {
        char p[256];
        snprintf(p, sizeof p, "/data/d/path-%d", n);
        if (put(p, "x\n") == 0) {
            by_path++;
        } else {
            failed++;
            if (errno > 0 && errno < 160)
                errors[errno]++;
        }
        int dfd = open("/data/d", O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            snprintf(p, sizeof p, "fd-%d", n);
            int fd = openat(dfd, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd >= 0) {
                by_fd += write(fd, "y\n", 2) == 2;
                close(fd);
            }
            snprintf(p, sizeof p, "sub-%d", n);
            mkdirat(dfd, p, 0755);
            close(dfd);
        }
        n++;
    }
    printf("rounds %d by path %d by fd %d failed %d:", n, by_path, by_fd, failed);
    for (int e = 0; e < 160; e++)
        if (errors[e])
            printf(" %s %d", errname(e), errors[e]);
    printf("\n");
    return 0;
}

static int watch(void)
{
    struct stat st;
    int fd = open("/data/grow", O_RDONLY);
    fstat(fd, &st);
    printf("grow size %lld\n", (long long)st.st_size);
    printf("ready\n");
    fflush(stdout);
    double end = now() + 10;
    while (now() < end && (fstat(fd, &st) < 0 || st.st_size == 5))
        usleep(10000);
    printf("grow size now %lld\n", (long long)st.st_size);
    char buf[64] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("it reads: %s", buf);
    while (now() < end && stat("/data/appeared", &st) < 0)
        usleep(10000);
    printf("appeared: %s\n", stat("/data/appeared", &st) == 0 ? "yes" : "no");
    EXPECT_OK("chmod by the host shows", stat("/data/grow", &st) == 0 && (st.st_mode & 07777) == 0600 ? 0 : -1);
    return finish();
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ops"))
        return ops();
    if (argc == 4 && !strcmp(argv[1], "escape"))
        return escape(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "race"))
        return race(atof(argv[2]));
    if (argc == 2 && !strcmp(argv[1], "watch"))
        return watch();
    fprintf(stderr, "usage: share ops | escape NAME OUTSIDE | race SECONDS | watch\n");
    return 2;
}
