/* What processes share and reach of each other: process_vm_readv and
 * process_vm_writev (errors in Linux's order, partial copies, the
 * ptrace-access rule), kcmp, unshare of what vkernel can unshare (files,
 * fs) and its errors, and setns with the namespace files. Each part runs in
 * a forked child. Run as root and as nobody. Namespace creation is left
 * out: natively root (and nobody, with user namespaces) may create them. */
#include "proc.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>

#ifndef KCMP_FILE
#define KCMP_FILE 0
#define KCMP_VM 1
#define KCMP_FILES 2
#define KCMP_FS 3
#define KCMP_SIGHAND 4
#endif

static int is_root;
static char buffer[3 * 4096] __attribute__((aligned(4096)));

/* A child that waits on a pipe with `buffer` holding its own text, and
 * reports whether the text changed to "written" before it exits. */
static pid_t holder(int *go_fd, int *result_fd, int undumpable)
{
    int go[2], result[2];
    if (pipe(go) || pipe(result))
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (undumpable)
            prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        strcpy(buffer, "held by the child");
        char c = 'r';
        write(result[1], &c, 1);
        read(go[0], &c, 1);
        c = strcmp(buffer, "written") ? 'n' : 'y';
        write(result[1], &c, 1);
        _exit(0);
    }
    char c;
    read(result[0], &c, 1);
    *go_fd = go[1];
    *result_fd = result[0];
    return pid;
}

static void finish_holder(pid_t pid, int go, int result, const char *label)
{
    char c = 'g';
    write(go, &c, 1);
    read(result, &c, 1);
    printf("%s: %c\n", label, c);
    waitpid(pid, NULL, 0);
}

static void vm_copies(void)
{
    int go, result;
    strcpy(buffer, "the parent's text");
    pid_t pid = holder(&go, &result, 0);
    char out[64] = {0};
    struct iovec local = {out, sizeof out}, remote = {buffer, 18};
    EXPECT_EQ("process_vm_readv", syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0), 18);
    printf("read: %s\n", out);
    char two[2][8] = {{0}};
    struct iovec split[2] = {{two[0], 4}, {two[1], 4}};
    EXPECT_EQ("readv into two buffers", syscall(SYS_process_vm_readv, pid, split, 2, &remote, 1, 0), 8);
    printf("pieces: %.4s|%.4s\n", two[0], two[1]);
    EXPECT_ERR("flags", syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 1), EINVAL);
    EXPECT_ERR("too many local iovecs", syscall(SYS_process_vm_readv, pid, &local, 1025, &remote, 1, 0), EINVAL);
    EXPECT_ERR("too many remote iovecs", syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1025, 0), EINVAL);
    EXPECT_ERR("bad local iovec array", syscall(SYS_process_vm_readv, pid, (void *)8, 1, &remote, 1, 0), EFAULT);
    EXPECT_ERR("bad remote iovec array", syscall(SYS_process_vm_readv, pid, &local, 1, (void *)8, 1, 0), EFAULT);
    EXPECT_EQ("no local iovecs", syscall(SYS_process_vm_readv, pid, &local, 0, &remote, 1, 0), 0);
    EXPECT_EQ("empty remote iovecs", syscall(SYS_process_vm_readv, 99999999, &local, 1, &remote, 0, 0), 0);
    EXPECT_ERR("no such process", syscall(SYS_process_vm_readv, 99999999, &local, 1, &remote, 1, 0), ESRCH);
    struct iovec bad_remote = {(void *)0x10000, 8};
    EXPECT_ERR("unmapped remote memory", syscall(SYS_process_vm_readv, pid, &local, 1, &bad_remote, 1, 0), EFAULT);
    struct iovec bad_local = {(void *)0x10000, 8};
    EXPECT_ERR("unmapped local memory", syscall(SYS_process_vm_readv, pid, &bad_local, 1, &remote, 1, 0), EFAULT);
    struct iovec pieces[2] = {{buffer, 4}, {(void *)0x10000, 8}};
    EXPECT_EQ("a copy that faults part way", syscall(SYS_process_vm_readv, pid, &local, 1, pieces, 2, 0), 4);
    /* The tail of the page: the copy stops where the mapping would. */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    struct iovec self = {page + 4090, 16};
    EXPECT_EQ("reading oneself up to a hole", syscall(SYS_process_vm_readv, getpid(), &local, 1, &self, 1, 0), 6);
    struct iovec text = {"written", 8};
    struct iovec dst = {buffer, 8};
    EXPECT_EQ("process_vm_writev", syscall(SYS_process_vm_writev, pid, &text, 1, &dst, 1, 0), 8);
    finish_holder(pid, go, result, "the child saw the write");
}

