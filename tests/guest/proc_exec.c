/* execve and execveat seen from a forked child: the errors (ENOENT,
 * EACCES, ENOEXEC, ENOTDIR, ELOOP, ENAMETOOLONG, E2BIG, EFAULT), #!
 * scripts, argv and envp, O_CLOEXEC and the other close-on-exec flags, and
 * what signal state survives exec: handlers reset to default, ignored
 * signals stay ignored, the mask and pending signals are kept.
 *
 * The program re-executes itself with a role as argv[1] to observe the
 * state after exec. */
#include "proc.h"
#include <sched.h>
#include <sys/stat.h>

extern char **environ;
static char self[4096];

/* ---------------------------------------------------------------- roles */

static int role_fds(void)
{
    printf("open fds after exec:");
    for (int fd = 0; fd < 64; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            printf(" %d", fd);
    printf("\n");
    return 0;
}

static int role_signals(void)
{
    struct sigaction sa;
    const int sigs[] = {SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], NULL, &sa);
        const char *d = sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" : "a handler";
        printf("after exec %s: %s, flags ONSTACK=%d\n", signame(sigs[i]), d, !!(sa.sa_flags & SA_ONSTACK));
    }
    sigset_t s;
    sigprocmask(SIG_SETMASK, NULL, &s);
    print_sigset("mask after exec", &s);
    sigpending(&s);
    print_sigset("pending after exec", &s);
    stack_t ss;
    sigaltstack(NULL, &ss);
    CHECK("sigaltstack disabled after exec", (ss.ss_flags & SS_DISABLE) != 0);
    /* The pending SIGTERM is delivered as soon as it is unblocked: with the
     * default action restored, it terminates this process. */
    fflush(stdout);
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("still alive after unblocking SIGTERM\n");
    return 0;
}

static int role_args(int argc, char **argv)
{
    printf("argc %d\n", argc);
    for (int i = 2; i < argc; i++)
        printf("argv[%d] '%s'\n", i, argv[i]);
    printf("argv[0] is the path: %s\n", strcmp(argv[0], self) == 0 ? "yes" : "no");
    int n = 0;
    for (char **e = environ; *e; e++, n++)
        printf("env '%s'\n", *e);
    printf("env count %d\n", n);
    return 0;
}

/* As the interpreter of a #! script: argv is interpreter, [optional arg],
 * script path, script arguments. */
static int role_interp(int argc, char **argv)
{
    printf("interpreter argc %d\n", argc);
    printf("argv[1] '%s'\n", argv[1]);
    for (int i = 3; i < argc; i++)
        printf("argv[%d] '%s'\n", i, argv[i]);
    const char *script = argv[2];
    const char *base = strrchr(script, '/');
    printf("script name '%s'\n", base ? base + 1 : script);
    return 0;
}

static int role_pid(char **argv)
{
    printf("exec kept the pid: %s\n", getpid() == atol(argv[2]) ? "yes" : "no");
    printf("exec kept the parent: %s\n", getppid() == atol(argv[3]) ? "yes" : "no");
    return 0;
}

/* ---------------------------------------------------------------- checks */

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
    chmod(path, mode);
}

/* Exec in a child and report errno (exit status), or how it ended. */
static void exec_error(const char *label, const char *path, char *const *argv, int want)
{
    pid_t p = xfork();
    if (p == 0) {
        execve(path, argv, environ);
        _exit(errno);
    }
    int st = wait_status(p, 0);
    if (WIFEXITED(st)) {
        printf("%s: %s\n", label, errname(WEXITSTATUS(st)));
        if (WEXITSTATUS(st) != want) {
            printf("  FAIL: expected %s\n", errname(want));
            vk_failures++;
        }
    } else {
        printf("%s: child %s  FAIL\n", label, status_str(st));
        vk_failures++;
    }
}

