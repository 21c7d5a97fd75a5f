/* Controlling terminals and job control on a pty: acquisition by a session
 * leader, /dev/tty, SIGTTIN/SIGTTOU for background groups (EIO when
 * ignored), tcsetpgrp, ^C from the master, hangup on master close. */
#include "common.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <poll.h>

static volatile sig_atomic_t got;
static void h(int s) { got = s; }
static void catch(int s) { struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = h; sigaction(s, &sa, 0); }

static void waitfor(pid_t p, const char *what) {
    int st; pid_t r = waitpid(p, &st, WUNTRACED);
    if (r < 0) { printf("%s: waitpid %s\n", what, errname(errno)); return; }
    if (WIFEXITED(st)) printf("%s: exit %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: signal %d\n", what, WTERMSIG(st));
    else if (WIFSTOPPED(st)) printf("%s: stopped %d\n", what, WSTOPSIG(st));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m); unlockpt(m);
    char name[64]; strcpy(name, ptsname(m));
    int pfd[2]; pipe(pfd);
    pid_t leader = fork();
    if (leader == 0) {
        close(m);
        printf("child: open /dev/tty before setsid: %s\n", open("/dev/tty", O_RDWR) >= 0 ? "ok" : errname(errno));
        setsid();
        printf("child: /dev/tty after setsid: %s\n", open("/dev/tty", O_RDWR) >= 0 ? "ok" : errname(errno));
        int s = open(name, O_RDWR);  /* acquires ctty */
        pid_t sid = -1; ioctl(s, TIOCGSID, &sid);
        printf("child: TIOCGSID is me %d\n", sid == getpid());
        printf("child: tcgetpgrp is me %d\n", tcgetpgrp(s) == getpid());
        int t = open("/dev/tty", O_RDWR);
        printf("child: /dev/tty now: %s\n", t >= 0 ? "ok" : errname(errno));
        printf("child: TIOCSCTTY again %d\n", ioctl(s, TIOCSCTTY, 0));
        /* background group member */
        pid_t bg = fork();
        if (bg == 0) {
            setpgid(0, 0);
            char c[64];
            int n = read(s, c, sizeof c);   /* SIGTTIN stops us */
            printf("bg: read after continue %d\n", n);
            _exit(3);
        }
        setpgid(bg, bg);
        waitfor(bg, "bg reader");
        /* Ignoring SIGTTIN gives EIO */
        pid_t bg2 = fork();
        if (bg2 == 0) {
            setpgid(0, 0);
            signal(SIGTTIN, SIG_IGN);
            char c;
            int n = read(s, &c, 1);
            printf("bg2: read with SIGTTIN ignored: %d %s\n", n, errname(errno));
            n = write(s, "bgwrite\n", 8);
            printf("bg2: write without TOSTOP: %d\n", n);
            struct termios tt; tcgetattr(s, &tt); tt.c_lflag |= TOSTOP;
            signal(SIGTTOU, SIG_IGN);
            printf("bg2: tcsetattr with SIGTTOU ignored: %d\n", tcsetattr(s, TCSANOW, &tt));
            signal(SIGTTOU, SIG_DFL);
            n = write(s, "x", 1);
            printf("bg2: write with TOSTOP after continue: %d\n", n);
            _exit(4);
        }
        setpgid(bg2, bg2);
        waitfor(bg2, "bg2");
        kill(bg2, SIGCONT);
        waitfor(bg2, "bg2 after cont");
        kill(bg2, SIGKILL);
        waitfor(bg2, "bg2 killed");
        /* foreground: give the terminal to bg, continue it, then it reads */
        printf("child: tcsetpgrp(bg) %d\n", tcsetpgrp(s, bg));
        kill(bg, SIGCONT);
        write(pfd[1], "g", 1);
        waitfor(bg, "bg reader after fg");
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(s, getpgrp());
        signal(SIGTTOU, SIG_DFL);
        struct termios tt; tcgetattr(s, &tt); tt.c_lflag &= ~TOSTOP; tcsetattr(s, TCSANOW, &tt);
        /* ^C from the master interrupts us */
        catch(SIGINT);
        write(pfd[1], "i", 1);
        char c;
        int n = read(s, &c, 1);
        printf("child: read interrupted: %d %s got %d\n", n, errname(errno), got);
        got = 0;
        catch(SIGHUP);
        write(pfd[1], "h", 1);
        /* Whether the read is already waiting when the master closes is a
         * race on a loaded machine (EIO if it was, 0 if not: both Linux),
         * so only the outcomes every ordering shares are printed. */
        n = read(s, &c, 1);
        printf("child: read after hangup ends: %s\n", n == 0 || (n < 0 && errno == EIO) ? "yes" : "no");
        for (int i = 0; i < 100 && !got; i++)
            usleep(10000);
        printf("child: SIGHUP arrived: %s\n", got ? "yes" : "no");
        n = read(s, &c, 1);
        printf("child: read again after hangup ends: %s\n", n == 0 || (n < 0 && errno == EIO) ? "yes" : "no");
        printf("child: /dev/tty after hangup fails: %s\n", open("/dev/tty", O_RDWR) < 0 ? "yes" : "no");
        _exit(0);
    }
    char buf[512]; int n;
    char c;
    read(pfd[0], &c, 1);  /* g */
    write(m, "Q\n", 2);
    read(pfd[0], &c, 1);  /* i */
    usleep(100000);
    write(m, "\x03", 1);
    read(pfd[0], &c, 1);  /* h */
    usleep(100000);
    n = read(m, buf, sizeof buf);
    printf("parent: master got %d bytes\n", n);
    close(m);
    waitfor(leader, "leader");
    return finish();
}