static void vm_access(void)
{
    int go, result;
    pid_t pid = holder(&go, &result, 1);
    char out[8];
    struct iovec local = {out, sizeof out}, remote = {buffer, 8};
    if (is_root)
        EXPECT_EQ("reading an undumpable child with CAP_SYS_PTRACE", syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0), 8);
    else
        EXPECT_ERR("reading an undumpable child", syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0), EPERM);
    finish_holder(pid, go, result, "child written");
    if (is_root) {
        /* A child with other ids: root may read it, nobody may not. */
        int p[2];
        pipe(p);
        fflush(stdout);
        pid_t other = fork();
        if (other == 0) {
            setresuid(1000, 1000, 1000);
            char c;
            read(p[0], &c, 1);
            _exit(0);
        }
        usleep(1000);
        EXPECT_EQ("root reads a child of another user", syscall(SYS_process_vm_readv, other, &local, 1, &remote, 1, 0), 8);
        write(p[1], "x", 1);
        waitpid(other, NULL, 0);
    }
}

static void compare_objects(void)
{
    pid_t me = getpid();
    int fd = open("/dev/null", O_RDONLY);
    int dup_fd = dup(fd);
    int other = open("/dev/null", O_RDONLY);
    EXPECT_EQ("kcmp a dup'd fd", syscall(SYS_kcmp, me, me, KCMP_FILE, fd, dup_fd), 0);
    long r = syscall(SYS_kcmp, me, me, KCMP_FILE, fd, other);
    CHECK("kcmp two opens differ", r == 1 || r == 2);
    EXPECT_ERR("kcmp a closed fd", syscall(SYS_kcmp, me, me, KCMP_FILE, fd, 999), EBADF);
    EXPECT_EQ("kcmp own vm", syscall(SYS_kcmp, me, me, KCMP_VM, 0, 0), 0);
    EXPECT_ERR("kcmp unknown type", syscall(SYS_kcmp, me, me, 99, 0, 0), EINVAL);
    EXPECT_ERR("kcmp no such process", syscall(SYS_kcmp, me, 99999999, KCMP_VM, 0, 0), ESRCH);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    r = syscall(SYS_kcmp, me, child, KCMP_VM, 0, 0);
    CHECK("a forked child has its own vm", r == 1 || r == 2);
    r = syscall(SYS_kcmp, me, child, KCMP_FILES, 0, 0);
    CHECK("and its own fd table", r == 1 || r == 2);
    long fwd = syscall(SYS_kcmp, me, child, KCMP_FS, 0, 0);
    long back = syscall(SYS_kcmp, child, me, KCMP_FS, 0, 0);
    CHECK("the order reverses with the arguments", (fwd == 1 && back == 2) || (fwd == 2 && back == 1));
    EXPECT_EQ("the child's fd is the same file", syscall(SYS_kcmp, me, child, KCMP_FILE, fd, fd), 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

static char thread_cwd[256];
static void *unshare_fs_thread(void *arg)
{
    (void)arg;
    if (syscall(SYS_unshare, CLONE_FS) == 0 && chdir("/proc") == 0)
        getcwd(thread_cwd, sizeof thread_cwd);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void unsharing(void)
{
    EXPECT_EQ("unshare 0", syscall(SYS_unshare, 0), 0);
    EXPECT_EQ("unshare CLONE_FILES", syscall(SYS_unshare, CLONE_FILES), 0);
    EXPECT_EQ("unshare CLONE_FS", syscall(SYS_unshare, CLONE_FS), 0);
    EXPECT_EQ("unshare CLONE_SYSVSEM", syscall(SYS_unshare, CLONE_SYSVSEM), 0);
    EXPECT_EQ("unshare CLONE_VM alone", syscall(SYS_unshare, CLONE_VM), 0);
    EXPECT_EQ("unshare CLONE_THREAD alone", syscall(SYS_unshare, CLONE_THREAD), 0);
    EXPECT_ERR("unshare CLONE_PARENT", syscall(SYS_unshare, CLONE_PARENT), EINVAL);
    EXPECT_ERR("unshare CLONE_SETTLS", syscall(SYS_unshare, CLONE_SETTLS), EINVAL);
    if (!is_root) {
        EXPECT_ERR("unshare CLONE_NEWUTS", syscall(SYS_unshare, CLONE_NEWUTS), EPERM);
        EXPECT_ERR("unshare CLONE_NEWNS", syscall(SYS_unshare, CLONE_NEWNS), EPERM);
        EXPECT_ERR("unshare CLONE_NEWPID", syscall(SYS_unshare, CLONE_NEWPID), EPERM);
        EXPECT_ERR("unshare CLONE_NEWNET", syscall(SYS_unshare, CLONE_NEWNET), EPERM);
        EXPECT_ERR("unshare CLONE_NEWIPC", syscall(SYS_unshare, CLONE_NEWIPC), EPERM);
    }
    chdir("/");
    pthread_t t;
    pthread_create(&t, NULL, unshare_fs_thread, NULL);
    pthread_join(t, NULL);
    char cwd[256];
    getcwd(cwd, sizeof cwd);
    printf("thread's cwd %s, main thread's cwd %s\n", thread_cwd, cwd);
    pthread_create(&t, NULL, sleeper, NULL);
    EXPECT_ERR("unshare CLONE_VM with threads", syscall(SYS_unshare, CLONE_VM), EINVAL);
    EXPECT_ERR("unshare CLONE_THREAD with threads", syscall(SYS_unshare, CLONE_THREAD), EINVAL);
    EXPECT_ERR("unshare CLONE_SIGHAND with threads", syscall(SYS_unshare, CLONE_SIGHAND), EINVAL);
    EXPECT_EQ("unshare CLONE_FILES with threads", syscall(SYS_unshare, CLONE_FILES), 0);
    int fd = open("/dev/null", O_RDONLY);
    CHECK("open after unsharing the fd table", fd >= 0);
    fflush(stdout);
    _exit(vk_failures ? 1 : 0);
}

static void joining(void)
{
    int uts = open("/proc/self/ns/uts", O_RDONLY);
    int mnt = open("/proc/self/ns/mnt", O_RDONLY);
    int user = open("/proc/self/ns/user", O_RDONLY);
    int null = open("/dev/null", O_RDONLY);
    CHECK("ns files open", uts >= 0 && mnt >= 0 && user >= 0);
    EXPECT_ERR("setns a closed fd", syscall(SYS_setns, 999, 0), EBADF);
    EXPECT_ERR("setns /dev/null", syscall(SYS_setns, null, 0), EINVAL);
    EXPECT_ERR("setns the wrong type", syscall(SYS_setns, uts, CLONE_NEWNET), EINVAL);
    EXPECT_ERR("setns own user namespace", syscall(SYS_setns, user, CLONE_NEWUSER), EINVAL);
    if (is_root) {
        EXPECT_EQ("setns own uts namespace", syscall(SYS_setns, uts, CLONE_NEWUTS), 0);
        chdir("/proc");
        EXPECT_EQ("setns own mount namespace", syscall(SYS_setns, mnt, 0), 0);
        char cwd[256];
        getcwd(cwd, sizeof cwd);
        printf("cwd after joining a mount namespace: %s\n", cwd);
    } else {
        EXPECT_ERR("setns own uts namespace", syscall(SYS_setns, uts, CLONE_NEWUTS), EPERM);
        EXPECT_ERR("setns own mount namespace", syscall(SYS_setns, mnt, 0), EPERM);
    }
}

int main(void)
{
    reset_signals();
    is_root = geteuid() == 0;
    printf("running as %s\n", is_root ? "root" : "an unprivileged user");
    section("process_vm_readv and process_vm_writev", vm_copies);
    section("process_vm access", vm_access);
    section("kcmp", compare_objects);
    section("unshare", unsharing);
    section("setns", joining);
    return finish();
}
