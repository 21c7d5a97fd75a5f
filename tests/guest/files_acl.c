/* POSIX ACLs in a fresh directory under argv[1] (/tmp: tmpfs under
 * vkernel; /var/tmp: the overlay's upper layer; natively the host's
 * ext4): set through setxattr in the raw system.posix_acl_* format, read
 * back, honoured by access checks of other users (forked children with
 * setresuid, as root alone skips every check), kept in step with chmod
 * (the group bits are the mask), inherited from a default ACL by open,
 * mkdir, mknod and O_TMPFILE (umask not applied), and removed again. */
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define ACCESS_NAME "system.posix_acl_access"
#define DEFAULT_NAME "system.posix_acl_default"

enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };

struct entry {
    uint16_t tag, perm;
    uint32_t id;
};

/* The xattr form of `n` entries: version 2, then the entries. */
static size_t encode(char *buf, const struct entry *e, int n)
{
    uint32_t version = 2;
    memcpy(buf, &version, 4);
    memcpy(buf + 4, e, n * sizeof *e);
    return 4 + n * sizeof *e;
}

static int set_acl(const char *path, const char *name, const struct entry *e, int n)
{
    char buf[4 + 32 * sizeof(struct entry)];
    return setxattr(path, name, buf, encode(buf, e, n), 0);
}

static void show_perm(unsigned p)
{
    printf("%c%c%c", p & 4 ? 'r' : '-', p & 2 ? 'w' : '-', p & 1 ? 'x' : '-');
}

/* getfacl-like: the mode, then each entry of the ACL `name` (or its errno). */
static void show_acl(const char *label, const char *path, const char *name)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("%s: stat %s\n", label, errname(errno));
        return;
    }
    printf("%s: mode %o", label, (unsigned)st.st_mode & 07777);
    char buf[1024];
    ssize_t n = getxattr(path, name, buf, sizeof buf);
    if (n < 0) {
        printf(" %s %s\n", name + 7, errname(errno));
        return;
    }
    uint32_t version;
    memcpy(&version, buf, 4);
    printf(" v%u", version);
    for (ssize_t off = 4; off + 8 <= n; off += 8) {
        struct entry e;
        memcpy(&e, buf + off, 8);
        const char *tag = e.tag == USER_OBJ ? "u:" : e.tag == USER ? "u" : e.tag == GROUP_OBJ ? "g:" : e.tag == GROUP ? "g" : e.tag == MASK ? "m:" : e.tag == OTHER ? "o:" : "?";
        printf(" %s", tag);
        if (e.tag == USER || e.tag == GROUP)
            printf("%u:", e.id);
        else if (e.id != 0xffffffffu)
            printf("[id %u]", e.id);
        show_perm(e.perm);
    }
    printf("\n");
}

/* What a process with these ids may do to `path`: r, w, x by access(2)
 * (all ids are the same after setresuid, so real = effective), plus
 * whether open for reading and for writing succeed. */
struct who {
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t groups[4];
};

static void show_access(const char *label, const char *path, const struct who *w)
{
    fflush(stdout);
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        char out[64] = "";
        if (setgroups(w->ngroups, w->groups) != 0 || setresgid(w->gid, w->gid, w->gid) != 0 || setresuid(w->uid, w->uid, w->uid) != 0) {
            snprintf(out, sizeof out, "setid %s", errname(errno));
        } else {
            int r = access(path, R_OK) == 0, wr = access(path, W_OK) == 0, x = access(path, X_OK) == 0;
            int fd = open(path, O_RDONLY);
            int open_r = fd >= 0 ? 0 : errno;
            if (fd >= 0)
                close(fd);
            struct stat st;
            int open_w = stat(path, &st) == 0 ? 0 : errno;
            if (open_w == 0 && S_ISREG(st.st_mode)) {
                fd = open(path, O_WRONLY);
                open_w = fd >= 0 ? 0 : errno;
                if (fd >= 0)
                    close(fd);
            }
            snprintf(out, sizeof out, "%c%c%c open-r %s open-w %s", r ? 'r' : '-', wr ? 'w' : '-', x ? 'x' : '-', errname(open_r), errname(open_w));
        }
        if (write(pipefd[1], out, strlen(out)) < 0)
            _exit(1);
        _exit(0);
    }
    close(pipefd[1]);
    char buf[64] = "";
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    close(pipefd[0]);
    waitpid(pid, NULL, 0);
    printf("%s as %u: %s\n", label, (unsigned)w->uid, buf);
}

