/* The /proc and /sys files glibc, Python, gcc, git and make read, in
 * Linux's formats: per-process (status, stat, statm, limits, smaps,
 * smaps_rollup, auxv, io, sched, schedstat, wchan, oom_*, cgroup,
 * personality, coredump_filter, loginuid, ns/, fdinfo), system-wide
 * (uptime, loadavg, stat, version, cpuinfo, filesystems) and /proc/sys.
 * Prints keys, field counts and the values that are the same natively
 * and under vkernel; host-specific numbers are only checked for form. */
#include "proc.h"
#include <ctype.h>
#include <dirent.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static char buf[1 << 20];

static long slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long total = 0, n;
    while (total < (long)sizeof buf - 1 && (n = read(fd, buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(fd);
    return total;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    int r = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -1 : 0;
}

/* The value of "key:" in a line-keyed file (status, io), or NULL. */
static const char *field(const char *text, const char *key)
{
    static char out[4096];
    size_t n = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (!strncmp(l, key, n) && l[n] == ':') {
            const char *v = l + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strcspn(v, "\n");
            if (len >= sizeof out)
                len = sizeof out - 1;
            memcpy(out, v, len);
            out[len] = 0;
            return out;
        }
    }
    return NULL;
}

static int is_number(const char *s)
{
    if (*s == '-')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return *s == 0 || *s == '\n';
}

static void status_file(void)
{
    /* glibc's sigaction refuses 32 and 33, which a test runner may ignore. */
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    syscall(SYS_rt_sigaction, 32, &dfl, NULL, 8);
    syscall(SYS_rt_sigaction, 33, &dfl, NULL, 8);
    CHECK("status readable", slurp("/proc/self/status") > 0);
    static const char *same[] = {"Name", "Umask", "State", "Ngid", "TracerPid", "Uid", "Gid", "Groups", "Kthread",
                                 "VmPin", "VmSwap", "HugetlbPages", "CoreDumping", "THP_enabled", "untag_mask",
                                 "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm",
                                 "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters",
                                 "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed_list", NULL};
    for (int i = 0; same[i]; i++) {
        const char *v = field(buf, same[i]);
        printf("status %s: %s\n", same[i], v ? v : "(missing)");
    }
    static const char *sizes[] = {"VmPeak", "VmSize", "VmLck", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
                                  "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", NULL};
    for (int i = 0; sizes[i]; i++) {
        const char *v = field(buf, sizes[i]);
        unsigned long kb;
        char unit[8];
        CHECK(sizes[i], v && sscanf(v, "%lu %7s", &kb, unit) == 2 && !strcmp(unit, "kB"));
    }
    char want[32];
    snprintf(want, sizeof want, "%d", getpid());
    CHECK("status Pid and Tgid are getpid()", !strcmp(field(buf, "Pid"), want) && !strcmp(field(buf, "Tgid"), want));
    snprintf(want, sizeof want, "%d", getppid());
    CHECK("status PPid is getppid()", !strcmp(field(buf, "PPid"), want));
    const char *sigq = field(buf, "SigQ");
    unsigned long queued, limit;
    CHECK("status SigQ is queued/RLIMIT_SIGPENDING", sigq && sscanf(sigq, "%lu/%lu", &queued, &limit) == 2);
    struct rlimit r;
    getrlimit(RLIMIT_SIGPENDING, &r);
    CHECK("  the limit matches", limit == r.rlim_cur);
}

static void stat_files(void)
{
    long n = slurp("/proc/self/stat");
    CHECK("stat readable", n > 0);
    char *close_paren = strrchr(buf, ')');
    int fields = 2;
    char *save, *tok;
    long f[64] = {0};
    char state = 0;
    for (tok = strtok_r(close_paren + 2, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        fields++;
        if (fields == 3)
            state = tok[0];
        else if (fields < 64)
            f[fields] = (long)strtoull(tok, NULL, 10);
    }
    printf("stat fields: %d state %c\n", fields, state);
    printf("stat ppid ok %d pgrp ok %d session ok %d\n", f[4] == getppid(), f[5] == getpgrp(), f[6] == getsid(0));
    printf("stat priority %ld nice %ld threads %ld itrealvalue %ld\n", f[18], f[19], f[20], f[21]);
    printf("stat exit_signal %ld rt_priority %ld policy %ld\n", f[38], f[40], f[41]);
    struct rlimit r;
    getrlimit(RLIMIT_RSS, &r);
    CHECK("stat rsslim is RLIMIT_RSS", (unsigned long)f[25] == r.rlim_cur || (r.rlim_cur == RLIM_INFINITY && f[25] == -1));
    CHECK("stat vsize is positive", f[23] > 0);
    CHECK("stat arg_start below arg_end", f[48] < f[49]);
    CHECK("stat startstack is above arg_start", (unsigned long)f[28] < (unsigned long)f[48]);
    n = slurp("/proc/self/statm");
    unsigned long m[7];
    CHECK("statm has 7 numbers", sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6]) == 7);
    CHECK("statm resident <= size", m[1] <= m[0]);
}

