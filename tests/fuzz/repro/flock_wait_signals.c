/* flock(LOCK_SH) blocked behind a LOCK_EX held through another open file
 * description: Linux ends the wait for a handled signal (EINTR) and for
 * SIGKILL. vkernel's flock wait sees neither (like the futex waits). The
 * same holds for fcntl(F_SETLKW) behind another process's lock. */
#include "killable.h"
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
static char path[] = "/dev/shm/vk-flock-XXXXXX";
static long block(void)
{
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    flock(a, LOCK_EX);
    return flock(b, LOCK_SH);
}
static long block_setlkw(void)
{
    /* the lock is held by the parent (see main) */
    int fd = open(path, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return fcntl(fd, F_SETLKW, &fl);
}
int main(void)
{
    int fd = mkstemp(path);
    int fails = check("flock(LOCK_SH) behind our own LOCK_EX on another fd", block);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    fcntl(fd, F_SETLK, &fl);
    fails += check("fcntl(F_SETLKW) behind the parent's write lock", block_setlkw);
    unlink(path);
    return fails;
}
