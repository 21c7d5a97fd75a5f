/* inotify and dnotify: the events of create, open, modify, access,
 * close_write/close_nowrite, attrib, move (with cookies), delete, and a
 * watched file's own DELETE_SELF/MOVE_SELF/IGNORED; watch flags
 * (IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, IN_DONT_FOLLOW),
 * merging, the read buffer rules, readiness for another process's change,
 * argument checks, and F_NOTIFY's SIGIO. Files live in a scratch directory
 * under /tmp. */
#include "event.h"
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <utime.h>

static char dir[128], sub[160], file[160], file2[160];
static int wd_dir = -100, wd_file = -100, wd_sub = -100;
static uint32_t last_cookie;

static const char *wdname(int wd)
{
    static char b[16];
    if (wd == wd_dir) return "dir";
    if (wd == wd_file) return "file";
    if (wd == wd_sub) return "sub";
    if (wd == -1) return "-1";
    snprintf(b, sizeof b, "wd?");
    return b;
}

static void maskname(uint32_t m, char *out)
{
    out[0] = 0;
#define M(x) if (m & x) { strcat(out, out[0] ? "|" #x : #x); m &= ~x; }
    M(IN_ACCESS) M(IN_MODIFY) M(IN_ATTRIB) M(IN_CLOSE_WRITE) M(IN_CLOSE_NOWRITE) M(IN_OPEN) M(IN_MOVED_FROM)
    M(IN_MOVED_TO) M(IN_CREATE) M(IN_DELETE) M(IN_DELETE_SELF) M(IN_MOVE_SELF) M(IN_UNMOUNT) M(IN_Q_OVERFLOW)
    M(IN_IGNORED) M(IN_ISDIR)
#undef M
    if (m)
        sprintf(out + strlen(out), "|%#x", m);
}

/* Prints every queued event (the fd is non-blocking). */
static void drain(int fd, const char *what)
{
    printf("%s:\n", what);
    char buf[4096] __attribute__((aligned(8)));
    int any = 0;
    for (;;) {
        long n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            char m[256];
            maskname(e->mask, m);
            const char *cookie = "";
            if (e->cookie) {
                cookie = e->cookie == last_cookie ? " cookie=same" : " cookie=new";
                last_cookie = e->cookie;
            }
            printf("  %s %s%s%s%s\n", wdname(e->wd), m, e->len ? " " : "", e->len ? e->name : "", cookie);
            any = 1;
            p += sizeof *e + e->len;
        }
    }
    if (!any)
        printf("  (none)\n");
}

static void events(void)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    CHECK("inotify_init1", fd >= 0);
    printf("link: %s\n", fd_link(fd));
    wd_dir = inotify_add_watch(fd, dir, IN_ALL_EVENTS);
    CHECK("watch the directory", wd_dir > 0);
    EXPECT_EQ("the same directory again gives the same wd", inotify_add_watch(fd, dir, IN_ALL_EVENTS), wd_dir);
    int f = open(file, O_CREAT | O_WRONLY, 0644);
    drain(fd, "open(O_CREAT)");
    write(f, "abc", 3);
    write(f, "def", 3);
    drain(fd, "two writes (merged)");
    close(f);
    drain(fd, "close after writing");
    f = open(file, O_RDONLY);
    char b[8];
    read(f, b, 2);
    read(f, b, 8);
    read(f, b, 8);
    close(f);
    drain(fd, "open, read, read, read at EOF, close");
    wd_file = inotify_add_watch(fd, file, IN_ALL_EVENTS);
    CHECK("watch the file too", wd_file > 0 && wd_file != wd_dir);
    chmod(file, 0600);
    drain(fd, "chmod (the directory hears first)");
    truncate(file, 1);
    drain(fd, "truncate");
    utime(file, NULL);
    drain(fd, "utime");
    rename(file, file2);
    drain(fd, "rename within the directory");
    link(file2, file);
    drain(fd, "link");
    unlink(file);
    drain(fd, "unlink one of two names");
    unlink(file2);
    drain(fd, "unlink the last name");
    mkdir(sub, 0755);
    wd_sub = inotify_add_watch(fd, sub, IN_ALL_EVENTS);
    f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    drain(fd, "mkdir, then a file");
    char inner[200];
    snprintf(inner, sizeof inner, "%s/x", sub);
    rename(file, inner);
    drain(fd, "rename into the subdirectory");
    unlink(inner);
    rmdir(sub);
    drain(fd, "rmdir of a watched directory");
    mkdir(sub, 0755);
    wd_sub = inotify_add_watch(fd, sub, IN_ALL_EVENTS);
    rename(sub, file2);
    drain(fd, "mkdir and rename a watched directory");
    chmod(file2, 0700);
    drain(fd, "chmod of the renamed directory");
    rmdir(file2);
    drain(fd, "rmdir it");
    close(open(file, O_CREAT | O_WRONLY, 0644));
    close(open(file2, O_CREAT | O_WRONLY, 0644));
    wd_file = inotify_add_watch(fd, file2, IN_ALL_EVENTS);
    drain(fd, "two files");
    rename(file, file2);
    drain(fd, "rename over a watched file");
    unlink(file2);
    drain(fd, "unlink it");
    symlink("nowhere", file);
    drain(fd, "symlink");
    int w = inotify_add_watch(fd, file, IN_ALL_EVENTS | IN_DONT_FOLLOW);
    CHECK("IN_DONT_FOLLOW watches a dangling symlink", w > 0);
    EXPECT_ERR("following it", inotify_add_watch(fd, file, IN_ALL_EVENTS), ENOENT);
    unlink(file);
    drain(fd, "unlink the symlink");
    close(fd);
}

