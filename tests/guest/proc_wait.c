/* wait4 and waitid: the status of a child killed by every signal, stopped
 * and continued (WUNTRACED, WCONTINUED), WNOHANG, waitid with WEXITED,
 * WSTOPPED, WCONTINUED, WNOWAIT, P_PID, P_PGID and P_ALL and the siginfo it
 * fills, zombies, SIGCHLD's siginfo, and the error cases. */
#include "proc.h"
#include <poll.h>
#include <sys/select.h>
#include <sys/stat.h>

/* A child that sits in pause() with default signal actions, in its own
 * process group (a group with a parent outside it in the same session is
 * not orphaned, so SIGTSTP/SIGTTIN/SIGTTOU stop it). */
static pid_t idle_child(void)
{
    pid_t p = xfork();
    if (p == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(p, p); /* both sides: no race with the kill that follows */
    return p;
}

static void each_signal(void)
{
    no_core_dumps();
    for (int sig = 1; sig < 65; sig++) {
        if (sig == 32 || sig == 33)
            continue; /* glibc's internal signals */
        if (sig > 34 && sig < 64 && sig != 40 && sig != 50)
            continue; /* a sample of the real-time signals */
        if (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH)
            continue; /* ignored by default: below */
        pid_t p = idle_child();
        kill(p, sig);
        int st = wait_status(p, WUNTRACED);
        if (st == -1) {
            printf("%-9s -> waitpid: %s\n", signame(sig), errname(errno));
            vk_failures++;
            continue;
        }
        const char *what = status_str(st);
        if (WIFSTOPPED(st)) {
            kill(p, SIGKILL);
            wait_status(p, 0);
        } else if (!WIFSIGNALED(st)) {
            what = "?";
        }
        printf("%-9s -> %s\n", signame(sig), what);
    }
    /* Signals whose default is to ignore, or that only continue: the
     * child survives them; probe with WNOHANG after a round trip. */
    int ignored[] = {SIGCHLD, SIGCONT, SIGURG, SIGWINCH};
    for (unsigned i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        pid_t p = idle_child();
        kill(p, ignored[i]);
        /* A stop and continue pair proves the signal before it was handled. */
        kill(p, SIGSTOP);
        int st = wait_status(p, WUNTRACED);
        printf("%-9s -> ignored, then %s\n", signame(ignored[i]), status_str(st));
        kill(p, SIGKILL);
        wait_status(p, 0);
    }
}

static void stop_continue(void)
{
    pid_t p = idle_child();
    int stops[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
    for (unsigned i = 0; i < 4; i++) {
        kill(p, stops[i]);
        printf("after %s: %s\n", signame(stops[i]), status_str(wait_status(p, WUNTRACED)));
        EXPECT_EQ("  WNOHANG|WUNTRACED again: nothing new", wait_status(p, WNOHANG | WUNTRACED), -2);
        kill(p, SIGCONT);
        printf("after SIGCONT: %s\n", status_str(wait_status(p, WCONTINUED)));
        EXPECT_EQ("  WNOHANG|WCONTINUED again: nothing new", wait_status(p, WNOHANG | WCONTINUED), -2);
    }
    /* A stop is reported once; without WUNTRACED it is not reported. */
    kill(p, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WSTOPPED", waitid(P_PID, p, &si, WSTOPPED), 0);
    printf("  si_signo %s si_code %s si_status %s si_pid is the child: %s\n", signame(si.si_signo),
           si_code_name(SIGCHLD, si.si_code), signame(si.si_status), si.si_pid == p ? "yes" : "no");
    EXPECT_EQ("waitpid(WNOHANG) of a stopped child", wait_status(p, WNOHANG), -2);
    /* SIGCONT to a stopped child, twice: one continued report. */
    kill(p, SIGCONT);
    kill(p, SIGCONT);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WCONTINUED", waitid(P_PID, p, &si, WCONTINUED), 0);
    printf("  si_code %s si_status %s\n", si_code_name(SIGCHLD, si.si_code), signame(si.si_status));
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WCONTINUED|WNOHANG again", waitid(P_PID, p, &si, WCONTINUED | WNOHANG), 0);
    EXPECT_EQ("  si_pid 0 when nothing to report", si.si_pid, 0);
    /* SIGKILL ends a stopped child. */
    kill(p, SIGSTOP);
    wait_status(p, WUNTRACED);
    kill(p, SIGKILL);
    printf("stopped then SIGKILL: %s\n", status_str(wait_status(p, 0)));
    /* A signal whose default action is to terminate waits, pending, until
     * a stopped child is continued (only SIGKILL acts at once). */
    p = idle_child();
    kill(p, SIGSTOP);
    wait_status(p, WUNTRACED);
    kill(p, SIGTERM);
    EXPECT_EQ("stopped child with SIGTERM pending is still there", wait_status(p, WNOHANG), -2);
    kill(p, SIGCONT);
    printf("then SIGCONT: %s\n", status_str(wait_status(p, 0)));
}

static void nohang_and_errors(void)
{
    int gate[2];
    pipe(gate);
    pid_t p = xfork();
    if (p == 0) {
        char c;
        close(gate[1]);
        read(gate[0], &c, 1);
        _exit(3);
    }
    close(gate[0]);
    int st = 12345;
    EXPECT_EQ("waitpid WNOHANG on a running child", waitpid(p, &st, WNOHANG), 0);
    EXPECT_EQ("  status left alone", st, 12345);
    EXPECT_EQ("wait4(-1, WNOHANG)", wait4(-1, &st, WNOHANG, NULL), 0);
    EXPECT_ERR("waitpid of a pid that is not a child", waitpid(getppid(), &st, 0), ECHILD);
    EXPECT_ERR("waitpid with unknown options", waitpid(p, &st, 0x10000), EINVAL);
    EXPECT_ERR("waitid with no event options", waitid(P_PID, p, &(siginfo_t){0}, WNOHANG), EINVAL);
    EXPECT_ERR("waitid with a bad idtype", waitid((idtype_t)42, p, &(siginfo_t){0}, WEXITED), EINVAL);
    EXPECT_ERR("wait4 with a bad status pointer after exit", (close(gate[1]), wait4(p, (int *)8, 0, NULL)), EFAULT);
    /* The failed copy-out left the child reaped or not? Linux reaps before
     * copying; either way a second wait sees no child of that pid. */
    int again = waitpid(p, &st, WNOHANG);
    printf("child still waitable after EFAULT: %s\n", again == p ? "yes" : "no");
    struct rusage ru;
    p = xfork();
    if (p == 0)
        _exit(4);
    EXPECT_EQ("wait4 with rusage", wait4(p, &st, 0, &ru) == p, 1);
    printf("  %s\n", status_str(st));
    CHECK("  rusage has sane times", ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000);
    EXPECT_ERR("nothing left: wait4(-1)", wait4(-1, &st, 0, NULL), ECHILD);
    EXPECT_ERR("nothing left: waitid(P_ALL)", waitid(P_ALL, 0, &(siginfo_t){0}, WEXITED), ECHILD);
}

static void zombies(void)
{
    pid_t p = xfork();
    if (p == 0)
        _exit(21);
    /* Wait for it to die without reaping it. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WEXITED|WNOWAIT", waitid(P_PID, p, &si, WEXITED | WNOWAIT), 0);
    printf("  si_signo %s si_code %s si_status %d si_pid is the child: %s\n", signame(si.si_signo),
           si_code_name(SIGCHLD, si.si_code), si.si_status, si.si_pid == p ? "yes" : "no");
    CHECK("  si_uid is our uid", si.si_uid == getuid());
    EXPECT_EQ("kill(zombie, 0) succeeds", kill(p, 0), 0);
    EXPECT_EQ("getpgid(zombie) works", getpgid(p) == getpgrp(), 1);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WNOWAIT again sees it again", waitid(P_PID, p, &si, WEXITED | WNOWAIT), 0);
    EXPECT_EQ("  same status", si.si_status, 21);
    int st;
    EXPECT_EQ("waitpid reaps it", waitpid(p, &st, 0) == p, 1);
    printf("  %s\n", status_str(st));
    EXPECT_ERR("kill(reaped, 0)", kill(p, 0), ESRCH);
    EXPECT_ERR("waitpid again", waitpid(p, &st, 0), ECHILD);

    /* A killed child through waitid. */
    p = xfork();
    if (p == 0) {
        for (;;)
            pause();
    }
    kill(p, SIGTERM);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid WEXITED of a killed child", waitid(P_PID, p, &si, WEXITED), 0);
    printf("  si_code %s si_status %s\n", si_code_name(SIGCHLD, si.si_code), signame(si.si_status));
}

static void by_group(void)
{
    /* Two children in group A (the first's), one in group B. */
    int gate[2];
    pipe(gate);
    pid_t a1 = xfork();
    if (a1 == 0) {
        char c;
        close(gate[1]);
        read(gate[0], &c, 1);
        _exit(11);
    }
    setpgid(a1, a1);
    pid_t a2 = xfork();
    if (a2 == 0) {
        char c;
        close(gate[1]);
        read(gate[0], &c, 1);
        _exit(12);
    }
    setpgid(a2, a1);
    pid_t b = xfork();
    if (b == 0) {
        char c;
        close(gate[1]);
        read(gate[0], &c, 1);
        _exit(13);
    }
    setpgid(b, b);
    close(gate[0]);
    close(gate[1]); /* all three exit */
    int codes = 0;
    siginfo_t si;
    for (int i = 0; i < 2; i++) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PGID, a1, &si, WEXITED) == 0 && (si.si_pid == a1 || si.si_pid == a2))
            codes += si.si_status;
    }
    EXPECT_EQ("waitid(P_PGID) reaped the two group members (11+12)", codes, 23);
    memset(&si, 0, sizeof si);
    EXPECT_ERR("waitid(P_PGID) of the emptied group", waitid(P_PGID, a1, &si, WEXITED), ECHILD);
    int st;
    EXPECT_EQ("waitpid(-pgid) of group B", waitpid(-b, &st, 0) == b, 1);
    printf("  %s\n", status_str(st));

    /* waitpid(0): our own group only. */
    pid_t same = xfork();
    if (same == 0)
        _exit(14);
    pid_t other = xfork();
    if (other == 0) {
        setpgid(0, 0);
        _exit(15);
    }
    setpgid(other, other);
    EXPECT_EQ("waitpid(0) gets the child in our group", waitpid(0, &st, 0) == same, 1);
    EXPECT_ERR("waitpid(0) then has no one", waitpid(0, &st, 0), ECHILD);
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid(P_ALL) gets the other", waitid(P_ALL, 0, &si, WEXITED), 0);
    CHECK("  it is the other one", si.si_pid == other && si.si_status == 15);
}

