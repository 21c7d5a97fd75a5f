/* Run under vkernel only, never natively: checks that the guest cannot change
 * the host. Every operation here is harmless if it wrongly succeeded on a
 * host path (it only touches test-owned files or opens without writing).
 *
 * usage: isolation HOSTDIR NAME HOSTTMPFILE
 *   HOSTDIR      test-owned host directory holding "marker" and "emptydir"
 *   NAME         unique name to try under /etc and to create under /tmp
 *   HOSTTMPFILE  a file the test created in the host's /tmp */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: isolation HOSTDIR NAME HOSTTMPFILE\n");
        return 2;
    }
    const char *hostdir = argv[1], *name = argv[2], *hosttmp = argv[3];
    char a[4096], b[4096];

    snprintf(a, sizeof a, "/etc/%s", name);
    EXPECT_ERR("mkdir /etc/NAME", mkdir(a, 0755), EROFS);
    EXPECT_ERR("creat /etc/NAME", open(a, O_CREAT | O_WRONLY, 0644), EROFS);
    EXPECT_ERR("open /etc/passwd O_WRONLY", open("/etc/passwd", O_WRONLY | O_APPEND), EROFS);
    EXPECT_ERR("open /etc/passwd O_RDWR", open("/etc/passwd", O_RDWR), EROFS);
    struct stat st;
    if (stat("/etc/passwd", &st) == 0) {
        EXPECT_ERR("chmod /etc/passwd to its own mode", chmod("/etc/passwd", st.st_mode & 07777), EROFS);
        EXPECT_ERR("chown /etc/passwd to its own owner", chown("/etc/passwd", st.st_uid, st.st_gid), EROFS);
    }
    snprintf(a, sizeof a, "/%s", name);
    EXPECT_ERR("mkdir /NAME", mkdir(a, 0755), EROFS);
    snprintf(a, sizeof a, "/usr/%s", name);
    EXPECT_ERR("symlink /usr/NAME", symlink("x", a), EROFS);

    snprintf(a, sizeof a, "%s/marker", hostdir);
    CHECK("host marker is readable", open(a, O_RDONLY) >= 0);
    EXPECT_ERR("unlink marker", unlink(a), EROFS);
    EXPECT_ERR("open marker O_WRONLY|O_TRUNC", open(a, O_WRONLY | O_TRUNC), EROFS);
    EXPECT_ERR("truncate marker", truncate(a, 0), EROFS);
    EXPECT_ERR("chmod marker", chmod(a, 0600), EROFS);
    EXPECT_ERR("utimensat marker", utimensat(AT_FDCWD, a, NULL, 0), EROFS);
    snprintf(b, sizeof b, "%s/renamed", hostdir);
    EXPECT_ERR("rename marker", rename(a, b), EROFS);
    EXPECT_ERR("link marker", link(a, b), EROFS);
    EXPECT_ERR("symlink in host dir", symlink("marker", b), EROFS);
    EXPECT_ERR("mkdir in host dir", mkdir(b, 0755), EROFS);
    snprintf(a, sizeof a, "%s/emptydir", hostdir);
    EXPECT_ERR("rmdir host emptydir", rmdir(a), EROFS);

    /* The guest's /tmp and /dev/shm are its own tmpfs. */
    EXPECT_ERR("host /tmp file is invisible", stat(hosttmp, &st), ENOENT);
    snprintf(a, sizeof a, "/tmp/%s", name);
    int fd = open(a, O_CREAT | O_RDWR, 0644);
    CHECK("create /tmp/NAME", fd >= 0);
    EXPECT_EQ("write it", write(fd, "guest data\n", 11), 11);
    close(fd);
    CHECK("it exists for the guest", stat(a, &st) == 0 && st.st_size == 11);
    snprintf(a, sizeof a, "/dev/shm/%s", name);
    fd = open(a, O_CREAT | O_RDWR, 0644);
    CHECK("create /dev/shm/NAME", fd >= 0);
    close(fd);
    snprintf(a, sizeof a, "/tmp/%s.d", name);
    EXPECT_EQ("mkdir /tmp/NAME.d", mkdir(a, 0755), 0);
    return finish();
}
