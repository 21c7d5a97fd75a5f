/* The vDSO: found through getauxval(AT_SYSINFO_EHDR), its LINUX_2.6
 * symbols looked up the way a libc does (hash table, symbol versions), and
 * every function called directly and compared with the system call it
 * stands for: return values and errors, the order of readings taken
 * alternately both ways, resolutions, getcpu against the CPU the program is
 * pinned to. Then what the mappings look like and what a guest may do to
 * them ([vvar] never writable; a write into [vdso] stays private), across
 * fork and exec. Prints only facts, never times or addresses.
 *
 *   vdso            the checks
 *   vdso loop N     N reads of every clock through the libc (for counting
 *                   system calls from outside)
 *   vdso fallback   the libc's clocks when there is no vDSO
 *   vdso exec-child (run by the checks after an exec)
 */
#include "common.h"
#include <elf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

typedef long (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef long (*gettimeofday_fn)(struct timeval *, struct timezone *);
typedef time_t (*time_fn)(time_t *);
typedef long (*clock_getres_fn)(clockid_t, struct timespec *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static struct {
    uintptr_t base;
    const Elf64_Sym *symtab;
    const char *strtab;
    uint32_t nsyms;
    const Elf64_Versym *versym;
    const Elf64_Verdef *verdef;
} vdso;

/* The dynamic table of the image at `base` (linked at 0, as Linux's is). */
static int open_vdso(uintptr_t base)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_type != ET_DYN)
        return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    uintptr_t bias = 0;
    int loads = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && loads++ == 0)
            bias = base + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    if (!dyn || !loads)
        return 0;
    vdso.base = bias;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t at = bias + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB: vdso.symtab = (const Elf64_Sym *)at; break;
        case DT_STRTAB: vdso.strtab = (const char *)at; break;
        case DT_HASH: vdso.nsyms = ((const uint32_t *)at)[1]; break;
        case DT_VERSYM: vdso.versym = (const Elf64_Versym *)at; break;
        case DT_VERDEF: vdso.verdef = (const Elf64_Verdef *)at; break;
        }
    }
    return vdso.symtab && vdso.strtab && vdso.nsyms && vdso.versym && vdso.verdef;
}

/* The name of version index `ndx` in the version definitions. */
static const char *version_name(unsigned ndx)
{
    const Elf64_Verdef *d = vdso.verdef;
    for (;;) {
        if ((d->vd_ndx & 0x7fff) == ndx && !(d->vd_flags & VER_FLG_BASE)) {
            const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
            return vdso.strtab + aux->vda_name;
        }
        if (!d->vd_next)
            return NULL;
        d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
    }
}

/* A defined function `name` of version `version`, as ld.so looks it up. */
static void *vdso_sym(const char *name, const char *version)
{
    for (uint32_t i = 0; i < vdso.nsyms; i++) {
        const Elf64_Sym *s = &vdso.symtab[i];
        if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC)
            continue;
        if (strcmp(vdso.strtab + s->st_name, name) != 0)
            continue;
        const char *v = version_name(vdso.versym[i] & 0x7fff);
        if (v && strcmp(v, version) == 0)
            return (void *)(vdso.base + s->st_value);
    }
    return NULL;
}

