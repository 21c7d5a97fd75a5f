/* sigtimedwait for a blocked signal that arrives while the caller waits:
 * it is taken, never dropped, even for PID 1 (under vkernel this program
 * is init, whose default-action signals are otherwise discarded; Linux
 * keeps those a sigtimedwait waits for through real_blocked). */
#include "common.h"
#include <signal.h>
#include <sys/time.h>

int main(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int taken = 0;
    for (int i = 0; i < 20; i++) {
        struct itimerval it = {.it_value = {0, 5000}};
        setitimer(ITIMER_REAL, &it, NULL);
        struct timespec timeout = {5, 0};
        if (sigtimedwait(&set, NULL, &timeout) == SIGALRM)
            taken++;
    }
    EXPECT_EQ("SIGALRMs taken by sigtimedwait", taken, 20);
    return vk_failures != 0;
}
