/* A shared mapping of a file on a noexec mount: mapping it readable works,
 * PROT_EXEC is refused by mmap (EPERM) and by mprotect (EACCES, Linux's
 * VM_MAYEXEC), and the mapping stays readable.
 *   mem_share_noexec FILE */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    int fd = open(argv[1], O_RDONLY);
    char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        printf("mmap PROT_READ: -1 %s\n", errname(errno));
        return 1;
    }
    printf("mmap PROT_READ: ok, reads %c\n", p[0]);
    int r = mprotect(p, 4096, PROT_READ | PROT_EXEC);
    printf("mprotect PROT_READ|PROT_EXEC: %d %s\n", r, r ? errname(errno) : "");
    printf("still reads %c\n", p[1]);
    void *q = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    printf("mmap PROT_READ|PROT_EXEC: %s\n", q == MAP_FAILED ? errname(errno) : "ok");
    return 0;
}
