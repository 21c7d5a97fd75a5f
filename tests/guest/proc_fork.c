/* fork, vfork and clone: trees of processes (depth and width), private
 * copy-on-write memory, shared open file descriptions, every exit code,
 * 64 concurrent children, vfork sharing memory until exec, clone with
 * process flags and exit signals other than SIGCHLD. */
#include "proc.h"
#include <sched.h>
#include <sys/mman.h>

/* A chain: each process forks one child and exits with its result + 1. */
static int chain(int depth)
{
    if (depth == 0)
        return 0;
    pid_t p = xfork();
    if (p < 0)
        return 200;
    if (p == 0)
        _exit(chain(depth - 1));
    int st = wait_status(p, 0);
    if (st < 0 || !WIFEXITED(st))
        return 201;
    return WEXITSTATUS(st) + 1;
}

/* A tree: each node forks `width` children and returns 1 + their sum. */
static int tree(int depth, int width)
{
    if (depth == 0)
        return 1;
    pid_t kids[16];
    for (int i = 0; i < width; i++) {
        kids[i] = xfork();
        if (kids[i] == 0)
            _exit(tree(depth - 1, width));
    }
    int sum = 1;
    for (int i = 0; i < width; i++) {
        int st = wait_status(kids[i], 0);
        sum += (st >= 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : 1000;
    }
    return sum;
}

static void trees(void)
{
    EXPECT_EQ("chain of 20 processes, each exits child+1", chain(20), 20);
    EXPECT_EQ("tree depth 3 width 3 counts its nodes", tree(3, 3), 40);
    EXPECT_EQ("tree depth 2 width 8 counts its nodes", tree(2, 8), 73);
    EXPECT_EQ("tree depth 6 width 2 counts its nodes", tree(6, 2), 127);
    errno = 0;
    EXPECT_ERR("no children left: wait", wait(NULL), ECHILD);
}

static int global_counter = 100;

static void memory(void)
{
    static char big[4 << 20];
    memset(big, 'p', sizeof big);
    int local = 7;
    char *heap = malloc(1 << 20);
    memset(heap, 'h', 1 << 20);
    char *anon = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(anon, 'a', 1 << 20);
    char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = 's';

    int to_child[2], to_parent[2];
    pipe(to_child);
    pipe(to_parent);
    pid_t p = xfork();
    if (p == 0) {
        char c;
        /* The child sees the memory as it was at fork... */
        int ok = global_counter == 100 && local == 7 && big[12345] == 'p' && heap[999] == 'h' && anon[4096 * 17] == 'a';
        /* ...then writes its own copies and the shared page. */
        global_counter = 1;
        local = 1;
        memset(big, 'c', sizeof big);
        memset(heap, 'c', 1 << 20);
        memset(anon, 'c', 1 << 20);
        shared[0] = 'C';
        write(to_parent[1], "x", 1);
        read(to_child[0], &c, 1); /* parent has written its copies */
        ok = ok && global_counter == 1 && big[0] == 'c' && heap[0] == 'c' && anon[0] == 'c' && shared[1] == 'P';
        _exit(ok ? 0 : 1);
    }
    char c;
    read(to_parent[0], &c, 1);
    CHECK("parent's globals untouched by the child's writes", global_counter == 100 && local == 7);
    CHECK("parent's 4 MiB bss untouched", big[0] == 'p' && big[sizeof big - 1] == 'p');
    CHECK("parent's heap untouched", heap[0] == 'h' && heap[(1 << 20) - 1] == 'h');
    CHECK("parent's private anonymous mapping untouched", anon[0] == 'a');
    CHECK("MAP_SHARED page carries the child's write", shared[0] == 'C');
    global_counter = 2;
    memset(big, 'P', sizeof big);
    shared[1] = 'P';
    write(to_child[1], "y", 1);
    int st = wait_status(p, 0);
    printf("child saw its own copies and the parent's shared write: %s\n", status_str(st));
    if (st != 0)
        vk_failures++;
    CHECK("parent keeps its own later writes", global_counter == 2 && big[5] == 'P');
}

static void file_descriptions(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/offsets", scratch());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(fd, "parent1\n", 8);
    pid_t p = xfork();
    if (p == 0) {
        write(fd, "child\n", 6);
        close(fd); /* closing the child's copy leaves the parent's open */
        _exit(0);
    }
    wait_status(p, 0);
    EXPECT_EQ("offset after the child's write is shared", lseek(fd, 0, SEEK_CUR), 14);
    write(fd, "parent2\n", 8);
    char buf[64] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("file contents: %s", buf);
    /* fd flags are per descriptor table: FD_CLOEXEC set in the child does
     * not show in the parent; status flags (O_APPEND) are shared. */
    p = xfork();
    if (p == 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, O_APPEND);
        _exit(0);
    }
    wait_status(p, 0);
    EXPECT_EQ("FD_CLOEXEC set by the child not seen by the parent", fcntl(fd, F_GETFD), 0);
    CHECK("O_APPEND set by the child is seen by the parent", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    close(fd);
    unlink(path);
}

static void exit_codes(void)
{
    int bad = 0;
    for (int code = 0; code < 256; code++) {
        pid_t p = xfork();
        if (p == 0)
            _exit(code);
        int st = wait_status(p, 0);
        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != code || WIFSIGNALED(st) || WIFSTOPPED(st)) {
            if (bad++ < 5)
                printf("  _exit(%d) came back as %s\n", code, status_str(st));
        }
    }
    CHECK("_exit(0..255) each reported exactly", bad == 0);
    struct { int code; const char *how; } cases[] = {{256, "exit"}, {257, "exit"}, {-1, "exit"}, {511, "_exit"}, {1000, "exit_group"}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pid_t p = xfork();
        if (p == 0) {
            if (!strcmp(cases[i].how, "exit"))
                exit(cases[i].code);
            else if (!strcmp(cases[i].how, "_exit"))
                _exit(cases[i].code);
            syscall(SYS_exit_group, cases[i].code);
        }
        printf("%s(%d): %s\n", cases[i].how, cases[i].code, status_str(wait_status(p, 0)));
    }
    /* exit() flushes stdio in the child; _exit() does not. */
    int pfd[2];
    pipe(pfd);
    pid_t p = xfork();
    if (p == 0) {
        dup2(pfd[1], 1);
        printf("flushed by exit");
        exit(0);
    }
    pid_t q = xfork();
    if (q == 0) {
        dup2(pfd[1], 1);
        printf(" lost by _exit");
        _exit(0);
    }
    close(pfd[1]);
    wait_status(p, 0);
    wait_status(q, 0);
    char buf[64] = {0};
    read_full(pfd[0], buf, sizeof buf - 1);
    close(pfd[0]);
    printf("child stdio: '%s'\n", buf);
}

