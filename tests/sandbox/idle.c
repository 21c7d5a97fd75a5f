/* A guest that stays alive so the host side can be inspected.
 * usage: idle sleep SECONDS | idle spin
 * Prints "ready" (flushed) once running. */
#include "common.h"
#include <time.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sleep";
    printf("ready\n");
    fflush(stdout);
    if (!strcmp(mode, "spin")) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    int secs = argc > 2 ? atoi(argv[2]) : 30;
    struct timespec t = {secs, 0};
    nanosleep(&t, NULL);
    printf("done\n");
    return 0;
}
