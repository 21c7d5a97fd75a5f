/* Futexes and the scheduler calls threads use: process-shared futexes in
 * shared memory (semaphores, mutexes, waits that signals and kills end),
 * FUTEX_WAKE_OP, priority-inheritance mutexes (contention, trylock, robust
 * owner death), futex_waitv, raw PI lock errors, CPU affinity, getcpu,
 * membarrier and clone3's argument checks. Only the main thread prints. */
#include "proc.h"
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/membarrier.h>
#include <stdatomic.h>
#include <stdint.h>


/* Waits (up to 5 s) until process `pid` sleeps in the kernel, per the state
 * field of /proc/PID/stat, so a signal sent next finds it in its wait. */
static void wait_until_sleeping(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 5000; i++) {
        char buf[512] = {0};
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            char *close_paren = strrchr(buf, ')');
            if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'S')
                return;
        }
        usleep(1000);
    }
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static long futex(uint32_t *uaddr, int op, uint32_t val, uintptr_t val2, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

/* ---- process-shared futexes ---- */
struct shared {
    sem_t sem;
    pthread_mutex_t mutex;
    long counter;
    uint32_t word;
};

static void noop(int sig) { (void)sig; }

static void cross_process(void)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sem_init(&sh->sem, 1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->mutex, &a);

    pid_t pid = xfork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            sem_wait(&sh->sem);
        for (int i = 0; i < 20000; i++) {
            pthread_mutex_lock(&sh->mutex);
            sh->counter++;
            pthread_mutex_unlock(&sh->mutex);
        }
        _exit(0);
    }
    for (int i = 0; i < 3; i++) {
        usleep(5000);
        sem_post(&sh->sem);
    }
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&sh->mutex);
        sh->counter++;
        pthread_mutex_unlock(&sh->mutex);
    }
    printf("child: %s\n", status_str(wait_status(pid, 0)));
    EXPECT_EQ("counter shared by two processes", sh->counter, 40000);

    /* A handler without SA_RESTART ends a shared sem_wait with EINTR. */
    pid = xfork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = noop;
        sigaction(SIGUSR1, &sa, NULL);
        int r = sem_wait(&sh->sem);
        _exit(r == -1 && errno == EINTR ? 0 : 1);
    }
    wait_until_sleeping(pid);
    kill(pid, SIGUSR1);
    printf("sem_wait interrupted by a handler: %s\n", status_str(wait_status(pid, 0)));

    /* SIGKILL ends a raw shared futex wait. */
    pid = xfork();
    if (pid == 0) {
        sh->word = 0;
        futex(&sh->word, FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(3);
    }
    usleep(30000);
    kill(pid, SIGKILL);
    printf("futex wait killed: %s\n", status_str(wait_status(pid, 0)));

    /* A private futex in a shared mapping, waited for by a child of this
     * process: the key is the mapping's page, so the parent's wake reaches. */
    sh->word = 0;
    pid = xfork();
    if (pid == 0) {
        long r = futex(&sh->word, FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(r == 0 ? 0 : 1);
    }
    long woken = 0;
    for (int i = 0; i < 2000 && woken == 0; i++) {
        usleep(1000);
        woken = futex(&sh->word, FUTEX_WAKE, 1, 0, NULL, 0);
    }
    EXPECT_EQ("wake across processes reached the waiter", woken, 1);
    printf("waiter: %s\n", status_str(wait_status(pid, 0)));
}

/* ---- FUTEX_WAKE_OP ---- */
static uint32_t w1, w2;
static atomic_int waiting;
static void *wait_on(void *arg)
{
    uint32_t *w = arg;
    atomic_fetch_add(&waiting, 1);
    futex(w, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0);
    return NULL;
}

static void wake_op(void)
{
    pthread_t t[4];
    w1 = w2 = 0;
    pthread_create(&t[0], NULL, wait_on, &w1);
    pthread_create(&t[1], NULL, wait_on, &w1);
    pthread_create(&t[2], NULL, wait_on, &w2);
    pthread_create(&t[3], NULL, wait_on, &w2);
    while (atomic_load(&waiting) < 4)
        usleep(1000);
    usleep(20000);
    /* *w2 += 5; wake 1 on w1; if old w2 == 0, wake 2 on w2. */
    long r = futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 2, &w2, FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0));
    EXPECT_EQ("wake_op woke 1 + 2", r, 3);
    EXPECT_EQ("wake_op added to the second word", w2, 5);
    /* The comparison fails now: only the first word's waiter. */
    r = futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 2, &w2, FUTEX_OP(FUTEX_OP_OR, 2, FUTEX_OP_CMP_EQ, 0));
    EXPECT_EQ("wake_op with a failing comparison woke 1", r, 1);
    EXPECT_EQ("second word ORed", w2, 7);
    r = futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 0, &w2, FUTEX_OP(FUTEX_OP_XOR, 1, FUTEX_OP_CMP_NE, 0) | (1 << 31));
    EXPECT_EQ("shifted operand, nobody left on w1", r, 0);
    EXPECT_EQ("second word XORed with 1 << 1", w2, 5);
    EXPECT_ERR("unknown wake_op operation", futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &w2, 6 << 28), ENOSYS);
    EXPECT_ERR("unknown wake_op comparison", futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &w2, 7 << 24), ENOSYS);
    EXPECT_ERR("wake_op on an unmapped second word", futex(&w1, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)8, 0), EFAULT);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