static long long ns(struct timespec t)
{
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static clock_gettime_fn v_gettime;
static gettimeofday_fn v_gettimeofday;
static time_fn v_time;
static clock_getres_fn v_getres;
static getcpu_fn v_getcpu;

/* The vDSO's return convention is the system call's: 0 or -errno. */
static long sys_gettime(clockid_t c, struct timespec *t)
{
    long r = syscall(SYS_clock_gettime, c, t);
    return r == -1 ? -errno : r;
}

static long sys_getres(clockid_t c, struct timespec *t)
{
    long r = syscall(SYS_clock_getres, c, t);
    return r == -1 ? -errno : r;
}

static const char *clock_name(int id)
{
    static const char *names[] = {"REALTIME", "MONOTONIC", "PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID",
                                  "MONOTONIC_RAW", "REALTIME_COARSE", "MONOTONIC_COARSE", "BOOTTIME",
                                  "REALTIME_ALARM", "BOOTTIME_ALARM", "SGI_CYCLE", "TAI"};
    static char buf[32];
    if (id >= 0 && id < 12)
        return names[id];
    snprintf(buf, sizeof buf, "clock %d", id);
    return buf;
}

static int is_coarse(int id)
{
    return id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE;
}

/* Each clock the vDSO and the system call both answer, in turn: same
 * result, and readings taken vdso, syscall, vdso are in order. Coarse
 * clocks may trail a fine one by a tick. */
static void check_clocks(void)
{
    /* The alarm clocks need an RTC on the host (EINVAL without one), so
     * they are not compared. */
    const int ids[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 16, 100, -1, 0x7fffffff};
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int id = ids[i];
        struct timespec a = {0, 0}, b = {0, 0}, c = {0, 0};
        long ra = v_gettime(id, &a);
        long rb = sys_gettime(id, &b);
        long rc = v_gettime(id, &c);
        printf("clock_gettime %s: vdso %s, syscall %s\n", clock_name(id), errname(-ra), errname(-rb));
        if (ra != rb || rc != rb)
            vk_failures++;
        if (ra != 0)
            continue;
        int ordered = ns(a) <= ns(b) && ns(b) <= ns(c);
        if (is_coarse(id)) {
            struct timespec res;
            v_getres(id, &res);
            /* A coarse clock read after another is not older, and is
             * current to within its tick (generously). */
            ordered = ns(a) <= ns(c) && ns(b) <= ns(c) + ns(res) + 1000000 && ns(a) <= ns(b) + ns(res) + 1000000;
        }
        CHECK("  in order", ordered && a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
    }
    /* A bad pointer faults in the vDSO as in Linux's (SIGSEGV), and the
     * system call says EFAULT. */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        _exit(v_gettime(CLOCK_MONOTONIC, (struct timespec *)8) == -EFAULT ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    /* (Linux's vDSO makes the system call, EFAULT, when its clocksource
     * cannot be read in user mode; so does vkernel's without a TSC.) */
    CHECK("vdso clock_gettime to a bad pointer: SIGSEGV, or EFAULT from the system call",
          (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) || (WIFEXITED(status) && WEXITSTATUS(status) == 1));
    EXPECT_EQ("syscall clock_gettime to a bad pointer", sys_gettime(CLOCK_MONOTONIC, (struct timespec *)8), -EFAULT);
}

/* Relations between clocks that hold on Linux. */
static void check_clock_relations(void)
{
    struct timespec m, bt, r, tai, g;
    v_gettime(CLOCK_MONOTONIC, &m);
    v_gettime(CLOCK_BOOTTIME, &bt);
    CHECK("BOOTTIME is not behind MONOTONIC", ns(bt) >= ns(m));
    v_gettime(CLOCK_REALTIME, &r);
    v_gettime(CLOCK_TAI, &tai);
    CHECK("TAI is not behind REALTIME", ns(tai) >= ns(r));
    /* The host's TAI offset (0, or the leap seconds NTP gave it) shows
     * through. */
    printf("TAI - REALTIME in whole seconds: %lld\n", (ns(tai) - ns(r) + 500000000) / 1000000000);
    /* The libc's clock_gettime goes through the vDSO and agrees with the
     * system call to a millisecond. */
    clock_gettime(CLOCK_REALTIME, &g);
    struct timespec s;
    sys_gettime(CLOCK_REALTIME, &s);
    long long d = ns(s) - ns(g);
    CHECK("libc CLOCK_REALTIME within 1 ms of the system call", d >= 0 && d < 1000000);
    clock_gettime(CLOCK_MONOTONIC, &g);
    sys_gettime(CLOCK_MONOTONIC, &s);
    d = ns(s) - ns(g);
    CHECK("libc CLOCK_MONOTONIC within 1 ms of the system call", d >= 0 && d < 1000000);
}

/* Many readings, the two ways alternately, never go back. */
static void check_monotonic(void)
{
    const int ids[] = {CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE};
    for (unsigned k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        struct timespec t;
        long long prev = 0;
        int ok = 1;
        for (int i = 0; i < 20000; i++) {
            if (i % 16 == 0)
                sys_gettime(ids[k], &t);
            else
                v_gettime(ids[k], &t);
            if (ns(t) < prev)
                ok = 0;
            prev = ns(t);
        }
        printf("%s never goes back over 20000 readings: %s\n", clock_name(ids[k]), ok ? "yes" : "no");
        if (!ok)
            vk_failures++;
    }
}

/* Two threads (on two CPUs where there are two) each read the clock after
 * seeing the other's last reading: never older than what they saw. */
static long long last_seen;
static int cross_ok = 1;

static void *cross_reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        long long seen = __atomic_load_n(&last_seen, __ATOMIC_ACQUIRE);
        struct timespec t;
        v_gettime(CLOCK_MONOTONIC, &t);
        if (ns(t) < seen)
            __atomic_store_n(&cross_ok, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&last_seen, ns(t), __ATOMIC_RELEASE);
    }
    return NULL;
}

