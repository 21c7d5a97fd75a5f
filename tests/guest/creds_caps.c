/* Credentials and capabilities: capget/capset with v1/v2/v3 headers, the
 * bounding and ambient sets, securebits and keep-caps, and how set*uid,
 * setfsuid and execve move the capability sets, as Linux's commoncap.c
 * does. Each change runs in a forked child. Run as root (every rule) and
 * as nobody (the EPERM answers). Prints only facts that are the same
 * natively and under vkernel. */
#include "proc.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_LOWER 3
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int is_root;

static int capget_v3(int pid, struct __user_cap_data_struct d[2])
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    return syscall(SYS_capget, &h, d);
}

static int capset_v3(unsigned long long eff, unsigned long long prm, unsigned long long inh)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(unsigned)eff, (unsigned)prm, (unsigned)inh},
        {(unsigned)(eff >> 32), (unsigned)(prm >> 32), (unsigned)(inh >> 32)},
    };
    return syscall(SYS_capset, &h, d);
}

static unsigned long long status_field(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long v = ~0ull;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':')
            v = strtoull(line + n + 1, NULL, 16);
    if (f)
        fclose(f);
    return v;
}

/* The five sets as /proc/self/status and capget show them. */
static void show_caps(const char *when)
{
    struct __user_cap_data_struct d[2];
    capget_v3(0, d);
    unsigned long long eff = d[0].effective | (unsigned long long)d[1].effective << 32;
    unsigned long long prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
    printf("%s: CapInh=%llx CapPrm=%llx CapEff=%llx CapBnd=%llx CapAmb=%llx\n", when, status_field("CapInh"),
           status_field("CapPrm"), status_field("CapEff"), status_field("CapBnd"), status_field("CapAmb"));
    CHECK("  capget agrees with status", eff == status_field("CapEff") && prm == status_field("CapPrm"));
}

static void headers(void)
{
    struct __user_cap_header_struct h = {0x12345678, 0};
    struct __user_cap_data_struct d[2];
    EXPECT_ERR("capget unknown version", syscall(SYS_capget, &h, d), EINVAL);
    printf("version written back: %#x\n", h.version);
    h.version = 0x12345678;
    EXPECT_EQ("capget unknown version, NULL data", syscall(SYS_capget, &h, NULL), 0);
    printf("version written back: %#x\n", h.version);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    EXPECT_EQ("capget v3 NULL data", syscall(SYS_capget, &h, NULL), 0);
    h.pid = -1;
    EXPECT_ERR("capget pid -1", syscall(SYS_capget, &h, d), EINVAL);
    h.pid = 99999999;
    EXPECT_ERR("capget missing pid", syscall(SYS_capget, &h, d), ESRCH);
    h.pid = getppid();
    EXPECT_EQ("capget of the parent", syscall(SYS_capget, &h, d), 0);
    h.pid = 0;
    EXPECT_ERR("capget bad data pointer", syscall(SYS_capget, &h, (void *)8), EFAULT);
    EXPECT_ERR("capget bad header pointer", syscall(SYS_capget, (void *)8, d), EFAULT);

    struct __user_cap_data_struct v1[2] = {{0xdead, 0xbeef, 0xf00d}, {0xdead, 0xbeef, 0xf00d}};
    h.version = _LINUX_CAPABILITY_VERSION_1;
    EXPECT_EQ("capget v1", syscall(SYS_capget, &h, v1), 0);
    CHECK("v1 fills one word only", v1[1].effective == 0xdead && v1[1].permitted == 0xbeef);
    struct __user_cap_data_struct all[2];
    capget_v3(0, all);
    CHECK("v1 word is the low word", v1[0].effective == all[0].effective && v1[0].permitted == all[0].permitted);
    h.version = _LINUX_CAPABILITY_VERSION_2;
    EXPECT_EQ("capget v2", syscall(SYS_capget, &h, v1), 0);
    CHECK("v2 fills both words", v1[1].effective == all[1].effective);

    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = getppid();
    EXPECT_ERR("capset of another process", syscall(SYS_capset, &h, all), EPERM);
    h.version = 0x1;
    EXPECT_ERR("capset unknown version", syscall(SYS_capset, &h, all), EINVAL);
}

