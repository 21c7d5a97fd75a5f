/* sendfile(pty master, /dev/zero, NULL, 4 GiB) with nobody reading the
 * slave blocks once the pty is full. Linux ends it for a signal (with the
 * count copied so far) and SIGKILL kills the process; under vkernel neither
 * a handled signal, SIGSTOP nor SIGKILL ends it. (A write() loop or 64 KiB
 * sendfiles into the same full pty are killable: it is the one long call.)
 * Found by the fuzzer: seed 135 with --avoid-known, "worker not gone 5 s
 * after SIGKILL; last call sendfile(40) 0xc 0x8 0x300000000d68 0x100000000". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    unlockpt(m);
    pid_t c = fork();
    if (c == 0) {
        int z = open("/dev/zero", O_RDONLY);
        sendfile(m, z, NULL, 1ull << 32);
        _exit(0);
    }
    usleep(300000);
    kill(c, SIGKILL);
    int st = 0, done = 0;
    for (int i = 0; i < 200 && !done; i++) {
        done = waitpid(c, &st, WNOHANG) == c;
        usleep(10000);
    }
    printf("SIGKILL during a 4 GiB sendfile into a full pty: %s\n",
           done && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed (as on Linux)" : "still there 2 s later: FAIL");
    return done ? 0 : 1;
}
