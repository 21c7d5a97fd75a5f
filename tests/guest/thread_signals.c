/* Signals and threads: tgkill and pthread_kill reach one thread,
 * process-directed signals go to a thread that does not block them,
 * sigwait in a dedicated thread, fatal signals and SIGKILL end every
 * thread, stops and SIGCONT hold and release all of them, cancellation,
 * handlers interrupting waits in threads, and glibc's set*id broadcast.
 * Only the main thread prints, after joins. */
#include "proc.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <stdatomic.h>
#include <poll.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }
static int tgkill_(pid_t tgid, pid_t tid, int sig) { return (int)syscall(SYS_tgkill, tgid, tid, sig); }

static atomic_int handled_tid, handled_count;
static void record_tid(int sig)
{
    (void)sig;
    atomic_store(&handled_tid, gettid_());
    atomic_fetch_add(&handled_count, 1);
}

static void handle(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigaction(sig, &sa, NULL);
}

static atomic_int worker_tid, stop_worker;
static void *spin_until_told(void *arg)
{
    (void)arg;
    atomic_store(&worker_tid, gettid_());
    while (!atomic_load(&stop_worker))
        ;
    return NULL;
}

static void *sleep_until_told(void *arg)
{
    (void)arg;
    atomic_store(&worker_tid, gettid_());
    while (!atomic_load(&stop_worker))
        usleep(1000);
    return NULL;
}

static void wait_for_worker(void)
{
    while (!atomic_load(&worker_tid))
        usleep(100);
}

/* ---- directed signals ---- */
static void directed(void)
{
    handle(SIGUSR1, record_tid);
    for (int round = 0; round < 2; round++) {
        atomic_store(&worker_tid, 0);
        atomic_store(&stop_worker, 0);
        atomic_store(&handled_tid, 0);
        pthread_t t;
        pthread_create(&t, NULL, round ? sleep_until_told : spin_until_told, NULL);
        wait_for_worker();
        EXPECT_EQ("tgkill to the worker", tgkill_(getpid(), atomic_load(&worker_tid), SIGUSR1), 0);
        while (!atomic_load(&handled_tid))
            usleep(100);
        CHECK(round ? "handler ran in the sleeping worker" : "handler ran in the spinning worker", atomic_load(&handled_tid) == atomic_load(&worker_tid));
        atomic_store(&handled_tid, 0);
        EXPECT_EQ("pthread_kill to the worker", pthread_kill(t, SIGUSR1), 0);
        while (!atomic_load(&handled_tid))
            usleep(100);
        CHECK("pthread_kill handler ran in the worker", atomic_load(&handled_tid) == atomic_load(&worker_tid));
        EXPECT_EQ("pthread_kill(t, 0)", pthread_kill(t, 0), 0);
        EXPECT_ERR("tgkill with the wrong tgid", tgkill_(getpid() + 100000, atomic_load(&worker_tid), SIGUSR1), ESRCH);
        EXPECT_ERR("tgkill with tid 0", tgkill_(getpid(), 0, SIGUSR1), EINVAL);
        atomic_store(&stop_worker, 1);
        pthread_join(t, NULL);
    }
}

/* ---- process-directed signals pick a thread that takes them ---- */
static void process_directed(void)
{
    handle(SIGUSR2, record_tid);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    atomic_store(&worker_tid, 0);
    atomic_store(&stop_worker, 0);
    atomic_store(&handled_tid, 0);
    pthread_t t;
    pthread_create(&t, NULL, sleep_until_told, NULL);
    wait_for_worker();
    pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* main blocks it */
    EXPECT_EQ("kill(getpid(), SIGUSR2)", kill(getpid(), SIGUSR2), 0);
    for (int i = 0; i < 5000 && !atomic_load(&handled_tid); i++)
        usleep(1000);
    CHECK("delivered to the worker, which does not block it", atomic_load(&handled_tid) == atomic_load(&worker_tid));

    /* kill() to a thread id signals its whole process. */
    atomic_store(&handled_tid, 0);
    EXPECT_EQ("kill(worker tid, SIGUSR2)", kill(atomic_load(&worker_tid), SIGUSR2), 0);
    for (int i = 0; i < 5000 && !atomic_load(&handled_tid); i++)
        usleep(1000);
    CHECK("kill of a tid is delivered in the process", atomic_load(&handled_tid) == atomic_load(&worker_tid));
    atomic_store(&stop_worker, 1);
    pthread_join(t, NULL);

    /* Blocked everywhere: it stays pending for the process until main
     * unblocks it. */
    atomic_store(&handled_count, 0);
    kill(getpid(), SIGUSR2);
    sigset_t pend;
    sigpending(&pend);
    CHECK("pending while every thread blocks it", sigismember(&pend, SIGUSR2));
    pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
    EXPECT_EQ("delivered on unblock", atomic_load(&handled_count), 1);
}