static void check_across_threads(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, cross_reader, NULL);
    pthread_create(&b, NULL, cross_reader, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK("a reading after another thread's is never older", cross_ok);
}

static void check_gettimeofday_and_time(void)
{
    struct timeval a, b, c;
    struct timezone tza = {-1, -1}, tzb = {-1, -1};
    long ra = v_gettimeofday(&a, &tza);
    long rb = syscall(SYS_gettimeofday, &b, &tzb);
    long rc = v_gettimeofday(&c, NULL);
    EXPECT_EQ("vdso gettimeofday", ra, 0);
    EXPECT_EQ("syscall gettimeofday", rb, 0);
    EXPECT_EQ("vdso gettimeofday without a timezone", rc, 0);
    long long ua = a.tv_sec * 1000000ll + a.tv_usec, ub = b.tv_sec * 1000000ll + b.tv_usec,
              uc = c.tv_sec * 1000000ll + c.tv_usec;
    CHECK("gettimeofday readings in order", ua <= ub && ub <= uc && a.tv_usec < 1000000);
    CHECK("the same timezone both ways", tza.tz_minuteswest == tzb.tz_minuteswest && tza.tz_dsttime == tzb.tz_dsttime);
    EXPECT_EQ("vdso gettimeofday of NULL, NULL", v_gettimeofday(NULL, NULL), 0);
    struct timespec r;
    v_gettime(CLOCK_REALTIME, &r);
    time_t t1 = 0;
    time_t t0 = v_time(&t1);
    time_t ts = syscall(SYS_time, NULL);
    time_t t2 = v_time(NULL);
    CHECK("vdso time stores what it returns", t0 == t1);
    CHECK("time readings in order", t0 <= ts && ts <= t2);
    /* time() is the coarse clock's second: it may trail a fine reading by
     * a tick, never lead it. */
    struct timespec after;
    v_gettime(CLOCK_REALTIME, &after);
    CHECK("time is REALTIME's second", t0 >= r.tv_sec - 1 && t0 <= after.tv_sec);
}