/* As `w`: may it create `name` in `dir`, list `dir`, stat `dir/inner`? */
static void show_dir_access(const char *label, const char *dir, const char *inner, const struct who *w)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(w->ngroups, w->groups) != 0 || setresgid(w->gid, w->gid, w->gid) != 0 || setresuid(w->uid, w->uid, w->uid) != 0)
            _exit(2);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, inner);
        struct stat st;
        int stat_r = stat(path, &st) == 0 ? 0 : errno;
        int list = open(dir, O_RDONLY | O_DIRECTORY);
        int list_r = list >= 0 ? 0 : errno;
        snprintf(path, sizeof path, "%s/new-by-%u", dir, (unsigned)w->uid);
        int fd = open(path, O_CREAT | O_WRONLY, 0600);
        int create_r = fd >= 0 ? 0 : errno;
        if (fd >= 0)
            unlink(path);
        printf("%s as %u: stat %s list %s create %s\n", label, (unsigned)w->uid, errname(stat_r), errname(list_r), errname(create_r));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

/* The ACL names listxattr shows (order differs between filesystems). */
static void show_listed(const char *label, const char *path)
{
    char buf[4096];
    ssize_t n = listxattr(path, buf, sizeof buf);
    int access_seen = 0, default_seen = 0;
    for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1) {
        access_seen |= strcmp(buf + off, ACCESS_NAME) == 0;
        default_seen |= strcmp(buf + off, DEFAULT_NAME) == 0;
    }
    printf("%s: listed access %d default %d\n", label, access_seen, default_seen);
}

static const struct who named_user = {65534, 65534, 0, {0}};
static const struct who denied_user = {1001, 1001, 0, {0}};
static const struct who owning_group = {3000, 0, 0, {0}};
static const struct who named_group = {3001, 4000, 1, {2000}};
static const struct who both_groups = {3003, 0, 1, {2000}};
static const struct who other = {3002, 4000, 0, {0}};
static const struct who *everyone[] = {&named_user, &denied_user, &owning_group, &named_group, &both_groups, &other};

static void show_everyone(const char *label, const char *path)
{
    for (size_t i = 0; i < sizeof everyone / sizeof *everyone; i++)
        show_access(label, path, everyone[i]);
}

