/* Process start-up state: argv, envp and the auxiliary vector. */
#include "common.h"
#include <cpuid.h>
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>

extern char **environ;
extern const ElfW(Ehdr) __ehdr_start;
extern void _start(void);

static ElfW(auxv_t) *stack_auxv;

/* Read the vector the kernel put on the stack: glibc's getauxval() rewrites
 * some entries (AT_HWCAP on x86-64). */
static int aux_present(unsigned long type, unsigned long *value)
{
    *value = 0;
    for (ElfW(auxv_t) *a = stack_auxv; a && a->a_type != AT_NULL; a++) {
        if (a->a_type == type) {
            *value = a->a_un.a_val;
            return 1;
        }
    }
    return 0;
}

#define AUX_PRESENT(name)                                                     \
    do {                                                                      \
        unsigned long v_;                                                     \
        CHECK(#name " present", aux_present(name, &v_));                      \
    } while (0)

int main(int argc, char **argv, char **envp)
{
    unsigned long v;

    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=\"%s\" len=%zu\n", i, argv[i], strlen(argv[i]));
    CHECK("argv[argc] is NULL", argv[argc] == NULL);
    CHECK("argv[0] non-empty", argv[0] && argv[0][0]);
    CHECK("envp follows argv", envp == argv + argc + 1);
    CHECK("environ == envp", environ == envp);
    int envc = 0;
    for (char **e = envp; *e; e++) {
        printf("env: %s\n", *e);
        envc++;
    }
    printf("envc=%d\n", envc);
    const char *t = getenv("VK_TEST_VAR");
    printf("getenv(VK_TEST_VAR)=%s\n", t ? t : "(null)");

    /* The auxiliary vector sits right after envp's NULL. */
    ElfW(auxv_t) *auxv = (ElfW(auxv_t) *)(envp + envc + 1);
    int saw_null = 0, n = 0;
    for (; n < 64; n++) {
        if (auxv[n].a_type == AT_NULL) {
            saw_null = 1;
            break;
        }
    }
    CHECK("auxv follows envp and ends with AT_NULL", saw_null);
    if (saw_null)
        stack_auxv = auxv;
    int agrees = 1;
    for (int i = 0; i < n; i++) {
        unsigned long type = auxv[i].a_type;
        if (type != AT_HWCAP && type != AT_IGNORE &&
            getauxval(type) != auxv[i].a_un.a_val)
            agrees = 0;
    }
    CHECK("getauxval agrees with the stack auxv (but AT_HWCAP)", agrees);

    CHECK("AT_PHDR present", aux_present(AT_PHDR, &v));
    CHECK("AT_PHDR == __ehdr_start + e_phoff",
          v == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff);
    CHECK("AT_PHENT present", aux_present(AT_PHENT, &v));
    printf("AT_PHENT=%lu\n", v);
    CHECK("AT_PHNUM present", aux_present(AT_PHNUM, &v));
    CHECK("AT_PHNUM == e_phnum", v == __ehdr_start.e_phnum);
    CHECK("AT_PAGESZ present", aux_present(AT_PAGESZ, &v));
    printf("AT_PAGESZ=%lu\n", v);
    CHECK("sysconf(_SC_PAGESIZE) == AT_PAGESZ",
          (unsigned long)sysconf(_SC_PAGESIZE) == v);
    CHECK("AT_ENTRY present", aux_present(AT_ENTRY, &v));
    CHECK("AT_ENTRY == _start", v == (unsigned long)&_start);
    /* A static or static-PIE binary has no interpreter. */
    aux_present(AT_BASE, &v);
    printf("AT_BASE=%lu\n", v);
    CHECK("AT_RANDOM present", aux_present(AT_RANDOM, &v));
    if (v) {
        const unsigned char *r = (const unsigned char *)v;
        int nonzero = 0;
        for (int i = 0; i < 16; i++)
            nonzero |= r[i];
        CHECK("AT_RANDOM 16 bytes readable and not all zero", nonzero);
        CHECK("AT_RANDOM lies on the stack above envp",
              v > (unsigned long)envp);
    }
    CHECK("AT_UID present", aux_present(AT_UID, &v));
    CHECK("AT_UID == getuid()", v == getuid());
    CHECK("AT_EUID present", aux_present(AT_EUID, &v));
    CHECK("AT_EUID == geteuid()", v == geteuid());
    CHECK("AT_GID present", aux_present(AT_GID, &v));
    CHECK("AT_GID == getgid()", v == getgid());
    CHECK("AT_EGID present", aux_present(AT_EGID, &v));
    CHECK("AT_EGID == getegid()", v == getegid());
    CHECK("AT_SECURE present", aux_present(AT_SECURE, &v));
    printf("AT_SECURE=%lu\n", v);
    CHECK("AT_HWCAP present", aux_present(AT_HWCAP, &v));
    {
        unsigned a = 0, b = 0, c = 0, d = 0;
        __get_cpuid(1, &a, &b, &c, &d);
        /* x86-64 Linux reports CPUID.1:EDX as AT_HWCAP. */
        CHECK("AT_HWCAP == CPUID.1:EDX", v == d);
    }
    CHECK("AT_HWCAP2 present", aux_present(AT_HWCAP2, &v));
    printf("AT_HWCAP2=%#lx\n", v);
    CHECK("AT_CLKTCK present", aux_present(AT_CLKTCK, &v));
    printf("AT_CLKTCK=%lu\n", v);
    CHECK("AT_EXECFN present", aux_present(AT_EXECFN, &v));
    CHECK("AT_EXECFN equals argv[0]", v && strcmp((char *)v, argv[0]) == 0);
    CHECK("AT_PLATFORM present", aux_present(AT_PLATFORM, &v));
    printf("AT_PLATFORM=%s\n", v ? (char *)v : "(null)");

    /* Stack sanity: argv strings live above the auxv. */
    CHECK("argv[0] string above auxv", (char *)argv[0] > (char *)&auxv[n]);
    return finish();
}
