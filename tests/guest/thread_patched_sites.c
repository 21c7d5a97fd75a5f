/* System call sites that run often (which the seccomp platform rewrites
 * into jumps to its fast path, issue 10) behave exactly as natively: the
 * result, the registers and flags a `syscall` keeps, the FPU state, a
 * site reached halfway with another number in eax, restarts after a
 * signal, signals arriving while threads hammer a site, fork and exec
 * with rewritten sites, a guest with its own gs base, and a guest that
 * maps memory where the platform keeps its syscall table. Prints only
 * what natively prints the same. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define CHECK(what, cond)                                                                                              \
    do {                                                                                                               \
        int ok_ = (cond);                                                                                              \
        printf("%s: %s\n", what, ok_ ? "yes" : "NO");                                                                  \
        if (!ok_)                                                                                                      \
            failures++;                                                                                                \
    } while (0)

/* A site of our own: `mov $39, %eax; syscall` (getpid), and its syscall
 * instruction's address, to reach it with another number in eax. The
 * flags site sets CF before the call and reports CF after it (a syscall
 * keeps rflags). */
extern long site_getpid(void);
extern char site_getpid_syscall[];
extern long site_carry(void);
__asm__(".text\n"
        ".globl site_getpid\n"
        "site_getpid:\n"
        "    mov $39, %eax\n"
        ".globl site_getpid_syscall\n"
        "site_getpid_syscall:\n"
        "    syscall\n"
        "    ret\n"
        ".globl site_carry\n"
        "site_carry:\n"
        "    push %rbx\n"
        "    mov $0x1234, %rbx\n"
        "    stc\n"
        "    mov $39, %eax\n"
        "    syscall\n"
        "    setc %al\n"
        "    cmp $0x1234, %rbx\n"
        "    sete %bl\n"
        "    and %bl, %al\n"
        "    movzbl %al, %eax\n"
        "    pop %rbx\n"
        "    ret\n");

/* The site's syscall with `nr` in eax (as a jump into the middle of the
 * site would run it). */
static long mid_site(long nr)
{
    long r;
    __asm__ volatile("call *%1" : "=a"(r) : "r"(site_getpid_syscall), "a"(nr) : "rcx", "r11", "memory");
    return r;
}

static void hot_calls(void)
{
    for (int i = 0; i < 1000; i++) {
        getppid();
        site_getpid();
        site_carry();
    }
}

static void basics(void)
{
    pid_t pid = getpid(), ppid = getppid();
    hot_calls();
    int ok = 1;
    for (int i = 0; i < 10000; i++)
        ok &= getppid() == ppid && site_getpid() == pid;
    CHECK("hot sites give the right answers", ok);
    int carry = 1;
    for (int i = 0; i < 1000; i++)
        carry &= site_carry() == 1;
    CHECK("a syscall keeps the flags and other registers", carry);
    CHECK("the site's syscall with getppid's number in eax is getppid", mid_site(SYS_getppid) == ppid);
    CHECK("... and with getpid's, getpid", mid_site(SYS_getpid) == pid);
    /* FPU and vector registers live across the calls. */
    volatile double d = 1.0;
    double acc = 0;
    for (int i = 0; i < 1000; i++) {
        acc += d * 1.5;
        getppid();
        acc *= 1.0000001;
    }
    printf("fpu across calls: %.9f\n", acc);
}

/* A read on a pipe that a SA_RESTART timer signal interrupts again and
 * again before data comes: the call restarts (at the site) each time. */
static atomic_int ticks;
static void on_tick(int sig)
{
    (void)sig;
    atomic_fetch_add(&ticks, 1);
}

