/* sendfile(/dev/null, a 10-byte file, NULL, count): Linux copies the 10 bytes for any count up to
 * SSIZE_MAX and answers EINVAL for (size_t)-1 (rw_verify_area: pos + count overflows); vkernel copies. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>
int main(void)
{
    char path[] = "/dev/shm/vk-sendfile-XXXXXX";
    int fd = mkstemp(path);
    write(fd, "0123456789", 10);
    int out = open("/dev/null", O_WRONLY);
    size_t counts[] = {100, 1 << 20, (size_t)1 << 31, (size_t)-1};
    for (int i = 0; i < 4; i++) {
        lseek(fd, 0, SEEK_SET);
        errno = 0;
        long n = sendfile(out, fd, NULL, counts[i]);
        printf("count %zu: %ld %s\n", counts[i], n, n < 0 ? strerror(errno) : "");
    }
    unlink(path);
    errno = 0;
    lseek(fd, 0, SEEK_SET);
    return sendfile(out, fd, NULL, (size_t)-1) == -1 && errno == EINVAL ? 0 : 1;
}