static void errors(void)
{
    char d[256], p[1024];
    snprintf(d, sizeof d, "%s", scratch());
    char *argv[] = {"x", NULL};
    exec_error("missing file", "/nonexistent/vk-prog", argv, ENOENT);
    exec_error("empty path", "", argv, ENOENT);
    exec_error("path through a regular file", "/etc/passwd/x", argv, ENOTDIR);

    snprintf(p, sizeof p, "%s/no-x-bit", d);
    write_file(p, "#!/bin/sh\nexit 0\n", 0644);
    exec_error("file without an execute bit", p, argv, EACCES);
    exec_error("a directory", d, argv, EACCES);

    snprintf(p, sizeof p, "%s/garbage", d);
    write_file(p, "this is not a program\n", 0755);
    exec_error("executable text without #!", p, argv, ENOEXEC);
    snprintf(p, sizeof p, "%s/empty", d);
    write_file(p, "", 0755);
    exec_error("empty executable file", p, argv, ENOEXEC);
    snprintf(p, sizeof p, "%s/short-elf", d);
    write_file(p, "\177ELF\2\1\1", 0755);
    exec_error("truncated ELF header", p, argv, ENOEXEC);

    snprintf(p, sizeof p, "%s/bad-interp", d);
    write_file(p, "#!/nonexistent/vk-interpreter\n", 0755);
    exec_error("#! with a missing interpreter", p, argv, ENOENT);

    char loop1[512], loop2[512];
    snprintf(loop1, sizeof loop1, "%s/loop1", d);
    snprintf(loop2, sizeof loop2, "%s/loop2", d);
    symlink(loop2, loop1);
    symlink(loop1, loop2);
    exec_error("symlink loop", loop1, argv, ELOOP);

    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    snprintf(p, sizeof p, "%s/%s", d, longname);
    exec_error("name too long", p, argv, ENAMETOOLONG);

    static char huge[200000];
    memset(huge, 'a', sizeof huge - 1);
    char *bigargv[] = {"x", huge, NULL};
    exec_error("one argument over 128 KiB", self, bigargv, E2BIG);

    pid_t c = xfork();
    if (c == 0)
        _exit(syscall(SYS_execve, (char *)8, argv, environ) < 0 ? errno : 0);
    printf("bad path pointer: %s\n", errname(WEXITSTATUS(wait_status(c, 0))));
    c = xfork();
    if (c == 0)
        _exit(syscall(SYS_execve, self, (char **)8, environ) < 0 ? errno : 0);
    printf("bad argv pointer: %s\n", errname(WEXITSTATUS(wait_status(c, 0))));

    /* A failed exec leaves the process as it was: still running our code,
     * with its fds. */
    c = xfork();
    if (c == 0) {
        int fd = open("/dev/null", O_RDONLY);
        execve("/nonexistent/vk-prog", argv, environ);
        _exit(fcntl(fd, F_GETFD) >= 0 ? 42 : 43);
    }
    printf("after a failed exec the child continues: %s\n", status_str(wait_status(c, 0)));
}

/* Exec `self` with argv in a child, after `setup` (if any) ran in that
 * child: state like pending signals is per process and not inherited. */
static void run_role_after(const char *label, void (*setup)(void), char *const *argv, char *const *envp)
{
    printf("-- %s\n", label);
    pid_t p = xfork();
    if (p == 0) {
        if (setup)
            setup();
        execve(self, argv, envp);
        printf("exec: %s\n", errname(errno));
        _exit(127);
    }
    int st = wait_status(p, 0);
    if (st != 0)
        printf("   role ended: %s\n", status_str(st));
}

static void run_role(const char *label, char *const *argv, char *const *envp)
{
    run_role_after(label, NULL, argv, envp);
}

static void args_and_env(void)
{
    char *argv[] = {self, "role-args", "one", "two words", "", "--x=y", NULL};
    char *envp[] = {"A=1", "B=two words", "EMPTY=", "NOEQUALS", NULL};
    run_role("argv and envp passed through", argv, envp);
    char *envnone[] = {NULL};
    char *argv2[] = {self, "role-args", NULL};
    run_role("empty environment", argv2, envnone);
    char pid[32], ppid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    snprintf(ppid, sizeof ppid, "%d", getppid());
    /* exec in this very process (a child of the section runner). */
    pid_t p = xfork();
    if (p == 0) {
        char mypid[32], myppid[32];
        snprintf(mypid, sizeof mypid, "%d", getpid());
        snprintf(myppid, sizeof myppid, "%d", getppid());
        char *a[] = {self, "role-pid", mypid, myppid, NULL};
        execve(self, a, environ);
        _exit(127);
    }
    wait_status(p, 0);
}

