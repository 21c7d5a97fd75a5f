/* FUTEX_WAIT_PRIVATE with no timeout (and the same with any timeout, any
 * form: shared, WAIT_BITSET, sem_wait): Linux ends the wait for a handled
 * signal (EINTR; restart under SA_RESTART) and for SIGKILL; vkernel's waiter
 * sees neither. */
#include "killable.h"
#include <linux/futex.h>
static int word;
static long block(void) { return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0); }
int main(void) { return check("futex(FUTEX_WAIT_PRIVATE, no timeout)", block); }