static void limits_file(void)
{
    /* The limits are the same natively and under vkernel (inherited). */
    CHECK("limits readable", slurp("/proc/self/limits") > 0);
    fputs(buf, stdout);
}

static void smaps_files(void)
{
    CHECK("smaps readable", slurp("/proc/self/smaps") > 0);
    /* The keys of the first entry, in order. */
    char *line = strchr(buf, '\n') + 1;
    printf("smaps keys:");
    while (line && *line && !(isxdigit((unsigned char)line[0]) && strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))) {
        printf(" %.*s", (int)strcspn(line, ":"), line);
        char *next = strchr(line, '\n');
        line = next ? next + 1 : NULL;
    }
    printf("\n");
    CHECK("smaps_rollup readable", slurp("/proc/self/smaps_rollup") > 0);
    CHECK("smaps_rollup header", strstr(buf, "[rollup]\n") != NULL);
    printf("smaps_rollup keys:");
    for (char *l = strchr(buf, '\n') + 1; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        printf(" %.*s", (int)strcspn(l, ":"), l);
    printf("\n");
}

static void auxv_file(void)
{
    long n = slurp("/proc/self/auxv");
    CHECK("auxv is pairs of words", n > 0 && n % 16 == 0);
    unsigned long *a = (unsigned long *)buf;
    static const unsigned long keys[] = {AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID,
                                         AT_EUID, AT_GID, AT_EGID, AT_CLKTCK, AT_PLATFORM, AT_HWCAP, AT_SECURE, AT_RANDOM,
                                         AT_EXECFN, 0};
    for (int k = 0; keys[k]; k++) {
        int found = 0, same = 0;
        for (long i = 0; i + 1 < n / 8; i += 2)
            if (a[i] == keys[k]) {
                found = 1;
                same = a[i + 1] == getauxval(keys[k]);
            }
        printf("auxv %lu: present %d matches getauxval %d\n", keys[k], found, same);
    }
    CHECK("auxv ends with AT_NULL", a[n / 8 - 2] == AT_NULL);
}

static void small_files(void)
{
    slurp("/proc/self/io");
    printf("io keys:");
    for (char *l = buf; *l; l = strchr(l, '\n') + 1)
        printf(" %.*s", (int)strcspn(l, ":"), l);
    printf("\n");
    slurp("/proc/self/comm");
    char comm[32];
    snprintf(comm, sizeof comm, "%.*s", (int)strcspn(buf, "\n"), buf);
    slurp("/proc/self/sched");
    char want[96];
    snprintf(want, sizeof want, "%s (%d, #threads: 1)\n", comm, getpid());
    CHECK("sched header", !strncmp(buf, want, strlen(want)));
    printf("sched policy: %s\n", field(buf, "policy                                       "));
    printf("sched prio: %s\n", field(buf, "prio                                         "));
    unsigned long a, b, c;
    slurp("/proc/self/schedstat");
    CHECK("schedstat has 3 numbers", sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3);
    slurp("/proc/self/wchan");
    printf("wchan: %s\n", buf);
    slurp("/proc/self/personality");
    printf("personality: %s", buf);
    slurp("/proc/self/coredump_filter");
    printf("coredump_filter: %s", buf);
    EXPECT_EQ("write coredump_filter 0x23", write_file("/proc/self/coredump_filter", "0x23\n"), 0);
    slurp("/proc/self/coredump_filter");
    printf("coredump_filter: %s", buf);
    EXPECT_ERR("write coredump_filter junk", write_file("/proc/self/coredump_filter", "xyz"), EINVAL);
    slurp("/proc/self/loginuid");
    printf("loginuid: %s\n", buf);
    slurp("/proc/self/cgroup");
    CHECK("cgroup lines are hierarchy:controllers:path", strchr(buf, ':') && buf[strlen(buf) - 1] == '\n');
}