static void bounding(void)
{
    int last = -1;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = -1;
        fclose(f);
    }
    CHECK("cap_last_cap readable", last >= 36);
    unsigned long long seen = 0;
    for (int c = 0; c <= last; c++)
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            seen |= 1ull << c;
    CHECK("PR_CAPBSET_READ matches CapBnd", seen == status_field("CapBnd"));
    EXPECT_ERR("PR_CAPBSET_READ past the last", prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0), EINVAL);
    EXPECT_ERR("PR_CAPBSET_READ -1", prctl(PR_CAPBSET_READ, -1L, 0, 0, 0), EINVAL);
    if (is_root) {
        EXPECT_ERR("PR_CAPBSET_DROP past the last", prctl(PR_CAPBSET_DROP, last + 1, 0, 0, 0), EINVAL);
        EXPECT_EQ("PR_CAPBSET_DROP CAP_SYS_BOOT", prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0), 0);
        EXPECT_EQ("PR_CAPBSET_READ CAP_SYS_BOOT", prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0), 0);
        show_caps("after dropping CAP_SYS_BOOT from the bounding set");
    } else {
        EXPECT_ERR("PR_CAPBSET_DROP without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0), EPERM);
        EXPECT_ERR("PR_CAPBSET_DROP past the last, without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, last + 1, 0, 0, 0), EPERM);
    }
}

static void capset_rules(void)
{
    struct __user_cap_data_struct d[2];
    capget_v3(0, d);
    unsigned long long eff = d[0].effective | (unsigned long long)d[1].effective << 32;
    unsigned long long prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
    EXPECT_EQ("capset unchanged", capset_v3(eff, prm, 0), 0);
    EXPECT_ERR("capset effective beyond permitted", capset_v3(eff | (1ull << CAP_SYS_BOOT), prm & ~(1ull << CAP_SYS_BOOT), 0),
               is_root ? EPERM : EPERM);
    if (!is_root) {
        EXPECT_ERR("capset raising permitted", capset_v3(0, 1ull << CAP_KILL, 0), EPERM);
        EXPECT_ERR("capset raising inheritable", capset_v3(0, 0, 1ull << CAP_KILL), EPERM);
        EXPECT_EQ("PR_CAP_AMBIENT_IS_SET", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0), 0);
        EXPECT_ERR("PR_CAP_AMBIENT_RAISE without it", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), EPERM);
        return;
    }
    EXPECT_EQ("capset dropping CAP_KILL from effective", capset_v3(eff & ~(1ull << CAP_KILL), prm, 0), 0);
    show_caps("without effective CAP_KILL");
    EXPECT_EQ("capset raising it again", capset_v3(eff, prm, 0), 0);
    EXPECT_EQ("capset dropping CAP_SYS_BOOT from permitted", capset_v3(eff & ~(1ull << CAP_SYS_BOOT), prm & ~(1ull << CAP_SYS_BOOT), 0), 0);
    EXPECT_ERR("capset raising it back", capset_v3(eff, prm, 0), EPERM);
    EXPECT_EQ("capset inheritable CAP_NET_RAW", capset_v3(eff & ~(1ull << CAP_SYS_BOOT), prm & ~(1ull << CAP_SYS_BOOT), 1ull << CAP_NET_RAW), 0);
    EXPECT_ERR("PR_CAP_AMBIENT bad cap", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 99, 0, 0), EINVAL);
    EXPECT_ERR("PR_CAP_AMBIENT bad op", prctl(PR_CAP_AMBIENT, 9, CAP_NET_RAW, 0, 0), EINVAL);
    EXPECT_ERR("PR_CAP_AMBIENT_CLEAR_ALL with an argument", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
    EXPECT_ERR("PR_CAP_AMBIENT_RAISE of a cap not inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), EPERM);
    EXPECT_EQ("PR_CAP_AMBIENT_RAISE CAP_NET_RAW", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), 0);
    EXPECT_EQ("PR_CAP_AMBIENT_IS_SET CAP_NET_RAW", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0), 1);
    show_caps("with ambient CAP_NET_RAW");
    EXPECT_EQ("capset dropping it from inheritable", capset_v3(eff & ~(1ull << CAP_SYS_BOOT), prm & ~(1ull << CAP_SYS_BOOT), 0), 0);
    EXPECT_EQ("ambient went with it", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0), 0);
}