static volatile sig_atomic_t chld_count, chld_code, chld_status, chld_pid_ok;
static pid_t expected_pid;
static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    chld_count++;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid_ok = si->si_pid == expected_pid;
}

static void sigchld_info(void)
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    set_action(SIGCHLD, on_chld, SA_RESTART);
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid_t p = idle_child();
    expected_pid = p;
    struct { int sig; int options; const char *what; } steps[] = {
        {SIGSTOP, WUNTRACED, "stop"}, {SIGCONT, WCONTINUED, "continue"}, {SIGKILL, 0, "kill"}};
    for (int i = 0; i < 3; i++) {
        chld_count = 0;
        kill(p, steps[i].sig);
        wait_status(p, steps[i].options);
        sigsuspend(&old); /* SIGCHLD is pending by now: runs the handler */
        printf("SIGCHLD after %s: count %d, %s, si_status %s, si_pid is the child: %s\n", steps[i].what,
               chld_count, si_code_name(SIGCHLD, chld_code), signame(chld_status), chld_pid_ok ? "yes" : "no");
    }
    p = xfork();
    if (p == 0)
        _exit(77);
    expected_pid = p;
    chld_count = 0;
    wait_status(p, 0);
    sigsuspend(&old);
    printf("SIGCHLD after exit: count %d, %s, si_status %d, si_pid is the child: %s\n", chld_count,
           si_code_name(SIGCHLD, chld_code), chld_status, chld_pid_ok ? "yes" : "no");

    /* SA_NOCLDSTOP: no SIGCHLD for stops. */
    struct sigaction sa;
    sigaction(SIGCHLD, NULL, &sa);
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    p = idle_child();
    kill(p, SIGSTOP);
    wait_status(p, WUNTRACED);
    sigset_t pend;
    sigpending(&pend);
    CHECK("SA_NOCLDSTOP: no SIGCHLD pending after a stop", !sigismember(&pend, SIGCHLD));
    kill(p, SIGKILL);
    wait_status(p, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* SIGCHLD set to SIG_IGN: children are reaped by the kernel, and wait
     * blocks until all are gone, then fails with ECHILD. */
    signal(SIGCHLD, SIG_IGN);
    p = xfork();
    if (p == 0)
        _exit(1);
    EXPECT_ERR("SIG_IGN SIGCHLD: waitpid finds no zombie", waitpid(p, NULL, 0), ECHILD);
    /* SA_NOCLDWAIT has the same effect with a handler. */
    signal(SIGCHLD, SIG_DFL);
    sigaction(SIGCHLD, NULL, &sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDWAIT;
    sigaction(SIGCHLD, &sa, NULL);
    p = xfork();
    if (p == 0)
        _exit(1);
    EXPECT_ERR("SA_NOCLDWAIT: waitpid finds no zombie", waitpid(p, NULL, 0), ECHILD);
    signal(SIGCHLD, SIG_DFL);
}


/* SIGCONT discards pending stop signals, and a stop signal discards a
 * pending SIGCONT, at the time they are sent. */
static void cont_and_stop_cancel(void)
{
    int report[2], go[2];
    pipe(report);
    pipe(go);
    pid_t p = xfork();
    if (p == 0) {
        setpgid(0, 0);
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGTSTP);
        sigaddset(&m, SIGCONT);
        sigprocmask(SIG_BLOCK, &m, NULL);
        write(report[1], "r", 1);
        char b;
        read(go[0], &b, 1); /* the parent has sent its signals */
        sigset_t pend;
        sigpending(&pend);
        int bits = sigismember(&pend, SIGTSTP) | sigismember(&pend, SIGCONT) << 1;
        write(report[1], &bits, sizeof bits);
        read(go[0], &b, 1);
        sigpending(&pend);
        bits = sigismember(&pend, SIGTSTP) | sigismember(&pend, SIGCONT) << 1;
        write(report[1], &bits, sizeof bits);
        sigprocmask(SIG_UNBLOCK, &m, NULL); /* a pending SIGTSTP would stop us here */
        _exit(6);
    }
    setpgid(p, p);
    char b;
    read(report[0], &b, 1);
    kill(p, SIGTSTP);
    kill(p, SIGCONT); /* discards the pending SIGTSTP */
    write(go[1], "g", 1);
    int bits = -1;
    read_full(report[0], &bits, sizeof bits);
    printf("blocked TSTP then CONT sent: pending TSTP %d CONT %d\n", bits & 1, bits >> 1);
    kill(p, SIGTSTP); /* discards the pending SIGCONT */
    write(go[1], "g", 1);
    read_full(report[0], &bits, sizeof bits);
    printf("then TSTP sent: pending TSTP %d CONT %d\n", bits & 1, bits >> 1);
    int st = wait_status(p, WUNTRACED);
    printf("after unblocking: %s\n", status_str(st));
    if (WIFSTOPPED(st)) {
        kill(p, SIGCONT);
        printf("after SIGCONT: %s\n", status_str(wait_status(p, 0)));
    }
}

