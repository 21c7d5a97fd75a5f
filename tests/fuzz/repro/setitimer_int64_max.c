/* setitimer(ITIMER_REAL, it_value {INT64_MAX, 0}): Linux returns 0 (the
 * timer saturates to KTIME_MAX); vkernel panics in set_real_timer (Instant
 * overflow) and the caller never returns from setitimer. */
#include "killable.h"
#include <stdint.h>
#include <sys/time.h>
static long block(void)
{
    struct itimerval it = {{0, 0}, {INT64_MAX, 0}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        return 0;
    return pause();
}
int main(void) { return check("setitimer(INT64_MAX s) then pause", block); }