static void securebits(void)
{
    EXPECT_EQ("PR_GET_SECUREBITS", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 0);
    EXPECT_EQ("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
    EXPECT_ERR("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
    EXPECT_EQ("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
    EXPECT_EQ("PR_GET_SECUREBITS after keep-caps", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), 0x10);
    EXPECT_EQ("PR_SET_KEEPCAPS 0", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), 0);
    if (!is_root) {
        EXPECT_ERR("PR_SET_SECUREBITS without CAP_SETPCAP", prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0), EPERM);
        return;
    }
    EXPECT_ERR("PR_SET_SECUREBITS unknown bit", prctl(PR_SET_SECUREBITS, 1 << 20, 0, 0, 0), EPERM);
    EXPECT_EQ("PR_SET_SECUREBITS KEEP_CAPS|KEEP_CAPS_LOCKED", prctl(PR_SET_SECUREBITS, 0x30, 0, 0, 0), 0);
    EXPECT_ERR("PR_SET_KEEPCAPS once locked", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), EPERM);
    EXPECT_ERR("PR_SET_SECUREBITS unlocking", prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0), EPERM);
    EXPECT_ERR("PR_SET_SECUREBITS changing a locked bit", prctl(PR_SET_SECUREBITS, 0x20, 0, 0, 0), EPERM);
}

static void setuid_drops_everything(void)
{
    EXPECT_EQ("setuid(1000)", setuid(1000), 0);
    show_caps("after setuid(1000)");
    EXPECT_ERR("setuid(0) back", setuid(0), EPERM);
    EXPECT_ERR("capset raising", capset_v3(1ull << CAP_KILL, 1ull << CAP_KILL, 0), EPERM);
}

