/* /proc/self as a program sees it: cmdline, environ, comm, exe, fd, maps,
 * status, and the self link. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>

extern char **environ;

static long slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long total = 0, n;
    while (total < (long)size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    close(fd);
    return total;
}

int main(int argc, char **argv)
{
    static char buf[65536], want[65536];
    long n;

    /* cmdline is argv, NUL-separated */
    n = slurp("/proc/self/cmdline", buf, sizeof buf);
    long wn = 0;
    for (int i = 0; i < argc; i++) {
        strcpy(want + wn, argv[i]);
        wn += strlen(argv[i]) + 1;
    }
    CHECK("/proc/self/cmdline is argv", n == wn && memcmp(buf, want, wn) == 0);

    n = slurp("/proc/self/environ", buf, sizeof buf);
    wn = 0;
    for (char **e = environ; *e; e++) {
        strcpy(want + wn, *e);
        wn += strlen(*e) + 1;
    }
    CHECK("/proc/self/environ is the environment", n == wn && memcmp(buf, want, wn) == 0);

    n = slurp("/proc/self/comm", buf, sizeof buf);
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(want, 16, "%s", base);
    strcat(want, "\n");
    CHECK("/proc/self/comm is the first 15 bytes of the file name", strcmp(buf, want) == 0);

    char real[PATH_MAX];
    memset(buf, 0, sizeof buf);
    CHECK("readlink /proc/self/exe", readlink("/proc/self/exe", buf, sizeof buf - 1) > 0);
    CHECK("/proc/self/exe is the program", realpath(argv[0], real) && strcmp(buf, real) == 0);

    memset(buf, 0, sizeof buf);
    readlink("/proc/self", buf, sizeof buf - 1);
    CHECK("/proc/self links to the pid", atol(buf) == getpid());
    snprintf(want, sizeof want, "/proc/%d/comm", getpid());
    CHECK("/proc/<pid>/comm readable", slurp(want, buf, sizeof buf) > 0);

    /* fd directory: 0 1 2 and the directory fd itself */
    DIR *d = opendir("/proc/self/fd");
    int fds[16], nfd = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && nfd < 16)
            fds[nfd++] = atoi(de->d_name);
    for (int i = 0; i < nfd; i++)
        for (int j = i + 1; j < nfd; j++)
            if (fds[j] < fds[i]) {
                int t = fds[i];
                fds[i] = fds[j];
                fds[j] = t;
            }
    printf("/proc/self/fd:");
    for (int i = 0; i < nfd; i++)
        printf(" %d", fds[i]);
    printf("\n");
    if (d)
        closedir(d);
    int fd = open("/proc/self/cmdline", O_RDONLY);
    snprintf(want, sizeof want, "/proc/self/fd/%d", fd);
    memset(buf, 0, sizeof buf);
    readlink(want, buf, sizeof buf - 1);
    printf("readlink /proc/self/fd/%d: %s\n", fd, strstr(buf, "/cmdline") ? "…/cmdline" : buf);
    close(fd);

    n = slurp("/proc/self/maps", buf, sizeof buf);
    CHECK("/proc/self/maps has [stack]", n > 0 && strstr(buf, "[stack]"));
    CHECK("/proc/self/maps names the program", strstr(buf, real) != NULL);

    n = slurp("/proc/self/status", buf, sizeof buf);
    snprintf(want, sizeof want, "Name:\t%.15s\n", base);
    CHECK("/proc/self/status starts with Name:", strncmp(buf, want, strlen(want)) == 0);
    snprintf(want, sizeof want, "\nPid:\t%d\n", getpid());
    CHECK("/proc/self/status has Pid:", strstr(buf, want) != NULL);
    snprintf(want, sizeof want, "\nUid:\t%d\t%d\t", getuid(), geteuid());
    CHECK("/proc/self/status has Uid:", strstr(buf, want) != NULL);

    CHECK("/proc/meminfo has MemTotal", slurp("/proc/meminfo", buf, sizeof buf) > 0 &&
                                            strncmp(buf, "MemTotal:", 9) == 0);
    CHECK("/proc/cpuinfo has processor lines", slurp("/proc/cpuinfo", buf, sizeof buf) > 0 &&
                                                   strncmp(buf, "processor", 9) == 0);
    return finish();
}
