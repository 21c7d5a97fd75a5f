/* Pseudo-terminals: /dev/ptmx, unlockpt, ptsname, the slave line discipline
 * (canonical editing, echo, VMIN/VTIME, FIONREAD), window size, TIOCGPTPEER,
 * and what each side sees when the other closes. */
#include "common.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <poll.h>
#include <pty.h>

static void show(const char *what, const char *buf, int n) {
    printf("%s: %d \"", what, n);
    for (int i = 0; i < n; i++) {
        unsigned char c = buf[i];
        if (c == '\r') printf("\\r"); else if (c == '\n') printf("\\n");
        else if (c < 32 || c >= 127) printf("\\x%02x", c); else putchar(c);
    }
    printf("\"\n");
}

int main(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) { printf("posix_openpt: %s\n", errname(errno)); return 1; }
    char *name = ptsname(m);
    printf("ptsname %s\n", name ? "ok" : errname(errno));
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("open locked slave: %d %s\n", s, s < 0 ? errname(errno) : "");
    printf("grantpt %d unlockpt %d\n", grantpt(m), unlockpt(m));
    s = open(name, O_RDWR | O_NOCTTY);
    printf("open slave: %s\n", s >= 0 ? "ok" : errname(errno));
    struct stat st; fstat(s, &st);
    printf("slave: char %d major %d\n", S_ISCHR(st.st_mode), major(st.st_rdev));
    printf("isatty m %d s %d\n", isatty(m), isatty(s));
    char tn[64]; int r = ttyname_r(s, tn, sizeof tn);
    printf("ttyname_r: %d same %d\n", r, r == 0 && strcmp(tn, name) == 0);
    struct termios t; tcgetattr(s, &t);
    printf("termios iflag %o oflag %o lflag %o cflag %o\n", t.c_iflag, t.c_oflag, t.c_lflag, t.c_cflag);
    char buf[256]; int n;
    write(m, "hello\r", 6);
    usleep(10000);
    n = read(s, buf, sizeof buf); show("slave read", buf, n);
    n = read(m, buf, sizeof buf); show("master read echo", buf, n);
    write(s, "out\n", 4);
    n = read(m, buf, sizeof buf); show("master read output", buf, n);
    write(m, "ab\x7f" "c\x15xyz\x17w\n", 12);
    usleep(10000);
    n = read(s, buf, sizeof buf); show("slave read edited", buf, n);
    n = read(m, buf, sizeof buf); show("master read echo2", buf, n);
    write(m, "\x04", 1);
    usleep(10000);
    n = read(s, buf, sizeof buf); show("slave read eof", buf, n);
    struct pollfd p = { s, POLLIN, 0 };
    printf("poll slave empty: %d\n", poll(&p, 1, 0));
    fcntl(s, F_SETFL, O_NONBLOCK);
    n = read(s, buf, sizeof buf); printf("nonblock read: %d %s\n", n, errname(errno));
    fcntl(s, F_SETFL, 0);
    /* raw mode */
    cfmakeraw(&t); t.c_cc[VMIN] = 0; t.c_cc[VTIME] = 0; tcsetattr(s, TCSANOW, &t);
    n = read(s, buf, sizeof buf); printf("raw min0 time0 empty: %d\n", n);
    write(m, "\x03q", 2); usleep(10000);
    int avail = -1; ioctl(s, FIONREAD, &avail); printf("FIONREAD %d\n", avail);
    n = read(s, buf, sizeof buf); show("raw read", buf, n);
    t.c_cc[VMIN] = 0; t.c_cc[VTIME] = 2; tcsetattr(s, TCSANOW, &t);
    n = read(s, buf, sizeof buf); printf("raw time 0.2s: %d\n", n);
    t.c_cc[VMIN] = 3; t.c_cc[VTIME] = 0; tcsetattr(s, TCSANOW, &t);
    write(m, "abcd", 4); usleep(10000);
    n = read(s, buf, 2); show("min3 read2", buf, n);
    write(m, "e", 1);
    n = read(s, buf, sizeof buf); show("min3 read rest", buf, n);
    struct winsize ws = { 24, 80, 0, 0 };
    printf("TIOCSWINSZ master %d\n", ioctl(m, TIOCSWINSZ, &ws));
    memset(&ws, 0, sizeof ws); ioctl(s, TIOCGWINSZ, &ws);
    printf("winsize %d %d\n", ws.ws_row, ws.ws_col);
    int ptn = -1; ioctl(m, TIOCGPTN, &ptn); printf("ptn ok %d\n", ptn >= 0);
    EXPECT_ERR("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &ptn), ENOTTY);
    pid_t pg; EXPECT_ERR("TIOCGPGRP not ctty", ioctl(s, TIOCGPGRP, &pg), ENOTTY);
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    printf("TIOCGPTPEER: %s\n", peer >= 0 ? "ok" : errname(errno));
    if (peer >= 0) { r = ttyname_r(peer, tn, sizeof tn); printf("peer ttyname same %d\n", r == 0 && strcmp(tn, name) == 0); close(peer); }
    /* close slave: master read -> EIO */
    close(s);
    p.fd = m; p.events = POLLIN; p.revents = 0;
    r = poll(&p, 1, 0);
    printf("master poll after slave close: %d revents %x\n", r, p.revents);
    n = read(m, buf, sizeof buf); printf("master read after slave close: %d %s\n", n, errname(errno));
    /* reopen slave, close master: slave read 0, write EIO */
    s = open(name, O_RDWR | O_NOCTTY);
    close(m);
    n = read(s, buf, sizeof buf); printf("slave read after master close: %d\n", n);
    n = write(s, "x", 1); printf("slave write after master close: %d %s\n", n, errname(errno));
    p.fd = s; p.events = POLLIN | POLLOUT; p.revents = 0;
    r = poll(&p, 1, 0); printf("slave poll: %d revents %x\n", r, p.revents);
    struct stat st2; printf("stat slave node after master close: %d %s\n", stat(name, &st2), errname(errno));
    return finish();
}