static void scripts(void)
{
    char p[512], text[5000];
    snprintf(p, sizeof p, "%s/script-with-arg", scratch());
    snprintf(text, sizeof text, "#!%s role-interp\nnot read by the interpreter\n", self);
    write_file(p, text, 0755);
    char *argv[] = {p, "s1", "s 2", NULL};
    printf("-- #! with an argument\n");
    pid_t c = xfork();
    if (c == 0) {
        execve(p, argv, environ);
        printf("exec: %s\n", errname(errno));
        _exit(127);
    }
    printf("   %s\n", status_str(wait_status(c, 0)));

    /* Spaces after #! and around the argument; the whole rest of the line
     * is one argument. */
    snprintf(p, sizeof p, "%s/script-spaces", scratch());
    snprintf(text, sizeof text, "#!  %s   role-interp  two words \n", self);
    write_file(p, text, 0755);
    char *argv2[] = {p, NULL};
    printf("-- #! with spaces\n");
    c = xfork();
    if (c == 0) {
        execve(p, argv2, environ);
        printf("exec: %s\n", errname(errno));
        _exit(127);
    }
    printf("   %s\n", status_str(wait_status(c, 0)));
}

static void cloexec(void)
{
    /* fds 0-2 are open; build a known set above them. */
    int plain = open("/dev/null", O_RDONLY);               /* 3: kept */
    int ce = open("/dev/null", O_RDONLY | O_CLOEXEC);      /* 4: closed */
    int pf[2];
    pipe2(pf, O_CLOEXEC);                                  /* 5, 6: closed */
    int d1 = dup(ce);                                      /* 7: kept (dup clears it) */
    int d2 = dup3(plain, 20, O_CLOEXEC);                   /* 20: closed */
    int d3 = fcntl(plain, F_DUPFD_CLOEXEC, 30);            /* 30: closed */
    int d4 = fcntl(ce, F_DUPFD, 31);                       /* 31: kept */
    int cleared = open("/dev/null", O_RDONLY | O_CLOEXEC); /* 8: flag cleared, kept */
    fcntl(cleared, F_SETFD, 0);
    int set = open("/dev/null", O_RDONLY);                 /* 9: flag set, closed */
    fcntl(set, F_SETFD, FD_CLOEXEC);
    int kept_pipe[2];
    pipe(kept_pipe);                                       /* 10, 11: kept */
    int d5 = dup2(ce, 40);                                 /* 40: kept (dup2 clears it) */
    printf("fds: plain %d cloexec %d pipe2 %d %d dup %d dup3 %d dupfd_cloexec %d dupfd %d cleared %d set %d pipe %d %d dup2 %d\n",
           plain, ce, pf[0], pf[1], d1, d2, d3, d4, cleared, set, kept_pipe[0], kept_pipe[1], d5);
    char *argv[] = {self, "role-fds", NULL};
    run_role("which fds survive exec", argv, environ);
}

static void on_usr1(int s) { (void)s; }

static void signal_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);        /* handler: reset to SIG_DFL */
    sigaction(SIGINT, &sa, NULL);         /* handler: reset to SIG_DFL */
    signal(SIGUSR2, SIG_IGN);             /* ignored: stays ignored */
    signal(SIGCHLD, SIG_IGN);             /* ignored: stays ignored */
    signal(SIGPIPE, SIG_IGN);             /* ignored: stays ignored */
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGHUP);
    sigaddset(&m, SIGTERM);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, NULL);     /* the mask is kept */
    raise(SIGTERM);                        /* pending: kept */
    raise(SIGUSR1);                        /* pending: kept */
    raise(SIGUSR2);                        /* ignored: discarded at once */
}

static void signal_state(void)
{
    char *argv[] = {self, "role-signals", NULL};
    run_role_after("signal state across exec", signal_setup, argv, environ);
}

