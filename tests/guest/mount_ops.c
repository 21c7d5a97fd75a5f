/* mount(2) and umount2(2) under vkernel, checked against Linux's answers
 * (a native run would need CAP_SYS_ADMIN on the host): errors in Linux's
 * order, flags honoured by open/exec/mmap, /proc/self/mountinfo fields,
 * bind and recursive bind mounts, remounts, busy and lazy unmounts.
 * Needs root in the guest, an empty disk as /dev/vda and an ISO image as
 * /dev/sr0; works under /tmp (the guest's tmpfs). */
#include "common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <signal.h>

static int has_line(const char *file, const char *needle)
{
    char buf[16384];
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

/* Prints the mountinfo line for mount point `at` without its ids and
 * device number (those vary), i.e. from the root field on. */
static void show_mountinfo(const char *at)
{
    char buf[16384];
    int fd = open("/proc/self/mountinfo", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char root[256], point[256];
        unsigned id, parent, maj, min;
        int used = 0;
        if (sscanf(line, "%u %u %u:%u %255s %255s %n", &id, &parent, &maj, &min, root, point, &used) >= 6 && !strcmp(point, at))
            printf("mountinfo %s: %s %s\n", at, root, line + used);
    }
}

static int run(const char *path)
{
    pid_t p = fork();
    if (p == 0) {
        execl(path, path, (char *)NULL);
        _exit(errno == EACCES ? 126 : 127);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Copies this program to `to` (a program on the mount under test). */
static int copy_self(const char *to)
{
    static char buf[1 << 16];
    int in = open("/proc/self/exe", O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return -1;
    close(in);
    close(out);
    return in >= 0 && out >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "pause")) {
        pause();
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir("/tmp/m", 0755);
    mkdir("/tmp/b", 0755);
    mkdir("/tmp/cd", 0755);
    int fd = open("/tmp/file", O_CREAT | O_WRONLY, 0644);
    close(fd);

    /* Errors, in Linux's order. */
    EXPECT_ERR("unknown type", mount("x", "/tmp/m", "nosuchfs", 0, NULL), ENODEV);
    EXPECT_ERR("no type", mount("x", "/tmp/m", NULL, 0, NULL), EINVAL);
    EXPECT_ERR("missing target", mount("t", "/tmp/nonexistent", "tmpfs", 0, NULL), ENOENT);
    EXPECT_ERR("target under a file", mount("t", "/tmp/file/x", "tmpfs", 0, NULL), ENOTDIR);
    EXPECT_ERR("source not a block device", mount("/tmp/file", "/tmp/m", "iso9660", MS_RDONLY, NULL), ENOTBLK);
    EXPECT_ERR("missing source", mount("/dev/nonexistent", "/tmp/m", "iso9660", MS_RDONLY, NULL), ENOENT);
    EXPECT_ERR("bad superblock", mount("/dev/vda", "/tmp/m", "iso9660", MS_RDONLY, NULL), EINVAL);
    EXPECT_ERR("bad tmpfs option", mount("t", "/tmp/m", "tmpfs", 0, "frobnicate=1"), EINVAL);
    EXPECT_ERR("read-write CD-ROM", mount("/dev/sr0", "/tmp/cd", "iso9660", 0, NULL), EACCES);
    EXPECT_ERR("MS_NOUSER", mount("t", "/tmp/m", "tmpfs", MS_NOUSER, NULL), EINVAL);
    EXPECT_ERR("umount not a mount point", umount("/tmp/b"), EINVAL);
    EXPECT_ERR("umount bad flags", umount2("/tmp/m", 0x100), EINVAL);
    EXPECT_ERR("umount missing", umount("/tmp/nonexistent"), ENOENT);

    /* A tmpfs with options, shown in mountinfo. */
    EXPECT_EQ("mount tmpfs", mount("scratch", "/tmp/m", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=750"), 0);
    show_mountinfo("/tmp/m");
    CHECK("in /proc/mounts", has_line("/proc/mounts", "scratch /tmp/m tmpfs rw,nosuid,nodev,relatime,size=1024k,mode=750 0 0"));
    CHECK("in /proc/self/mounts", has_line("/proc/self/mounts", "scratch /tmp/m tmpfs rw,nosuid,nodev,relatime,size=1024k,mode=750 0 0"));
    struct statfs sf;
    EXPECT_EQ("statfs", statfs("/tmp/m", &sf), 0);
    printf("statfs flags: %#lx\n", (unsigned long)sf.f_flags);
    struct stat st;
    EXPECT_EQ("stat mount root", stat("/tmp/m", &st), 0);
    printf("mount root mode: %o\n", st.st_mode & 07777);
    fd = open("/tmp/m/data", O_CREAT | O_RDWR, 0755);
    EXPECT_EQ("write on tmpfs", write(fd, "#!/bin/sh\nexit 7\n", 17), 17);
    close(fd);
    EXPECT_EQ("exec on tmpfs", run("/tmp/m/data"), 7);
    EXPECT_EQ("mknod", mknod("/tmp/m/null", S_IFCHR | 0666, makedev(1, 3)), 0);
    EXPECT_ERR("open a device on nodev", open("/tmp/m/null", O_RDONLY), EACCES);

    /* Busy, then free. */
    fd = open("/tmp/m/data", O_RDONLY);
    EXPECT_ERR("umount with a file open", umount("/tmp/m"), EBUSY);
    close(fd);
    EXPECT_EQ("chdir in", chdir("/tmp/m"), 0);
    EXPECT_ERR("umount with cwd inside", umount("/tmp/m"), EBUSY);
    EXPECT_EQ("chdir out", chdir("/"), 0);
    fd = open("/tmp/m/data", O_RDONLY);
    void *pin = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    EXPECT_ERR("umount with a mapping", umount("/tmp/m"), EBUSY);
    munmap(pin, 4096);
    EXPECT_EQ("copy a program", copy_self("/tmp/m/prog"), 0);
    pid_t runner = fork();
    if (runner == 0) {
        execl("/tmp/m/prog", "prog", "pause", (char *)NULL);
        _exit(127);
    }
    usleep(200000);
    EXPECT_ERR("umount while a program runs from it", umount("/tmp/m"), EBUSY);
    kill(runner, SIGKILL);
    waitpid(runner, NULL, 0);

    /* Remount: read-only, then noexec. */
    EXPECT_EQ("remount ro", mount(NULL, "/tmp/m", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL), 0);
    EXPECT_ERR("write after remount ro", open("/tmp/m/new", O_CREAT | O_WRONLY, 0644), EROFS);
    show_mountinfo("/tmp/m");
    EXPECT_EQ("remount rw noexec", mount(NULL, "/tmp/m", NULL, MS_REMOUNT | MS_NOEXEC, NULL), 0);
    EXPECT_EQ("exec on noexec", run("/tmp/m/data"), 126);
    fd = open("/tmp/m/data", O_RDONLY);
    void *map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    CHECK("mmap PROT_EXEC on noexec is EPERM", map == MAP_FAILED && errno == EPERM);
    map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK("mmap PROT_READ on noexec works", map != MAP_FAILED);
    munmap(map, 4096);
    close(fd);
    EXPECT_EQ("remount rw", mount(NULL, "/tmp/m", NULL, MS_REMOUNT, NULL), 0);

    /* Bind mounts, recursive ones, and a per-mount read-only flag. */
    mkdir("/tmp/m/sub", 0755);
    mkdir("/tmp/m/sub/inner", 0755);
    EXPECT_ERR("remount of a non-root", mount(NULL, "/tmp/m/sub", NULL, MS_REMOUNT, NULL), EINVAL);
    EXPECT_EQ("mount inner", mount("inner", "/tmp/m/sub/inner", "tmpfs", 0, NULL), 0);
    fd = open("/tmp/m/sub/inner/here", O_CREAT | O_WRONLY, 0644);
    close(fd);
    EXPECT_EQ("bind", mount("/tmp/m/sub", "/tmp/b", NULL, MS_BIND, NULL), 0);
    CHECK("plain bind hides the inner mount", access("/tmp/b/inner/here", F_OK) != 0);
    show_mountinfo("/tmp/b");
    EXPECT_EQ("umount bind", umount("/tmp/b"), 0);
    EXPECT_EQ("rbind", mount("/tmp/m/sub", "/tmp/b", NULL, MS_BIND | MS_REC, NULL), 0);
    CHECK("recursive bind shows it", access("/tmp/b/inner/here", F_OK) == 0);
    show_mountinfo("/tmp/b/inner");
    EXPECT_EQ("remount bind ro", mount(NULL, "/tmp/b", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
    EXPECT_ERR("write through the ro bind", mkdir("/tmp/b/x", 0755), EROFS);
    EXPECT_EQ("write through the original", mkdir("/tmp/m/sub/x", 0755), 0);
    CHECK("the bind sees it", access("/tmp/b/x", F_OK) == 0);
    EXPECT_ERR("umount with a mount below", umount("/tmp/b"), EBUSY);
    EXPECT_EQ("make private", mount(NULL, "/tmp/b", NULL, MS_PRIVATE, NULL), 0);
    EXPECT_EQ("lazy umount", umount2("/tmp/b", MNT_DETACH), 0);
    CHECK("gone from mountinfo", !has_line("/proc/self/mountinfo", " /tmp/b "));

    /* A lazily detached mount keeps working for open files. */
    fd = open("/tmp/m/sub/inner/here", O_RDWR);
    EXPECT_EQ("lazy umount while open", umount2("/tmp/m/sub/inner", MNT_DETACH), 0);
    EXPECT_EQ("write to the detached file", write(fd, "abc", 3), 3);
    close(fd);
    EXPECT_ERR("expire: first call marks", umount2("/tmp/m", MNT_EXPIRE), EAGAIN);
    EXPECT_ERR("expire with detach", umount2("/tmp/m", MNT_EXPIRE | MNT_DETACH), EINVAL);
    EXPECT_EQ("umount tmpfs", umount("/tmp/m"), 0);
    CHECK("the mount point is empty again", access("/tmp/m/data", F_OK) != 0);

    /* MS_MOVE keeps the mount, what is below it and its open files. */
    mkdir("/tmp/mv1", 0755);
    mkdir("/tmp/mv2", 0755);
    EXPECT_EQ("mount to move", mount("mv", "/tmp/mv1", "tmpfs", 0, NULL), 0);
    mkdir("/tmp/mv1/in", 0755);
    EXPECT_EQ("mount below it", mount("below", "/tmp/mv1/in", "tmpfs", 0, NULL), 0);
    fd = open("/tmp/mv1/kept", O_CREAT | O_WRONLY, 0644);
    EXPECT_ERR("move beneath itself", mount("/tmp/mv1", "/tmp/mv1/in", NULL, MS_MOVE, NULL), ELOOP);
    EXPECT_ERR("move a non-mount", mount("/tmp/file", "/tmp/mv2", NULL, MS_MOVE, NULL), EINVAL);
    EXPECT_EQ("move", mount("/tmp/mv1", "/tmp/mv2", NULL, MS_MOVE, NULL), 0);
    CHECK("moved", access("/tmp/mv2/kept", F_OK) == 0 && access("/tmp/mv1/kept", F_OK) != 0);
    show_mountinfo("/tmp/mv2");
    show_mountinfo("/tmp/mv2/in");
    EXPECT_EQ("write to a file opened before the move", write(fd, "x", 1), 1);
    close(fd);
    EXPECT_EQ("umount below", umount("/tmp/mv2/in"), 0);
    EXPECT_EQ("umount moved", umount("/tmp/mv2"), 0);

    /* A CD-ROM, read-only; the device is claimed while mounted. */
    EXPECT_EQ("mount iso9660", mount("/dev/sr0", "/tmp/cd", "iso9660", MS_RDONLY, NULL), 0);
    show_mountinfo("/tmp/cd");
    EXPECT_ERR("exclusive open of a mounted device", open("/dev/sr0", O_RDONLY | O_EXCL), EBUSY);
    EXPECT_ERR("remount rw", mount(NULL, "/tmp/cd", NULL, MS_REMOUNT, NULL), EACCES);
    EXPECT_EQ("mount it again (shared superblock)", mount("/dev/sr0", "/tmp/m", "iso9660", MS_RDONLY, NULL), 0);
    EXPECT_EQ("umount one", umount("/tmp/m"), 0);
    EXPECT_EQ("umount iso9660", umount("/tmp/cd"), 0);
    int x = open("/dev/sr0", O_RDONLY | O_EXCL);
    EXPECT_OK("exclusive open after umount", x);
    close(x);

    /* Without CAP_SYS_ADMIN. */
    if (setresuid(65534, 65534, 65534) == 0) {
        EXPECT_ERR("mount as nobody", mount("t", "/tmp/m", "tmpfs", 0, NULL), EPERM);
        EXPECT_ERR("umount as nobody", umount("/tmp"), EPERM);
    }
    return finish();
}