static void check_getres(void)
{
    const int ids[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, -1};
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct timespec a = {-1, -1}, b = {-1, -1};
        long ra = v_getres(ids[i], &a);
        long rb = sys_getres(ids[i], &b);
        printf("clock_getres %s: vdso %s, syscall %s", clock_name(ids[i]), errname(-ra), errname(-rb));
        if (ra == 0 && rb == 0) {
            int same = a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
            const char *kind = ns(a) == 1 ? "1 ns" : (ns(a) >= 1000000 && ns(a) <= 10000000 ? "a tick (1-10 ms)" : "other");
            printf(", %s, %s", kind, same ? "the same" : "DIFFERENT");
            if (!same)
                vk_failures++;
        }
        printf("\n");
        if (ra != rb)
            vk_failures++;
    }
    EXPECT_EQ("vdso clock_getres MONOTONIC to NULL", v_getres(CLOCK_MONOTONIC, NULL), 0);
    EXPECT_EQ("vdso clock_getres bad clock to NULL", v_getres(-1, NULL), -EINVAL);
}

/* Pinned to each CPU it may use in turn, getcpu names that CPU both
 * ways (sched_setaffinity moves the thread there). */
static void check_getcpu(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        printf("sched_getaffinity failed  FAIL\n");
        vk_failures++;
        return;
    }
    int all = 1, tried = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && tried < 8; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        tried++;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) {
            all = 0;
            continue;
        }
        unsigned vc = 999, vn = 999, sc = 999, sn = 999;
        long rv = v_getcpu(&vc, &vn, NULL);
        long rs = syscall(SYS_getcpu, &sc, &sn, NULL);
        if (rv != 0 || rs != 0 || vc != sc || vc != (unsigned)cpu || vn != sn)
            all = 0;
    }
    sched_setaffinity(0, sizeof allowed, &allowed);
    CHECK("getcpu names the CPU pinned to, both ways", all && tried > 0);
    unsigned c = 999;
    EXPECT_EQ("vdso getcpu of the cpu only", v_getcpu(&c, NULL, NULL), 0);
    CHECK("  below the number of CPUs", c < (unsigned)sysconf(_SC_NPROCESSORS_CONF));
    EXPECT_EQ("vdso getcpu of NULL, NULL", v_getcpu(NULL, NULL, NULL), 0);
}

/* The [vvar] and [vdso] lines of /proc/self/maps. */
struct mapping {
    uintptr_t start, end;
    char perms[5];
};

