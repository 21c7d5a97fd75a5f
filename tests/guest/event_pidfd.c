/* pidfds: pidfd_open, readiness when the process exits and once it is
 * reaped, waitid(P_PIDFD) (blocking, WNOHANG, PIDFD_NONBLOCK),
 * pidfd_send_signal with and without a siginfo, pidfd_getfd, and the
 * argument checks. */
#include "event.h"
#include <pthread.h>
#include <sys/stat.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int send_sig(int fd, int sig, siginfo_t *info, unsigned flags) { return syscall(SYS_pidfd_send_signal, fd, sig, info, flags); }
static int getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }

static void lifecycle(void)
{
    long long t0 = now_ns();
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(300);
        _exit(3);
    }
    int fd = pidfd_open(c, 0);
    CHECK("pidfd_open(child)", fd >= 0);
    printf("close-on-exec: %d\n", fcntl(fd, F_GETFD));
    printf("link: %s\n", fd_link(fd));
    char want[32];
    snprintf(want, sizeof want, "Pid:\t%d", c);
    printf("fdinfo Pid is the child: %s\n", strcmp(fdinfo_line(fd, "Pid:"), want) ? "no" : "yes");
    printf("poll while it runs: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    int r = poll_one(fd, POLLIN, 5000);
    printf("poll until it exits: %s, after its 300 ms: %s\n", pollbits(r), ms_since(t0) >= 250 ? "yes" : "no");
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid(P_PIDFD, WEXITED)", waitid(P_PIDFD, fd, &si, WEXITED), 0);
    printf("si_pid is the child: %s, %s status %d\n", si.si_pid == c ? "yes" : "no", si_code_name(SIGCHLD, si.si_code), si.si_status);
    printf("poll once reaped: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    printf("fdinfo once reaped: %s\n", fdinfo_line(fd, "Pid:"));
    EXPECT_ERR("waitid(P_PIDFD) again", waitid(P_PIDFD, fd, &si, WEXITED), ECHILD);
    EXPECT_ERR("pidfd_send_signal to the reaped child", send_sig(fd, SIGTERM, NULL, 0), ESRCH);
    EXPECT_ERR("pidfd_getfd from the reaped child", getfd(fd, 0, 0), ESRCH);
    close(fd);

    /* epoll sees the exit too. */
    c = xfork();
    if (c == 0) {
        sleep_ms(100);
        _exit(0);
    }
    fd = pidfd_open(c, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    uint64_t data = 0;
    r = epoll_one(ep, 5000, &data);
    printf("epoll_wait on a pidfd: %s data %llu\n", pollbits(r), (unsigned long long)data);
    wait_status(c, 0);
    close(ep);
    close(fd);
}

static void waiting(void)
{
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(200);
        _exit(5);
    }
    int fd = pidfd_open(c, 0);
    int nfd = pidfd_open(c, PIDFD_NONBLOCK);
    printf("PIDFD_NONBLOCK sets O_NONBLOCK: %s\n", fcntl(nfd, F_GETFL) & O_NONBLOCK ? "yes" : "no");
    siginfo_t si;
    memset(&si, 0xff, sizeof si);
    EXPECT_EQ("waitid(P_PIDFD, WEXITED|WNOHANG) while it runs", waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), 0);
    printf("si_pid: %d\n", si.si_pid);
    EXPECT_ERR("waitid on a PIDFD_NONBLOCK pidfd while it runs", waitid(P_PIDFD, nfd, &si, WEXITED), EAGAIN);
    EXPECT_ERR("waitid(P_PIDFD) on a pipe", waitid(P_PIDFD, 0, &si, WEXITED), EBADF);
    EXPECT_ERR("waitid(P_PIDFD, -1)", waitid(P_PIDFD, -1, &si, WEXITED), EINVAL);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid(P_PIDFD) blocks until it exits", waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT), 0);
    printf("WNOWAIT left it: status %d, still there: %s\n", si.si_status, waitpid(c, NULL, WNOHANG) == c ? "yes" : "no");
    close(fd);
    close(nfd);

    /* A pidfd of a process that is not our child: ECHILD. */
    int pfd = pidfd_open(getppid(), 0);
    CHECK("pidfd_open(parent)", pfd >= 0);
    EXPECT_ERR("waitid(P_PIDFD) on the parent", waitid(P_PIDFD, pfd, &si, WEXITED | WNOHANG), ECHILD);
    close(pfd);
}

static volatile int got_sig, got_code, got_value;
static void on_usr1(int s, siginfo_t *si, void *u) { (void)u; got_sig = s; got_code = si->si_code; got_value = si->si_value.sival_int; }

