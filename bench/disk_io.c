/* Disk benchmarks, run natively and under vkernel (see bench/disk.sh).
 * Each prints "seconds=<wall time of the measured part>".
 *   disk_io write FILE MIB   sequential 1 MiB writes, then fsync
 *   disk_io read FILE        sequential 1 MiB reads of the whole file
 *   disk_io meta DIR N       create N files, stat them, unlink them
 *   disk_io run PROG ARGS... fork, exec and wait for a program */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static char buf[1 << 20];

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "write")) {
        long mib = atol(argv[3]);
        memset(buf, 0x5a, sizeof buf);
        double t0 = now();
        int fd = open(argv[2], O_CREAT | O_TRUNC | O_WRONLY, 0644);
        if (fd < 0) {
            perror("open");
            return 1;
        }
        for (long i = 0; i < mib; i++) {
            buf[0] = (char)i;
            if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
                perror("write");
                return 1;
            }
        }
        if (fsync(fd) != 0 || close(fd) != 0) {
            perror("fsync");
            return 1;
        }
        printf("seconds=%.6f\n", now() - t0);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "read")) {
        double t0 = now();
        int fd = open(argv[2], O_RDONLY);
        long total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            total += n;
        }
        close(fd);
        printf("seconds=%.6f bytes=%ld\n", now() - t0, total);
        return n < 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "meta")) {
        int n = atoi(argv[3]);
        char p[4096];
        struct stat st;
        double t0 = now();
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/file%05d", argv[2], i);
            int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
            if (fd < 0) {
                perror("create");
                return 1;
            }
            close(fd);
        }
        double t1 = now();
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/file%05d", argv[2], i);
            if (stat(p, &st) != 0) {
                perror("stat");
                return 1;
            }
        }
        double t2 = now();
        for (int i = 0; i < n; i++) {
            snprintf(p, sizeof p, "%s/file%05d", argv[2], i);
            if (unlink(p) != 0) {
                perror("unlink");
                return 1;
            }
        }
        double t3 = now();
        printf("seconds=%.6f create=%.6f stat=%.6f unlink=%.6f\n", t3 - t0, t1 - t0, t2 - t1, t3 - t2);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "run")) {
        double t0 = now();
        pid_t pid = fork();
        if (pid == 0) {
            execv(argv[2], argv + 2);
            _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        printf("seconds=%.6f status=%d\n", now() - t0, status);
        return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    fprintf(stderr, "usage: see the comment at the top of bench/disk_io.c\n");
    return 2;
}
