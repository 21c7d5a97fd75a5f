/* SIGIO: O_ASYNC (F_SETFL and FIOASYNC) on pipes and pseudo-terminals
 * signals the file's owner when data arrives or room appears; F_SETOWN,
 * F_SETOWN_EX, F_GETOWN(_EX), F_SETSIG and the siginfo (si_code, si_band,
 * si_fd) of a queued F_SETSIG signal. */
#include "event.h"
#include <sys/ioctl.h>
#include <termios.h>

static int wait_sig(int sig, siginfo_t *si, long ms)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    memset(si, 0, sizeof *si);
    return sigtimedwait(&s, si, &t);
}

static void drain_sig(int sig)
{
    siginfo_t si;
    while (wait_sig(sig, &si, 0) > 0)
        ;
}

static void owners(void)
{
    int p[2];
    pipe(p);
    printf("F_GETOWN of a new pipe: %d\n", fcntl(p[0], F_GETOWN));
    struct f_owner_ex ex = {-1, -1};
    fcntl(p[0], F_GETOWN_EX, &ex);
    printf("F_GETOWN_EX of a new pipe: type %d pid %d\n", ex.type, ex.pid);
    EXPECT_EQ("F_SETOWN getpid()", fcntl(p[0], F_SETOWN, getpid()), 0);
    printf("F_GETOWN is me: %s\n", fcntl(p[0], F_GETOWN) == getpid() ? "yes" : "no");
    fcntl(p[0], F_GETOWN_EX, &ex);
    printf("F_GETOWN_EX: type %s, pid is me: %s\n", ex.type == F_OWNER_PID ? "F_OWNER_PID" : "?", ex.pid == getpid() ? "yes" : "no");
    EXPECT_EQ("F_SETOWN -pgrp", fcntl(p[0], F_SETOWN, -getpgrp()), 0);
    fcntl(p[0], F_GETOWN_EX, &ex);
    printf("F_GETOWN_EX: type %s, pid is my group: %s\n", ex.type == F_OWNER_PGRP ? "F_OWNER_PGRP" : "?", ex.pid == getpgrp() ? "yes" : "no");
    struct f_owner_ex tid = {F_OWNER_TID, gettid()};
    EXPECT_EQ("F_SETOWN_EX F_OWNER_TID", fcntl(p[0], F_SETOWN_EX, &tid), 0);
    fcntl(p[0], F_GETOWN_EX, &ex);
    printf("F_GETOWN_EX: type %s\n", ex.type == F_OWNER_TID ? "F_OWNER_TID" : "?");
    struct f_owner_ex bad = {7, getpid()};
    EXPECT_ERR("F_SETOWN_EX with type 7", fcntl(p[0], F_SETOWN_EX, &bad), EINVAL);
    struct f_owner_ex gone = {F_OWNER_PID, 999999};
    EXPECT_ERR("F_SETOWN_EX of pid 999999", fcntl(p[0], F_SETOWN_EX, &gone), ESRCH);
    EXPECT_ERR("F_SETOWN 999999", fcntl(p[0], F_SETOWN, 999999), ESRCH);
    EXPECT_EQ("F_SETOWN 0", fcntl(p[0], F_SETOWN, 0), 0);
    printf("F_GETSIG of a new pipe: %d\n", fcntl(p[0], F_GETSIG));
    EXPECT_EQ("F_SETSIG SIGUSR2", fcntl(p[0], F_SETSIG, SIGUSR2), 0);
    printf("F_GETSIG: %s\n", signame(fcntl(p[0], F_GETSIG)));
    EXPECT_ERR("F_SETSIG 65", fcntl(p[0], F_SETSIG, 65), EINVAL);
    int fd = open("/proc/self/status", O_RDONLY | O_PATH);
    EXPECT_ERR("F_SETOWN on an O_PATH fd", fcntl(fd, F_SETOWN, getpid()), EBADF);
    close(fd);
}

