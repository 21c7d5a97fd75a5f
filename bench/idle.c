/* An idle guest: prints "ready", then sleeps SECONDS (default 3). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 3;
    printf("ready\n");
    fflush(stdout);
    struct timespec t = {secs, 0};
    nanosleep(&t, NULL);
    return 0;
}