#define MANY 64

static void many_children(void)
{
    int gate[2];
    pipe(gate);
    pid_t pids[MANY];
    int started = 0;
    for (int i = 0; i < MANY; i++) {
        pids[i] = xfork();
        if (pids[i] < 0) {
            printf("fork %d: %s\n", i, errname(errno));
            break;
        }
        if (pids[i] == 0) {
            close(gate[1]);
            char c;
            /* Everyone waits for the gate: all 64 exist at once. */
            while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                ;
            _exit(i + 1);
        }
        started++;
    }
    EXPECT_EQ("children running at once", started, MANY);
    int distinct = 1;
    for (int i = 0; i < started; i++)
        for (int j = 0; j < i; j++)
            if (pids[i] == pids[j])
                distinct = 0;
    CHECK("their pids are distinct", distinct);
    CHECK("no child finished before the gate opened", waitpid(-1, NULL, WNOHANG) == 0);
    close(gate[1]);
    close(gate[0]);
    int seen[MANY + 1] = {0}, mismatched = 0, reaped = 0;
    for (;;) {
        int st;
        pid_t r = wait(&st);
        if (r < 0)
            break;
        reaped++;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
        if (code < 1 || code > MANY || pids[code - 1] != r)
            mismatched++;
        else
            seen[code]++;
    }
    EXPECT_EQ("reaped with wait(-1)", reaped, started);
    CHECK("each pid came back with its own exit code", mismatched == 0);
    EXPECT_ERR("then wait", wait(NULL), ECHILD);
}

