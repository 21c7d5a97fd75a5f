/* Resource limits that act: RLIMIT_FSIZE (short writes, EFBIG and SIGXFSZ
 * for write, pwrite, appends, truncate and fallocate), RLIMIT_CPU (SIGXCPU at the soft limit and once
 * a second past it, SIGKILL at the hard limit, inherited across fork) and
 * prlimit on another process, RLIMIT_NPROC (EAGAIN for fork and threads;
 * set*uid to a user over it marks the caller, whose execve fails while it
 * is still over, the mark inherited by a fork child and cleared in the
 * parent, as Linux's PF_NPROC_EXCEEDED). */
#define _GNU_SOURCE
#include "proc.h"
#include <pthread.h>

static volatile sig_atomic_t xcpu_count;
static int report_fd = -1;

static void on_xcpu(int sig)
{
    (void)sig;
    xcpu_count++;
    char c = 'x';
    if (write(report_fd, &c, 1) != 1)
        _exit(9);
}

static void spin_forever(void)
{
    for (volatile unsigned long i = 0;; i++)
        ;
}

/* A child with RLIMIT_CPU {soft, hard}, optionally handling SIGXCPU, spins;
 * returns its wait status and the number of SIGXCPUs it handled. */
static int cpu_limited_child(rlim_t soft, rlim_t hard, int handle, int *handled)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = xfork();
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        if (handle)
            signal(SIGXCPU, on_xcpu);
        struct rlimit rl = {soft, hard};
        if (setrlimit(RLIMIT_CPU, &rl) != 0)
            _exit(8);
        spin_forever();
    }
    close(p[1]);
    int st = wait_status(pid, 0);
    char buf[16];
    ssize_t n = read(p[0], buf, sizeof buf);
    *handled = n < 0 ? -1 : (int)n;
    close(p[0]);
    return st;
}