/* ---- sigwait in a dedicated thread ---- */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int got = 0, sig;
    for (int i = 0; i < 3; i++) {
        if (sigwait(set, &sig) == 0)
            got = got * 100 + sig;
    }
    return (void *)(long)got;
}

static void sigwait_thread(void)
{
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the thread */
    pthread_t t;
    pthread_create(&t, NULL, signal_thread, &set);
    usleep(20000);
    kill(getpid(), SIGHUP);
    usleep(20000);
    kill(getpid(), SIGUSR1);
    usleep(20000);
    kill(getpid(), SIGTERM);
    void *got;
    pthread_join(t, &got);
    EXPECT_EQ("sigwait in a thread got HUP, USR1, TERM in order", (long)got, (long)SIGHUP * 10000 + SIGUSR1 * 100 + SIGTERM);
}

/* ---- fatal signals and kills end every thread ---- */
static void *segv_later(void *arg)
{
    (void)arg;
    usleep(20000);
    *(volatile int *)8 = 1;
    return NULL;
}

static void *forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void *spin_forever(void *arg)
{
    (void)arg;
    for (;;)
        ;
    return NULL;
}

static void fatal(void)
{
    pid_t pid = xfork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, forever, NULL);
        pthread_create(&t, NULL, segv_later, NULL);
        for (;;)
            pause();
    }
    printf("SIGSEGV in a thread: %s\n", status_str(wait_status(pid, 0)));

    pid = xfork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin_forever, NULL);
        pthread_create(&t, NULL, forever, NULL);
        for (;;)
            pause();
    }
    usleep(30000);
    kill(pid, SIGKILL);
    printf("SIGKILL to a process of spinning and sleeping threads: %s\n", status_str(wait_status(pid, 0)));

    pid = xfork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin_forever, NULL);
        pthread_create(&t, NULL, forever, NULL);
        for (;;)
            pause();
    }
    usleep(30000);
    kill(pid, SIGTERM);
    printf("SIGTERM (default action) to a threaded process: %s\n", status_str(wait_status(pid, 0)));
}

/* ---- stop and continue ---- */
static atomic_long progress;
static void *count_up(void *arg)
{
    (void)arg;
    for (;;) {
        atomic_fetch_add(&progress, 1);
        usleep(500);
    }
    return NULL;
}

static void stop_continue(void)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return;
    pid_t pid = xfork();
    if (pid == 0) {
        close(pipefd[0]);
        /* Report progress when asked by SIGUSR1 (blocked in every thread,
         * taken by sigwait in main). */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_t t;
        pthread_create(&t, NULL, count_up, NULL);
        pthread_create(&t, NULL, count_up, NULL);
        /* Ready: SIGUSR1 is blocked now (before this, a SIGUSR1 kills). */
        long ready = 0;
        if (write(pipefd[1], &ready, sizeof ready) != sizeof ready)
            _exit(2);
        for (;;) {
            int sig;
            sigwait(&set, &sig);
            long p = atomic_load(&progress);
            if (write(pipefd[1], &p, sizeof p) != sizeof p)
                _exit(2);
        }
    }
    close(pipefd[1]);
    long ready = -1;
    if (read(pipefd[0], &ready, sizeof ready) != sizeof ready)
        printf("read ready failed\n");
    usleep(30000);
    kill(pid, SIGSTOP);
    int st = wait_status(pid, WUNTRACED);
    printf("threaded child: %s\n", status_str(st));
    kill(pid, SIGCONT);
    st = wait_status(pid, WCONTINUED);
    printf("threaded child: %s\n", status_str(st));
    long a = 0, b = 0;
    kill(pid, SIGUSR1);
    if (read(pipefd[0], &a, sizeof a) != sizeof a)
        printf("read progress failed\n");
    usleep(30000);
    kill(pid, SIGUSR1);
    if (read(pipefd[0], &b, sizeof b) != sizeof b)
        printf("read progress failed\n");
    CHECK("threads run again after SIGCONT", b > a);

    /* A request made while stopped is answered only after SIGCONT. */
    kill(pid, SIGSTOP);
    wait_status(pid, WUNTRACED);
    kill(pid, SIGUSR1);
    struct pollfd pfd = {pipefd[0], POLLIN, 0};
    EXPECT_EQ("no answer while stopped", poll(&pfd, 1, 50), 0);
    kill(pid, SIGCONT);
    long c = 0;
    if (read(pipefd[0], &c, sizeof c) != sizeof c)
        printf("read progress failed\n");
    CHECK("progress answered after continue", c >= b);
    kill(pid, SIGSTOP);
    wait_status(pid, WUNTRACED);
    kill(pid, SIGKILL);
    printf("stopped then killed: %s\n", status_str(wait_status(pid, 0)));
    close(pipefd[0]);
}

