/* Memory give-back: prints "ready", touches MIB (default 500) MiB of
 * anonymous memory, prints "touched", waits for a line on stdin (or 2 s),
 * munmaps it, prints "freed", then sleeps SECONDS (default 3) so the host
 * side can watch the footprint fall. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 500;
    int secs = argc > 2 ? atoi(argv[2]) : 3;
    size_t len = mib << 20;
    printf("ready\n");
    fflush(stdout);
    struct timespec settle = {1, 0};
    nanosleep(&settle, NULL);
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < len; i += 4096)
        p[i] = (unsigned char)i | 1;
    printf("touched\n");
    fflush(stdout);
    struct pollfd in = {0, POLLIN, 0};
    poll(&in, 1, 2000);
    munmap(p, len);
    printf("freed\n");
    fflush(stdout);
    struct timespec t = {secs, 0};
    nanosleep(&t, NULL);
    return 0;
}
