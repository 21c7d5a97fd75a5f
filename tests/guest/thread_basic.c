/* POSIX threads: creation and join, thread ids, thread-local storage,
 * mutexes under contention, condition variables, barriers, rwlocks,
 * semaphores, detached threads, pthread_exit from main, exit_group from a
 * thread, robust mutexes whose owner dies, fork and exec from a thread,
 * /proc/self/task. Only the main thread prints (after joins), so the output
 * is the same however the threads are scheduled. */
#include "proc.h"
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <semaphore.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <stdatomic.h>

#define NTHREADS 8
#define ROUNDS 20000

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- create, join, ids, TLS ---- */
static __thread int tls_value = 7;
struct ids {
    pid_t pid, tid;
    int tls_before, tls_after;
    long arg;
};

static void *report_ids(void *arg)
{
    struct ids *out = malloc(sizeof *out);
    out->pid = getpid();
    out->tid = gettid_();
    out->tls_before = tls_value;
    tls_value = (int)(long)arg * 100;
    out->tls_after = tls_value;
    out->arg = (long)arg;
    return out;
}

static void create_and_join(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        EXPECT_EQ("pthread_create", pthread_create(&t[i], NULL, report_ids, (void *)i), 0);
    pid_t tids[NTHREADS];
    int distinct = 1, same_pid = 1, tls_ok = 1, args_ok = 1;
    for (int i = 0; i < NTHREADS; i++) {
        void *r = NULL;
        EXPECT_EQ("pthread_join", pthread_join(t[i], &r), 0);
        struct ids *ids = r;
        tids[i] = ids->tid;
        same_pid &= ids->pid == getpid();
        tls_ok &= ids->tls_before == 7 && ids->tls_after == i * 100;
        args_ok &= ids->arg == i;
        distinct &= ids->tid != getpid() && ids->tid != gettid_();
        for (int j = 0; j < i; j++)
            distinct &= tids[j] != ids->tid;
        free(ids);
    }
    CHECK("threads share the pid", same_pid);
    CHECK("thread ids are distinct and not the pid", distinct);
    CHECK("each thread has its own TLS, initialised", tls_ok);
    CHECK("main's TLS untouched", tls_value == 7);
    CHECK("arguments and return values", args_ok);
    CHECK("main thread's tid is the pid", gettid_() == getpid());
}

/* ---- mutex, atomics under contention ---- */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_long atomic_counter;

static void *bump(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
        atomic_fetch_add(&atomic_counter, 1);
    }
    return NULL;
}

static void contention(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, bump, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ("mutex-protected counter", counter, 4L * ROUNDS);
    EXPECT_EQ("atomic counter", atomic_load(&atomic_counter), 4L * ROUNDS);
}

/* ---- condition variable: a bounded queue ---- */
#define QSIZE 4
#define ITEMS 5000
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER, q_not_full = PTHREAD_COND_INITIALIZER;
static int queue[QSIZE], q_head, q_len;

static void *producer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q_lock);
        while (q_len == QSIZE)
            pthread_cond_wait(&q_not_full, &q_lock);
        queue[(q_head + q_len++) % QSIZE] = i;
        pthread_cond_signal(&q_not_empty);
        pthread_mutex_unlock(&q_lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&q_lock);
        while (q_len == 0)
            pthread_cond_wait(&q_not_empty, &q_lock);
        sum += queue[q_head];
        q_head = (q_head + 1) % QSIZE;
        q_len--;
        pthread_cond_signal(&q_not_full);
        pthread_mutex_unlock(&q_lock);
    }
    return (void *)sum;
}

static void condvars(void)
{
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, NULL);
    pthread_create(&p, NULL, producer, NULL);
    void *sum;
    pthread_join(p, NULL);
    pthread_join(c, &sum);
    EXPECT_EQ("queue sum through condvars", (long)sum, (long)ITEMS * (ITEMS + 1) / 2);

    /* A timed wait that times out. */
    pthread_mutex_lock(&q_lock);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    EXPECT_EQ("pthread_cond_timedwait times out", pthread_cond_timedwait(&q_not_empty, &q_lock, &ts), ETIMEDOUT);
    pthread_mutex_unlock(&q_lock);
}

/* ---- barrier, rwlock, semaphore ---- */
static pthread_barrier_t barrier;
static atomic_int before_barrier, after_barrier_saw;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_value;
static sem_t sem;

static void *barrier_worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&before_barrier, 1);
    pthread_barrier_wait(&barrier);
    if (atomic_load(&before_barrier) == 4)
        atomic_fetch_add(&after_barrier_saw, 1);
    for (int i = 0; i < 1000; i++) {
        pthread_rwlock_wrlock(&rw);
        rw_value++;
        pthread_rwlock_unlock(&rw);
        pthread_rwlock_rdlock(&rw);
        pthread_rwlock_unlock(&rw);
    }
    sem_post(&sem);
    return NULL;
}