static void keepcaps_keeps_permitted(void)
{
    EXPECT_EQ("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
    EXPECT_EQ("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000), 0);
    show_caps("keep-caps, after setresuid");
    struct __user_cap_data_struct d[2];
    capget_v3(0, d);
    unsigned long long prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
    EXPECT_EQ("capset raising effective from permitted", capset_v3(prm, prm, 0), 0);
    show_caps("keep-caps, effective raised");
    EXPECT_EQ("setuid(2000) with CAP_SETUID", setuid(2000), 0);
    printf("uid now %d\n", getuid());
    fflush(stdout);
    execl("/proc/self/exe", "creds_caps", "show", "after exec as 2000", (char *)NULL);
    printf("exec: %s  FAIL\n", errname(errno));
    vk_failures++;
}

static void euid_round_trip(void)
{
    EXPECT_EQ("seteuid(1000)", seteuid(1000), 0);
    show_caps("euid 1000");
    EXPECT_EQ("seteuid(0)", seteuid(0), 0);
    show_caps("euid 0 again");
    EXPECT_EQ("setreuid(-1, 1000)", setreuid(-1, 1000), 0);
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    printf("resuid %d %d %d\n", r, e, s);
    show_caps("setreuid(-1, 1000)");
    EXPECT_EQ("setfsuid(0) (the real uid)", setfsuid(0), 1000);
    show_caps("fsuid 0, euid 1000");
    EXPECT_EQ("setfsuid(1000) returns the old fsuid", setfsuid(1000), 0);
    show_caps("fsuid 1000 again");
}

static void fsuid_moves_fs_caps(void)
{
    EXPECT_EQ("setfsuid(1000)", setfsuid(1000), 0);
    EXPECT_EQ("setfsuid(-1) reads it", setfsuid(-1), 1000);
    show_caps("fsuid 1000");
    EXPECT_EQ("setfsuid(0)", setfsuid(0), 1000);
    show_caps("fsuid 0");
    EXPECT_EQ("setfsgid(1000)", setfsgid(1000), 0);
    EXPECT_EQ("setfsgid(-1)", setfsgid(-1), 1000);
}

static void ids_as_nobody(void)
{
    uid_t me = getuid();
    EXPECT_ERR("setuid(0)", setuid(0), EPERM);
    EXPECT_ERR("setuid(-1)", setuid(-1), EINVAL);
    EXPECT_EQ("setuid(own)", setuid(me), 0);
    EXPECT_ERR("setreuid(0, -1)", setreuid(0, -1), EPERM);
    EXPECT_ERR("setreuid(-1, 0)", setreuid(-1, 0), EPERM);
    EXPECT_ERR("setresuid(-1, -1, 0)", setresuid(-1, -1, 0), EPERM);
    EXPECT_EQ("setresuid(-1, -1, -1)", setresuid(-1, -1, -1), 0);
    EXPECT_ERR("setgid(0)", setgid(0), EPERM);
    EXPECT_ERR("setregid(-1, 0)", setregid(-1, 0), EPERM);
    EXPECT_ERR("setresgid(0, -1, -1)", setresgid(0, -1, -1), EPERM);
    gid_t g = 0;
    EXPECT_ERR("setgroups without CAP_SETGID", setgroups(1, &g), EPERM);
    EXPECT_ERR("setgroups -1 without CAP_SETGID (EPERM first)", syscall(SYS_setgroups, -1, &g), EPERM);
    EXPECT_ERR("setgroups huge without CAP_SETGID", syscall(SYS_setgroups, 70000, &g), EPERM);
    EXPECT_EQ("setfsuid(0) refused, returns the fsuid", setfsuid(0), me);
    EXPECT_EQ("setfsuid(-1)", setfsuid(-1), me);
    EXPECT_ERR("getgroups -1", syscall(SYS_getgroups, -1, NULL), EINVAL);
}

static void groups_as_root(void)
{
    gid_t list[3] = {30, 10, 20}, got[8];
    EXPECT_ERR("setgroups 65537", syscall(SYS_setgroups, 65537, list), EINVAL);
    EXPECT_ERR("setgroups -1", syscall(SYS_setgroups, -1, list), EINVAL);
    EXPECT_ERR("setgroups bad pointer", setgroups(3, (gid_t *)8), EFAULT);
    EXPECT_EQ("setgroups 3", setgroups(3, list), 0);
    int n = getgroups(8, got);
    printf("getgroups: %d:", n);
    for (int i = 0; i < n; i++)
        printf(" %d", got[i]);
    printf("\n");
    EXPECT_ERR("getgroups too small", getgroups(2, got), EINVAL);
    EXPECT_EQ("getgroups 0 counts", getgroups(0, NULL), 3);
    EXPECT_EQ("setgroups 0", setgroups(0, NULL), 0);
    EXPECT_EQ("getgroups after clearing", getgroups(0, NULL), 0);
    EXPECT_EQ("setresgid(5,6,7)", setresgid(5, 6, 7), 0);
    gid_t a, b, c;
    getresgid(&a, &b, &c);
    printf("resgid %d %d %d fsgid %d\n", a, b, c, setfsgid(-1));
    EXPECT_EQ("setregid(8, -1) moves the saved gid", setregid(8, -1), 0);
    getresgid(&a, &b, &c);
    printf("resgid %d %d %d\n", a, b, c);
    show_caps("gid changes leave capabilities alone");
}

static void nobody_caps_at_exec(void)
{
    fflush(stdout);
    execl("/proc/self/exe", "creds_caps", "show", "after exec as nobody", (char *)NULL);
    vk_failures++;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "show")) {
        show_caps(argv[2]);
        uid_t r, e, s;
        getresuid(&r, &e, &s);
        printf("resuid %d %d %d keepcaps %d\n", r, e, s, (int)prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
        return finish();
    }
    reset_signals();
    is_root = geteuid() == 0;
    printf("running as %s\n", is_root ? "root" : "an unprivileged user");
    show_caps("start");
    section("headers", headers);
    section("bounding set", bounding);
    section("capset rules", capset_rules);
    section("securebits and keep-caps", securebits);
    if (is_root) {
        section("setuid drops every capability", setuid_drops_everything);
        section("keep-caps keeps the permitted set", keepcaps_keeps_permitted);
        section("euid round trip", euid_round_trip);
        section("fsuid moves the filesystem capabilities", fsuid_moves_fs_caps);
        section("groups", groups_as_root);
    } else {
        section("ids without privilege", ids_as_nobody);
        section("capabilities after exec", nobody_caps_at_exec);
    }
    return finish();
}
