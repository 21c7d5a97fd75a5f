/* signalfd: reading blocked signals as signalfd_siginfo (kill, sigqueue,
 * SIGCHLD, several at once), readiness through poll and epoll when another
 * process sends, the mask update, argument checks, and that after fork a
 * signalfd reads the reader's own signals. */
#include "event.h"
#include <sys/signalfd.h>

static int sfd_for(int sig, int flags)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_BLOCK, &s, NULL);
    return signalfd(-1, &s, flags);
}

static void basics(void)
{
    int fd = sfd_for(SIGUSR1, SFD_NONBLOCK);
    CHECK("signalfd for SIGUSR1", fd >= 0);
    struct signalfd_siginfo si;
    EXPECT_ERR("read with nothing pending", read(fd, &si, sizeof si), EAGAIN);
    EXPECT_ERR("read with a short buffer", read(fd, &si, 100), EINVAL);
    printf("poll with nothing pending: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    kill(getpid(), SIGUSR1);
    printf("poll with SIGUSR1 pending: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    memset(&si, 0, sizeof si);
    EXPECT_EQ("read", read(fd, &si, sizeof si), 128);
    printf("ssi_signo %s ssi_code %s ssi_pid is me: %s ssi_uid is mine: %s\n", signame(si.ssi_signo), si_code_name(si.ssi_signo, si.ssi_code),
           si.ssi_pid == (uint32_t)getpid() ? "yes" : "no", si.ssi_uid == getuid() ? "yes" : "no");
    sigset_t pend;
    sigpending(&pend);
    CHECK("SIGUSR1 no longer pending", !sigismember(&pend, SIGUSR1));
    union sigval v = {.sival_int = 1234};
    sigqueue(getpid(), SIGUSR1, v);
    read(fd, &si, sizeof si);
    printf("sigqueue: ssi_code %s ssi_int %d\n", si_code_name(si.ssi_signo, si.ssi_code), si.ssi_int);
    printf("link: %s\n", fd_link(fd));
    printf("fdinfo: %s\n", fdinfo_line(fd, "sigmask"));

    /* The mask can change: the same fd comes back. */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGKILL);
    sigaddset(&s, SIGSTOP);
    block(SIGUSR2);
    EXPECT_EQ("signalfd(fd, {SIGUSR2, SIGKILL, SIGSTOP}) returns fd", signalfd(fd, &s, 0), fd);
    printf("fdinfo (SIGKILL and SIGSTOP dropped): %s\n", fdinfo_line(fd, "sigmask"));
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    memset(&si, 0, sizeof si);
    read(fd, &si, sizeof si);
    printf("with the new mask: %s\n", signame(si.ssi_signo));
    sigpending(&pend);
    CHECK("SIGUSR1 still pending", sigismember(&pend, SIGUSR1));
    close(fd);

    EXPECT_ERR("signalfd with a bad flag", signalfd(-1, &s, 1), EINVAL);
    EXPECT_ERR("signalfd4 with sizemask 4", syscall(SYS_signalfd4, -1, &s, 4, 0), EINVAL);
    EXPECT_ERR("signalfd4 with a NULL mask", syscall(SYS_signalfd4, -1, NULL, 8, 0), EFAULT);
    EXPECT_ERR("signalfd on a bad fd", signalfd(99, &s, 0), EBADF);
    int p[2];
    pipe(p);
    EXPECT_ERR("signalfd on a pipe", signalfd(p[0], &s, 0), EINVAL);
}

/* Several real-time signals come out in one read, in order; a standard
 * one is one record. */
static void many(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN);
    sigaddset(&s, SIGRTMIN + 1);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    for (int i = 0; i < 3; i++)
        sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 10 + i});
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 1});
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    struct signalfd_siginfo si[8];
    long n = read(fd, si, sizeof si);
    printf("one read: %ld records\n", n / 128);
    for (int i = 0; i < n / 128; i++)
        printf("  %s value %d\n", si[i].ssi_signo == (uint32_t)SIGRTMIN ? "SIGRTMIN" : si[i].ssi_signo == (uint32_t)SIGRTMIN + 1 ? "SIGRTMIN+1" : signame(si[i].ssi_signo),
               si[i].ssi_code == SI_QUEUE ? si[i].ssi_int : -1);
    close(fd);
}

/* A signal from another process makes a poller, an epoll waiter and a
 * blocked reader return; SIGCHLD carries the child's status. */
static void from_others(void)
{
    int fd = sfd_for(SIGUSR1, 0);
    pid_t me = getpid();
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(100);
        kill(me, SIGUSR1);
        _exit(0);
    }
    printf("poll woken by another process's kill: %s\n", pollbits(poll_one(fd, POLLIN, 5000)));
    struct signalfd_siginfo si;
    read(fd, &si, sizeof si);
    printf("ssi_pid is the sender: %s\n", si.ssi_pid == (uint32_t)c ? "yes" : "no");
    wait_status(c, 0);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        kill(me, SIGUSR1);
        _exit(0);
    }
    uint64_t data = 0;
    int r = epoll_one(ep, 5000, &data);
    printf("epoll_wait woken: %s data %llu\n", pollbits(r), (unsigned long long)data);
    read(fd, &si, sizeof si);
    wait_status(c, 0);

    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        kill(me, SIGUSR1);
        _exit(0);
    }
    long long t0 = now_ns();
    long n = read(fd, &si, sizeof si);
    printf("blocked read: %ld, %s, after the sender's 100 ms: %s\n", n, signame(si.ssi_signo), ms_since(t0) >= 90 ? "yes" : "no");
    wait_status(c, 0);
    close(ep);
    close(fd);

    int cfd = sfd_for(SIGCHLD, 0);
    c = xfork();
    if (c == 0)
        _exit(7);
    read(cfd, &si, sizeof si);
    printf("SIGCHLD: %s status %d ssi_pid is the child: %s\n", si_code_name(SIGCHLD, si.ssi_code), si.ssi_status, si.ssi_pid == (uint32_t)c ? "yes" : "no");
    wait_status(c, 0);
    close(cfd);
}

/* After fork, the child's read takes the child's own signals; a signal
 * outside the mask interrupts a blocked read with EINTR. */
static volatile int usr2;
static void on_usr2(int s) { (void)s; usr2++; }

static void after_fork(void)
{
    int fd = sfd_for(SIGUSR1, SFD_NONBLOCK);
    kill(getpid(), SIGUSR1);
    pid_t c = xfork();
    if (c == 0) {
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) >= 0)
            _exit(1);
        kill(getpid(), SIGUSR1);
        _exit(read(fd, &si, sizeof si) == 128 && si.ssi_pid == (uint32_t)getpid() ? 0 : 2);
    }
    printf("child reads only its own signals: %s\n", status_str(wait_status(c, 0)));
    struct signalfd_siginfo si;
    EXPECT_EQ("the parent's signal is still there", read(fd, &si, sizeof si), 128);
    close(fd);

    fd = sfd_for(SIGUSR1, 0);
    set_handler(SIGUSR2, on_usr2, 0);
    pid_t me = getpid();
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        kill(me, SIGUSR2);
        _exit(0);
    }
    errno = 0;
    long n = read(fd, &si, sizeof si);
    printf("blocked read and a handled SIGUSR2: %ld %s, handler ran %d\n", n, errname(errno), usr2);
    wait_status(c, 0);
    close(fd);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    section("signalfd reads, masks and argument checks", basics);
    section("several queued signals in one read", many);
    section("signals from other processes wake poll, epoll and read", from_others);
    section("fork and interruption", after_fork);
    return finish();
}
