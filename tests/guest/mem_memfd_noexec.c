/* vm.memfd_noexec as guest root sets it: the mode and seals a memfd made
 * without MFD_EXEC or MFD_NOEXEC_SEAL gets at 0, 1 and 2, MFD_EXEC refused
 * at 2 (EACCES), values out of range refused (EINVAL), and back to 0.
 * Natively this must run in its own pid namespace (the setting is per pid
 * namespace): it writes the setting. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8U
#define MFD_EXEC 0x10U
#endif

static const char *knob = "/proc/sys/vm/memfd_noexec";

static void show_setting(void)
{
    char buf[16] = "";
    int fd = open(knob, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    printf("memfd_noexec reads %s", n > 0 ? buf : "(nothing)\n");
    if (fd >= 0)
        close(fd);
}

static void set_to(const char *value)
{
    int fd = open(knob, O_WRONLY);
    ssize_t n = fd < 0 ? -1 : write(fd, value, strlen(value));
    printf("write %s: %s\n", value, n < 0 ? errname(errno) : "ok");
    if (fd >= 0)
        close(fd);
}

static void make(const char *what, unsigned flags)
{
    int fd = memfd_create("m", flags);
    if (fd < 0) {
        printf("  %s: -1 %s\n", what, errname(errno));
        return;
    }
    struct stat st;
    fstat(fd, &st);
    printf("  %s: mode %o seals %#x\n", what, st.st_mode & 07777, fcntl(fd, F_GET_SEALS));
    close(fd);
}

static void makes(void)
{
    make("no flag", 0);
    make("MFD_ALLOW_SEALING", MFD_ALLOW_SEALING);
    make("MFD_EXEC", MFD_EXEC);
    make("MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL);
    make("MFD_EXEC|MFD_NOEXEC_SEAL", MFD_EXEC | MFD_NOEXEC_SEAL);
}

int main(void)
{
    umask(022);
    show_setting();
    makes();
    set_to("1");
    show_setting();
    makes();
    set_to("2");
    show_setting();
    makes();
    set_to("3");
    set_to("-1");
    show_setting();
    set_to("0");
    show_setting();
    makes();
    return 0;
}
