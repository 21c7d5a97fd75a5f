/* /proc files read after the process changed: cmdline through an fd opened
 * before an exec shows the new command line; a seq file (status, comm)
 * generates its text again when read from offset 0 (after lseek or with
 * pread), as Linux's seq_read does. */
#include "common.h"
#include <fcntl.h>
#include <sys/prctl.h>

static void show_name(const char *label, int fd, int rewind)
{
    char buf[4096];
    if (rewind)
        lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        printf("%s: -1 %s\n", label, errname(errno));
        return;
    }
    buf[n] = 0;
    char *line = strstr(buf, "Name:");
    char *end = line ? strchr(line, '\n') : NULL;
    if (end)
        *end = 0;
    printf("%s: %s\n", label, line ? line : buf);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "after-exec") == 0) {
        int fd = atoi(argv[2]);
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof buf, 0);
        CHECK("pread cmdline", n > 0);
        for (ssize_t i = 0; i < n; i++)
            if (!buf[i])
                buf[i] = '|';
        /* argv[0] is the program's path: print what follows it. */
        char *rest = memchr(buf, '|', n);
        printf("cmdline after exec: %.*s\n", rest ? (int)(n - (rest - buf)) : 0, rest ? rest : "");
        return vk_failures != 0;
    }

    int status = open("/proc/self/status", O_RDONLY);
    CHECK("open status", status >= 0);
    EXPECT_EQ("PR_SET_NAME first", prctl(PR_SET_NAME, "first", 0, 0, 0), 0);
    show_name("status read 1", status, 0);
    EXPECT_EQ("PR_SET_NAME second", prctl(PR_SET_NAME, "second", 0, 0, 0), 0);
    show_name("status read after rewind", status, 1);
    char buf[64];
    EXPECT_EQ("PR_SET_NAME third", prctl(PR_SET_NAME, "third", 0, 0, 0), 0);
    int comm = open("/proc/self/comm", O_RDONLY);
    EXPECT_EQ("PR_SET_NAME fourth", prctl(PR_SET_NAME, "fourth", 0, 0, 0), 0);
    ssize_t n = pread(comm, buf, sizeof buf, 0);
    printf("comm by pread: %.*s", n > 0 ? (int)n : 0, buf);

    int cmdline = open("/proc/self/cmdline", O_RDONLY);
    CHECK("open cmdline", cmdline >= 0);
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", cmdline);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "after-exec", fdtext, "tail words", (char *)NULL);
    printf("execl: -1 %s\n", errname(errno));
    return 1;
}