static void signalling(void)
{
    int ready[2];
    pipe(ready);
    pid_t c = xfork();
    if (c == 0) {
        set_action(SIGUSR1, on_usr1, 0);
        write(ready[1], "r", 1);
        while (!got_sig)
            pause();
        _exit(got_code == SI_QUEUE && got_value == 99 ? 0 : 10 + (got_code & 7));
    }
    char b;
    read(ready[0], &b, 1);
    int fd = pidfd_open(c, 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGUSR1;
    info.si_code = SI_QUEUE;
    info.si_value.sival_int = 99;
    EXPECT_ERR("pidfd_send_signal with flags 8", send_sig(fd, SIGUSR1, &info, 8), EINVAL);
    EXPECT_ERR("pidfd_send_signal with a siginfo for another signal", send_sig(fd, SIGUSR2, &info, 0), EINVAL);
    info.si_code = SI_USER;
    EXPECT_ERR("pidfd_send_signal forging SI_USER", send_sig(fd, SIGUSR1, &info, 0), EPERM);
    info.si_code = SI_QUEUE;
    EXPECT_ERR("pidfd_send_signal of signal 65", send_sig(fd, 65, NULL, 0), EINVAL);
    EXPECT_ERR("pidfd_send_signal on a pipe", send_sig(ready[0], SIGUSR1, NULL, 0), EBADF);
    EXPECT_ERR("pidfd_send_signal on a bad fd", send_sig(99, SIGUSR1, NULL, 0), EBADF);
    EXPECT_EQ("pidfd_send_signal signal 0", send_sig(fd, 0, NULL, 0), 0);
    EXPECT_EQ("pidfd_send_signal SIGUSR1 with SI_QUEUE", send_sig(fd, SIGUSR1, &info, 0), 0);
    printf("the child saw SI_QUEUE and the value: %s\n", status_str(wait_status(c, 0)));
    close(fd);

    c = xfork();
    if (c == 0) {
        for (;;)
            pause();
    }
    fd = pidfd_open(c, 0);
    EXPECT_EQ("pidfd_send_signal SIGTERM", send_sig(fd, SIGTERM, NULL, 0), 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PIDFD, fd, &si, WEXITED);
    printf("child: %s by %s\n", si_code_name(SIGCHLD, si.si_code), signame(si.si_status));
    close(fd);

    /* An open /proc/<pid> directory is a pidfd too (Python's test_signal). */
    c = xfork();
    if (c == 0) {
        for (;;)
            pause();
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)c);
    fd = open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_EQ("pidfd_send_signal SIGTERM through /proc/<pid>", send_sig(fd, SIGTERM, NULL, 0), 0);
    printf("child signalled through /proc/<pid>: %s\n", status_str(wait_status(c, 0)));
    EXPECT_ERR("pidfd_send_signal through /proc/<pid> once reaped", send_sig(fd, SIGTERM, NULL, 0), ESRCH);
    close(fd);
    fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("pidfd_send_signal on /proc/self/fd", send_sig(fd, 0, NULL, 0), EBADF);
    close(fd);
}

static void *thread_pauses(void *arg)
{
    int w = *(int *)arg;
    pid_t tid = gettid();
    write(w, &tid, sizeof tid);
    for (;;)
        pause();
    return NULL;
}

/* Linux's tgid_pidfd_to_pid takes only a directory of /proc's tgid kind:
 * /proc/<pid>, and /proc/<tid> of another thread (looked up, though not
 * listed), but no /proc/<pid>/task/<tid>, whose files still work. */
