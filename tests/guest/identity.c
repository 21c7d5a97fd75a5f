/* Who and where the process is: credentials, uname, rlimits, getrandom,
 * CPU affinity, prctl names and flags, umask, personality. */
#include "common.h"
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>

int main(int argc, char **argv)
{
    (void)argc;
    /* vkernel runs the guest with its own credentials, so these match. */
    printf("uid=%d euid=%d gid=%d egid=%d\n", getuid(), geteuid(), getgid(), getegid());
    uid_t r, e, s;
    gid_t gr, ge, gs;
    EXPECT_EQ("getresuid", getresuid(&r, &e, &s), 0);
    printf("resuid=%d,%d,%d\n", r, e, s);
    EXPECT_EQ("getresgid", getresgid(&gr, &ge, &gs), 0);
    printf("resgid=%d,%d,%d\n", gr, ge, gs);
    EXPECT_EQ("setuid to own uid", setuid(getuid()), 0);
    EXPECT_EQ("setresgid(-1,-1,-1)", setresgid(-1, -1, -1), 0);
    CHECK("getpid() == gettid() in a single-threaded process", getpid() == syscall(SYS_gettid));
    CHECK("getpgid(0) works", getpgid(0) >= 0);
    CHECK("getsid(0) works", getsid(0) >= 0);

    struct utsname u;
    EXPECT_EQ("uname", uname(&u), 0);
    printf("sysname=%s machine=%s\n", u.sysname, u.machine);
    CHECK("release is non-empty", u.release[0] != 0);

    /* rlimits round-trip */
    struct rlimit lim, got;
    EXPECT_EQ("getrlimit RLIMIT_STACK", getrlimit(RLIMIT_STACK, &lim), 0);
    struct rlimit stack = {4 << 20, lim.rlim_max};
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < stack.rlim_cur)
        stack.rlim_cur = lim.rlim_max;
    EXPECT_EQ("setrlimit RLIMIT_STACK soft 4 MiB", setrlimit(RLIMIT_STACK, &stack), 0);
    getrlimit(RLIMIT_STACK, &got);
    CHECK("RLIMIT_STACK reads back", got.rlim_cur == stack.rlim_cur && got.rlim_max == stack.rlim_max);
    struct rlimit nofile_old, nofile = {100, 0};
    getrlimit(RLIMIT_NOFILE, &nofile_old);
    nofile.rlim_max = nofile_old.rlim_max;
    struct rlimit prev;
    EXPECT_EQ("prlimit64 NOFILE soft 100", prlimit(0, RLIMIT_NOFILE, &nofile, &prev), 0);
    CHECK("prlimit64 returned the old limit",
          prev.rlim_cur == nofile_old.rlim_cur && prev.rlim_max == nofile_old.rlim_max);
    EXPECT_EQ("prlimit64 read", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &got), 0);
    printf("RLIMIT_NOFILE soft=%lu\n", (unsigned long)got.rlim_cur);
    EXPECT_EQ("getrlimit RLIMIT_NOFILE agrees", getrlimit(RLIMIT_NOFILE, &got) == 0 && got.rlim_cur == 100, 1);
    struct rlimit inverted = {200, 100};
    EXPECT_ERR("setrlimit soft above hard", setrlimit(RLIMIT_NOFILE, &inverted), EINVAL);
    EXPECT_ERR("getrlimit unknown resource", syscall(SYS_getrlimit, 99, &got), EINVAL);
    EXPECT_ERR("prlimit64 missing pid", syscall(SYS_prlimit64, 999999999, RLIMIT_NOFILE, NULL, &got), ESRCH);
    setrlimit(RLIMIT_NOFILE, &nofile_old);

    /* getrandom */
    unsigned char buf[256];
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("getrandom 256", getrandom(buf, sizeof buf, 0), 256);
    int zeros = 0;
    for (int i = 0; i < 256; i++)
        zeros += buf[i] == 0;
    CHECK("getrandom filled the buffer (few zero bytes)", zeros < 16);
    EXPECT_EQ("getrandom GRND_NONBLOCK", getrandom(buf, 16, GRND_NONBLOCK), 16);
    EXPECT_EQ("getrandom GRND_RANDOM", getrandom(buf, 16, GRND_RANDOM), 16);
    EXPECT_EQ("getrandom 0 bytes", getrandom(buf, 0, 0), 0);
    EXPECT_ERR("getrandom unknown flag", getrandom(buf, 16, 0x100), EINVAL);

    /* CPU affinity */
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    CHECK("sched_getaffinity returns a positive multiple of 8 bytes", n > 0 && n % 8 == 0);
    CHECK("at least one CPU allowed", CPU_COUNT(&set) > 0);
    CHECK("sysconf(_SC_NPROCESSORS_ONLN) positive", sysconf(_SC_NPROCESSORS_ONLN) > 0);
    EXPECT_ERR("sched_getaffinity size not a multiple of 8",
               syscall(SYS_sched_getaffinity, 0, 3, &set), EINVAL);
    EXPECT_EQ("sched_yield", sched_yield(), 0);

    /* prctl */
    char name[32] = {0}, want[16] = {0};
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(want, sizeof want, "%s", base);
    EXPECT_EQ("PR_GET_NAME", prctl(PR_GET_NAME, name), 0);
    CHECK("initial name is the file name cut to 15 bytes", strcmp(name, want) == 0);
    EXPECT_EQ("PR_SET_NAME long name", prctl(PR_SET_NAME, "a-rather-long-thread-name"), 0);
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name);
    printf("PR_GET_NAME after set: %s\n", name);
    EXPECT_EQ("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE), 1);
    EXPECT_EQ("PR_GET_NO_NEW_PRIVS before", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
    EXPECT_EQ("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    EXPECT_EQ("PR_GET_NO_NEW_PRIVS after", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
    int sig = -1;
    EXPECT_EQ("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig), 0);
    printf("pdeathsig=%d\n", sig);
    EXPECT_ERR("prctl unknown option", prctl(0x7fff0000, 0, 0, 0, 0), EINVAL);

    /* umask and personality are inherited from the starter */
    mode_t m = umask(0);
    printf("initial umask=%03o\n", m);
    EXPECT_EQ("umask returns the value just set", umask(m), 0);
    printf("personality=%#x\n", personality(0xffffffff));
    return finish();
}