static int find_mapping(const char *name, struct mapping *m)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
            line[--n] = 0;
        size_t k = strlen(name);
        if (n >= k && strcmp(line + n - k, name) == 0 && line[n - k - 1] == ' ') {
            sscanf(line, "%lx-%lx %4s", (unsigned long *)&m->start, (unsigned long *)&m->end, m->perms);
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

static void check_mappings(const char *who)
{
    uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
    struct mapping text = {0}, data = {0};
    printf("%s:\n", who);
    CHECK("  [vdso] in /proc/self/maps at AT_SYSINFO_EHDR", ehdr && find_mapping("[vdso]", &text) && text.start == ehdr);
    CHECK("  [vdso] is r-xp", strcmp(text.perms, "r-xp") == 0);
    CHECK("  [vvar] in /proc/self/maps below it", find_mapping("[vvar]", &data) && data.end <= text.start);
    CHECK("  [vvar] is r--p", strcmp(data.perms, "r--p") == 0);
}

/* What a guest may do to the mappings. */
static void check_protection(void)
{
    struct mapping text = {0}, data = {0};
    find_mapping("[vdso]", &text);
    find_mapping("[vvar]", &data);
    EXPECT_ERR("mprotect [vvar] writable", mprotect((void *)data.start, 4096, PROT_READ | PROT_WRITE), EACCES);
    EXPECT_ERR("mprotect [vvar] executable", mprotect((void *)data.start, 4096, PROT_READ | PROT_EXEC), EACCES);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile char *)data.start = 1;
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("a write to [vvar]: SIGSEGV", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);

    /* A child that makes [vdso] writable (as a debugger does) and breaks
     * its clock_gettime changes only its own copy. */
    pid = fork();
    if (pid == 0) {
        int r = mprotect((void *)text.start, text.end - text.start, PROT_READ | PROT_WRITE | PROT_EXEC);
        if (r == 0)
            memset((void *)v_gettime, 0xcc, 16); /* int3 */
        _exit(r == 0 ? 0 : 2);
    }
    waitpid(pid, &status, 0);
    CHECK("a child may make [vdso] writable and scribble on it", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct timespec t;
    EXPECT_EQ("the parent's vdso clock_gettime still works", v_gettime(CLOCK_MONOTONIC, &t), 0);

    /* A forked child keeps the vDSO where it was and uses it. */
    pid = fork();
    if (pid == 0) {
        struct mapping again = {0};
        int same = find_mapping("[vdso]", &again) && again.start == text.start && getauxval(AT_SYSINFO_EHDR) == text.start;
        _exit(same && v_gettime(CLOCK_MONOTONIC, &t) == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK("a forked child has the same vDSO and reads the clock with it", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int look_up_all(void)
{
    uintptr_t ehdr = getauxval(AT_SYSINFO_EHDR);
    CHECK("AT_SYSINFO_EHDR is set", ehdr != 0);
    if (!ehdr)
        return 0;
    CHECK("it holds a shared object with a dynamic table and versions", open_vdso(ehdr));
    const char *names[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_clock_getres", "__vdso_getcpu"};
    void *fns[5];
    int all = 1;
    for (int i = 0; i < 5; i++) {
        fns[i] = vdso_sym(names[i], "LINUX_2.6");
        printf("%s@LINUX_2.6: %s\n", names[i], fns[i] ? "found" : "missing");
        all &= fns[i] != NULL;
    }
    if (!all) {
        vk_failures++;
        return 0;
    }
    v_gettime = (clock_gettime_fn)fns[0];
    v_gettimeofday = (gettimeofday_fn)fns[1];
    v_time = (time_fn)fns[2];
    v_getres = (clock_getres_fn)fns[3];
    v_getcpu = (getcpu_fn)fns[4];
    return 1;
}

/* Every clock through the libc, n times, and nothing else. */
static int loop(long n)
{
    struct timespec t;
    struct timeval tv;
    long long sum = 0;
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        sum += t.tv_nsec;
        clock_gettime(CLOCK_REALTIME, &t);
        sum += t.tv_nsec;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
        sum += t.tv_nsec;
        clock_gettime(CLOCK_BOOTTIME, &t);
        sum += t.tv_nsec;
        gettimeofday(&tv, NULL);
        sum += tv.tv_usec + time(NULL);
    }
    return sum == 42; /* keeps the loop; never true in practice */
}

/* Without a vDSO the libc makes the system calls, and they answer. */
static int fallback(void)
{
    CHECK("AT_SYSINFO_EHDR is 0", getauxval(AT_SYSINFO_EHDR) == 0);
    struct timespec a, b;
    EXPECT_EQ("libc clock_gettime", clock_gettime(CLOCK_MONOTONIC, &a), 0);
    sys_gettime(CLOCK_MONOTONIC, &b);
    CHECK("in order with the system call", ns(a) <= ns(b));
    struct timeval tv;
    EXPECT_EQ("libc gettimeofday", gettimeofday(&tv, NULL), 0);
    CHECK("libc time", time(NULL) > 0);
    return finish();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "loop") == 0)
        return loop(atol(argv[2]));
    if (argc == 2 && strcmp(argv[1], "fallback") == 0)
        return fallback();
    if (argc == 2 && strcmp(argv[1], "exec-child") == 0) {
        if (look_up_all()) {
            struct timespec t;
            EXPECT_EQ("vdso clock_gettime after exec", v_gettime(CLOCK_MONOTONIC, &t), 0);
        }
        check_mappings("after exec");
        return finish();
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!look_up_all())
        return finish();
    check_clocks();
    check_clock_relations();
    check_monotonic();
    check_across_threads();
    check_gettimeofday_and_time();
    check_getres();
    check_getcpu();
    check_mappings("this program");
    check_protection();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("the exec'd program passed", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return finish();
}