/* A process blocked in each kind of waiting system call is ended by a
 * fatal signal, and blocking costs it no CPU time. */
static void killed_while_blocked(void)
{
    const char *what[] = {"pipe read", "pipe write", "nanosleep", "wait4", "poll", "pause", "sigsuspend", "FIFO open", "select"};
    char fifo[256];
    snprintf(fifo, sizeof fifo, "/tmp/vk-wait-fifo-%d", getpid());
    mkfifo(fifo, 0600);
    for (int i = 0; i < 9; i++) {
        int p[2];
        pipe(p);
        pid_t c = xfork();
        if (c == 0) {
            static char big[70000];
            struct timespec t = {100, 0};
            sigset_t none;
            sigemptyset(&none);
            switch (i) {
            case 0: read(p[0], big, 1); break;
            case 1: write(p[1], big, sizeof big); break;
            case 2: nanosleep(&t, NULL); break;
            case 3: if (fork() == 0) { prctl(PR_SET_PDEATHSIG, SIGKILL); pause(); _exit(0); } wait(NULL); break;
            case 4: poll(NULL, 0, 100000); break;
            case 5: pause(); break;
            case 6: sigsuspend(&none); break;
            case 7: open(fifo, O_RDONLY); break;
            case 8: select(0, NULL, NULL, NULL, &(struct timeval){100, 0}); break;
            }
            _exit(99);
        }
        sleep_ms(200);
        kill(c, i % 2 ? SIGKILL : SIGTERM);
        struct rusage ru;
        int st = 0;
        pid_t r;
        while ((r = wait4(c, &st, 0, &ru)) < 0 && errno == EINTR)
            ;
        long cpu_ms = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 + ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
        printf("blocked in %-17s %s; used under 100 ms of CPU in 200 ms: %s\n", what[i], status_str(st), cpu_ms < 100 ? "yes" : "no");
        close(p[0]);
        close(p[1]);
    }
    unlink(fifo);
}