/* ---- priority-inheritance mutexes ---- */
static pthread_mutex_t pi;
static long pi_counter;
static void *pi_bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        pthread_mutex_lock(&pi);
        pi_counter++;
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

static void *pi_hold_and_die(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pi);
    syscall(SYS_exit, 0);
    return NULL;
}

static void *pi_trylock(void *arg)
{
    (void)arg;
    return (void *)(long)pthread_mutex_trylock(&pi);
}

static void pi_mutexes(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi, &a);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, pi_bump, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ("PI mutex counter", pi_counter, 15000);

    pthread_mutex_lock(&pi);
    void *r;
    pthread_create(&t[0], NULL, pi_trylock, NULL);
    pthread_join(t[0], &r);
    EXPECT_EQ("trylock of a held PI mutex", (long)r, EBUSY);
    pthread_mutex_unlock(&pi);

    /* A robust PI mutex whose owner dies. */
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_destroy(&pi);
    pthread_mutex_init(&pi, &a);
    pthread_create(&t[0], NULL, pi_hold_and_die, NULL);
    pthread_join(t[0], NULL);
    EXPECT_EQ("robust PI lock after the owner died", pthread_mutex_lock(&pi), EOWNERDEAD);
    EXPECT_EQ("consistent", pthread_mutex_consistent(&pi), 0);
    EXPECT_EQ("unlock", pthread_mutex_unlock(&pi), 0);

    /* Raw PI calls. */
    uint32_t word = 0;
    EXPECT_EQ("LOCK_PI on a free word", futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, 0, NULL, 0), 0);
    CHECK("the word holds our tid", word == (uint32_t)gettid_());
    EXPECT_ERR("LOCK_PI on our own lock", futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, 0, NULL, 0), EDEADLK);
    EXPECT_ERR("TRYLOCK_PI on our own lock", futex(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, NULL, 0), EDEADLK);
    EXPECT_EQ("UNLOCK_PI", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0), 0);
    EXPECT_EQ("the word is free again", word, 0);
    EXPECT_ERR("UNLOCK_PI of a lock we do not hold", futex(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0), EPERM);
    struct timespec past = {1, 0};
    word = (uint32_t)getppid(); /* "held" by a live thread elsewhere */
    long lr = futex(&word, FUTEX_LOCK_PI_PRIVATE, 0, (uintptr_t)&past, NULL, 0);
    int le = errno;
    CHECK("LOCK_PI with a past deadline on a lock held by another process's thread fails",
          lr == -1 && (le == ETIMEDOUT || le == ESRCH || le == EPERM));
}

