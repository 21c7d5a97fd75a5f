/* An ITIMER_REAL of 10 ms with it_interval {INT64_MAX, 0}: Linux fires once
 * and re-arms for "forever". vkernel's timer thread panics at the first
 * expiry (next = deadline + interval overflows), and after that no timer
 * fires for any process: alarm(1) in another process never arrives. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile int alarms;
static void on_alarm(int s) { (void)s; alarms++; }
int main(void)
{
    pid_t c = fork();
    if (c == 0) {
        signal(SIGALRM, on_alarm);
        struct itimerval it = {{INT64_MAX, 0}, {0, 10000}};
        setitimer(ITIMER_REAL, &it, NULL);
        usleep(300000);
        _exit(alarms == 1 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    printf("huge interval: fired once: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no  FAIL");
    c = fork();
    if (c == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(1);
        pause();
        _exit(0);
    }
    int ended = 0;
    for (int i = 0; i < 600 && !ended; i++) {
        ended = waitpid(c, &st, WNOHANG) == c;
        usleep(5000);
    }
    printf("alarm(1) in another process afterwards: %s\n", ended ? "SIGALRM arrived" : "no SIGALRM within 3 s  FAIL");
    if (!ended)
        kill(c, SIGKILL);
    return ended ? 0 : 1;
}