static void vfork_section(void)
{
    static volatile int shared_var;
    shared_var = 1;
    pid_t p = vfork();
    if (p == 0) {
        shared_var = 2; /* the parent is suspended and shares this memory */
        _exit(9);
    }
    EXPECT_EQ("vfork child's write is seen by the parent", shared_var, 2);
    printf("vfork child: %s\n", status_str(wait_status(p, 0)));

    char *const argv[] = {"/nonexistent/vk-vfork", NULL};
    static volatile int exec_errno;
    p = vfork();
    if (p == 0) {
        execv(argv[0], argv);
        exec_errno = errno;
        _exit(127);
    }
    printf("vfork+failed exec: errno %s, child %s\n", errname(exec_errno), status_str(wait_status(p, 0)));

    /* vfork + exec of busybox-free /proc/self/exe is not portable; exec the
     * program itself with a role instead. */
    extern char **environ;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        printf("readlink /proc/self/exe: %s  FAIL\n", errname(errno));
        vk_failures++;
        return;
    }
    self[n] = 0;
    char *const argv2[] = {self, "role-exit", "33", NULL};
    p = vfork();
    if (p == 0) {
        execve(self, argv2, environ);
        _exit(127);
    }
    printf("vfork+exec of a program exiting 33: %s\n", status_str(wait_status(p, 0)));
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { (void)s; got_usr1++; }

static void clone_section(void)
{
    /* clone(SIGCHLD) is fork. */
    long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(5);
    printf("raw clone(SIGCHLD): %s\n", status_str(wait_status(r, 0)));

    /* A child whose exit signal is SIGUSR1 is a "clone" child: waitpid
     * without __WALL/__WCLONE does not see it. */
    set_handler(SIGUSR1, on_usr1, 0);
    block(SIGUSR1);
    fflush(stdout);
    r = syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
    if (r == 0)
        _exit(6);
    int st;
    /* Wait for it to exit without reaping it. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_EQ("waitid(__WCLONE|WEXITED|WNOWAIT)", waitid(P_PID, r, &si, WEXITED | WNOWAIT | __WCLONE), 0);
    EXPECT_ERR("waitpid without __WALL", waitpid(r, &st, WNOHANG), ECHILD);
    sigset_t pend;
    sigpending(&pend);
    CHECK("exit signal SIGUSR1 is pending in the parent", sigismember(&pend, SIGUSR1) == 1);
    CHECK("no SIGCHLD pending for it", sigismember(&pend, SIGCHLD) == 0);
    st = 0;
    EXPECT_EQ("waitpid(__WALL) reaps it", waitpid(r, &st, __WALL) == r, 1);
    printf("clone(SIGUSR1) child: %s\n", status_str(st));
    unblock(SIGUSR1);
    EXPECT_EQ("SIGUSR1 handler ran once", got_usr1, 1);

    /* An exit signal of 0: the parent hears nothing, __WALL still reaps. */
    r = syscall(SYS_clone, 0, 0, 0, 0, 0);
    if (r == 0)
        _exit(8);
    st = 0;
    EXPECT_EQ("waitpid(__WCLONE) reaps an exit-signal-0 child", waitpid(r, &st, __WCLONE) == r, 1);
    printf("clone(0) child: %s\n", status_str(st));

    EXPECT_ERR("clone(CLONE_SIGHAND) without CLONE_VM", syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EINVAL);
    EXPECT_ERR("clone(CLONE_THREAD) without CLONE_SIGHAND", syscall(SYS_clone, CLONE_THREAD | CLONE_VM | SIGCHLD, 0, 0, 0, 0), EINVAL);
}

static void parent_pid_section(void)
{
    pid_t me = getpid();
    int pfd[2];
    pipe(pfd);
    pid_t p = xfork();
    if (p == 0) {
        pid_t pp = getppid();
        pid_t mine = getpid();
        write(pfd[1], &pp, sizeof pp);
        write(pfd[1], &mine, sizeof mine);
        _exit(0);
    }
    pid_t seen_pp = 0, seen_self = 0;
    read_full(pfd[0], &seen_pp, sizeof seen_pp);
    read_full(pfd[0], &seen_self, sizeof seen_self);
    wait_status(p, 0);
    CHECK("child's getppid() is the parent's getpid()", seen_pp == me);
    CHECK("child's getpid() is fork's return value", seen_self == p);
    CHECK("child's pid differs from the parent's", p != me);
    CHECK("gettid() == getpid() in a single-threaded process", syscall(SYS_gettid) == getpid());
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "role-exit"))
        return atoi(argv[2]);
    reset_signals();
    scratch();
    section("fork trees", trees);
    section("copy-on-write memory", memory);
    section("open file descriptions shared across fork", file_descriptions);
    section("exit codes", exit_codes);
    section("64 concurrent children", many_children);
    section("vfork", vfork_section);
    section("clone with process flags", clone_section);
    section("getpid and getppid", parent_pid_section);
    remove_scratch();
    return finish();
}