/* A process sharing its handlers (CLONE_VM | CLONE_SIGHAND, no thread)
 * that execs gets its own table, reset as exec resets it; the sharer
 * left behind keeps its handlers. */
static char sharer_stack[65536];
static void on_usr1_info(int s, siginfo_t *i, void *c) { (void)s; (void)i; (void)c; }
static int exec_sharer(void *arg)
{
    (void)arg;
    char *argv[] = {self, "role-signals", NULL};
    execve(self, argv, environ);
    _exit(127);
}

static void sighand_sharer_execs(void)
{
    pid_t c = xfork();
    if (c == 0) {
        set_action(SIGUSR1, on_usr1_info, 0);
        signal(SIGUSR2, SIG_IGN);
        pid_t s = clone(exec_sharer, sharer_stack + sizeof sharer_stack, CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
        if (s < 0) {
            printf("clone: %s\n", errname(errno));
            _exit(1);
        }
        int st;
        waitpid(s, &st, 0);
        printf("the sharer that exec'd: %s\n", status_str(st));
        struct sigaction sa;
        sigaction(SIGUSR1, NULL, &sa);
        CHECK("SIGUSR1's handler kept by the sharer left behind", sa.sa_sigaction == on_usr1_info);
        sigaction(SIGUSR2, NULL, &sa);
        CHECK("SIGUSR2 still ignored", sa.sa_handler == SIG_IGN);
        fflush(stdout);
        _exit(vk_failures ? 1 : 0);
    }
    printf("the process left behind: %s\n", status_str(wait_status(c, 0)));
}

static void execveat_section(void)
{
    char *argv[] = {self, "role-exit", "17", NULL};
    pid_t c = xfork();
    if (c == 0) {
        int fd = open(self, O_RDONLY | O_CLOEXEC);
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        _exit(100 + errno);
    }
    printf("execveat(fd, \"\", AT_EMPTY_PATH): %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        int fd = open(self, O_PATH);
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        _exit(100 + errno);
    }
    printf("execveat(O_PATH fd, \"\", AT_EMPTY_PATH): %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        char dir[4096];
        strcpy(dir, self);
        char *slash = strrchr(dir, '/');
        *slash = 0;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        syscall(SYS_execveat, dfd, slash + 1, argv, environ, 0);
        _exit(100 + errno);
    }
    printf("execveat(dirfd, relative name): %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        syscall(SYS_execveat, AT_FDCWD, self, argv, environ, 0x12345);
        _exit(errno);
    }
    printf("execveat with bad flags: %s\n", errname(WEXITSTATUS(wait_status(c, 0))));
    c = xfork();
    if (c == 0) {
        syscall(SYS_execveat, 999, "relative", argv, environ, 0);
        _exit(errno);
    }
    printf("execveat with a bad dirfd: %s\n", errname(WEXITSTATUS(wait_status(c, 0))));
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        printf("readlink /proc/self/exe: %s\n", errname(errno));
        return 1;
    }
    self[n] = 0;
    if (argc > 1 && !strcmp(argv[1], "role-fds"))
        return role_fds();
    if (argc > 1 && !strcmp(argv[1], "role-signals"))
        return role_signals();
    if (argc > 1 && !strcmp(argv[1], "role-args"))
        return role_args(argc, argv);
    if (argc > 2 && !strncmp(argv[1], "role-interp", 11))
        return role_interp(argc, argv);
    if (argc > 3 && !strcmp(argv[1], "role-pid"))
        return role_pid(argv);
    if (argc > 2 && !strcmp(argv[1], "role-exit"))
        return atoi(argv[2]);
    if (argc > 1) {
        printf("unknown role %s\n", argv[1]);
        return 2;
    }
    reset_signals();
    scratch();
    section("exec errors seen by the child", errors);
    section("argv, envp and pid across exec", args_and_env);
    section("#! scripts", scripts);
    section("close-on-exec", cloexec);
    section("signal state across exec", signal_state);
    section("exec by a process sharing the handlers", sighand_sharer_execs);
    section("execveat", execveat_section);
    remove_scratch();
    return finish();
}