/* ---- cancellation ---- */
static atomic_int cleanup_ran;
static void cleanup(void *arg)
{
    (void)arg;
    atomic_store(&cleanup_ran, 1);
}

static void *cancellable_sleep(void *arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    for (;;)
        sleep(10);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *cancellable_spin(void *arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    for (;;)
        ;
    return NULL;
}

static void cancellation(void)
{
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, cancellable_sleep, NULL);
    usleep(20000);
    EXPECT_EQ("pthread_cancel a sleeping thread", pthread_cancel(t), 0);
    pthread_join(t, &r);
    CHECK("joined as PTHREAD_CANCELED", r == PTHREAD_CANCELED);
    CHECK("cleanup handler ran", atomic_load(&cleanup_ran));
    pthread_create(&t, NULL, cancellable_spin, NULL);
    usleep(20000);
    EXPECT_EQ("pthread_cancel an asynchronously cancellable spinning thread", pthread_cancel(t), 0);
    pthread_join(t, &r);
    CHECK("joined as PTHREAD_CANCELED", r == PTHREAD_CANCELED);
}

/* ---- a handler interrupts a condvar wait, which goes on waiting ---- */
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static void *wait_ready(void *arg)
{
    (void)arg;
    atomic_store(&worker_tid, gettid_());
    pthread_mutex_lock(&m);
    while (!ready)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    return (void *)1;
}

static void interrupted_waits(void)
{
    handle(SIGUSR1, record_tid);
    atomic_store(&worker_tid, 0);
    atomic_store(&handled_count, 0);
    pthread_t t;
    pthread_create(&t, NULL, wait_ready, NULL);
    wait_for_worker();
    usleep(10000);
    /* Each signal is sent once the previous one was handled: standard
     * signals sent while one is still pending coalesce. */
    for (int i = 0; i < 3; i++) {
        pthread_kill(t, SIGUSR1);
        for (int w = 0; w < 5000 && atomic_load(&handled_count) <= i; w++)
            usleep(1000);
    }
    pthread_mutex_lock(&m);
    ready = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
    void *r;
    pthread_join(t, &r);
    EXPECT_EQ("three handlers ran during the wait", atomic_load(&handled_count), 3);
    CHECK("the wait ended by the condition", r == (void *)1);
}

/* ---- set*id applies to every thread (glibc's SIGSETXID) ---- */
static int thread_uid(pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int uid = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %d", &uid) == 1)
            break;
    fclose(f);
    return uid;
}

static void setxid(void)
{
    if (getuid() != 0) {
        printf("not root: skipped\n");
        return;
    }
    atomic_store(&worker_tid, 0);
    atomic_store(&stop_worker, 0);
    pthread_t t;
    pthread_create(&t, NULL, sleep_until_told, NULL);
    wait_for_worker();
    EXPECT_EQ("setresgid(65534)", setresgid(65534, 65534, 65534), 0);
    EXPECT_EQ("setresuid(65534)", setresuid(65534, 65534, 65534), 0);
    EXPECT_EQ("main thread's uid", thread_uid(gettid_()), 65534);
    EXPECT_EQ("other thread's uid", thread_uid(atomic_load(&worker_tid)), 65534);
    atomic_store(&stop_worker, 1);
    pthread_join(t, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    reset_signals();
    no_core_dumps();
    section("directed signals", directed);
    section("process-directed signals", process_directed);
    section("sigwait in a thread", sigwait_thread);
    section("fatal signals", fatal);
    section("stop and continue", stop_continue);
    section("cancellation", cancellation);
    section("interrupted waits", interrupted_waits);
    section("set*id in every thread", setxid);
    return finish();
}