static void barriers_rwlocks_semaphores(void)
{
    pthread_barrier_init(&barrier, NULL, 4);
    sem_init(&sem, 0, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, barrier_worker, NULL);
    for (int i = 0; i < 4; i++)
        sem_wait(&sem);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EXPECT_EQ("all threads passed the barrier after all arrived", atomic_load(&after_barrier_saw), 4);
    EXPECT_EQ("rwlock counter", rw_value, 4000);
    int v = -1;
    sem_getvalue(&sem, &v);
    EXPECT_EQ("semaphore back to zero", v, 0);
}

/* ---- detached threads and thread exit ---- */
static atomic_int detached_done;
static void *detached(void *arg)
{
    (void)arg;
    atomic_fetch_add(&detached_done, 1);
    pthread_exit(NULL);
}

static void detached_threads(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 16; i++) {
        pthread_t t;
        pthread_create(&t, &a, detached, NULL);
    }
    for (int i = 0; i < 2000 && atomic_load(&detached_done) < 16; i++)
        usleep(1000);
    EXPECT_EQ("detached threads ran", atomic_load(&detached_done), 16);
    /* Many short-lived threads, one after another. */
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        ok &= pthread_create(&t, NULL, report_ids, (void *)1L) == 0;
        void *r;
        ok &= pthread_join(t, &r) == 0;
        free(r);
    }
    CHECK("200 create/join in a row", ok);
}

/* ---- process exit with threads ---- */
static void *sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void *exit_group_from_thread(void *arg)
{
    (void)arg;
    usleep(10000);
    exit(42);
}

static void main_pthread_exit_child(void)
{
    /* Main thread exits; the process lives until the last thread exits. */
    pthread_t t;
    pthread_create(&t, NULL, exit_group_from_thread, NULL);
    pthread_exit(NULL);
}

static void *last_thread_exits(void *arg)
{
    (void)arg;
    usleep(20000);
    syscall(SYS_exit, 9); /* this thread only, the last one */
    return NULL;
}

static void leader_status_child(void)
{
    pthread_t t;
    pthread_create(&t, NULL, last_thread_exits, NULL);
    syscall(SYS_exit, 5); /* main thread only */
}

static void process_exits(void)
{
    pid_t pid = xfork();
    if (pid == 0) {
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            pthread_create(&t[i], NULL, sleep_forever, NULL);
        pthread_create(&t[0], NULL, exit_group_from_thread, NULL);
        for (;;)
            pause();
    }
    printf("exit() in a thread with others sleeping: %s\n", status_str(wait_status(pid, 0)));

    pid = xfork();
    if (pid == 0)
        main_pthread_exit_child();
    printf("pthread_exit in main, exit() later in a thread: %s\n", status_str(wait_status(pid, 0)));

    pid = xfork();
    if (pid == 0)
        leader_status_child();
    printf("leader exits 5, last thread exits 9: %s\n", status_str(wait_status(pid, 0)));

    pid = xfork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, sleep_forever, NULL);
        exit(3);
    }
    printf("exit(3) in main with a thread sleeping: %s\n", status_str(wait_status(pid, 0)));
}

/* ---- robust mutexes ---- */
static pthread_mutex_t robust;
static void *die_holding(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    syscall(SYS_exit, 0); /* dies holding it, without unlocking */
    return NULL;
}

static void robust_mutexes(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &a);
    pthread_t t;
    pthread_create(&t, NULL, die_holding, NULL);
    pthread_join(t, NULL);
    EXPECT_EQ("lock after the owner died", pthread_mutex_lock(&robust), EOWNERDEAD);
    EXPECT_EQ("pthread_mutex_consistent", pthread_mutex_consistent(&robust), 0);
    EXPECT_EQ("unlock", pthread_mutex_unlock(&robust), 0);
    EXPECT_EQ("lock again", pthread_mutex_lock(&robust), 0);
    EXPECT_EQ("unlock again", pthread_mutex_unlock(&robust), 0);
}

/* ---- fork and exec from a thread ---- */
static void *fork_in_thread(void *arg)
{
    (void)arg;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child has one thread: this one, now its main thread. */
        pthread_t t;
        int r = pthread_create(&t, NULL, report_ids, (void *)3L);
        void *ids = NULL;
        if (r == 0)
            pthread_join(t, &ids);
        _exit(r == 0 && ids && ((struct ids *)ids)->pid == getpid() && gettid_() == getpid() ? 0 : 1);
    }
    return (void *)(long)wait_status(pid, 0);
}

static const char *self_path;
static void *exec_in_thread(void *arg)
{
    (void)arg;
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
    fflush(stdout);
    execl(self_path, self_path, "after-exec", pidbuf, (char *)NULL);
    _exit(99);
}