static void oom_files(void)
{
    slurp("/proc/self/oom_score_adj");
    printf("oom_score_adj: %s", buf);
    slurp("/proc/self/oom_score");
    long score = strtol(buf, NULL, 10);
    CHECK("oom_score in 0..2000", score >= 0 && score <= 2000);
    EXPECT_EQ("raise oom_score_adj to 100", write_file("/proc/self/oom_score_adj", "100\n"), 0);
    slurp("/proc/self/oom_score_adj");
    printf("oom_score_adj: %s", buf);
    slurp("/proc/self/oom_adj");
    printf("oom_adj: %s", buf);
    EXPECT_EQ("oom_adj 15", write_file("/proc/self/oom_adj", "15"), 0);
    slurp("/proc/self/oom_score_adj");
    printf("oom_score_adj: %s", buf);
    EXPECT_ERR("oom_score_adj 1001", write_file("/proc/self/oom_score_adj", "1001"), EINVAL);
    EXPECT_ERR("oom_adj 16", write_file("/proc/self/oom_adj", "16"), EINVAL);
    EXPECT_EQ("lower oom_score_adj to 0 (the floor)", write_file("/proc/self/oom_score_adj", "0"), 0);
    int r = write_file("/proc/self/oom_score_adj", "-1");
    printf("oom_score_adj -1: %s\n", r == 0 ? "ok" : errname(errno));
}

static void ns_dir(void)
{
    DIR *d = opendir("/proc/self/ns");
    CHECK("ns opens", d != NULL);
    struct dirent *e;
    char names[512] = "";
    int count = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        count++;
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/ns/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        char kind[32];
        unsigned long ino;
        if (n <= 0 || sscanf(target, "%31[a-z]:[%lu]", kind, &ino) != 2) {
            printf("ns %s: bad link %s  FAIL\n", e->d_name, target);
            vk_failures++;
        }
    }
    if (d)
        closedir(d);
    (void)names;
    CHECK("ns has the usual namespaces", count >= 8);
    char target[64];
    ssize_t n = readlink("/proc/self/ns/uts", target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    CHECK("ns/uts reads uts:[...]", !strncmp(target, "uts:[", 5));
    struct stat st;
    CHECK("ns/uts opens as a regular file", stat("/proc/self/ns/uts", &st) == 0 && S_ISREG(st.st_mode));
    unsigned long ino = strtoul(target + 5, NULL, 10);
    CHECK("  whose inode is the link's number", st.st_ino == ino);
}

static void fdinfo_file(void)
{
    slurp("/proc/self/fdinfo/0");
    printf("fdinfo keys:");
    for (char *l = buf; *l; l = strchr(l, '\n') + 1)
        printf(" %.*s", (int)strcspn(l, ":"), l);
    printf("\n");
}

static void system_files(void)
{
    double up, idle;
    slurp("/proc/uptime");
    CHECK("uptime is two numbers", sscanf(buf, "%lf %lf", &up, &idle) == 2);
    slurp("/proc/loadavg");
    double l1, l5, l15;
    int running, total, last;
    CHECK("loadavg format", sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last) == 6);
    slurp("/proc/stat");
    static const char *stat_keys[] = {"cpu ", "cpu0 ", "intr ", "ctxt ", "btime ", "processes ", "procs_running ", "procs_blocked ", "softirq ", NULL};
    for (int i = 0; stat_keys[i]; i++)
        printf("/proc/stat has %s: %d\n", stat_keys[i], strstr(buf, stat_keys[i]) != NULL);
    long cpus = 0;
    for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, "cpu", 3) && isdigit((unsigned char)l[3]))
            cpus++;
    CHECK("/proc/stat has a line per CPU", cpus == sysconf(_SC_NPROCESSORS_ONLN));
    slurp("/proc/version");
    CHECK("version starts with Linux version", !strncmp(buf, "Linux version ", 14));
    slurp("/proc/cpuinfo");
    long procs = 0;
    for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, "processor", 9))
            procs++;
    CHECK("cpuinfo has a processor per CPU", procs == sysconf(_SC_NPROCESSORS_ONLN));
    slurp("/proc/filesystems");
    CHECK("filesystems lists proc and tmpfs", strstr(buf, "\tproc\n") && strstr(buf, "\ttmpfs\n"));
    printf("nprocs conf %d onln %d\n", sysconf(_SC_NPROCESSORS_CONF) == sysconf(_SC_NPROCESSORS_ONLN),
           sysconf(_SC_NPROCESSORS_ONLN) > 0);
}