static void cpu_soft_then_hard(void)
{
    no_core_dumps();
    int handled = 0;
    int st = cpu_limited_child(1, 2, 1, &handled);
    printf("handled SIGXCPU, limit 1/2: %s after %d SIGXCPU\n", status_str(st), handled);
    CHECK("killed at the hard limit", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    EXPECT_EQ("SIGXCPU before the hard limit", handled, 1);
    st = cpu_limited_child(1, 5, 0, &handled);
    printf("default SIGXCPU, limit 1/5: %s\n", status_str(st));
    CHECK("killed by SIGXCPU", WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU);
}

static void cpu_limit_inherited(void)
{
    no_core_dumps();
    struct rlimit rl = {1, RLIM_INFINITY};
    EXPECT_OK("setrlimit(RLIMIT_CPU, 1/inf)", setrlimit(RLIMIT_CPU, &rl));
    pid_t pid = xfork();
    if (pid == 0)
        spin_forever();
    int st = wait_status(pid, 0);
    printf("forked child of a limited process: %s\n", status_str(st));
    CHECK("the child inherits the limit", WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU);
}

static void prlimit_other(void)
{
    int p[2], q[2];
    if (pipe(p) != 0 || pipe(q) != 0)
        return;
    pid_t pid = xfork();
    if (pid == 0) {
        char c;
        if (read(q[0], &c, 1) != 1)
            _exit(2);
        struct rlimit now;
        getrlimit(RLIMIT_NOFILE, &now);
        long v[2] = {(long)now.rlim_cur, (long)now.rlim_max};
        _exit(write(p[1], v, sizeof v) == sizeof v ? 0 : 3);
    }
    struct rlimit old, set = {77, 99};
    EXPECT_OK("prlimit(child, NOFILE, 77/99)", prlimit(pid, RLIMIT_NOFILE, &set, &old));
    struct rlimit mine;
    getrlimit(RLIMIT_NOFILE, &mine);
    CHECK("the caller's own limit is unchanged", mine.rlim_cur == old.rlim_cur && mine.rlim_max == old.rlim_max);
    struct rlimit seen;
    EXPECT_OK("prlimit(child) reads", prlimit(pid, RLIMIT_NOFILE, NULL, &seen));
    printf("child's limit read back: %ld/%ld\n", (long)seen.rlim_cur, (long)seen.rlim_max);
    if (write(q[1], "g", 1) != 1)
        printf("write: %s\n", errname(errno));
    long v[2] = {0, 0};
    if (read(p[0], v, sizeof v) != sizeof v)
        printf("read: %s\n", errname(errno));
    printf("child's own getrlimit: %ld/%ld\n", v[0], v[1]);
    printf("child: %s\n", status_str(wait_status(pid, 0)));
    EXPECT_ERR("prlimit(no such pid)", prlimit(999999, RLIMIT_NOFILE, NULL, &seen), ESRCH);
    set.rlim_cur = 100;
    set.rlim_max = 99;
    EXPECT_ERR("prlimit(cur > max)", prlimit(0, RLIMIT_NOFILE, &set, NULL), EINVAL);
    EXPECT_ERR("prlimit(bad resource)", prlimit(0, 99, NULL, &seen), EINVAL);
}

static volatile sig_atomic_t xfsz_count;
static void on_xfsz(int sig)
{
    (void)sig;
    xfsz_count++;
}

static void fsize_limit(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fsize", scratch());
    signal(SIGXFSZ, on_xfsz);
    struct rlimit rl = {4096, 4096};
    EXPECT_OK("setrlimit(RLIMIT_FSIZE, 4096)", setrlimit(RLIMIT_FSIZE, &rl));
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char buf[8192];
    EXPECT_EQ("write of 8192 stops at the limit", write(fd, buf, sizeof buf), 4096);
    EXPECT_EQ("no SIGXFSZ for a short write", xfsz_count, 0);
    EXPECT_EQ("empty write at the limit", write(fd, buf, 0), 0);
    EXPECT_ERR("write at the limit", write(fd, buf, 10), EFBIG);
    EXPECT_EQ("SIGXFSZ", xfsz_count, 1);
    EXPECT_ERR("pwrite past the limit", pwrite(fd, buf, 10, 100000), EFBIG);
    EXPECT_EQ("pwrite below the limit", pwrite(fd, buf, 100, 4000), 96);
    EXPECT_ERR("ftruncate past the limit", ftruncate(fd, 100000), EFBIG);
    EXPECT_OK("ftruncate down", ftruncate(fd, 100));
    EXPECT_ERR("fallocate past the limit", fallocate(fd, 0, 0, 100000), EFBIG);
    EXPECT_ERR("truncate past the limit", truncate(path, 5000), EFBIG);
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    EXPECT_EQ("append stops at the limit", write(fd, buf, 8192), 3996);
    EXPECT_ERR("append at the limit", write(fd, buf, 1), EFBIG);
    printf("SIGXFSZ count: %d\n", (int)xfsz_count);
    close(fd);
    signal(SIGXFSZ, SIG_DFL);
    no_core_dumps();
    pid_t pid = xfork();
    if (pid == 0) {
        int f = open(path, O_WRONLY | O_APPEND);
        (void)!write(f, buf, 1);
        _exit(0);
    }
    printf("unhandled SIGXFSZ: %s\n", status_str(wait_status(pid, 0)));
    unlink(path);
}

static void *nothing(void *arg)
{
    return arg;
}

static void nproc_limit(void)
{
    pid_t pid = xfork();
    if (pid == 0) {
        /* Root is exempt: be the unprivileged user natively is. */
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        struct rlimit lim;
        getrlimit(RLIMIT_NPROC, &lim);
        struct rlimit none = {0, lim.rlim_max};
        EXPECT_EQ("setrlimit NPROC 0", setrlimit(RLIMIT_NPROC, &none), 0);
        pid_t c;
        EXPECT_ERR("fork over RLIMIT_NPROC", (c = fork()) == 0 ? (_exit(0), 0L) : (long)c, EAGAIN);
        pthread_t t;
        int r = pthread_create(&t, NULL, nothing, NULL);
        printf("pthread_create over RLIMIT_NPROC: %s\n", r == EAGAIN ? "EAGAIN" : r == 0 ? "created" : "other error");
        if (r == 0)
            pthread_join(t, NULL);
        EXPECT_EQ("setrlimit NPROC back", setrlimit(RLIMIT_NPROC, &lim), 0);
        c = fork();
        if (c == 0)
            _exit(0);
        printf("fork under the old limit: %s\n", status_str(wait_status(c, 0)));
        fflush(stdout);
        _exit(vk_failures ? 1 : 0);
    }
    printf("unprivileged child: %s\n", status_str(wait_status(pid, 0)));
}

/* execve of this program as "nproc-exec WHAT": -1 with errno if it fails. */
static int exec_probe(const char *what)
{
    fflush(stdout);
    char *argv[] = {"proc_limits", "nproc-exec", (char *)what, NULL};
    char *envp[] = {NULL};
    return execve("/proc/self/exe", argv, envp);
}

static void set_nproc(rlim_t soft)
{
    struct rlimit lim;
    getrlimit(RLIMIT_NPROC, &lim);
    lim.rlim_cur = soft;
    if (setrlimit(RLIMIT_NPROC, &lim) != 0)
        printf("setrlimit NPROC %ld: %s  FAIL\n", (long)soft, errname(errno));
}

static void become_nobody(const char *label)
{
    if (setgid(65534) != 0)
        printf("setgid: %s  FAIL\n", errname(errno));
    EXPECT_EQ(label, setuid(65534), 0);
}

static void nproc_exec(void)
{
    if (geteuid() != 0) {
        printf("not root: set*uid cannot change the real user here\n");
        return;
    }
    /* Two processes of user 65534 that wait. */
    int ready[2];
    pipe(ready);
    pid_t helper[2];
    for (int i = 0; i < 2; i++) {
        helper[i] = xfork();
        if (helper[i] == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            write(ready[1], "r", 1);
            for (;;)
                pause();
        }
    }
    char b[2];
    int got = 0;
    while (got < 2 && read(ready[0], b, 1) == 1)
        got++;
    CHECK("helpers run as 65534", got == 2);

    /* Not over the limit at setuid: no mark, exec works even once the
     * limit is lowered. */
    pid_t c = xfork();
    if (c == 0) {
        set_nproc(100);
        become_nobody("setuid under the limit");
        set_nproc(1);
        exec_probe("no mark from setuid");
        printf("execve without the mark: %s  FAIL\n", errname(errno));
        _exit(1);
    }
    printf("%s\n", status_str(wait_status(c, 0)));

    /* Over it (two other tasks, limit 1): setuid succeeds, execve is
     * EAGAIN while the user, the caller counted, has more tasks than the
     * limit, and works once it has no more. */
    c = xfork();
    if (c == 0) {
        set_nproc(1);
        become_nobody("setuid over the limit");
        EXPECT_ERR("execve after it", exec_probe("x"), EAGAIN);
        set_nproc(2);
        EXPECT_ERR("execve with 3 tasks, limit 2", exec_probe("x"), EAGAIN);
        set_nproc(3);
        exec_probe("3 tasks, limit 3");
        printf("execve with 3 tasks, limit 3: %s  FAIL\n", errname(errno));
        _exit(1);
    }
    printf("%s\n", status_str(wait_status(c, 0)));

    /* A fork clears the parent's mark; the child keeps it. */
    c = xfork();
    if (c == 0) {
        set_nproc(1);
        become_nobody("setuid over the limit again");
        set_nproc(10);
        fflush(stdout);
        pid_t g = fork();
        if (g == 0) {
            /* Limits are the process's own: the child lowers its copy. */
            set_nproc(1);
            EXPECT_ERR("the fork child's execve (mark inherited)", exec_probe("x"), EAGAIN);
            fflush(stdout);
            _exit(vk_failures ? 1 : 0);
        }
        set_nproc(1);
        int st;
        waitpid(g, &st, 0);
        printf("fork child: %s\n", status_str(st));
        exec_probe("the parent after a fork");
        printf("the forking parent's execve: %s  FAIL\n", errname(errno));
        _exit(1);
    }
    printf("%s\n", status_str(wait_status(c, 0)));

    for (int i = 0; i < 2; i++) {
        kill(helper[i], SIGKILL);
        wait_status(helper[i], 0);
    }
    close(ready[0]);
    close(ready[1]);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "nproc-exec") == 0) {
        printf("execve worked: %s\n", argv[2]);
        return 0;
    }
    reset_signals();
    section("RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard", cpu_soft_then_hard);
    section("RLIMIT_CPU across fork", cpu_limit_inherited);
    section("prlimit on another process", prlimit_other);
    section("RLIMIT_FSIZE: short writes, EFBIG and SIGXFSZ", fsize_limit);
    section("RLIMIT_NPROC: fork and threads get EAGAIN", nproc_limit);
    section("RLIMIT_NPROC: execve after set*uid", nproc_exec);
    remove_scratch();
    return finish();
}
