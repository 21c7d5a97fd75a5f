/* Character devices under /dev: null, zero, full, random, urandom, tty,
 * console, and the fd symlinks. */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void show_dev(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: stat -1 %s\n", path, errname(errno));
        vk_failures++;
        return;
    }
    printf("%s: %s %u,%u\n", path, S_ISCHR(st.st_mode) ? "char" : "not-char",
           major(st.st_rdev), minor(st.st_rdev));
}

static void show_link(const char *path)
{
    char buf[256] = {0};
    long n = readlink(path, buf, sizeof buf - 1);
    if (n < 0)
        printf("readlink %s: -1 %s\n", path, errname(errno));
    else
        printf("readlink %s: %s\n", path, buf);
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int main(void)
{
    unsigned char buf[8192];

    show_dev("/dev/null");
    show_dev("/dev/zero");
    show_dev("/dev/full");
    show_dev("/dev/random");
    show_dev("/dev/urandom");
    show_dev("/dev/tty");
    show_dev("/dev/console");
    show_link("/dev/fd");
    show_link("/dev/stdin");
    show_link("/dev/stdout");
    show_link("/dev/stderr");

    int fd = open("/dev/null", O_RDWR);
    EXPECT_EQ("open /dev/null", fd, 3);
    EXPECT_EQ("write 8192 to /dev/null", write(fd, buf, sizeof buf), 8192);
    EXPECT_EQ("read /dev/null is EOF", read(fd, buf, sizeof buf), 0);
    EXPECT_EQ("lseek /dev/null", lseek(fd, 100, SEEK_SET), 0);
    close(fd);

    fd = open("/dev/zero", O_RDWR);
    memset(buf, 0xff, sizeof buf);
    EXPECT_EQ("read 8192 from /dev/zero", read(fd, buf, sizeof buf), 8192);
    CHECK("/dev/zero reads zeros", all_zero(buf, sizeof buf));
    EXPECT_EQ("write to /dev/zero", write(fd, buf, 100), 100);
    unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("mmap /dev/zero MAP_PRIVATE", m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK("mapping of /dev/zero is zero", all_zero(m, 8192));
        m[0] = 1;
        munmap(m, 8192);
    }
    close(fd);

    fd = open("/dev/full", O_RDWR);
    EXPECT_ERR("write to /dev/full", write(fd, "x", 1), ENOSPC);
    memset(buf, 0xff, 64);
    EXPECT_EQ("read /dev/full", read(fd, buf, 64), 64);
    CHECK("/dev/full reads zeros", all_zero(buf, 64));
    close(fd);

    fd = open("/dev/urandom", O_RDONLY);
    memset(buf, 0, 64);
    EXPECT_EQ("read 64 from /dev/urandom", read(fd, buf, 64), 64);
    CHECK("urandom bytes are not all zero", !all_zero(buf, 64));
    close(fd);
    fd = open("/dev/random", O_RDONLY);
    EXPECT_EQ("read 16 from /dev/random", read(fd, buf, 16), 16);
    close(fd);

    EXPECT_ERR("open a missing device", open("/dev/vk-no-such-device", O_RDONLY), ENOENT);
    return finish();
}