/* The state letter of /proc/PID/stat (the field after the comm). */
static char proc_state(pid_t pid)
{
    char path[64], buf[512] = {0};
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits up to 5 s for `pid` to show state `want`. */
static char await_state(pid_t pid, char want)
{
    char c = '?';
    for (int i = 0; i < 5000 && (c = proc_state(pid)) != want; i++)
        usleep(1000);
    return c;
}

static void states_and_stopped_siblings(void)
{
    pid_t sleeper = xfork();
    if (sleeper == 0) {
        sleep(30);
        _exit(0);
    }
    printf("sleeping child: %c\n", await_state(sleeper, 'S'));
    kill(sleeper, SIGSTOP);
    printf("after SIGSTOP: %s\n", status_str(wait_status(sleeper, WUNTRACED)));
    printf("stopped child: %c\n", await_state(sleeper, 'T'));
    /* A sibling in the same group exits: the group was not orphaned by
     * it (its parent is in the group), so no SIGHUP for the stopped one. */
    pid_t brief = xfork();
    if (brief == 0)
        _exit(0);
    printf("sibling: %s\n", status_str(wait_status(brief, 0)));
    usleep(50000);
    printf("stopped child after the sibling exited: %c\n", proc_state(sleeper));
    pid_t spinner = xfork();
    if (spinner == 0)
        for (;;)
            ;
    printf("spinning child: %c\n", await_state(spinner, 'R'));
    kill(spinner, SIGKILL);
    printf("spinner: %s\n", status_str(wait_status(spinner, 0)));
    kill(sleeper, SIGKILL);
    printf("sleeper: %s\n", status_str(wait_status(sleeper, 0)));
}

int main(void)
{
    reset_signals();
    section("death by each signal", each_signal);
    section("stop and continue", stop_continue);
    section("WNOHANG and errors", nohang_and_errors);
    section("zombies and waitid", zombies);
    section("process groups: P_PGID, -pgid, 0, P_ALL", by_group);
    section("SIGCHLD and its siginfo", sigchld_info);
    section("SIGCONT and stop signals cancel each other", cont_and_stop_cancel);
    section("killed while blocked", killed_while_blocked);
    section("/proc states S, T, R; a stopped child outlives a sibling's exit", states_and_stopped_siblings);
    return finish();
}