/* ---- futex_waitv ---- */
struct waitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
};
#define SIZE_U32 2
#define PRIVATE2 128
static uint32_t v[2];
static struct waitv wv[2];
static long waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *ts, int clock)
{
    return syscall(SYS_futex_waitv, w, n, flags, ts, clock);
}

static void *waitv_thread(void *arg)
{
    (void)arg;
    atomic_fetch_add(&waiting, 1);
    return (void *)waitv(wv, 2, 0, NULL, CLOCK_MONOTONIC);
}

static void futex_waitv_(void)
{
    v[0] = v[1] = 0;
    for (int i = 0; i < 2; i++)
        wv[i] = (struct waitv){0, (uintptr_t)&v[i], SIZE_U32 | PRIVATE2, 0};
    atomic_store(&waiting, 0);
    pthread_t t;
    pthread_create(&t, NULL, waitv_thread, NULL);
    while (atomic_load(&waiting) < 1)
        usleep(1000);
    long woke = 0;
    for (int i = 0; i < 2000 && woke == 0; i++) {
        usleep(1000);
        woke = futex(&v[1], FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0);
    }
    void *r;
    pthread_join(t, &r);
    EXPECT_EQ("futex_waitv returns the woken index", (long)r, 1);
    v[0] = 1;
    EXPECT_ERR("futex_waitv with a changed value", waitv(wv, 2, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
    v[0] = 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 10 * 1000 * 1000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    EXPECT_ERR("futex_waitv times out (absolute, monotonic)", waitv(wv, 2, 0, &now, CLOCK_MONOTONIC), ETIMEDOUT);
    EXPECT_ERR("futex_waitv with a bad clock", waitv(wv, 2, 0, &now, CLOCK_BOOTTIME), EINVAL);
    EXPECT_ERR("futex_waitv with flags", waitv(wv, 2, 1, NULL, CLOCK_MONOTONIC), EINVAL);
    EXPECT_ERR("futex_waitv of none", waitv(wv, 0, 0, NULL, CLOCK_MONOTONIC), EINVAL);
    EXPECT_ERR("futex_waitv of 129", waitv(wv, 129, 0, NULL, CLOCK_MONOTONIC), EINVAL);
    wv[1].flags = 3 | PRIVATE2;
    EXPECT_ERR("futex_waitv of a 64-bit futex", waitv(wv, 2, 0, NULL, CLOCK_MONOTONIC), EINVAL);
    wv[1].flags = SIZE_U32;
    wv[1].reserved = 1;
    EXPECT_ERR("futex_waitv with reserved bits", waitv(wv, 2, 0, NULL, CLOCK_MONOTONIC), EINVAL);
    wv[1].reserved = 0;
    wv[1].uaddr += 1;
    EXPECT_ERR("futex_waitv misaligned", waitv(wv, 2, 0, NULL, CLOCK_MONOTONIC), EINVAL);
}

/* ---- affinity, getcpu, membarrier ---- */
static void scheduling(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_OK("sched_getaffinity", sched_getaffinity(0, sizeof set, &set));
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK("affinity CPUs == online CPUs", CPU_COUNT(&set) == online);
    EXPECT_ERR("sched_getaffinity of no such pid", sched_getaffinity(4194000, sizeof set, &set), ESRCH);
    EXPECT_ERR("sched_getaffinity with a 1-byte buffer", syscall(SYS_sched_getaffinity, 0, 1, &set), EINVAL);
    int first = -1;
    for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
        if (CPU_ISSET(c, &set))
            first = c;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    EXPECT_OK("sched_setaffinity to one CPU", sched_setaffinity(0, sizeof one, &one));
    cpu_set_t back;
    sched_getaffinity(0, sizeof back, &back);
    CHECK("getaffinity shows it", CPU_EQUAL(&one, &back));
    cpu_set_t none;
    CPU_ZERO(&none);
    EXPECT_ERR("sched_setaffinity to no CPU", sched_setaffinity(0, sizeof none, &none), EINVAL);
    EXPECT_ERR("sched_setaffinity of no such pid", sched_setaffinity(4194000, sizeof one, &one), ESRCH);
    sched_setaffinity(0, sizeof set, &set);
    unsigned cpu = 999, node = 999;
    EXPECT_OK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    CHECK("getcpu is an allowed CPU on node 0", CPU_ISSET(cpu, &set) && node == 0);

    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    long want = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    CHECK("membarrier QUERY offers global and private expedited", q >= 0 && (q & want) == want);
    EXPECT_ERR("PRIVATE_EXPEDITED before registering", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), EPERM);
    EXPECT_EQ("REGISTER_PRIVATE_EXPEDITED", syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0), 0);
    EXPECT_EQ("PRIVATE_EXPEDITED", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0), 0);
    EXPECT_EQ("GLOBAL", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0), 0);
    EXPECT_ERR("membarrier with flags", syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 1, 0), EINVAL);
    EXPECT_ERR("membarrier unknown command", syscall(SYS_membarrier, 1 << 20, 0, 0), EINVAL);
}

