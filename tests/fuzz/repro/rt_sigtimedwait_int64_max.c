/* rt_sigtimedwait(set, NULL, {INT64_MAX, 0}): Linux waits "forever"; vkernel
 * panics in sys_rt_sigtimedwait (Instant overflow) and the task is lost. */
#include "killable.h"
#include <stdint.h>
static long block(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec t = {INT64_MAX, 0};
    return syscall(SYS_rt_sigtimedwait, &set, NULL, &t, 8);
}
int main(void) { return check("rt_sigtimedwait(INT64_MAX s)", block); }