static void restarts(void)
{
    int p[2];
    if (pipe(p) != 0)
        return;
    char c;
    for (int i = 0; i < 4; i++) {
        write(p[1], "x", 1);
        read(p[0], &c, 1);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        write(p[1], "y", 1);
        _exit(0);
    }
    struct itimerval it = {{0, 5000}, {0, 5000}};
    setitimer(ITIMER_REAL, &it, NULL);
    ssize_t n = read(p[0], &c, 1);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    waitpid(child, NULL, 0);
    CHECK("a read interrupted by SA_RESTART signals restarts and gets the byte", n == 1 && c == 'y');
    CHECK("the timer interrupted it", atomic_load(&ticks) > 1);
    close(p[0]);
    close(p[1]);
}

/* Threads hammering a site while another thread signals them. */
static atomic_int handled, stop;
static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void *hammer(void *arg)
{
    pid_t ppid = getppid();
    long bad = 0;
    while (!atomic_load(&stop))
        bad += getppid() != ppid;
    return (void *)bad;
}

static void signals_during_calls(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    /* One at a time (a second one pending would merge with the first). */
    for (int i = 0; i < 200; i++) {
        pthread_kill(t[i % 2], SIGUSR1);
        for (int w = 0; w < 100000 && atomic_load(&handled) <= i; w++)
            sched_yield();
    }
    atomic_store(&stop, 1);
    long bad = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    CHECK("every signal sent to the hammering threads was handled", atomic_load(&handled) == 200);
    CHECK("and every call they made was answered right", bad == 0);
}

static void fork_and_exec(const char *self)
{
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        int ok = 1;
        for (int i = 0; i < 10000; i++)
            ok &= getppid() == parent && site_getpid() == getpid();
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(child, &st, 0);
    CHECK("a forked child's hot sites answer for the child", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    child = fork();
    if (child == 0) {
        execl(self, self, "exec", (char *)NULL);
        _exit(127);
    }
    waitpid(child, &st, 0);
    CHECK("an exec'd program's hot sites work", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void own_gs(void)
{
    static uint64_t area[4] = {0x1122334455667788ull, 2, 3, 4};
    unsigned long gs = 1;
    CHECK("gs base starts at 0", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) == 0 && gs == 0);
    CHECK("ARCH_SET_GS", syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)area) == 0);
    pid_t ppid = getppid();
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= getppid() == ppid && site_getpid() == getpid();
    CHECK("hot sites answer with the guest's own gs", ok);
    uint64_t v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    CHECK("%gs:0 reads the guest's own area", v == area[0]);
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
    CHECK("ARCH_GET_GS gives it back", gs == (unsigned long)area);
    syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL);
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
    CHECK("and 0 after setting 0", gs == 0);
    ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= getppid() == ppid;
    CHECK("hot sites answer after that", ok);
}

/* Memory at the syscall table's addresses is the guest's to map. */
static void map_where_the_table_is(void)
{
    void *want = (void *)0x60060000UL;
    char *p = mmap(want, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) {
        printf("mapping at 0x60060000: %s\n", strerror(errno));
        return;
    }
    int zero = 1;
    for (int i = 0; i < 0x10000; i++)
        zero &= p[i] == 0;
    CHECK("fresh memory at 0x60060000 reads zero", zero);
    memset(p, 0xab, 0x10000);
    pid_t ppid = getppid();
    int ok = 1;
    for (int i = 0; i < 10000; i++)
        ok &= getppid() == ppid && site_getpid() == getpid();
    CHECK("hot sites still answer", ok);
    int kept = 1;
    for (int i = 0; i < 0x10000; i++)
        kept &= (unsigned char)p[i] == 0xab;
    CHECK("and the guest's bytes there are its own", kept);
    munmap(p, 0x10000);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        hot_calls();
        int ok = 1;
        for (int i = 0; i < 1000; i++)
            ok &= site_getpid() == getpid();
        return ok ? 0 : 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    basics();
    restarts();
    signals_during_calls();
    fork_and_exec("/proc/self/exe");
    own_gs();
    map_where_the_table_is();
    printf("failures: %d\n", failures);
    return failures != 0;
}