/* ---- clone3 ---- */
static long clone3_(struct clone_args *a, size_t size) { return syscall(SYS_clone3, a, size); }

static void clone3_checks(void)
{
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    EXPECT_ERR("clone3 with a short struct", clone3_(&a, 32), EINVAL);
    char big[4200];
    memset(big, 0, sizeof big);
    EXPECT_ERR("clone3 with a struct larger than a page", clone3_((struct clone_args *)big, sizeof big), E2BIG);
    memcpy(big, &a, sizeof a);
    big[200] = 1;
    EXPECT_ERR("clone3 with non-zero bytes past the known struct", clone3_((struct clone_args *)big, 256), E2BIG);
    a.flags = SIGCHLD;
    EXPECT_ERR("clone3 with a signal in flags", clone3_(&a, sizeof a), EINVAL);
    a.flags = 0;
    a.exit_signal = 1 << 8;
    EXPECT_ERR("clone3 with a bad exit_signal", clone3_(&a, sizeof a), EINVAL);
    a.exit_signal = SIGCHLD;
    a.stack = 4096;
    EXPECT_ERR("clone3 with a stack but no size", clone3_(&a, sizeof a), EINVAL);
    a.stack = 0;
    a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
    EXPECT_ERR("clone3 of a thread with an exit signal", clone3_(&a, sizeof a), EINVAL);
    a.flags = CLONE_SIGHAND | CLONE_VM | CLONE_CLEAR_SIGHAND;
    a.exit_signal = 0;
    EXPECT_ERR("clone3 with CLONE_SIGHAND and CLONE_CLEAR_SIGHAND", clone3_(&a, sizeof a), EINVAL);
    a.flags = CLONE_INTO_CGROUP;
    a.exit_signal = SIGCHLD;
    a.cgroup = 1000;
    EXPECT_ERR("clone3 into a cgroup through a bad fd", clone3_(&a, sizeof a), EBADF);

    /* A plain process, and CLONE_CLEAR_SIGHAND resetting a handler. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = noop;
    sigaction(SIGUSR1, &sa, NULL);
    memset(&a, 0, sizeof a);
    a.flags = CLONE_CLEAR_SIGHAND;
    a.exit_signal = SIGCHLD;
    fflush(stdout);
    long pid = clone3_(&a, sizeof a);
    if (pid == 0) {
        struct sigaction now;
        sigaction(SIGUSR1, NULL, &now);
        _exit(now.sa_handler == SIG_DFL ? 4 : 5);
    }
    CHECK("clone3 made a child", pid > 0);
    printf("clone3 child (handler reset): %s\n", status_str(wait_status((pid_t)pid, 0)));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    reset_signals();
    no_core_dumps();
    section("process-shared futexes", cross_process);
    section("FUTEX_WAKE_OP", wake_op);
    section("priority-inheritance mutexes", pi_mutexes);
    section("futex_waitv", futex_waitv_);
    section("affinity, getcpu, membarrier", scheduling);
    section("clone3", clone3_checks);
    return finish();
}