static void sys_files(void)
{
    static const char *same[] = {"kernel/ostype", "kernel/ngroups_max", "kernel/cap_last_cap", "kernel/overflowuid",
                                 "kernel/overflowgid", "fs/nr_open", "fs/pipe-max-size", "vm/max_map_count", NULL};
    for (int i = 0; same[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/proc/sys/%s", same[i]);
        long n = slurp(path);
        printf("%s: %s", same[i], n > 0 ? buf : "(unreadable)\n");
    }
    static const char *numbers[] = {"kernel/pid_max", "kernel/threads-max", "kernel/randomize_va_space", "fs/file-max",
                                    "vm/overcommit_memory", "kernel/dmesg_restrict", NULL};
    for (int i = 0; numbers[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/proc/sys/%s", numbers[i]);
        CHECK(numbers[i], slurp(path) > 0 && is_number(buf));
    }
    struct utsname u;
    uname(&u);
    slurp("/proc/sys/kernel/osrelease");
    CHECK("osrelease is uname's release", !strncmp(buf, u.release, strlen(u.release)) && buf[strlen(u.release)] == '\n');
    slurp("/proc/sys/kernel/hostname");
    CHECK("hostname is uname's nodename", !strncmp(buf, u.nodename, strlen(u.nodename)));
    slurp("/proc/sys/kernel/random/boot_id");
    char first[128];
    snprintf(first, sizeof first, "%s", buf);
    unsigned a, b, c, d;
    unsigned long long e;
    CHECK("boot_id is a UUID", sscanf(first, "%8x-%4x-%4x-%4x-%12llx", &a, &b, &c, &d, &e) == 5 && strlen(first) == 37);
    slurp("/proc/sys/kernel/random/boot_id");
    CHECK("boot_id stays", !strcmp(first, buf));
    slurp("/proc/sys/kernel/random/uuid");
    snprintf(first, sizeof first, "%s", buf);
    slurp("/proc/sys/kernel/random/uuid");
    CHECK("uuid changes", strcmp(first, buf) != 0 && strlen(buf) == 37);
    struct stat st;
    CHECK("ostype is read-only", stat("/proc/sys/kernel/ostype", &st) == 0 && (st.st_mode & 0777) == 0444);
    EXPECT_ERR("writing ostype", open("/proc/sys/kernel/ostype", O_WRONLY), EACCES);
    CHECK("hostname is 0644", stat("/proc/sys/kernel/hostname", &st) == 0 && (st.st_mode & 0777) == 0644);
}

static void sys_cpu_files(void)
{
    static const char *files[] = {"online", "possible", "present", NULL};
    for (int i = 0; files[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/%s", files[i]);
        long n = slurp(path);
        CHECK(path, n > 0 && buf[n - 1] == '\n' && isdigit((unsigned char)buf[0]));
    }
    slurp("/sys/devices/system/cpu/online");
    char online[128];
    snprintf(online, sizeof online, "%s", buf);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    char want[64];
    if (n == 1)
        snprintf(want, sizeof want, "0\n");
    else
        snprintf(want, sizeof want, "0-%ld\n", n - 1);
    CHECK("online matches sysconf", !strcmp(online, want));
}

int main(void)
{
    reset_signals();
    section("status", status_file);
    section("stat and statm", stat_files);
    section("limits", limits_file);
    section("smaps", smaps_files);
    section("auxv", auxv_file);
    section("io, sched, wchan, personality, coredump_filter, loginuid, cgroup", small_files);
    section("oom files", oom_files);
    section("ns", ns_dir);
    section("fdinfo", fdinfo_file);
    section("system files", system_files);
    section("/proc/sys", sys_files);
    section("/sys cpu files", sys_cpu_files);
    return finish();
}