int main(int argc, char **argv)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vk-acl-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    CHECK("mkdtemp", mkdtemp(dir) != NULL);
    EXPECT_OK("chmod dir 0755", chmod(dir, 0755));
    umask(022);
    char f[300], d[300], dd[300], path[400];
    snprintf(f, sizeof f, "%s/f", dir);
    snprintf(d, sizeof d, "%s/d", dir);
    snprintf(dd, sizeof dd, "%s/dd", dir);

    /* An extended access ACL on a file. */
    int fd = open(f, O_CREAT | O_WRONLY, 0640);
    CHECK("create f", fd >= 0);
    close(fd);
    show_acl("f plain", f, ACCESS_NAME);
    show_everyone("f plain", f);
    struct entry acl[] = {
        {USER_OBJ, 6, 0}, {USER, 5, 65534}, {GROUP_OBJ, 4, 0}, {GROUP, 6, 2000}, {MASK, 7, 0}, {OTHER, 0, 0},
    };
    /* Named users ascend: 1001 before 65534. */
    struct entry acl_sorted[] = {
        {USER_OBJ, 6, 0}, {USER, 0, 1001}, {USER, 5, 65534}, {GROUP_OBJ, 4, 0}, {GROUP, 6, 2000}, {MASK, 7, 0}, {OTHER, 0, 0},
    };
    EXPECT_OK("set access acl", set_acl(f, ACCESS_NAME, acl, 6));
    show_acl("f acl", f, ACCESS_NAME);
    EXPECT_OK("set sorted access acl", set_acl(f, ACCESS_NAME, acl_sorted, 7));
    show_acl("f acl2", f, ACCESS_NAME);
    show_listed("f acl2", f);
    show_everyone("f acl2", f);

    /* chmod moves the mask (not the owning group's entry). */
    EXPECT_OK("chmod f 0640", chmod(f, 0640));
    show_acl("f 0640", f, ACCESS_NAME);
    show_everyone("f 0640", f);
    EXPECT_OK("chmod f 0604", chmod(f, 0604));
    show_acl("f 0604", f, ACCESS_NAME);
    show_everyone("f 0604", f);
    EXPECT_OK("chmod f 0771", chmod(f, 0771));
    show_acl("f 0771", f, ACCESS_NAME);
    show_everyone("f 0771", f);

    /* Errors of the ACL handler. */
    struct entry no_mask[] = {{USER_OBJ, 6, 0}, {USER, 5, 65534}, {GROUP_OBJ, 4, 0}, {OTHER, 0, 0}};
    EXPECT_ERR("named entry without mask", set_acl(f, ACCESS_NAME, no_mask, 4), EINVAL);
    struct entry unsorted[] = {{USER_OBJ, 6, 0}, {USER, 5, 65534}, {USER, 5, 1001}, {GROUP_OBJ, 4, 0}, {MASK, 7, 0}, {OTHER, 0, 0}};
    /* Linux takes named entries in any order; the first match decides. */
    SHOW("unsorted named users", set_acl(f, ACCESS_NAME, unsorted, 6));
    show_acl("f unsorted", f, ACCESS_NAME);
    struct entry dup[] = {{USER_OBJ, 6, 0}, {USER, 4, 65534}, {USER, 6, 65534}, {GROUP_OBJ, 4, 0}, {MASK, 7, 0}, {OTHER, 0, 0}};
    SHOW("duplicate named users", set_acl(f, ACCESS_NAME, dup, 6));
    show_acl("f duplicate", f, ACCESS_NAME);
    show_access("f duplicate", f, &named_user);
    struct entry two_masks[] = {{USER_OBJ, 6, 0}, {GROUP_OBJ, 4, 0}, {MASK, 7, 0}, {MASK, 7, 0}, {OTHER, 0, 0}};
    EXPECT_ERR("two masks", set_acl(f, ACCESS_NAME, two_masks, 5), EINVAL);
    struct entry bad_perm[] = {{USER_OBJ, 8, 0}, {GROUP_OBJ, 4, 0}, {OTHER, 0, 0}};
    EXPECT_ERR("bad perm", set_acl(f, ACCESS_NAME, bad_perm, 3), EINVAL);
    struct entry bad_tag[] = {{USER_OBJ, 6, 0}, {0x40, 4, 0}, {OTHER, 0, 0}};
    EXPECT_ERR("bad tag", set_acl(f, ACCESS_NAME, bad_tag, 3), EINVAL);
    struct entry undefined_id[] = {{USER_OBJ, 6, 0}, {USER, 4, 0xffffffffu}, {GROUP_OBJ, 4, 0}, {MASK, 7, 0}, {OTHER, 0, 0}};
    EXPECT_ERR("undefined id", set_acl(f, ACCESS_NAME, undefined_id, 5), EINVAL);
    {
        char raw[8] = {3, 0, 0, 0};
        EXPECT_ERR("version 3", setxattr(f, ACCESS_NAME, raw, 4, 0), EOPNOTSUPP);
        EXPECT_ERR("short header", setxattr(f, ACCESS_NAME, raw, 2, 0), EINVAL);
        raw[0] = 2;
        EXPECT_ERR("torn entry", setxattr(f, ACCESS_NAME, raw, 6, 0), EINVAL);
        SHOW("empty list", setxattr(f, ACCESS_NAME, raw, 4, 0));
        show_acl("f empty list", f, ACCESS_NAME);
        char small[8];
        EXPECT_OK("set acl for erange", set_acl(f, ACCESS_NAME, acl_sorted, 7));
        EXPECT_ERR("small buffer", getxattr(f, ACCESS_NAME, small, sizeof small), ERANGE);
        SHOW("size query", getxattr(f, ACCESS_NAME, NULL, 0));
    }
    struct entry base[] = {{USER_OBJ, 7, 0}, {GROUP_OBJ, 5, 0}, {OTHER, 4, 0}};
    EXPECT_ERR("default acl on a file", set_acl(f, DEFAULT_NAME, base, 3), EACCES);
    SHOW("remove default acl of a file", removexattr(f, DEFAULT_NAME));
    show_acl("f after errors", f, ACCESS_NAME);

    /* An ACL the mode says all of is not stored; the mode takes it. */
    EXPECT_OK("set equivalent acl", set_acl(f, ACCESS_NAME, base, 3));
    show_acl("f equivalent", f, ACCESS_NAME);
    show_listed("f equivalent", f);
    show_everyone("f equivalent", f);
    EXPECT_OK("set acl again", set_acl(f, ACCESS_NAME, acl_sorted, 7));
    SHOW("remove access acl", removexattr(f, ACCESS_NAME));
    show_acl("f removed", f, ACCESS_NAME);
    show_everyone("f removed", f);
    SHOW("remove absent access acl", removexattr(f, ACCESS_NAME));

    /* A directory searchable by one named user only. */
    EXPECT_OK("mkdir d", mkdir(d, 0700));
    snprintf(path, sizeof path, "%s/inner", d);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    close(fd);
    show_dir_access("d plain", d, "inner", &named_user);
    struct entry search[] = {{USER_OBJ, 7, 0}, {USER, 1, 65534}, {USER, 7, 3000}, {GROUP_OBJ, 0, 0}, {MASK, 7, 0}, {OTHER, 0, 0}};
    EXPECT_OK("set dir acl", set_acl(d, ACCESS_NAME, search, 6));
    show_acl("d acl", d, ACCESS_NAME);
    show_dir_access("d acl", d, "inner", &named_user);
    show_dir_access("d acl", d, "inner", &owning_group);
    show_dir_access("d acl", d, "inner", &other);
    EXPECT_OK("chmod d 0750", chmod(d, 0750));
    show_acl("d 0750", d, ACCESS_NAME);
    show_dir_access("d 0750", d, "inner", &owning_group);

    /* Default ACL inheritance, with a umask that would take everything. */
    umask(077);
    EXPECT_OK("mkdir dd", mkdir(dd, 0755));
    show_acl("dd umasked", dd, ACCESS_NAME);
    EXPECT_OK("chmod dd 0755", chmod(dd, 0755));
    struct entry def[] = {{USER_OBJ, 7, 0}, {USER, 7, 65534}, {GROUP_OBJ, 5, 0}, {MASK, 7, 0}, {OTHER, 1, 0}};
    EXPECT_OK("set default acl", set_acl(dd, DEFAULT_NAME, def, 5));
    show_acl("dd default", dd, DEFAULT_NAME);
    show_acl("dd access", dd, ACCESS_NAME);
    show_listed("dd", dd);
    snprintf(path, sizeof path, "%s/file", dd);
    fd = open(path, O_CREAT | O_WRONLY, 0666);
    CHECK("create dd/file", fd >= 0);
    close(fd);
    show_acl("dd/file", path, ACCESS_NAME);
    show_acl("dd/file default", path, DEFAULT_NAME);
    show_everyone("dd/file", path);
    snprintf(path, sizeof path, "%s/file640", dd);
    fd = open(path, O_CREAT | O_WRONLY, 0640);
    close(fd);
    show_acl("dd/file640", path, ACCESS_NAME);
    snprintf(path, sizeof path, "%s/sub", dd);
    EXPECT_OK("mkdir dd/sub", mkdir(path, 0777));
    show_acl("dd/sub", path, ACCESS_NAME);
    show_acl("dd/sub default", path, DEFAULT_NAME);
    snprintf(path, sizeof path, "%s/sub/deeper", dd);
    fd = open(path, O_CREAT | O_WRONLY, 0777);
    close(fd);
    show_acl("dd/sub/deeper", path, ACCESS_NAME);
    snprintf(path, sizeof path, "%s/fifo", dd);
    EXPECT_OK("mkfifo dd/fifo", mknod(path, S_IFIFO | 0644, 0));
    show_acl("dd/fifo", path, ACCESS_NAME);
    snprintf(path, sizeof path, "%s/link", dd);
    EXPECT_OK("symlink dd/link", symlink("file", path));
    {
        char buf[256];
        errno = 0;
        ssize_t n = lgetxattr(path, ACCESS_NAME, buf, sizeof buf);
        printf("dd/link acl: %zd %s\n", n, n < 0 ? errname(errno) : "");
    }
    fd = open(dd, O_TMPFILE | O_RDWR, 0640);
    if (fd >= 0) {
        struct stat st;
        fstat(fd, &st);
        char buf[256];
        ssize_t n = fgetxattr(fd, ACCESS_NAME, buf, sizeof buf);
        printf("dd tmpfile: mode %o acl %zd\n", (unsigned)st.st_mode & 07777, n);
        close(fd);
    } else {
        printf("dd tmpfile: %s\n", errname(errno));
    }

    /* A default ACL that says only the mode still replaces the umask. */
    snprintf(path, sizeof path, "%s/plain-default", dir);
    EXPECT_OK("mkdir plain-default", mkdir(path, 0777));
    struct entry def_base[] = {{USER_OBJ, 7, 0}, {GROUP_OBJ, 5, 0}, {OTHER, 5, 0}};
    EXPECT_OK("set base default acl", set_acl(path, DEFAULT_NAME, def_base, 3));
    show_acl("plain-default default", path, DEFAULT_NAME);
    snprintf(path, sizeof path, "%s/plain-default/file", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0666);
    close(fd);
    show_acl("plain-default/file", path, ACCESS_NAME);

    /* setfacl -k, then the umask applies again. */
    SHOW("remove default acl", removexattr(dd, DEFAULT_NAME));
    show_acl("dd -k", dd, DEFAULT_NAME);
    snprintf(path, sizeof path, "%s/after-k", dd);
    fd = open(path, O_CREAT | O_WRONLY, 0666);
    close(fd);
    show_acl("dd/after-k", path, ACCESS_NAME);
    snprintf(path, sizeof path, "%s/umasked", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0666);
    close(fd);
    show_acl("umasked", path, ACCESS_NAME);

    /* Only the owner sets ACLs. */
    EXPECT_OK("chmod f 0666", chmod(f, 0666));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        errno = 0;
        int r = set_acl(f, ACCESS_NAME, acl_sorted, 7);
        printf("set acl as non-owner: %d %s\n", r, r ? errname(errno) : "");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    /* ... and the errors' order for a non-owner. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        errno = 0;
        int r = set_acl(f, DEFAULT_NAME, base, 3);
        printf("non-owner default acl on a file: %d %s\n", r, r ? errname(errno) : "");
        r = set_acl(f, ACCESS_NAME, no_mask, 4);
        printf("non-owner invalid acl: %d %s\n", r, r ? errname(errno) : "");
        r = removexattr(f, ACCESS_NAME);
        printf("non-owner remove acl: %d %s\n", r, r ? errname(errno) : "");
        r = removexattr(f, DEFAULT_NAME);
        printf("non-owner remove default acl of a file: %d %s\n", r, r ? errname(errno) : "");
        char buf[256];
        r = getxattr(f, ACCESS_NAME, buf, sizeof buf);
        printf("non-owner get acl: %d %s\n", r, r < 0 ? errname(errno) : "");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    /* Clean up (and every name's ACL goes with it). */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "%s/dd/sub", dir);
    const char *files[] = {"dd/sub/deeper", "dd/file", "dd/file640", "dd/fifo", "dd/link", "dd/after-k", "d/inner", "f", "umasked", "plain-default/file", NULL};
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(cmd);
    const char *dirs[] = {"dd", "d", "plain-default", NULL};
    for (int i = 0; dirs[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, dirs[i]);
        rmdir(path);
    }
    EXPECT_OK("rmdir", rmdir(dir));
    return finish();
}