static void task_directories(void)
{
    int p[2];
    pipe(p);
    pid_t c = xfork();
    if (c == 0) {
        pthread_t t;
        pthread_create(&t, NULL, thread_pauses, &p[1]);
        for (;;)
            pause();
    }
    pid_t tid = 0;
    CHECK("the child's thread started", read(p[0], &tid, sizeof tid) == sizeof tid && tid != c);
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d", (int)c, (int)tid);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK("open /proc/<pid>/task/<tid>", fd >= 0);
    EXPECT_ERR("pidfd_send_signal through /proc/<pid>/task/<tid>", send_sig(fd, 0, NULL, 0), EBADF);
    struct stat st, st2;
    CHECK("fstat of it", fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
    printf("mode %o\n", st.st_mode & 07777);
    int f = openat(fd, "status", O_RDONLY);
    char buf[4096] = {0};
    CHECK("its status", f >= 0 && read(f, buf, sizeof buf - 1) > 0);
    char want[32];
    snprintf(want, sizeof want, "\nPid:\t%d\n", (int)tid);
    printf("status names the thread: %s\n", strstr(buf, want) ? "yes" : "no");
    snprintf(want, sizeof want, "\nTgid:\t%d\n", (int)c);
    printf("and its group: %s\n", strstr(buf, want) ? "yes" : "no");
    close(f);
    char link[256] = {0}, self[256] = {0};
    readlinkat(fd, "exe", link, sizeof link - 1);
    readlink("/proc/self/exe", self, sizeof self - 1);
    printf("exe link is the program: %s\n", strcmp(link, self) ? "no" : "yes");
    CHECK("its fd directory", fstatat(fd, "fd", &st2, 0) == 0 && S_ISDIR(st2.st_mode));
    EXPECT_ERR("no task directory inside", fstatat(fd, "task", &st2, 0), ENOENT);
    printf("not the inode of /proc/<tid>: ");
    snprintf(path, sizeof path, "/proc/%d", (int)tid);
    printf("%s\n", stat(path, &st2) == 0 && st2.st_ino != st.st_ino ? "yes" : "no");
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/task/%d", (int)c, (int)c);
    fd = open(path, O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("pidfd_send_signal through /proc/<pid>/task/<pid>", send_sig(fd, 0, NULL, 0), EBADF);
    close(fd);
    snprintf(path, sizeof path, "/proc/%d", (int)tid);
    fd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK("open /proc/<tid>", fd >= 0);
    EXPECT_EQ("pidfd_send_signal 0 through /proc/<tid>", send_sig(fd, 0, NULL, 0), 0);
    EXPECT_EQ("pidfd_send_signal SIGTERM through /proc/<tid>", send_sig(fd, SIGTERM, NULL, 0), 0);
    printf("the process: %s\n", status_str(wait_status(c, 0)));
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void taking_fds(void)
{
    int p[2];
    pipe(p);
    int ready[2];
    pipe(ready);
    pid_t c = xfork();
    if (c == 0) {
        close(p[0]);
        dup2(p[1], 20);
        close(p[1]);
        write(ready[1], "r", 1);
        sleep_ms(2000);
        _exit(0);
    }
    close(p[1]);
    char b;
    read(ready[0], &b, 1);
    int fd = pidfd_open(c, 0);
    EXPECT_ERR("pidfd_getfd with flags 1", getfd(fd, 20, 1), EINVAL);
    EXPECT_ERR("pidfd_getfd of a closed fd", getfd(fd, 21, 0), EBADF);
    EXPECT_ERR("pidfd_getfd through a pipe", getfd(ready[0], 20, 0), EBADF);
    int w = getfd(fd, 20, 0);
    CHECK("pidfd_getfd of the child's fd 20", w >= 0);
    printf("close-on-exec: %d\n", fcntl(w, F_GETFD));
    write(w, "hello", 5);
    char buf[8] = {0};
    read(p[0], buf, 5);
    printf("written through the taken fd: %s\n", buf);
    send_sig(fd, SIGKILL, NULL, 0);
    wait_status(c, 0);
    close(fd);
}

static void errors(void)
{
    EXPECT_ERR("pidfd_open(0)", pidfd_open(0, 0), EINVAL);
    EXPECT_ERR("pidfd_open(-1)", pidfd_open(-1, 0), EINVAL);
    EXPECT_ERR("pidfd_open with flags 1", pidfd_open(getpid(), 1), EINVAL);
    EXPECT_ERR("pidfd_open(999999)", pidfd_open(999999, 0), ESRCH);
    int fd = pidfd_open(getpid(), 0);
    CHECK("pidfd_open(self)", fd >= 0);
    char b[8];
    EXPECT_ERR("read", read(fd, b, 8), EINVAL);
    printf("poll on itself: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    close(fd);
    pid_t c = xfork();
    if (c == 0)
        _exit(0);
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    fd = pidfd_open(c, 0);
    CHECK("pidfd_open of a zombie", fd >= 0);
    printf("poll on the zombie: %s\n", pollbits(poll_one(fd, POLLIN, 0)));
    EXPECT_EQ("pidfd_send_signal to the zombie", send_sig(fd, SIGTERM, NULL, 0), 0);
    EXPECT_ERR("pidfd_getfd from the zombie", getfd(fd, 0, 0), ESRCH);
    wait_status(c, 0);
    close(fd);
}

int main(void)
{
    reset_signals();
    section("a pidfd across its process's life", lifecycle);
    section("waitid(P_PIDFD)", waiting);
    section("pidfd_send_signal", signalling);
    section("/proc task directories are not pidfds", task_directories);
    section("pidfd_getfd", taking_fds);
    section("argument checks, self and zombies", errors);
    return finish();
}
