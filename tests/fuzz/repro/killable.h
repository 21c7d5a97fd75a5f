/* Shared by the reproducers: run `block` in a child, then check that a
 * handled SIGUSR1 ends it (EINTR) and that SIGKILL ends it, each within 2 s.
 * Prints one line per check and exits 0 when both hold, as on Linux. Safe
 * to run natively; under vkernel: target/release/vkernel -- ./BINARY */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int s) { (void)s; }

static int ended_within_2s(pid_t c, int *st)
{
    for (int i = 0; i < 400; i++) {
        if (waitpid(c, st, WNOHANG) == c)
            return 1;
        usleep(5000);
    }
    return 0;
}

static int check(const char *what, long (*block)(void))
{
    int failures = 0;
    for (int kill_it = 0; kill_it <= 1; kill_it++) {
        pid_t c = fork();
        if (c == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_usr1;
            sigaction(SIGUSR1, &sa, NULL);
            long r = block();
            _exit(r == -1 && errno == EINTR ? 0 : 1);
        }
        usleep(200000);
        kill(c, kill_it ? SIGKILL : SIGUSR1);
        int st = 0;
        int ok = ended_within_2s(c, &st) &&
                 (kill_it ? WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL : WIFEXITED(st) && WEXITSTATUS(st) == 0);
        printf("%s, then %s: %s\n", what, kill_it ? "SIGKILL" : "a handled SIGUSR1",
               ok ? "ended (as on Linux)" : "still there after 2 s, or ended wrongly: FAIL");
        failures += !ok;
        if (!ok)
            kill(c, SIGKILL);
    }
    return failures ? 1 : 0;
}
