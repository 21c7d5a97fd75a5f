/* Process groups, sessions, orphans: setsid/getsid/setpgid/getpgid and
 * their errors (EPERM, ESRCH, EACCES, EINVAL), kill to a process group,
 * orphans reparented to the nearest subreaper, PR_SET_PDEATHSIG.
 *
 * The top process makes itself a child subreaper: natively an orphan would
 * otherwise go to whatever reaper the test runner has, while under vkernel
 * the top process is PID 1 and gets orphans anyway. With the subreaper, an
 * orphan's new parent is the top process in both cases. Every section
 * first calls setsid(), so the session and group state it sees does not
 * depend on how the program was started. */
#include "proc.h"
#include <sys/ioctl.h>

extern char **environ;
static char self[4096];
static pid_t top_pid;

/* A pid that no process has: a child that was reaped. */
static pid_t dead_pid(void)
{
    pid_t p = xfork();
    if (p == 0)
        _exit(0);
    wait_status(p, 0);
    return p;
}

/* TIOCSCTTY without pulling in the tty headers' conflicting macros. */
static int ioctl_sctty_devnull(void)
{
    int fd = open("/dev/null", O_RDWR);
    int r = ioctl(fd, TIOCSCTTY, 0);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

static void sessions(void)
{
    pid_t me = getpid();
    pid_t sid = setsid();
    CHECK("setsid in a fresh child returns its pid", sid == me);
    CHECK("getsid(0) is our pid", getsid(0) == me);
    CHECK("getpgid(0) is our pid", getpgid(0) == me);
    CHECK("getpgrp() is our pid", getpgrp() == me);
    EXPECT_ERR("setsid again (already a group leader)", setsid(), EPERM);
    EXPECT_ERR("setpgid(0, 0) of a session leader", setpgid(0, 0), EPERM);
    EXPECT_ERR("getsid of a missing pid", getsid(dead_pid()), ESRCH);
    EXPECT_ERR("getpgid of a missing pid", getpgid(dead_pid()), ESRCH);
    EXPECT_ERR("getpgid(-1)", getpgid(-1), ESRCH);
    EXPECT_ERR("tcgetpgrp on /dev/null", tcgetpgrp(0), ENOTTY);
    EXPECT_ERR("TIOCSCTTY on /dev/null", ioctl_sctty_devnull(), ENOTTY);

    /* A child that is not a group leader can start a session; one that
     * leads a group cannot. */
    int pfd[2], release[2];
    pipe(pfd);
    pipe(release);
    pid_t c = xfork();
    if (c == 0) {
        pid_t s = setsid();
        int ok = s == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
        write(pfd[1], &ok, sizeof ok);
        char b;
        read(release[0], &b, 1); /* stays around for getsid below */
        _exit(0);
    }
    int ok = 0;
    read_full(pfd[0], &ok, sizeof ok);
    CHECK("a child's setsid makes it leader of a new session and group", ok);
    CHECK("getsid(child) of another session works", getsid(c) == c);
    EXPECT_ERR("setpgid(child in another session, itself)", setpgid(c, c), EPERM);
    EXPECT_ERR("setpgid(child in another session, our group)", setpgid(c, me), EPERM);
    write(release[1], "x", 1);
    wait_status(c, 0);

    c = xfork();
    if (c == 0) {
        setpgid(0, 0);
        _exit(setsid() < 0 ? errno : 0);
    }
    printf("setsid in a child that leads a group: %s\n", errname(WEXITSTATUS(wait_status(c, 0))));
}

static void groups(void)
{
    setsid();
    pid_t me = getpid();
    int gate[2];
    pipe(gate);
    pid_t c = xfork();
    if (c == 0) {
        char b;
        close(gate[1]);
        read(gate[0], &b, 1);
        _exit(0);
    }
    CHECK("a new child is in our group", getpgid(c) == me);
    EXPECT_EQ("setpgid(child, child)", setpgid(c, c), 0);
    CHECK("  now it leads its own group", getpgid(c) == c);
    EXPECT_EQ("setpgid(child, 0) (same as its pid)", setpgid(c, 0), 0);
    EXPECT_EQ("setpgid(child, our group) moves it back", setpgid(c, me), 0);
    CHECK("  it is in our group again", getpgid(c) == me);
    EXPECT_ERR("setpgid(child, a group that does not exist)", setpgid(c, dead_pid()), EPERM);
    EXPECT_ERR("setpgid(-1, 0)", setpgid(-1, 0), EINVAL);
    EXPECT_ERR("setpgid(child, -1)", setpgid(c, -1), EINVAL);
    EXPECT_ERR("setpgid(a pid that is not our child)", setpgid(top_pid, top_pid), ESRCH);
    EXPECT_ERR("setpgid(a missing pid)", setpgid(dead_pid(), 0), ESRCH);
    close(gate[1]);
    close(gate[0]);
    wait_status(c, 0);

    /* A child in our session that has exec'd: EACCES. */
    int ready[2];
    pipe(ready);
    c = xfork();
    if (c == 0) {
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", ready[1]);
        close(ready[0]);
        char *argv[] = {self, "role-wait", fdarg, NULL};
        execve(self, argv, environ);
        _exit(127);
    }
    close(ready[1]);
    char b;
    read(ready[0], &b, 1); /* the role writes once it runs */
    EXPECT_ERR("setpgid(child that has exec'd)", setpgid(c, c), EACCES);
    kill(c, SIGKILL);
    wait_status(c, 0);
    close(ready[0]);

    /* The child itself may move into an existing group of its session. */
    pid_t leader = xfork();
    if (leader == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    setpgid(leader, leader);
    c = xfork();
    if (c == 0)
        _exit(setpgid(0, leader) == 0 && getpgrp() == leader ? 0 : 1);
    printf("child joins another group of the session: %s\n", status_str(wait_status(c, 0)));
    kill(leader, SIGKILL);
    wait_status(leader, 0);
}

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }

static void group_kill(void)
{
    setsid();
    pid_t me = getpid();
    set_handler(SIGUSR1, on_usr1, 0);
    block(SIGUSR1);
    sigset_t wait_mask;
    sigprocmask(SIG_SETMASK, NULL, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    /* Three children in group A (led by the first), two in ours. */
    pid_t a[3], ours[2];
    for (int i = 0; i < 3; i++) {
        a[i] = xfork();
        if (a[i] == 0) {
            setpgid(0, i == 0 ? 0 : a[0]);
            sigsuspend(&wait_mask);
            _exit(got == 1 ? 10 + i : 99);
        }
        setpgid(a[i], a[0]);
    }
    for (int i = 0; i < 2; i++) {
        ours[i] = xfork();
        if (ours[i] == 0) {
            sigsuspend(&wait_mask);
            _exit(got == 1 ? 20 + i : 99);
        }
    }
    EXPECT_EQ("kill(-A, 0) probes the group", kill(-a[0], 0), 0);
    EXPECT_EQ("killpg(A, SIGUSR1)", killpg(a[0], SIGUSR1), 0);
    for (int i = 0; i < 3; i++)
        printf("  member %d of A: %s\n", i, status_str(wait_status(a[i], 0)));
    EXPECT_ERR("kill(-A) once A is gone", kill(-a[0], SIGUSR1), ESRCH);
    EXPECT_ERR("killpg of a missing group", killpg(dead_pid(), SIGUSR1), ESRCH);
    EXPECT_EQ("kill(0, SIGUSR1): our own group, ourselves included", kill(0, SIGUSR1), 0);
    for (int i = 0; i < 2; i++)
        printf("  our child %d: %s\n", i, status_str(wait_status(ours[i], 0)));
    sigset_t pend;
    sigpending(&pend);
    CHECK("the signal is pending for us too", sigismember(&pend, SIGUSR1) == 1);
    unblock(SIGUSR1);
    EXPECT_EQ("  handled once unblocked", got, 1);
    EXPECT_EQ("kill(-me, 0)", kill(-me, 0), 0);
    EXPECT_ERR("kill with signal 65", kill(me, 65), EINVAL);
    EXPECT_ERR("kill with signal -1", kill(me, -1), EINVAL);
    EXPECT_ERR("kill of a missing pid", kill(dead_pid(), SIGUSR1), ESRCH);
}

static void orphans(void)
{
    int report[2], reported[2];
    pipe(report);
    pipe(reported);
    pid_t mid = xfork();
    if (mid == 0) {
        pid_t g = xfork();
        if (g == 0) {
            pid_t before = getppid();
            pid_t mid_pid = before;
            write(report[1], &before, sizeof before);
            write(reported[1], "x", 1); /* now the middle process exits */
            /* wait for the middle process to exit */
            for (int i = 0; i < 10000 && getppid() == mid_pid; i++)
                sleep_ms(1);
            pid_t after = getppid();
            write(report[1], &after, sizeof after);
            _exit(0);
        }
        char b;
        read(reported[0], &b, 1);
        _exit(0);
    }
    pid_t before = 0, after = 0;
    read_full(report[0], &before, sizeof before);
    wait_status(mid, 0);
    read_full(report[0], &after, sizeof after);
    CHECK("grandchild's parent was the middle process", before == mid);
    CHECK("after the middle process exits, getppid() is the top process (the subreaper)", after == top_pid);
    EXPECT_ERR("we cannot wait for the reparented grandchild", waitpid(-1, NULL, WNOHANG), ECHILD);
}

static void subreaper(void)
{
    EXPECT_EQ("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    int v = -1;
    EXPECT_EQ("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0), 0);
    EXPECT_EQ("  value", v, 1);
    int report[2];
    pipe(report);
    pid_t me = getpid();
    pid_t mid = xfork();
    if (mid == 0) {
        /* Not inherited by the child. */
        int w = -1;
        prctl(PR_GET_CHILD_SUBREAPER, &w, 0, 0, 0);
        write(report[1], &w, sizeof w);
        pid_t g = xfork();
        if (g == 0) {
            for (int i = 0; i < 10000 && getppid() != me; i++)
                sleep_ms(1);
            pid_t after = getppid();
            write(report[1], &after, sizeof after);
            _exit(55);
        }
        _exit(0);
    }
    int child_flag = -1;
    read_full(report[0], &child_flag, sizeof child_flag);
    EXPECT_EQ("the subreaper flag is not inherited across fork", child_flag, 0);
    wait_status(mid, 0);
    pid_t after = 0;
    read_full(report[0], &after, sizeof after);
    CHECK("the orphan's parent is now this subreaper", after == me);
    int st;
    pid_t r = waitpid(-1, &st, 0);
    CHECK("the subreaper reaps the orphan", r > 0 && r != mid);
    printf("  orphan: %s\n", status_str(st));
}

static volatile sig_atomic_t death_sig;
static void on_death(int s) { death_sig = s; }

static void pdeathsig(void)
{
    int report[2];
    pipe(report);
    pid_t mid = xfork();
    if (mid == 0) {
        int go[2];
        pipe(go);
        pid_t g = xfork();
        if (g == 0) {
            set_handler(SIGUSR2, on_death, 0);
            block(SIGUSR2);
            prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0);
            int v = -1;
            prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0);
            write(report[1], &v, sizeof v);
            pid_t gg = xfork();
            if (gg == 0) {
                int w = -1;
                prctl(PR_GET_PDEATHSIG, &w, 0, 0, 0);
                _exit(w);
            }
            int st = wait_status(gg, 0);
            int inherited = WEXITSTATUS(st);
            write(report[1], &inherited, sizeof inherited);
            write(go[1], "x", 1); /* the middle process may exit now */
            sigset_t m;
            sigemptyset(&m);
            sigsuspend(&m);
            int s = death_sig;
            write(report[1], &s, sizeof s);
            _exit(0);
        }
        char b;
        read(go[0], &b, 1);
        _exit(0);
    }
    int v = 0, inherited = -1, s = 0;
    read_full(report[0], &v, sizeof v);
    read_full(report[0], &inherited, sizeof inherited);
    wait_status(mid, 0);
    read_full(report[0], &s, sizeof s);
    printf("PR_GET_PDEATHSIG: %s\n", signame(v));
    EXPECT_EQ("PR_SET_PDEATHSIG is cleared in a forked child", inherited, 0);
    printf("signal when the parent died: %s\n", signame(s));
    EXPECT_ERR("PR_SET_PDEATHSIG with signal 65", prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return 1;
    self[n] = 0;
    if (argc > 2 && !strcmp(argv[1], "role-wait")) {
        write(atoi(argv[2]), "r", 1);
        for (;;)
            pause();
    }
    reset_signals();
    top_pid = getpid();
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        printf("PR_SET_CHILD_SUBREAPER: %s\n", errname(errno));
        return 1;
    }
    section("sessions", sessions);
    section("process groups", groups);
    section("kill to a process group", group_kill);
    section("orphans go to the nearest subreaper", orphans);
    section("a subreaper below the top", subreaper);
    section("PR_SET_PDEATHSIG", pdeathsig);
    /* Reap the orphans that came to us. */
    int st, orphans_reaped = 0;
    while (waitpid(-1, &st, 0) > 0)
        orphans_reaped++;
    EXPECT_EQ("orphans reaped by the top process", orphans_reaped, 2);
    return finish();
}
