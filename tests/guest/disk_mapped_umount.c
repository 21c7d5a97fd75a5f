/* A shared mapping of a file on a mounted ext4 disk holds the mount, as
 * a VMA's vm_file does on Linux: umount is EBUSY while it exists; after
 * a lazy umount, writes through the mapping still reach the disk when the
 * last mapping goes.
 *
 * disk_mapped_umount DEVICE MOUNTPOINT: prints one line per step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void step(const char *what, int r)
{
    if (r < 0) {
        printf("%s: -1 %s\n", what, strerror(errno));
    } else {
        printf("%s: %d\n", what, r);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: disk_mapped_umount DEVICE MOUNTPOINT\n");
        return 2;
    }
    const char *dev = argv[1], *at = argv[2];
    char path[256];
    snprintf(path, sizeof path, "%s/mapped", at);
    mkdir(at, 0755);
    step("mount", mount(dev, at, "ext4", 0, NULL));
    int fd = open(path, O_CREAT | O_RDWR, 0644);
    step("ftruncate", ftruncate(fd, 8192));
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    close(fd);
    memcpy(p, "first page", 10);
    step("umount while mapped", umount(at));
    step("lazy umount", umount2(at, MNT_DETACH));
    memcpy(p + 4096, "second page", 11);
    step("munmap", munmap(p, 8192));
    fflush(stdout);
    return 0;
}
