/* nanosleep({INT64_MAX, 0}): Linux sleeps "forever" (KTIME_MAX); vkernel
 * panics in sys_nanosleep ("overflow when adding duration to instant") and
 * the task is lost: no EINTR, no death by SIGKILL. */
#include "killable.h"
#include <stdint.h>
static long block(void)
{
    struct timespec t = {INT64_MAX, 0};
    return syscall(SYS_nanosleep, &t, NULL);
}
int main(void) { return check("nanosleep(INT64_MAX s)", block); }