static void flags(void)
{
    int fd = inotify_init1(IN_NONBLOCK);
    int f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    wd_dir = -100;
    wd_file = inotify_add_watch(fd, file, IN_MODIFY | IN_ONESHOT);
    f = open(file, O_WRONLY);
    write(f, "x", 1);
    write(f, "y", 1);
    drain(fd, "IN_ONESHOT: one event, then IN_IGNORED");
    EXPECT_ERR("rm_watch of the spent one-shot watch", inotify_rm_watch(fd, wd_file), EINVAL);
    wd_file = inotify_add_watch(fd, file, IN_MODIFY);
    EXPECT_EQ("IN_MASK_ADD keeps the wd", inotify_add_watch(fd, file, IN_ATTRIB | IN_MASK_ADD), wd_file);
    EXPECT_ERR("IN_MASK_CREATE on a watched inode", inotify_add_watch(fd, file, IN_ATTRIB | IN_MASK_CREATE), EEXIST);
    write(f, "z", 1);
    fchmod(f, 0644);
    drain(fd, "after IN_MASK_ADD: modify and attrib");
    EXPECT_EQ("replace the mask with IN_ATTRIB", inotify_add_watch(fd, file, IN_ATTRIB), wd_file);
    write(f, "z", 1);
    fchmod(f, 0600);
    drain(fd, "after replacing: attrib only");
    EXPECT_EQ("inotify_rm_watch", inotify_rm_watch(fd, wd_file), 0);
    drain(fd, "after rm_watch");
    EXPECT_ERR("inotify_rm_watch again", inotify_rm_watch(fd, wd_file), EINVAL);
    close(f);
    unlink(file);

    EXPECT_ERR("inotify_init1 with a bad flag", inotify_init1(1), EINVAL);
    EXPECT_ERR("a mask of 0", inotify_add_watch(fd, dir, 0), EINVAL);
    EXPECT_ERR("IN_MASK_ADD|IN_MASK_CREATE", inotify_add_watch(fd, dir, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
    EXPECT_ERR("a bad fd", inotify_add_watch(99, dir, IN_MODIFY), EBADF);
    int p[2];
    pipe(p);
    EXPECT_ERR("a pipe", inotify_add_watch(p[0], dir, IN_MODIFY), EINVAL);
    EXPECT_ERR("rm_watch on a pipe", inotify_rm_watch(p[0], 1), EINVAL);
    EXPECT_ERR("a missing path", inotify_add_watch(fd, "/nonexistent/x", IN_MODIFY), ENOENT);
    EXPECT_ERR("IN_ONLYDIR on a file", inotify_add_watch(fd, "/proc/self/status", IN_MODIFY | IN_ONLYDIR), ENOTDIR);
    EXPECT_ERR("a bad path pointer", inotify_add_watch(fd, (char *)8, IN_MODIFY), EFAULT);
    close(fd);
}

static void reading(void)
{
    int fd = inotify_init1(0);
    wd_dir = inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE);
    int f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    unlink(file);
    int avail = -1;
    ioctl(fd, FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    char small[16];
    EXPECT_ERR("read into 16 bytes (the first event needs more)", read(fd, small, sizeof small), EINVAL);
    char buf[48] __attribute__((aligned(8)));
    long n = read(fd, buf, sizeof buf);
    printf("read into 48 bytes: %ld (one whole event)\n", n);
    n = read(fd, buf, sizeof buf);
    printf("then: %ld\n", n);
    /* Another process's change wakes a blocked read, poll and epoll. */
    for (int how = 0; how < 3; how++) {
        pid_t c = xfork();
        if (c == 0) {
            sleep_ms(100);
            int g = open(file, O_CREAT | O_WRONLY, 0644);
            close(g);
            unlink(file);
            _exit(0);
        }
        if (how == 0) {
            n = read(fd, buf, sizeof buf);
            printf("blocked read woken: %ld\n", n);
        } else if (how == 1) {
            printf("poll woken: %s\n", pollbits(poll_one(fd, POLLIN, 5000)));
        } else {
            int ep = epoll_create1(0);
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 4};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            printf("epoll woken: %s\n", pollbits(epoll_one(ep, 5000, NULL)));
            close(ep);
        }
        wait_status(c, 0);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        while (read(fd, buf, sizeof buf) > 0)
            ;
        fcntl(fd, F_SETFL, 0);
    }
    close(fd);
}

static void dnotify(void)
{
    block(SIGIO);
    block(SIGRTMIN);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_EQ("F_NOTIFY DN_CREATE", fcntl(d, F_NOTIFY, DN_CREATE), 0);
    printf("F_GETOWN is this process: %s\n", fcntl(d, F_GETOWN) == getpid() ? "yes" : "no");
    int f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    struct timespec t = {1, 0};
    siginfo_t si;
    int sig = sigtimedwait(&s, &si, &t);
    printf("create: %s %s\n", signame(sig), si_code_name(sig, si.si_code));
    unlink(file);
    f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    struct timespec short_wait = {0, 200000000};
    sig = sigtimedwait(&s, &si, &short_wait);
    printf("another create without DN_MULTISHOT: %s\n", sig < 0 ? errname(errno) : signame(sig));

    EXPECT_EQ("F_SETSIG SIGRTMIN", fcntl(d, F_SETSIG, SIGRTMIN), 0);
    EXPECT_EQ("F_NOTIFY DN_DELETE|DN_RENAME|DN_MODIFY|DN_ATTRIB|DN_MULTISHOT", fcntl(d, F_NOTIFY, DN_DELETE | DN_RENAME | DN_MODIFY | DN_ATTRIB | DN_MULTISHOT), 0);
    sigset_t r;
    sigemptyset(&r);
    sigaddset(&r, SIGRTMIN);
    const char *ops[] = {"write", "chmod", "rename", "unlink"};
    for (int i = 0; i < 4; i++) {
        if (i == 0) {
            f = open(file, O_WRONLY);
            write(f, "x", 1);
            close(f);
        } else if (i == 1) {
            chmod(file, 0600);
        } else if (i == 2) {
            rename(file, file2);
        } else {
            unlink(file2);
        }
        memset(&si, 0, sizeof si);
        sig = sigtimedwait(&r, &si, &t);
        printf("%s: %s %s fd matches: %s band %#lx\n", ops[i], sig == SIGRTMIN ? "SIGRTMIN" : signame(sig), si_code_name(sig, si.si_code),
               si.si_fd == d ? "yes" : "no", (long)si.si_band);
        /* Drain duplicates (a write also opens and closes nothing dnotify counts). */
        struct timespec z = {0, 0};
        while (sigtimedwait(&r, &si, &z) > 0)
            ;
    }
    EXPECT_EQ("F_NOTIFY 0 cancels", fcntl(d, F_NOTIFY, 0), 0);
    f = open(file, O_CREAT | O_WRONLY, 0644);
    close(f);
    unlink(file);
    sig = sigtimedwait(&r, &si, &short_wait);
    printf("after cancelling: %s\n", sig < 0 ? errname(errno) : "a signal");
    f = open("/proc/self/status", O_RDONLY);
    EXPECT_ERR("F_NOTIFY on a file", fcntl(f, F_NOTIFY, DN_CREATE), ENOTDIR);
    close(f);
    close(d);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    snprintf(dir, sizeof dir, "%s", scratch());
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(file2, sizeof file2, "%s/g", dir);
    section("inotify events", events);
    section("watch flags and argument checks", flags);
    section("reading events and waking readers", reading);
    section("dnotify (F_NOTIFY)", dnotify);
    remove_scratch();
    return finish();
}
