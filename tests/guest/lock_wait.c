/* Blocking file locks: F_SETLKW, F_OFD_SETLKW and flock() sleep until the
 * holder releases, a handled signal ends the wait with EINTR (no
 * SA_RESTART), SIGKILL ends the process, and two processes that would wait
 * on each other get EDEADLK. Everything runs in the scratch directory. */
#include "proc.h"
#include <sys/file.h>

static char path[256];
static volatile sig_atomic_t got_alarm;

static void on_alarm(int sig)
{
    (void)sig;
    got_alarm = 1;
}

static int lock_range(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

/* A child that takes a write lock on [start, start+len) (or flock LOCK_EX)
 * and holds it until killed. It tells the parent through `ready`. */
static pid_t holder(int use_flock, off_t start, off_t len)
{
    int ready[2];
    if (pipe(ready) < 0)
        return -1;
    pid_t pid = xfork();
    if (pid == 0) {
        close(ready[0]);
        int fd = open(path, O_RDWR);
        int r = use_flock ? flock(fd, LOCK_EX) : lock_range(fd, F_SETLK, F_WRLCK, start, len);
        char c = r == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c = 0;
    if (read(ready[0], &c, 1) != 1 || c != 'y') {
        printf("holder did not get its lock  FAIL\n");
        vk_failures++;
    }
    close(ready[0]);
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGKILL);
    wait_status(pid, 0);
}

static void setlkw_is_interrupted_by_a_handled_signal(void)
{
    pid_t h = holder(0, 0, 10);
    int fd = open(path, O_RDWR);
    EXPECT_ERR("F_SETLK on a held range", lock_range(fd, F_SETLK, F_WRLCK, 5, 1), EAGAIN);
    set_handler(SIGALRM, on_alarm, 0);
    arm_timer_ms(100);
    EXPECT_ERR("F_SETLKW interrupted by SIGALRM", lock_range(fd, F_SETLKW, F_WRLCK, 5, 1), EINTR);
    EXPECT_EQ("handler ran", got_alarm, 1);
    EXPECT_EQ("F_SETLKW on a free range", lock_range(fd, F_SETLKW, F_WRLCK, 20, 5), 0);
    stop(h);
    EXPECT_EQ("F_SETLKW once the holder is gone", lock_range(fd, F_SETLKW, F_WRLCK, 5, 1), 0);
    close(fd);
}

static void setlkw_with_sa_restart_waits_for_the_release(void)
{
    pid_t h = holder(0, 0, 10);
    int fd = open(path, O_RDWR);
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    got_alarm = 0;
    arm_timer_ms(50);
    /* A second child releases the lock a little later by killing the holder. */
    pid_t killer = xfork();
    if (killer == 0) {
        sleep_ms(300);
        kill(h, SIGKILL);
        _exit(0);
    }
    EXPECT_EQ("F_SETLKW restarted after SIGALRM and then granted", lock_range(fd, F_SETLKW, F_WRLCK, 0, 10), 0);
    EXPECT_EQ("handler ran", got_alarm, 1);
    wait_status(killer, 0);
    wait_status(h, 0);
    close(fd);
}

static void ofd_setlkw_is_interrupted_too(void)
{
    pid_t h = holder(0, 0, 0);
    int fd = open(path, O_RDWR);
    set_handler(SIGALRM, on_alarm, 0);
    got_alarm = 0;
    arm_timer_ms(100);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    EXPECT_ERR("F_OFD_SETLKW interrupted", fcntl(fd, F_OFD_SETLKW, &fl), EINTR);
    stop(h);
    close(fd);
}

static void flock_is_interrupted_and_then_granted(void)
{
    pid_t h = holder(1, 0, 0);
    int fd = open(path, O_RDWR);
    EXPECT_ERR("flock LOCK_NB on a held file", flock(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    set_handler(SIGALRM, on_alarm, 0);
    got_alarm = 0;
    arm_timer_ms(100);
    EXPECT_ERR("flock interrupted by SIGALRM", flock(fd, LOCK_EX), EINTR);
    stop(h);
    EXPECT_EQ("flock once the holder is gone", flock(fd, LOCK_EX), 0);
    close(fd);
}

/* Two children each hold one range and ask for the other's: the second
 * request to wait would close a cycle, and Linux refuses it with EDEADLK. */
static void a_two_process_deadlock_is_edeadlk(void)
{
    int go[2];
    if (pipe(go) < 0)
        return;
    int fd = open(path, O_RDWR);
    EXPECT_EQ("parent locks [0,10)", lock_range(fd, F_SETLK, F_WRLCK, 0, 10), 0);
    pid_t child = xfork();
    if (child == 0) {
        close(go[0]);
        int cfd = open(path, O_RDWR);
        if (lock_range(cfd, F_SETLK, F_WRLCK, 20, 10) != 0)
            _exit(3);
        char c = 'y';
        if (write(go[1], &c, 1) != 1)
            _exit(4);
        /* Waits for the parent's range; the parent's request then closes
         * the cycle and fails, so this wait is granted once the parent
         * unlocks. */
        int r = lock_range(cfd, F_SETLKW, F_WRLCK, 0, 10);
        _exit(r == 0 ? 0 : 5);
    }
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1)
        printf("child did not lock  FAIL\n");
    close(go[0]);
    /* Give the child time to block in its F_SETLKW. */
    sleep_ms(300);
    EXPECT_ERR("parent waiting for the child's range", lock_range(fd, F_SETLKW, F_WRLCK, 20, 10), EDEADLK);
    EXPECT_EQ("parent unlocks", lock_range(fd, F_SETLK, F_UNLCK, 0, 10), 0);
    int st = wait_status(child, 0);
    printf("child: %s\n", status_str(st));
    close(fd);
}

static void sigkill_ends_a_lock_wait(void)
{
    pid_t h = holder(0, 0, 10);
    pid_t waiter = xfork();
    if (waiter == 0) {
        int fd = open(path, O_RDWR);
        lock_range(fd, F_SETLKW, F_WRLCK, 0, 10);
        _exit(0);
    }
    sleep_ms(200);
    kill(waiter, SIGKILL);
    long long t0 = now_ns();
    int st = wait_status(waiter, 0);
    printf("waiter: %s\n", status_str(st));
    if (now_ns() - t0 > 2000000000ll) {
        printf("SIGKILL took over 2 s to end the wait  FAIL\n");
        vk_failures++;
    }
    stop(h);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    snprintf(path, sizeof path, "%s/lockfile", scratch());
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || write(fd, "0123456789012345678901234567890123456789", 40) != 40) {
        printf("create: %s  FAIL\n", errname(errno));
        return 1;
    }
    close(fd);
    section("F_SETLKW is interrupted by a handled signal", setlkw_is_interrupted_by_a_handled_signal);
    section("F_SETLKW with SA_RESTART waits for the release", setlkw_with_sa_restart_waits_for_the_release);
    section("F_OFD_SETLKW is interrupted", ofd_setlkw_is_interrupted_too);
    section("flock is interrupted, then granted", flock_is_interrupted_and_then_granted);
    section("a two-process deadlock is EDEADLK", a_two_process_deadlock_is_edeadlk);
    section("SIGKILL ends a lock wait", sigkill_ends_a_lock_wait);
    remove_scratch();
    return vk_failures ? 1 : 0;
}