static void fork_and_exec(void)
{
    pthread_t t;
    pthread_create(&t, NULL, fork_in_thread, NULL);
    void *st;
    pthread_join(t, &st);
    printf("fork in a thread, child makes a thread: %s\n", status_str((int)(long)st));

    pid_t pid = xfork();
    if (pid == 0) {
        pthread_t s[2];
        pthread_create(&s[0], NULL, sleep_forever, NULL);
        pthread_create(&s[1], NULL, exec_in_thread, NULL);
        for (;;)
            pause();
    }
    printf("exec from a non-leader thread: %s\n", status_str(wait_status(pid, 0)));
}

/* ---- /proc/self/task ---- */
static pthread_barrier_t task_barrier;
static void *wait_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&task_barrier);
    pthread_barrier_wait(&task_barrier);
    return NULL;
}

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int status_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

static void proc_task(void)
{
    pthread_barrier_init(&task_barrier, NULL, 4);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, wait_at_barrier, NULL);
    pthread_barrier_wait(&task_barrier);
    EXPECT_EQ("/proc/self/task entries with 4 threads", count_tasks(), 4);
    EXPECT_EQ("/proc/self/status Threads", status_threads(), 4);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
    EXPECT_OK("/proc/self/task/<pid>/stat opens", access(path, R_OK));
    pthread_barrier_wait(&task_barrier);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    /* Linux wakes a joiner (CLONE_CHILD_CLEARTID) a moment before the
     * thread leaves its group, so give a loaded machine a while. */
    for (int i = 0; i < 2000 && count_tasks() != 1; i++)
        usleep(1000);
    EXPECT_EQ("/proc/self/task entries after joins", count_tasks(), 1);
}

/* ---- the parent is a thread: PR_SET_PDEATHSIG and __WNOTHREAD ---- */
static int pdeath_ready[2];
static pid_t pdeath_child;

static void *fork_a_pdeath_child(void *arg)
{
    (void)arg;
    pdeath_child = fork();
    if (pdeath_child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        write(pdeath_ready[1], "r", 1);
        for (;;)
            pause();
    }
    char b;
    read(pdeath_ready[0], &b, 1);
    return NULL; /* this thread exits; the process lives on */
}

static pid_t forked_by_thread;
static void *fork_and_check_waits(void *arg)
{
    pid_t by_main = *(pid_t *)arg;
    EXPECT_ERR("__WNOTHREAD in a thread without children of its own", waitpid(-1, NULL, WNOHANG | __WNOTHREAD), ECHILD);
    EXPECT_ERR("__WNOTHREAD for a sibling's child", waitpid(by_main, NULL, __WNOTHREAD), ECHILD);
    int st;
    CHECK("a sibling's child without __WNOTHREAD", waitpid(by_main, &st, 0) == by_main);
    forked_by_thread = fork();
    if (forked_by_thread == 0)
        _exit(5);
    CHECK("__WNOTHREAD for its own child", waitpid(forked_by_thread, &st, __WNOTHREAD) == forked_by_thread);
    printf("its own child: %s\n", status_str(st));
    forked_by_thread = fork();
    if (forked_by_thread == 0)
        _exit(6);
    return NULL;
}

static void parent_threads(void)
{
    pipe(pdeath_ready);
    pthread_t t;
    pthread_create(&t, NULL, fork_a_pdeath_child, NULL);
    pthread_join(t, NULL);
    /* The thread that forked it is gone: the child got its SIGUSR1. */
    printf("child of an exited thread: %s\n", status_str(wait_status(pdeath_child, 0)));

    pid_t by_main = fork();
    if (by_main == 0)
        _exit(4);
    pthread_create(&t, NULL, fork_and_check_waits, &by_main);
    pthread_join(t, NULL);
    /* Its parent thread went: the child passed to the main thread. */
    int st;
    CHECK("__WNOTHREAD for a child of an exited thread", waitpid(forked_by_thread, &st, __WNOTHREAD) == forked_by_thread);
    printf("that child: %s\n", status_str(st));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (argc == 3 && strcmp(argv[1], "after-exec") == 0) {
        /* The exec'ing thread became the process: same pid, one thread. */
        int same_pid = atoi(argv[2]) == getpid();
        int leader = gettid_() == getpid();
        int one = count_tasks() == 1;
        _exit(same_pid && leader && one ? 17 : 1);
    }
    self_path = argv[0];
    reset_signals();
    no_core_dumps();
    section("create and join", create_and_join);
    section("contention", contention);
    section("condition variables", condvars);
    section("barriers, rwlocks, semaphores", barriers_rwlocks_semaphores);
    section("detached threads", detached_threads);
    section("process exit with threads", process_exits);
    section("robust mutexes", robust_mutexes);
    section("fork and exec from a thread", fork_and_exec);
    section("/proc/self/task", proc_task);
    section("the parent is a thread: pdeath signal and __WNOTHREAD", parent_threads);
    return finish();
}