static void pipes(void)
{
    block(SIGIO);
    block(SIGRTMIN);
    int p[2];
    pipe(p);
    fcntl(p[0], F_SETOWN, getpid());
    EXPECT_EQ("F_SETFL O_ASYNC on the read end", fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK), 0);
    printf("F_GETFL has O_ASYNC: %s\n", fcntl(p[0], F_GETFL) & O_ASYNC ? "yes" : "no");
    siginfo_t si;
    printf("before a write: %s\n", wait_sig(SIGIO, &si, 0) < 0 ? "no signal" : "a signal");
    write(p[1], "x", 1);
    int sig = wait_sig(SIGIO, &si, 1000);
    printf("a write: %s %s\n", signame(sig), si_code_name(sig, si.si_code));
    char b[8];
    read(p[0], b, sizeof b);
    drain_sig(SIGIO);
    fcntl(p[0], F_SETSIG, SIGRTMIN);
    write(p[1], "y", 1);
    sig = wait_sig(SIGRTMIN, &si, 1000);
    printf("with F_SETSIG SIGRTMIN: %s, code %d (POLL_IN %d), band %#lx, fd matches: %s\n", sig == SIGRTMIN ? "SIGRTMIN" : signame(sig), si.si_code, POLL_IN,
           (long)si.si_band, si.si_fd == p[0] ? "yes" : "no");
    read(p[0], b, sizeof b);
    drain_sig(SIGRTMIN);
    /* The write end hears of room after a read. */
    fcntl(p[1], F_SETOWN, getpid());
    fcntl(p[1], F_SETSIG, SIGRTMIN);
    int on = 1;
    EXPECT_EQ("FIOASYNC on the write end", ioctl(p[1], FIOASYNC, &on), 0);
    write(p[1], "z", 1);
    drain_sig(SIGRTMIN);
    read(p[0], b, sizeof b);
    int got_out = 0;
    while ((sig = wait_sig(SIGRTMIN, &si, 500)) > 0)
        if (si.si_fd == p[1] && si.si_code == POLL_OUT)
            got_out = 1;
    printf("a read signals the writer with POLL_OUT: %s\n", got_out ? "yes" : "no");
    /* O_ASYNC off: no more signals. */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    on = 0;
    ioctl(p[1], FIOASYNC, &on);
    write(p[1], "w", 1);
    printf("after O_ASYNC is off: %s\n", wait_sig(SIGRTMIN, &si, 200) < 0 ? "no signal" : "a signal");
    /* Another process's write reaches this process. */
    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    read(p[0], b, sizeof b);
    drain_sig(SIGRTMIN);
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        write(p[1], "from a child", 12);
        _exit(0);
    }
    sig = wait_sig(SIGRTMIN, &si, 5000);
    printf("another process's write: %s, fd matches: %s\n", sig == SIGRTMIN ? "SIGRTMIN" : signame(sig), si.si_fd == p[0] ? "yes" : "no");
    wait_status(c, 0);
}

static void ptys(void)
{
    block(SIGIO);
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECK("a pty pair", m >= 0 && s >= 0);
    struct termios t;
    tcgetattr(s, &t);
    t.c_lflag &= ~(ICANON | ECHO);
    tcsetattr(s, TCSANOW, &t);
    EXPECT_EQ("O_ASYNC on the slave", fcntl(s, F_SETFL, O_ASYNC), 0);
    printf("enabling O_ASYNC made me the slave's owner: %s\n", fcntl(s, F_GETOWN) == getpid() ? "yes" : "no");
    siginfo_t si;
    write(m, "k", 1);
    int sig = wait_sig(SIGIO, &si, 1000);
    printf("input on the slave: %s\n", signame(sig));
    char b[8];
    read(s, b, sizeof b);
    drain_sig(SIGIO);
    EXPECT_EQ("O_ASYNC on the master", fcntl(m, F_SETFL, O_ASYNC), 0);
    fcntl(s, F_SETFL, 0);
    write(s, "out", 3);
    sig = wait_sig(SIGIO, &si, 1000);
    printf("slave output for the master: %s\n", signame(sig));
    close(s);
    close(m);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    section("file owners and signals", owners);
    section("SIGIO from pipes", pipes);
    section("SIGIO from pseudo-terminals", ptys);
    return finish();
}
