/* alarm(1) is delivered: SIGALRM's handler runs within a few seconds. The
 * panic-policy test runs it after a kernel timer callback panicked, to
 * show the timer thread went on. */
#include "common.h"
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t fired;

static void on_alarm(int sig)
{
    (void)sig;
    fired = 1;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    struct timespec t = {0, 50 * 1000 * 1000};
    for (int i = 0; i < 100 && !fired; i++)
        nanosleep(&t, NULL);
    printf("alarm %s\n", fired ? "fired" : "never fired");
    return fired ? 0 : 1;
}
