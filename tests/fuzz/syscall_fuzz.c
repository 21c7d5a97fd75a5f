/* A system call fuzzer for vkernel guests. NEVER RUN IT NATIVELY: it makes
 * random system calls with random arguments, which as root on a real
 * kernel could damage the machine. It refuses to start unless it is PID 1
 * under vkernel (checked through /proc/version and /proc/mounts), where the
 * root is a copy-on-write overlay of the host (or with --read-only a
 * read-only view of it) and /tmp a private in-RAM tmpfs.
 *
 *   syscall_fuzz [-w WORKERS] [-d SECONDS] [-s NAME,NR,...] [-t] [-v]
 *                [-p PATH]... SEED CALLS
 *
 * PID 1 forks WORKERS processes (default 4); each makes random system calls
 * (numbers 0..462, a few beyond) whose arguments come from a seeded
 * xorshift PRNG: valid and invalid fds, pointers into a buffer (aligned,
 * misaligned, running into a guard page), read-only, unmapped and kernel
 * addresses, NULL; huge and negative lengths, times and counts; random
 * flag bits; structures (timespecs, iovecs, pollfds, sigactions, msghdrs,
 * ...) with random fields. A 20 ms interval timer interrupts blocking
 * calls. A worker that dies (a fault, a signal it sent itself, an
 * rt_sigreturn with a garbage frame) is replaced; one that outlives its
 * time slice is killed with SIGKILL. The parent counts the calls in shared
 * memory and prints a summary. It fails (exit 1) when a process is not
 * gone 5 s after SIGKILL: the kernel lost it.
 *
 * Never called: exit and exit_group in the fuzz loop, reboot, kexec, and
 * calls that would act on the host if vkernel ever passed them through
 * (mount, swapon, settimeofday, sethostname, modules, ...). Calls that
 * take a pid (kill, tgkill, rt_sigqueueinfo, process_vm_writev, ...) get
 * only the worker itself, its own child, or pids that do not exist: never
 * 0, -1, a process group, or the parent. fork, vfork, clone and clone3
 * children exit at once (in assembly, touching no memory); a planned
 * fork() every so often runs a few calls in a child and waits for it, and
 * a planned execve runs a small generated ELF with random header and
 * program-header damage (the loader's inputs) in a child.
 * Paths are relative to a fresh directory under /tmp, plus fixed host
 * paths (copied up in the guest, never changed on the host) and the -p PATHs (canaries the harness
 * watches).
 *
 *   -w N      workers (default 4)
 *   -d SEC    time limit for the whole run (default 30)
 *   -s LIST   never call these (names or numbers), e.g. -s futex,nanosleep
 *   -t        tame times: no tv_sec beyond 2^32 (steers clear of the known
 *             huge-time bugs to look for others)
 *   -v        trace every call on stderr (worker, generation, number,
 *             name, arguments) before it is made
 *   -p PATH   add PATH (and PATH/victim) to the paths the fuzzer uses */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One system call the fuzzer knows: its number, name and argument kinds.
 * A leading policy mark: '!' never called (ends the run), '#' never called
 * (would act on the host if passed through), '@' fork-like (the child
 * exits at once), '^' rare (1 in 16), '%' exec (special paths).
 * Argument kinds:
 *   f fd            p buffer (out)   r buffer (in)    s path
 *   l length        o offset         i int or flags   u any 64-bit value
 *   c count         z sigset size    m milliseconds   g signal number
 *   n pid (never the parent, 0 or -1 allowed)  k pid for kill-like calls
 *   a address for mm calls (a playground, never our own mappings)
 *   T timespec(s)   V timeval(s)/itimerval       P pollfd array
 *   E epoll_event   v iovec array    M msghdr         A sigaction
 *   R rlimit        S stack_t        H struct with random fields
 *   Q futex word    I ioctl request */
struct sysdef {
    int nr;
    const char *name;
    const char *sig;
};
/* Generated from asm/unistd_64.h by hand-kept signatures; see the key above. */
static const struct sysdef sysdefs[] = {
    {0, "read", "fpl"},
    {1, "write", "frl"},
    {2, "open", "sio"},
    {3, "close", "f"},
    {4, "stat", "sp"},
    {5, "fstat", "fp"},
    {6, "lstat", "sp"},
    {7, "poll", "Pcm"},
    {8, "lseek", "foi"},
    {9, "mmap", "aliifo"},
    {10, "mprotect", "ali"},
    {11, "munmap", "al"},
    {12, "brk", "a"},
    {13, "rt_sigaction", "gApz"},
    {14, "rt_sigprocmask", "ippz"},
    {15, "rt_sigreturn", "^"},
    {16, "ioctl", "fIu"},
    {17, "pread64", "fplo"},
    {18, "pwrite64", "frlo"},
    {19, "readv", "fvc"},
    {20, "writev", "fvc"},
    {21, "access", "si"},
    {22, "pipe", "p"},
    {23, "select", "cpppV"},
    {24, "sched_yield", ""},
    {25, "mremap", "allia"},
    {26, "msync", "ali"},
    {27, "mincore", "alp"},
    {28, "madvise", "ali"},
    {29, "shmget", "ili"},
    {30, "shmat", "iai"},
    {31, "shmctl", "iip"},
    {32, "dup", "f"},
    {33, "dup2", "ff"},
    {34, "pause", ""},
    {35, "nanosleep", "Tp"},
    {36, "getitimer", "ip"},
    {37, "alarm", "i"},
    {38, "setitimer", "iVp"},
    {39, "getpid", ""},
    {40, "sendfile", "ffpl"},
    {41, "socket", "iii"},
    {42, "connect", "fpl"},
    {43, "accept", "fpp"},
    {44, "sendto", "frlipl"},
    {45, "recvfrom", "fplipp"},
    {46, "sendmsg", "fMi"},
    {47, "recvmsg", "fMi"},
    {48, "shutdown", "fi"},
    {49, "bind", "fpl"},
    {50, "listen", "fi"},
    {51, "getsockname", "fpp"},
    {52, "getpeername", "fpp"},
    {53, "socketpair", "iiip"},
    {54, "setsockopt", "fiipl"},
    {55, "getsockopt", "fiipp"},
    {56, "clone", "@iaapu"},
    {57, "fork", "@"},
    {58, "vfork", "@"},
    {59, "execve", "%"},
    {60, "exit", "!"},
    {61, "wait4", "npip"},
    {62, "kill", "kg"},
    {63, "uname", "p"},
    {64, "semget", "iii"},
    {65, "semop", "ipc"},
    {66, "semctl", "iiiu"},
    {67, "shmdt", "a"},
    {68, "msgget", "ii"},
    {69, "msgsnd", "ipli"},
    {70, "msgrcv", "iplii"},
    {71, "msgctl", "iip"},
    {72, "fcntl", "fiu"},
    {73, "flock", "fi"},
    {74, "fsync", "f"},
    {75, "fdatasync", "f"},
    {76, "truncate", "so"},
    {77, "ftruncate", "fo"},
    {78, "getdents", "fpl"},
    {79, "getcwd", "pl"},
    {80, "chdir", "s"},
    {81, "fchdir", "f"},
    {82, "rename", "ss"},
    {83, "mkdir", "si"},
    {84, "rmdir", "s"},
    {85, "creat", "si"},
    {86, "link", "ss"},
    {87, "unlink", "s"},
    {88, "symlink", "ss"},
    {89, "readlink", "spl"},
    {90, "chmod", "si"},
    {91, "fchmod", "fi"},
    {92, "chown", "sii"},
    {93, "fchown", "fii"},
    {94, "lchown", "sii"},
    {95, "umask", "i"},
    {96, "gettimeofday", "pp"},
    {97, "getrlimit", "ip"},
    {98, "getrusage", "ip"},
    {99, "sysinfo", "p"},
    {100, "times", "p"},
    {101, "ptrace", "ikuu"},
    {102, "getuid", ""},
    {103, "syslog", "#"},
    {104, "getgid", ""},
    {105, "setuid", "i"},
    {106, "setgid", "i"},
    {107, "geteuid", ""},
    {108, "getegid", ""},
    {109, "setpgid", "ni"},
    {110, "getppid", ""},
    {111, "getpgrp", ""},
    {112, "setsid", ""},
    {113, "setreuid", "ii"},
    {114, "setregid", "ii"},
    {115, "getgroups", "ip"},
    {116, "setgroups", "ip"},
    {117, "setresuid", "iii"},
    {118, "getresuid", "ppp"},
    {119, "setresgid", "iii"},
    {120, "getresgid", "ppp"},
    {121, "getpgid", "n"},
    {122, "setfsuid", "i"},
    {123, "setfsgid", "i"},
    {124, "getsid", "n"},
    {125, "capget", "pp"},
    {126, "capset", "pp"},
    {127, "rt_sigpending", "pz"},
    {128, "rt_sigtimedwait", "ppTz"},
    {129, "rt_sigqueueinfo", "kgp"},
    {130, "rt_sigsuspend", "pz"},
    {131, "sigaltstack", "Sp"},
    {132, "utime", "sp"},
    {133, "mknod", "sii"},
    {134, "uselib", "s"},
    {135, "personality", "i"},
    {136, "ustat", "ip"},
    {137, "statfs", "sp"},
    {138, "fstatfs", "fp"},
    {139, "sysfs", "iuu"},
    {140, "getpriority", "ii"},
    {141, "setpriority", "iii"},
    {142, "sched_setparam", "np"},
    {143, "sched_getparam", "np"},
    {144, "sched_setscheduler", "nip"},
    {145, "sched_getscheduler", "n"},
    {146, "sched_get_priority_max", "i"},
    {147, "sched_get_priority_min", "i"},
    {148, "sched_rr_get_interval", "np"},
    {149, "mlock", "al"},
    {150, "munlock", "al"},
    {151, "mlockall", "i"},
    {152, "munlockall", ""},
    {153, "vhangup", "#"},
    {154, "modify_ldt", "ipl"},
    {155, "pivot_root", "#"},
    {156, "_sysctl", "p"},
    {157, "prctl", "iuuuu"},
    {158, "arch_prctl", "^iu"},
    {159, "adjtimex", "#"},
    {160, "setrlimit", "iR"},
    {161, "chroot", "s"},
    {162, "sync", ""},
    {163, "acct", "#"},
    {164, "settimeofday", "#"},
    {165, "mount", "#"},
    {166, "umount2", "#"},
    {167, "swapon", "#"},
    {168, "swapoff", "#"},
    {169, "reboot", "!"},
    {170, "sethostname", "#"},
    {171, "setdomainname", "#"},
    {172, "iopl", "#"},
    {173, "ioperm", "#"},
    {174, "create_module", "uu"},
    {175, "init_module", "#"},
    {176, "delete_module", "#"},
    {177, "get_kernel_syms", "p"},
    {178, "query_module", "uuuuu"},
    {179, "quotactl", "#"},
    {180, "nfsservctl", "uuu"},
    {181, "getpmsg", "uuuuu"},
    {182, "putpmsg", "uuuuu"},
    {183, "afs_syscall", "uuuuu"},
    {184, "tuxcall", "uuu"},
    {185, "security", "uuu"},
    {186, "gettid", ""},
    {187, "readahead", "fol"},
    {188, "setxattr", "sspli"},
    {189, "lsetxattr", "sspli"},
    {190, "fsetxattr", "fspli"},
    {191, "getxattr", "sspl"},
    {192, "lgetxattr", "sspl"},
    {193, "fgetxattr", "fspl"},
    {194, "listxattr", "spl"},
    {195, "llistxattr", "spl"},
    {196, "flistxattr", "fpl"},
    {197, "removexattr", "ss"},
    {198, "lremovexattr", "ss"},
    {199, "fremovexattr", "fs"},
    {200, "tkill", "kg"},
    {201, "time", "p"},
    {202, "futex", "QiiTQi"},
    {203, "sched_setaffinity", "nlp"},
    {204, "sched_getaffinity", "nlp"},
    {205, "set_thread_area", "p"},
    {206, "io_setup", "cp"},
    {207, "io_destroy", "u"},
    {208, "io_getevents", "uccpT"},
    {209, "io_submit", "ucp"},
    {210, "io_cancel", "upp"},
    {211, "get_thread_area", "p"},
    {212, "lookup_dcookie", "upl"},
    {213, "epoll_create", "i"},
    {214, "epoll_ctl_old", "uuuu"},
    {215, "epoll_wait_old", "uuuu"},
    {216, "remap_file_pages", "aliii"},
    {217, "getdents64", "fpl"},
    {218, "set_tid_address", "p"},
    {219, "restart_syscall", ""},
    {220, "semtimedop", "ipcT"},
    {221, "fadvise64", "fooi"},
    {222, "timer_create", "iHp"},
    {223, "timer_settime", "uiTp"},
    {224, "timer_gettime", "up"},
    {225, "timer_getoverrun", "u"},
    {226, "timer_delete", "u"},
    {227, "clock_settime", "#"},
    {228, "clock_gettime", "ip"},
    {229, "clock_getres", "ip"},
    {230, "clock_nanosleep", "iiTp"},
    {231, "exit_group", "!"},
    {232, "epoll_wait", "fpcm"},
    {233, "epoll_ctl", "fifE"},
    {234, "tgkill", "kkg"},
    {235, "utimes", "sV"},
    {236, "vserver", "uuu"},
    {237, "mbind", "alipli"},
    {238, "set_mempolicy", "ipl"},
    {239, "get_mempolicy", "pplai"},
    {240, "mq_open", "siiH"},
    {241, "mq_unlink", "s"},
    {242, "mq_timedsend", "frliT"},
    {243, "mq_timedreceive", "fplpT"},
    {244, "mq_notify", "fH"},
    {245, "mq_getsetattr", "fHp"},
    {246, "kexec_load", "!"},
    {247, "waitid", "inpip"},
    {248, "add_key", "ssplu"},
    {249, "request_key", "sssu"},
    {250, "keyctl", "iuuuu"},
    {251, "ioprio_set", "iii"},
    {252, "ioprio_get", "ii"},
    {253, "inotify_init", ""},
    {254, "inotify_add_watch", "fsi"},
    {255, "inotify_rm_watch", "fi"},
    {256, "migrate_pages", "nlpp"},
    {257, "openat", "fsio"},
    {258, "mkdirat", "fsi"},
    {259, "mknodat", "fsii"},
    {260, "fchownat", "fsiii"},
    {261, "futimesat", "fsV"},
    {262, "newfstatat", "fspi"},
    {263, "unlinkat", "fsi"},
    {264, "renameat", "fsfs"},
    {265, "linkat", "fsfsi"},
    {266, "symlinkat", "sfs"},
    {267, "readlinkat", "fspl"},
    {268, "fchmodat", "fsi"},
    {269, "faccessat", "fsi"},
    {270, "pselect6", "cpppTH"},
    {271, "ppoll", "PcTpz"},
    {272, "unshare", "i"},
    {273, "set_robust_list", "pl"},
    {274, "get_robust_list", "npp"},
    {275, "splice", "fpfpli"},
    {276, "tee", "ffli"},
    {277, "sync_file_range", "fooi"},
    {278, "vmsplice", "fvci"},
    {279, "move_pages", "nlpppi"},
    {280, "utimensat", "fsTi"},
    {281, "epoll_pwait", "fpcmpz"},
    {282, "signalfd", "fpz"},
    {283, "timerfd_create", "ii"},
    {284, "eventfd", "i"},
    {285, "fallocate", "fioo"},
    {286, "timerfd_settime", "fiTp"},
    {287, "timerfd_gettime", "fp"},
    {288, "accept4", "fppi"},
    {289, "signalfd4", "fpzi"},
    {290, "eventfd2", "ii"},
    {291, "epoll_create1", "i"},
    {292, "dup3", "ffi"},
    {293, "pipe2", "pi"},
    {294, "inotify_init1", "i"},
    {295, "preadv", "fvco"},
    {296, "pwritev", "fvco"},
    {297, "rt_tgsigqueueinfo", "kkgp"},
    {298, "perf_event_open", "Hnifi"},
    {299, "recvmmsg", "fpciT"},
    {300, "fanotify_init", "ii"},
    {301, "fanotify_mark", "fiufs"},
    {302, "prlimit64", "niRp"},
    {303, "name_to_handle_at", "fsppi"},
    {304, "open_by_handle_at", "fpi"},
    {305, "clock_adjtime", "#"},
    {306, "syncfs", "f"},
    {307, "sendmmsg", "fpci"},
    {308, "setns", "fi"},
    {309, "getcpu", "ppp"},
    {310, "process_vm_readv", "kvcvcu"},
    {311, "process_vm_writev", "kvcvcu"},
    {312, "kcmp", "kkiuu"},
    {313, "finit_module", "#"},
    {314, "sched_setattr", "nHi"},
    {315, "sched_getattr", "npli"},
    {316, "renameat2", "fsfsi"},
    {317, "seccomp", "iiH"},
    {318, "getrandom", "pli"},
    {319, "memfd_create", "si"},
    {320, "kexec_file_load", "!"},
    {321, "bpf", "iHl"},
    {322, "execveat", "%"},
    {323, "userfaultfd", "i"},
    {324, "membarrier", "ii"},
    {325, "mlock2", "ali"},
    {326, "copy_file_range", "fpfpli"},
    {327, "preadv2", "fvcoi"},
    {328, "pwritev2", "fvcoi"},
    {329, "pkey_mprotect", "alii"},
    {330, "pkey_alloc", "ii"},
    {331, "pkey_free", "i"},
    {332, "statx", "fsiip"},
    {333, "io_pgetevents", "uccpTH"},
    {334, "rseq", "pliu"},
    {424, "pidfd_send_signal", "fgpi"},
    {425, "io_uring_setup", "cH"},
    {426, "io_uring_enter", "fcciip"},
    {427, "io_uring_register", "fipc"},
    {428, "open_tree", "#"},
    {429, "move_mount", "#"},
    {430, "fsopen", "#"},
    {431, "fsconfig", "#"},
    {432, "fsmount", "#"},
    {433, "fspick", "#"},
    {434, "pidfd_open", "ki"},
    {435, "clone3", "@Hl"},
    {436, "close_range", "ffi"},
    {437, "openat2", "fsHl"},
    {438, "pidfd_getfd", "ffi"},
    {439, "faccessat2", "fsii"},
    {440, "process_madvise", "fvcii"},
    {441, "epoll_pwait2", "fpcTpz"},
    {442, "mount_setattr", "#"},
    {443, "quotactl_fd", "#"},
    {444, "landlock_create_ruleset", "Hli"},
    {445, "landlock_add_rule", "fiHi"},
    {446, "landlock_restrict_self", "fi"},
    {447, "memfd_secret", "i"},
    {448, "process_mrelease", "fi"},
    {449, "futex_waitv", "HciTi"},
    {450, "set_mempolicy_home_node", "alli"},
    {451, "cachestat", "fHpi"},
    {452, "fchmodat2", "fsii"},
    {453, "map_shadow_stack", "ali"},
    {454, "futex_wake", "Quii"},
    {455, "futex_wait", "QuuiTi"},
    {456, "futex_requeue", "Hcci"},
    {457, "statmount", "Hpli"},
    {458, "listmount", "Hpli"},
    {459, "lsm_get_self_attr", "ipHi"},
    {460, "lsm_set_self_attr", "iHli"},
    {461, "lsm_list_modules", "pHi"},
    {462, "mseal", "ali"},
};

#define MAX_NR 512
#define MAX_WORKERS 32
#define BUF_SIZE 65536
#define PLAY_SIZE (2 << 20)
#define TICK_US 20000            /* the interval timer that ends blocking calls */
#define SLICE_MS 4000            /* a worker generation's time slice */
#define CALLS_PER_GENERATION 250 /* then a fresh worker takes over */
#define KILL_GRACE_MS 5000       /* SIGKILL must end a process within this */

/* Fixed addresses, far from anything the loader or mmap picks, so that
 * the mm calls' random addresses (PLAY, or RANDOM_LO..RANDOM_HI) never hit
 * the worker's own buffers. */
#define PLAY_ADDR 0x200000000000ull
#define BUF_ADDR 0x300000000000ull
#define RANDOM_LO 0x100000000000ull
#define RANDOM_HI 0x200000000000ull
#define KERNEL_ADDR 0xffff800000000000ull

/* ---------- random numbers: xorshift64, seeded through splitmix64 ---------- */

static uint64_t rng = 1;

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int one_in(uint64_t n) { return below(n) == 0; }
#define PICK(...) pick_((const uint64_t[]){__VA_ARGS__}, sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))
static uint64_t pick_(const uint64_t *v, size_t n) { return v[below(n)]; }

/* ---------- raw system calls ---------- */

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* fork, vfork, clone, clone3: the child (rax 0) exits at once without
 * touching memory or the stack, which it may share with the parent. */
static long raw6_fork_like(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "=a"(ret)
                     : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* A signal restorer for the sigactions the fuzzer installs. */
extern void fuzz_restorer(void);
__asm__(".text\n"
        "fuzz_restorer:\n\t"
        "mov $15, %eax\n\t"
        "syscall\n\t"
        "hlt\n");

/* ---------- state shared between the parent and the workers ---------- */

struct slot_state {
    volatile long calls; /* calls made by this slot's current worker */
    volatile long gen;
    volatile long nr; /* the call in progress (or last made) */
    volatile long args[6];
    volatile int child_stuck; /* a planned-fork child outlived SIGKILL */
};

struct shared {
    struct slot_state slot[MAX_WORKERS];
    volatile int futex[16]; /* futex words every worker may use */
};

static struct shared *sh;

/* The system calls vkernel offered when this was written: most calls go
 * to these (the rest of the table still gets its share). */
static const char *const focus_names[] = {
    "access", "alarm", "arch_prctl", "brk", "chdir", "chmod", "chown", "chroot", "clock_getres", "clock_gettime", "clock_nanosleep", "clone", "clone3",
    "close", "close_range", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir",
    "fchmod", "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futimesat", "get_robust_list", "getcpu", "getcwd", "getdents", "getdents64",
    "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpgid", "getpgrp", "getpid", "getppid", "getrandom", "getresgid", "getresuid",
    "getrlimit", "getrusage", "getsid", "gettid", "gettimeofday", "getuid", "getxattr", "ioctl", "kill", "lchown", "lgetxattr", "link", "linkat",
    "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "madvise", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlockall",
    "mmap", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "nanosleep", "newfstatat", "open", "openat", "pause", "personality", "pipe",
    "pipe2", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
    "sched_getaffinity", "sched_yield", "select", "sendfile", "set_robust_list", "set_tid_address", "setfsgid", "setfsuid", "setgid",
    "setgroups", "setitimer", "setpgid", "setregid", "setresgid", "setresuid", "setreuid", "setrlimit", "setsid", "setuid", "setxattr",
    "sigaltstack", "stat", "statfs", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tgkill", "time", "times", "tkill",
    "truncate", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "wait4", "waitid", "write", "writev"
};
static int focus[MAX_NR];
static int n_focus;

/* ---------- options ---------- */

static int workers = 4;
static int seconds = 30;
static int tame;
static int trace;
static unsigned char never[MAX_NR];
static const char *extra_paths[32];
static int n_extra;
static uint64_t seed;
static long total_calls;
static const struct sysdef *by_nr[MAX_NR];

/* ---------- the worker ---------- */

static int my_slot;
static long my_gen;
static unsigned char creates_fd[MAX_NR], creates_fd_pair[MAX_NR], creates_map[MAX_NR];
static uint64_t maps[16], map_lens[16]; /* recent mmap/mremap/shmat results */
static char *buf, *ro_page, *none_page, *play;
static int fds[24];
static int n_fds;
static pid_t self_pid, child_pid;
static int trace_fd = -1;
static long long now_real_sec;
static sigjmp_buf env;
/* Half the calls get mostly plausible arguments (valid fds, aligned
 * pointers into the buffer, small lengths and flags, existing paths), so
 * that they get past the first checks into the code behind them. */
static int gentle;
static volatile int faults_in_a_row;

static void add_fd(int fd)
{
    if (fd < 0)
        return;
    if (n_fds < (int)(sizeof fds / sizeof fds[0]))
        fds[n_fds++] = fd;
    else
        fds[below(n_fds)] = fd;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000ll + t.tv_nsec / 1000000;
}

static uint64_t any64(void)
{
    switch (below(12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0ull;
    case 3: return below(64);
    case 4: return 1ull << below(64);
    case 5: return INT64_MAX;
    case 6: return (uint64_t)INT64_MIN;
    case 7: return 0xffffffffull;
    case 8: return 0x80000000ull;
    case 9: return rnd() & 0xffff;
    default: return rnd();
    }
}

static uint64_t flags_arg(void)
{
    if (gentle && !one_in(3))
        return one_in(2) ? 0 : one_in(2) ? below(8) : 1ull << below(20);
    switch (below(7)) {
    case 0: return 0;
    case 1: return 1ull << below(32);
    case 2: return rnd() & 0xffffffff;
    case 3: return rnd() & rnd() & 0xffff;
    case 4: return below(16);
    case 5: return (1ull << below(32)) | (1ull << below(32));
    default: return any64();
    }
}

static uint64_t len_arg(void)
{
    if (gentle && !one_in(4))
        return PICK(0, 1, 8, 16, 64, 512, 4096, below(4096));
    if (one_in(3))
        return below(256);
    return PICK(0, 1, 2, 7, 8, 16, 64, 100, 4095, 4096, 4097, BUF_SIZE, BUF_SIZE + 1, 1 << 20, 1ull << 31, 1ull << 32,
                INT64_MAX, ~0ull, -4096ull, INT_MAX, UINT_MAX, below(BUF_SIZE));
}

static uint64_t off_arg(void)
{
    return PICK(0, 0, 1, 4096, 8191, ~0ull, INT64_MAX, 1ull << 40, -4096ull, below(1 << 20), any64());
}

static uint64_t count_arg(void)
{
    if (gentle && !one_in(4))
        return 1 + below(4);
    return PICK(0, 1, 1, 2, 3, 8, 64, 1024, 65536, INT_MAX, UINT_MAX, ~0ull, below(32));
}

static uint64_t ms_arg(void)
{
    return PICK(0, 0, 1, 10, ~0ull, INT_MAX, (uint64_t)INT_MIN, below(50), any64());
}

static uint64_t sig_arg(int kill_like)
{
    uint64_t s = one_in(10) ? PICK(~0ull, 65, 1000, 0, 128, any64()) : below(65);
    /* Stopping itself only wastes a worker's time slice. */
    if (kill_like && (s == SIGSTOP || s == SIGTSTP) && !one_in(8))
        s = SIGCONT;
    return s;
}

static uint64_t sigsetsize_arg(void) { return one_in(8) ? PICK(0, 4, 16, 128, ~0ull) : 8; }

static uint64_t ptr_arg(void)
{
    if (gentle && !one_in(6))
        return (uint64_t)(buf + (below(8192) & ~7ull));
    switch (below(24)) {
    case 0: return 0;
    case 1: return (uint64_t)(ro_page + below(4096));
    case 2: return (uint64_t)none_page;
    case 3: return KERNEL_ADDR;
    case 4: return 0xffffffffff600000ull; /* the vsyscall page */
    case 5: return ~0ull;
    case 6: return 0x0000800000000000ull; /* first non-canonical address */
    case 7: return 0x00007ffffffff000ull;
    case 8: return 0x1000;
    case 9: return (uint64_t)(buf + BUF_SIZE - below(16)); /* runs into the guard page */
    case 10: return rnd();
    case 11: return (uint64_t)(play + below(PLAY_SIZE));
    case 15: {
        int i = (int)below(16);
        if (maps[i])
            return maps[i] + below(map_lens[i] ? map_lens[i] : 4096);
        return (uint64_t)(buf + below(BUF_SIZE));
    }
    case 12:
    case 13: return (uint64_t)(buf + below(BUF_SIZE)); /* any alignment */
    default: return (uint64_t)(buf + (below(4096) & ~7ull));
    }
}

static uint64_t fd_arg(void)
{
    if (n_fds && (below(10) < 7 || (gentle && !one_in(10))))
        return (uint64_t)(int64_t)fds[below(n_fds)];
    return PICK(0, 1, 2, ~0ull, (uint64_t)(int64_t)AT_FDCWD, 1023, 1024, 65535, INT_MAX, (uint64_t)(int64_t)INT_MIN,
                3 + below(40), rnd());
}

static const char *const fixed_paths[] = {
    "f0", "d0", "p0", "l0", "l1", "d0/sub", "d0/sub/f", "nonexistent", "", "/", ".", "..", "../..", "f0/", "f0/x",
    "a/b/c/../../f0", "/tmp", "/proc/self/status", "/proc/self/fd/0", "/proc/self/exe", "/proc/self/mem",
    "/proc/1/status", "/dev/null", "/dev/zero", "/dev/ptmx", "/dev/tty", "/dev/full", "/etc/passwd", "/etc",
    "/etc/hostname", "/usr/bin", "/bin/sh", "/dev/shm", "/dev/shm/x", "/nonexistent/x", "//f0", "d0/../f0",
};

static char long_path[4200];
static char long_name[300];

static uint64_t path_arg(void)
{
    if (gentle && !one_in(6))
        return (uint64_t)fixed_paths[below(8)]; /* f0 d0 p0 l0 l1 d0/sub d0/sub/f nonexistent */
    switch (below(24)) {
    case 0: return 0;
    case 1: return KERNEL_ADDR;
    case 2: return (uint64_t)none_page;
    case 3: return (uint64_t)(buf + BUF_SIZE - 4 - below(4)); /* no NUL before the guard page */
    case 4: return (uint64_t)long_path;
    case 5: return (uint64_t)long_name;
    case 6:
    case 7:
        if (n_extra)
            return (uint64_t)extra_paths[below(n_extra)];
        /* fall through */
    default: return (uint64_t)fixed_paths[below(sizeof fixed_paths / sizeof fixed_paths[0])];
    }
}

static uint64_t pid_arg(int kill_like)
{
    pid_t child = child_pid ? child_pid : self_pid;
    if (kill_like)
        return PICK(self_pid, self_pid, child, 999999, 0x7ffffff0);
    return PICK(0, 0, self_pid, child, 999999, ~0ull, (uint64_t)(int64_t)INT_MIN, 0x7ffffff0);
}

static uint64_t mm_addr(void)
{
    switch (below(10)) {
    case 0: return 0;
    case 1: return KERNEL_ADDR;
    case 2: return 0x00007ffffffff000ull;
    case 3: return 0x0000800000000000ull - 4096;
    case 4: return (RANDOM_LO + below(RANDOM_HI - RANDOM_LO)) & ~4095ull;
    case 5: return (uint64_t)(play + below(PLAY_SIZE)); /* misaligned */
    case 6: return -4096ull;
    case 7: {
        int i = (int)below(16);
        if (maps[i])
            return maps[i] + (one_in(2) ? 0 : below(map_lens[i]) & ~4095ull);
    }
        /* fall through */
    default: return (uint64_t)(play + (below(PLAY_SIZE) & ~4095ull));
    }
}

static uint64_t mm_len(void)
{
    if (one_in(8))
        return len_arg();
    return PICK(0, 1, 4096, 8192, 65536, PLAY_SIZE / 2, PLAY_SIZE, 4096 * below(64));
}

/* ----- structures, written into fixed places in buf before a call ----- */

enum { T_AT = 4096, P_AT = 4608, E_AT = 4864, V_AT = 5120, M_AT = 5376, A_AT = 5504, R_AT = 5632, S_AT = 5696,
       H_AT = 5760, Q_AT = 6144 };

static long long time_sec(void)
{
    if (tame)
        return PICK(0, 0, 1, 2, below(3), now_real_sec + 1, 1ull << 31, 1ull << 32, ~0ull);
    return PICK(0, 0, 1, 2, ~0ull, INT64_MAX, (uint64_t)INT64_MIN, INT64_MAX / 2, 9223372036, 1ull << 32, 1ull << 62,
                rnd(), now_real_sec + 1, below(3));
}

static long long time_frac(int timeval)
{
    long long one = timeval ? 1000000 : 1000000000;
    if (!one_in(3))
        return below(one / 1000) * (one_in(2) ? 1000 : 1); /* valid */
    return PICK(0, 1, one - 1, one, ~0ull, one / 2, INT64_MAX, rnd());
}

static void fill_times(int timeval)
{
    long long *t = (long long *)(buf + T_AT);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = time_sec();
        t[2 * i + 1] = time_frac(timeval);
    }
}

static void fill_pollfds(void)
{
    int *p = (int *)(buf + P_AT);
    for (int i = 0; i < 16; i++) {
        p[2 * i] = (int)fd_arg();
        p[2 * i + 1] = (int)(one_in(2) ? (rnd() & 0xffff) : 1 /* POLLIN */);
    }
}

static void fill_epoll_events(void)
{
    uint32_t *e = (uint32_t *)(buf + E_AT);
    for (int i = 0; i < 12; i++) {
        e[3 * i] = one_in(2) ? (uint32_t)rnd() : 1;
        e[3 * i + 1] = (uint32_t)rnd();
        e[3 * i + 2] = (uint32_t)rnd();
    }
}

static uint64_t iov_len(void) { return PICK(0, 1, 16, 4096, BUF_SIZE, 1ull << 31, ~0ull, below(256), below(256)); }

static void fill_iovecs(void)
{
    uint64_t *v = (uint64_t *)(buf + V_AT);
    for (int i = 0; i < 16; i++) {
        v[2 * i] = ptr_arg();
        v[2 * i + 1] = iov_len();
    }
}

static void fill_msghdr(void)
{
    fill_iovecs();
    uint64_t *m = (uint64_t *)(buf + M_AT);
    m[0] = one_in(2) ? 0 : ptr_arg();
    m[1] = len_arg();
    m[2] = one_in(4) ? ptr_arg() : (uint64_t)(buf + V_AT);
    m[3] = count_arg();
    m[4] = one_in(2) ? 0 : ptr_arg();
    m[5] = len_arg();
    m[6] = flags_arg();
}

static void on_any(int s) { (void)s; }

static void fill_sigaction(void)
{
    uint64_t *a = (uint64_t *)(buf + A_AT);
    a[0] = PICK(0, 1, (uint64_t)on_any, (uint64_t)on_any, rnd(), 2);
    a[1] = one_in(3) ? flags_arg() : (0x04000000 /* SA_RESTORER */ | (flags_arg() & 0xd0000000ull));
    a[2] = one_in(4) ? ptr_arg() : (uint64_t)fuzz_restorer;
    a[3] = one_in(2) ? 0 : rnd();
}

static void fill_rlimit(void)
{
    uint64_t *r = (uint64_t *)(buf + R_AT);
    r[0] = PICK(0, 1, 1024, ~0ull, 1 << 20, rnd(), 64);
    r[1] = PICK(0, 1, 1024, ~0ull, 1 << 20, rnd(), 64);
}

static void fill_stack_t(void)
{
    uint64_t *s = (uint64_t *)(buf + S_AT);
    s[0] = one_in(2) ? (uint64_t)(buf + 16384) : ptr_arg();
    s[1] = PICK(0, 1, 2, 1u << 31, rnd() & 0xffffffff);
    s[2] = PICK(0, 2048, 8192, 16384, BUF_SIZE, ~0ull, rnd());
}

static void fill_struct(void)
{
    uint64_t *h = (uint64_t *)(buf + H_AT);
    for (int i = 0; i < 48; i++)
        h[i] = one_in(3) ? ptr_arg() : one_in(2) ? any64() : below(64);
}

static uint64_t futex_addr(void)
{
    switch (below(10)) {
    case 0: return 0;
    case 1: return (uint64_t)none_page;
    case 2: return (uint64_t)ro_page;
    case 3: return KERNEL_ADDR;
    case 4: return (uint64_t)(buf + Q_AT + 1 + below(3)); /* misaligned */
    case 5:
    case 6: return (uint64_t)&sh->futex[below(16)];
    default: {
        int *w = (int *)(buf + Q_AT) + below(16);
        *w = (int)below(3);
        return (uint64_t)w;
    }
    }
}

static uint64_t ioctl_cmd(void)
{
    if (one_in(4))
        return one_in(2) ? (rnd() & 0xffffffff) : any64();
    return PICK(0x5401, 0x5402, 0x5403, 0x5404, 0x540F, 0x5410, 0x5413, 0x5414, 0x541B, 0x540E, 0x5422, 0x80045430,
                0x40045431, 0x5429, 0x5421, 0x5451, 0x5450, 0x5412, 0x540C, 0x540D, 0x5441, 0x5415, 0x5452, 0x540B,
                0x540A, 0x5409, 0x5411, 0x5420, 0x5456, 0x80086601, 0x80081272, 0x5425, 0x5427, 0x5428, 0x80045432,
                0x5437, 0x5432);
}

static uint64_t arg_of(char kind, int *kill_like)
{
    switch (kind) {
    case 'f': return fd_arg();
    case 'p':
    case 'r': return ptr_arg();
    case 's': return path_arg();
    case 'l': return len_arg();
    case 'o': return off_arg();
    case 'i': return flags_arg();
    case 'u': return any64();
    case 'c': return count_arg();
    case 'z': return sigsetsize_arg();
    case 'm': return ms_arg();
    case 'g': return sig_arg(*kill_like);
    case 'n': return pid_arg(0);
    case 'k': *kill_like = 1; return pid_arg(1);
    case 'a': return mm_addr();
    case 'T': fill_times(0); return one_in(10) ? ptr_arg() : one_in(12) ? 0 : (uint64_t)(buf + T_AT + 16 * below(4));
    case 'V': fill_times(1); return one_in(10) ? ptr_arg() : one_in(12) ? 0 : (uint64_t)(buf + T_AT + 16 * below(4));
    case 'P': fill_pollfds(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + P_AT);
    case 'E': fill_epoll_events(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + E_AT);
    case 'v': fill_iovecs(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + V_AT);
    case 'M': fill_msghdr(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + M_AT);
    case 'A': fill_sigaction(); return one_in(10) ? ptr_arg() : one_in(8) ? 0 : (uint64_t)(buf + A_AT);
    case 'R': fill_rlimit(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + R_AT);
    case 'S': fill_stack_t(); return one_in(10) ? ptr_arg() : one_in(6) ? 0 : (uint64_t)(buf + S_AT);
    case 'H': fill_struct(); return one_in(10) ? ptr_arg() : (uint64_t)(buf + H_AT);
    case 'Q': return futex_addr();
    case 'I': return ioctl_cmd();
    default: return any64();
    }
}

/* mm calls: the length after an 'a' is an mm length. */
static uint64_t arg_for(const char *sig, int i, int *kill_like)
{
    if (sig[i] == 'l' && i > 0 && sig[i - 1] == 'a')
        return mm_len();
    return arg_of(sig[i], kill_like);
}

static char exec_child_flag[] = "--exec-child";

static void make_exec_args(uint64_t *args, int at)
{
    /* execve(path, argv, envp) or execveat(dirfd, path, argv, envp, flags):
     * a path that cannot run, or this program with --exec-child (it exits
     * at once), with random argv/envp pointers now and then. */
    static char *argv_ok[3];
    argv_ok[0] = "syscall_fuzz";
    argv_ok[1] = exec_child_flag;
    argv_ok[2] = NULL;
    args[at] = PICK((uint64_t) "/proc/self/exe", (uint64_t) "nonexistent", (uint64_t) "d0", (uint64_t) "f0",
                    (uint64_t) "/etc/passwd", (uint64_t) "", 0, KERNEL_ADDR, (uint64_t)none_page);
    args[at + 1] = one_in(3) ? ptr_arg() : (uint64_t)argv_ok;
    args[at + 2] = one_in(3) ? ptr_arg() : 0;
}

static void trace_call(long nr, const char *name, const uint64_t *a)
{
    char line[320];
    int n = snprintf(line, sizeof line, "w%d g%ld #%ld %s(%ld) %#lx %#lx %#lx %#lx %#lx %#lx\n", my_slot, my_gen,
                     sh->slot[my_slot].calls, name, nr, (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2],
                     (unsigned long)a[3], (unsigned long)a[4], (unsigned long)a[5]);
    raw6(SYS_write, trace_fd, (long)line, n, 0, 0, 0);
}

static void one_call(void)
{
    long nr;
    uint64_t a[6];
    const struct sysdef *d = NULL;
    gentle = one_in(2);
    int r = (int)below(100);
    if (r < 75 && n_focus) {
        do {
            nr = focus[below(n_focus)];
            d = by_nr[nr];
        } while (!d || never[nr]);
    } else if (r < 90) {
        do {
            nr = (long)below(463);
            d = by_nr[nr];
        } while (!d || never[nr]);
    } else if (r < 97) {
        nr = (long)(463 + below(MAX_NR - 463)); /* unassigned numbers */
    } else {
        nr = (long)PICK(~0ull, 0x40000000 | below(463), (1ull << 32) | 39, 0x7fffffff, 1000, 0xffffffff);
        if ((nr & 0xffffffff) < MAX_NR && (never[nr & 0xffffffff] || !by_nr[nr & 0xffffffff]))
            nr = 1000; /* Linux looks at the low 32 bits only: keep the skip list */
    }
    const char *sig = d ? d->sig : "uuuuuu";
    int policy = 0;
    if (sig[0] == '@' || sig[0] == '^' || sig[0] == '%')
        policy = *sig++;
    if (policy == '^' && !one_in(16))
        return;
    int kill_like = 0;
    for (int i = 0; i < 6; i++)
        a[i] = sig[i] ? arg_for(sig, i, &kill_like) : (one_in(4) ? any64() : 0);
    if (kill_like) /* the signal argument comes after the pid */
        for (int i = 0; i < 6 && sig[i]; i++)
            if (sig[i] == 'g')
                a[i] = sig_arg(1);
    if (policy == '%')
        make_exec_args(a, nr == SYS_execveat ? 1 : 0);
    if (nr == SYS_futex && !one_in(4)) {
        /* Mostly real operations on a word holding the expected value, so
         * that waits block (and the tick or another worker ends them). */
        a[1] = PICK(0, 1, 9, 10, 3, 4, 5, 6, 7, 8, 11, 12, 13) | (one_in(2) ? 128 : 0) | (one_in(4) ? 256 : 0);
        uint64_t w = a[0];
        int readable = (w >= (uint64_t)buf && w + 4 <= (uint64_t)buf + BUF_SIZE) ||
                       (w >= (uint64_t)sh->futex && w + 4 <= (uint64_t)(sh->futex + 16));
        if (readable && (w & 3) == 0 && !one_in(4))
            a[2] = (uint64_t)(uint32_t) * (volatile int *)w;
        if (one_in(2))
            a[5] = ~0u; /* FUTEX_BITSET_MATCH_ANY */
    }
    struct slot_state *st = &sh->slot[my_slot];
    st->nr = nr;
    for (int i = 0; i < 6; i++)
        st->args[i] = (long)a[i];
    if (trace)
        trace_call(nr, d ? d->name : "?", a);
    long ret;
    if (policy == '@')
        ret = raw6_fork_like(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    else
        ret = raw6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    st->calls++;
    if (trace) {
        char line[64];
        int n = snprintf(line, sizeof line, "w%d = %ld\n", my_slot, ret);
        raw6(SYS_write, trace_fd, (long)line, n, 0, 0, 0);
    }
    /* Later calls use what this one made: fds and mappings. */
    if (nr >= 0 && nr < MAX_NR && ret >= 0) {
        if (creates_fd[nr] && ret < 65536)
            add_fd((int)ret);
        uint64_t pair = nr == SYS_socketpair ? a[3] : a[0];
        if (creates_fd_pair[nr] && pair >= (uint64_t)buf && pair + 8 <= (uint64_t)buf + BUF_SIZE) {
            add_fd(((int *)pair)[0]);
            add_fd(((int *)pair)[1]);
        }
        if (creates_map[nr] && (ret & 4095) == 0 && ret > 0) {
            int i = (int)below(16);
            maps[i] = (uint64_t)ret;
            uint64_t len = nr == SYS_mremap ? a[2] : a[1];
            map_lens[i] = len && len < (1ull << 30) ? len : 4096;
        }
    }
    faults_in_a_row = 0;
}

/* Touch a recent mapping from user space: the fault path, not a call. */
static void touch_a_mapping(void)
{
    int i = (int)below(16);
    if (!maps[i])
        return;
    volatile char *p = (volatile char *)(maps[i] + below(map_lens[i]));
    if (one_in(2))
        (void)*p;
    else
        *p = (char)rnd();
}

static void on_fault(int sig)
{
    (void)sig;
    if (++faults_in_a_row > 16)
        raw6(SYS_exit, 3, 0, 0, 0, 0, 0);
    siglongjmp(env, 1);
}

static void on_tick(int sig) { (void)sig; }

static void set_action(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* What the fuzz loop relies on, put back every few calls: fault handlers,
 * ignored job-control and termination signals, an empty mask, the tick. */
static void set_up_signals(void)
{
    static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++)
        set_action(faults[i], on_fault, SA_NODEFER);
    static const int ignored[] = {SIGPIPE, SIGXFSZ, SIGXCPU, SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                  SIGTSTP, SIGTTIN, SIGTTOU, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGURG, SIGSTKFLT};
    for (unsigned i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        set_action(ignored[i], SIG_IGN, 0);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
        set_action(s, SIG_IGN, 0);
    set_action(SIGALRM, on_tick, 0);
    set_action(SIGCHLD, SIG_DFL, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct itimerval it = {{0, TICK_US}, {0, TICK_US}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void make_files(void)
{
    int fd = open("f0", O_CREAT | O_RDWR, 0644);
    if (fd >= 0) {
        write(fd, "some data in f0\n", 16);
        close(fd);
    }
    mkdir("d0", 0755);
    mkdir("d0/sub", 0755);
    mkfifo("p0", 0644);
    symlink("f0", "l0");
    symlink("nonexistent", "l1");
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    mkdir("a/b/c", 0755);
}


static void open_fds(void)
{
    int p[2];
    n_fds = 0;
    if (pipe(p) == 0) {
        add_fd(p[0]);
        add_fd(p[1]);
    }
    add_fd(open("f0", O_RDWR));
    add_fd(open("d0", O_RDONLY | O_DIRECTORY));
    add_fd(open("/dev/null", O_RDWR));
    add_fd(open("/dev/zero", O_RDONLY));
    add_fd(open("/dev/urandom", O_RDONLY));
    add_fd(open("p0", O_RDWR | O_NONBLOCK));
    add_fd(open("/etc/passwd", O_RDONLY));
    int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    add_fd(m);
    if (m >= 0) {
        unlockpt(m);
        char *name = ptsname(m);
        if (name)
            add_fd(open(name, O_RDWR | O_NOCTTY));
    }
    add_fd((int)raw6(SYS_epoll_create1, 0, 0, 0, 0, 0, 0));
    add_fd((int)raw6(SYS_eventfd2, 0, 0, 0, 0, 0, 0));
    add_fd((int)raw6(SYS_memfd_create, (long)"fuzz", 0, 0, 0, 0, 0));
    add_fd(fcntl(fds[0], F_DUPFD, 200));
}

static void map_regions(void)
{
    buf = mmap((void *)BUF_ADDR, BUF_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
               -1, 0);
    play = mmap((void *)PLAY_ADDR, PLAY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
                0);
    ro_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    none_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED || play == MAP_FAILED || ro_page == MAP_FAILED || none_page == MAP_FAILED)
        _exit(4);
    mprotect(buf + BUF_SIZE, 4096, PROT_NONE); /* the guard page */
    memset(ro_page, 'r', 4096);
    mprotect(ro_page, 4096, PROT_READ);
    for (int i = 0; i < BUF_SIZE; i += 8)
        *(uint64_t *)(buf + i) = rnd();
    memset(long_path, 0, sizeof long_path);
    for (size_t i = 0; i + 2 < sizeof long_path; i += 2)
        memcpy(long_path + i, "a/", 2);
    memset(long_name, 'n', sizeof long_name - 1);
}

static void run_calls(long count, int may_fork);

/* ----- execve of a small generated ELF with random header fields ----- */

struct elf_image {
    unsigned char e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
    struct {
        uint32_t p_type, p_flags;
        uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
    } ph[4];
    unsigned char code[16];
    char interp[32];
};

static uint64_t elf_u64(uint64_t good)
{
    if (!one_in(16))
        return good;
    return PICK(0, 1, ~0ull, 0x8000000000000000ull, 0x0000800000000000ull, 0x7ffffffff000ull, good + 1, good - 4096,
                good << 20, rnd(), 1ull << 47, 0x400000);
}

/* A valid static ELF (one PT_LOAD, code: exit(0)), then random damage. */
static void write_random_elf(const char *path)
{
    struct elf_image e;
    memset(&e, 0, sizeof e);
    memcpy(e.e_ident, "\x7f" "ELF\x02\x01\x01", 7);
    int dyn = one_in(2);
    uint64_t base = dyn ? 0 : 0x400000;
    uint64_t code_off = offsetof(struct elf_image, code);
    e.e_type = dyn ? 3 : 2;
    e.e_machine = 62;
    e.e_version = 1;
    e.e_entry = base + code_off;
    e.e_phoff = offsetof(struct elf_image, ph);
    e.e_ehsize = 64;
    e.e_phentsize = 56;
    e.e_phnum = 1 + (uint16_t)below(4);
    e.ph[0].p_type = 1;
    e.ph[0].p_flags = 5;
    e.ph[0].p_offset = 0;
    e.ph[0].p_vaddr = e.ph[0].p_paddr = base;
    e.ph[0].p_filesz = e.ph[0].p_memsz = sizeof e;
    e.ph[0].p_align = 4096;
    static const uint32_t types[] = {1, 1, 3, 0x6474e551, 0x6474e552, 4, 6, 7, 0x6474e553, 2, 0x70000001};
    for (int i = 1; i < 4; i++) {
        e.ph[i].p_type = types[below(sizeof types / sizeof types[0])];
        e.ph[i].p_flags = (uint32_t)below(8);
        e.ph[i].p_offset = one_in(2) ? 0 : below(sizeof e);
        e.ph[i].p_vaddr = e.ph[i].p_paddr = base + 4096 * below(64) + (one_in(4) ? below(4096) : 0);
        if (one_in(2)) /* congruent with the offset, as a loader wants */
            e.ph[i].p_vaddr = e.ph[i].p_paddr = (e.ph[i].p_vaddr & ~4095ull) + (e.ph[i].p_offset & 4095);
        e.ph[i].p_filesz = below(sizeof e);
        e.ph[i].p_memsz = e.ph[i].p_filesz + (one_in(2) ? 4096 * below(1024) : 0);
        e.ph[i].p_align = one_in(2) ? 4096 : 1ull << below(40);
        if (e.ph[i].p_type == 3) { /* PT_INTERP */
            static const char *const interps[] = {"/proc/self/exe", "f0", "/lib64/ld-linux-x86-64.so.2", "nonexistent",
                                                  "/etc/passwd", "d0", "self.elf"};
            const char *in = interps[below(sizeof interps / sizeof interps[0])];
            strncpy(e.interp, in, sizeof e.interp - 1);
            e.ph[i].p_offset = offsetof(struct elf_image, interp);
            e.ph[i].p_filesz = strlen(e.interp) + (one_in(4) ? below(3) : 1);
        }
    }
    /* mov eax, 60; xor edi, edi; syscall */
    static const unsigned char code[] = {0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
    memcpy(e.code, code, sizeof code);
    /* Damage. */
    e.e_entry = elf_u64(e.e_entry);
    e.e_phoff = elf_u64(e.e_phoff);
    if (one_in(8))
        e.e_phnum = (uint16_t)PICK(0, 5, 512, 513, 0xffff, below(20));
    if (one_in(8))
        e.e_phentsize = (uint16_t)PICK(0, 32, 55, 57, 64, 0xffff);
    if (one_in(10))
        e.e_type = (uint16_t)below(6);
    for (int i = 0; i < 4; i++) {
        e.ph[i].p_offset = elf_u64(e.ph[i].p_offset);
        e.ph[i].p_vaddr = elf_u64(e.ph[i].p_vaddr);
        e.ph[i].p_filesz = elf_u64(e.ph[i].p_filesz);
        e.ph[i].p_memsz = elf_u64(e.ph[i].p_memsz);
        e.ph[i].p_align = elf_u64(e.ph[i].p_align);
        if (one_in(6))
            e.ph[i].p_flags = (uint32_t)rnd();
    }
    if (one_in(3))
        ((unsigned char *)&e)[below(sizeof e)] = (unsigned char)rnd();
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0755);
    if (fd < 0)
        return;
    size_t len = one_in(8) ? below(sizeof e) : sizeof e; /* sometimes truncated */
    write(fd, &e, len);
    close(fd);
}

/* Write a damaged ELF and exec it in a child: execve fails, or the image
 * runs and exits or dies; SIGKILL ends it after 300 ms in any case. */
static void planned_exec(void)
{
    static const char path[] = "self.elf";
    write_random_elf(path);
    pid_t c = fork();
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char *argv[] = {"elf", NULL}, *envp[] = {NULL};
        raw6(SYS_execve, (long)path, (long)argv, (long)envp, 0, 0, 0);
        raw6(SYS_exit, 127, 0, 0, 0, 0, 0);
    }
    if (c < 0)
        return;
    long long start = mono_ms(), killed = 0;
    for (;;) {
        int st;
        pid_t r = waitpid(c, &st, WNOHANG);
        if (r == c && trace) {
            char line[96];
            int n = snprintf(line, sizeof line, "w%d exec of a damaged ELF: %s %d\n", my_slot,
                             WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            raw6(SYS_write, trace_fd, (long)line, n, 0, 0, 0);
        }
        if (r == c || (r < 0 && errno == ECHILD))
            return;
        long long now = mono_ms();
        if (!killed && now - start > 300) {
            kill(c, SIGKILL);
            killed = now;
        }
        if (killed && now - killed > KILL_GRACE_MS) {
            sh->slot[my_slot].child_stuck = c;
            return;
        }
        struct timespec t = {0, 2000000};
        nanosleep(&t, NULL);
    }
}

/* fork() a child that makes a few calls, then wait for it (at most
 * 200 ms, then SIGKILL, which must end it within KILL_GRACE_MS). */
static void planned_fork(void)
{
    pid_t c = fork();
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        rng = splitmix(rng ^ 0x636869ull) | 1; /* not the parent's next calls */
        self_pid = getpid();
        child_pid = 0;
        set_up_signals();
        run_calls(16, 0);
        _exit(0);
    }
    if (c < 0)
        return;
    child_pid = c;
    long long start = mono_ms(), killed = 0;
    for (;;) {
        int st;
        pid_t r = waitpid(c, &st, WNOHANG);
        if (r == c || (r < 0 && errno == ECHILD))
            return;
        long long now = mono_ms();
        if (!killed && now - start > 200) {
            kill(c, SIGKILL);
            killed = now;
        }
        if (killed && now - killed > KILL_GRACE_MS) {
            sh->slot[my_slot].child_stuck = c;
            return;
        }
        struct timespec t = {0, 2000000};
        nanosleep(&t, NULL);
    }
}

static void run_calls(long count, int may_fork)
{
    volatile long done = 0;
    sigsetjmp(env, 1);
    while (done < count) {
        done++;
        if (done % 32 == 1)
            set_up_signals();
        if (may_fork && one_in(64))
            planned_fork();
        if (may_fork && one_in(48))
            planned_exec();
        if (one_in(8))
            touch_a_mapping();
        one_call();
    }
}

static void worker_main(int slot, long gen, long calls, const char *top)
{
    my_slot = slot;
    my_gen = gen;
    rng = splitmix(seed ^ splitmix(((uint64_t)slot << 32) ^ (uint64_t)gen)) | 1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    self_pid = getpid();
    child_pid = 0;
    if (trace)
        trace_fd = fcntl(2, F_DUPFD_CLOEXEC, 900);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2)
        close(null);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/w%d-g%ld", top, slot, gen);
    if (mkdir(dir, 0755) < 0 || chdir(dir) < 0)
        _exit(5);
    struct rlimit fsize = {16 << 20, 16 << 20}, core = {0, 0};
    setrlimit(RLIMIT_FSIZE, &fsize);
    setrlimit(RLIMIT_CORE, &core);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now_real_sec = now.tv_sec;
    map_regions();
    make_files();
    open_fds();
    set_up_signals();
    run_calls(calls, 1);
    _exit(0);
}

/* ---------- the parent ---------- */

static int under_vkernel(void)
{
    if (getpid() != 1)
        return 0;
    char text[512] = {0};
    int fd = open("/proc/version", O_RDONLY);
    if (fd < 0)
        return 0;
    read(fd, text, sizeof text - 1);
    close(fd);
    if (!strstr(text, "(vkernel)"))
        return 0;
    memset(text, 0, sizeof text);
    fd = open("/proc/mounts", O_RDONLY);
    if (fd < 0)
        return 0;
    read(fd, text, sizeof text - 1);
    close(fd);
    /* The root is vkernel's copy-on-write overlay, or with --read-only the
     * read-only host view: either way nothing reaches the host. */
    return strncmp(text, "overlay / overlay rw", 20) == 0 || strncmp(text, "/ / hostfs ro", 13) == 0;
}

static void remove_tree(const char *path, int depth)
{
    struct stat st;
    if (depth > 32 || lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            char sub[4096];
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub, depth + 1);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

struct worker {
    pid_t pid;
    long gen;
    long assigned; /* calls it was given */
    long long started, killed;
    int lost; /* did not die of SIGKILL: the slot is given up */
};

static long ends_exit[256], ends_signal[65], ends_timeout, lost_count, gens;

static void report_lost(int slot, const char *what)
{
    struct slot_state *s = &sh->slot[slot];
    long nr = s->nr;
    const char *name = nr >= 0 && nr < MAX_NR && by_nr[nr] ? by_nr[nr]->name : "?";
    printf("FUZZ HANG: %s; worker %d generation %ld, after %ld calls; last call %s(%ld) %#lx %#lx %#lx %#lx %#lx %#lx\n",
           what, slot, s->gen, s->calls, name, nr, (unsigned long)s->args[0], (unsigned long)s->args[1],
           (unsigned long)s->args[2], (unsigned long)s->args[3], (unsigned long)s->args[4], (unsigned long)s->args[5]);
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr, "usage: syscall_fuzz [-w WORKERS] [-d SECONDS] [-s NAME,NR,...] [-t] [-v] [-p PATH]... SEED CALLS\n");
    exit(2);
}

static void parse_skip(char *list)
{
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        char *end;
        long n = strtol(tok, &end, 0);
        if (*end == 0 && n >= 0 && n < MAX_NR) {
            never[n] = 1;
            continue;
        }
        int found = 0;
        for (unsigned i = 0; i < sizeof sysdefs / sizeof sysdefs[0]; i++)
            if (!strcmp(sysdefs[i].name, tok)) {
                never[sysdefs[i].nr] = 1;
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "syscall_fuzz: -s: no system call named %s\n", tok);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], exec_child_flag))
        _exit(0);
    int opt;
    while ((opt = getopt(argc, argv, "w:d:s:tvp:")) != -1) {
        switch (opt) {
        case 'w': workers = atoi(optarg); break;
        case 'd': seconds = atoi(optarg); break;
        case 's': parse_skip(optarg); break;
        case 't': tame = 1; break;
        case 'v': trace = 1; break;
        case 'p':
            if (n_extra + 2 <= (int)(sizeof extra_paths / sizeof extra_paths[0])) {
                extra_paths[n_extra++] = optarg;
                char *victim = malloc(strlen(optarg) + 8);
                sprintf(victim, "%s/victim", optarg);
                extra_paths[n_extra++] = victim;
            }
            break;
        default: usage();
        }
    }
    if (argc - optind != 2 || workers < 1 || workers > MAX_WORKERS || seconds < 1)
        usage();
    seed = strtoull(argv[optind], NULL, 0);
    total_calls = strtol(argv[optind + 1], NULL, 0);
    if (!under_vkernel()) {
        fprintf(stderr, "syscall_fuzz: refusing to run: this is not PID 1 under vkernel. Random system calls on a real "
                        "kernel could damage the machine; run it as `vkernel -- syscall_fuzz ...`\n");
        return 2;
    }
    for (unsigned i = 0; i < sizeof sysdefs / sizeof sysdefs[0]; i++) {
        by_nr[sysdefs[i].nr] = &sysdefs[i];
        if (sysdefs[i].sig[0] == '!' || sysdefs[i].sig[0] == '#')
            never[sysdefs[i].nr] = 1;
    }
    static const char *const fd_makers[] = {
        "open", "openat", "openat2", "creat", "dup", "dup2", "dup3", "fcntl", "socket", "accept", "accept4",
        "epoll_create", "epoll_create1", "eventfd", "eventfd2", "memfd_create", "timerfd_create", "signalfd",
        "signalfd4", "inotify_init", "inotify_init1", "pidfd_open", "pidfd_getfd", "userfaultfd", "perf_event_open",
        "fanotify_init", "io_uring_setup", "open_by_handle_at", "memfd_secret", "mq_open"};
    static const char *const pair_makers[] = {"pipe", "pipe2", "socketpair"};
    static const char *const map_makers[] = {"mmap", "mremap", "shmat"};
    for (unsigned j = 0; j < sizeof sysdefs / sizeof sysdefs[0]; j++) {
        for (unsigned i = 0; i < sizeof fd_makers / sizeof fd_makers[0]; i++)
            creates_fd[sysdefs[j].nr] |= !strcmp(fd_makers[i], sysdefs[j].name);
        for (unsigned i = 0; i < sizeof pair_makers / sizeof pair_makers[0]; i++)
            creates_fd_pair[sysdefs[j].nr] |= !strcmp(pair_makers[i], sysdefs[j].name);
        for (unsigned i = 0; i < sizeof map_makers / sizeof map_makers[0]; i++)
            creates_map[sysdefs[j].nr] |= !strcmp(map_makers[i], sysdefs[j].name);
    }
    for (unsigned i = 0; i < sizeof focus_names / sizeof focus_names[0]; i++)
        for (unsigned j = 0; j < sizeof sysdefs / sizeof sysdefs[0]; j++)
            if (!strcmp(focus_names[i], sysdefs[j].name) && !never[sysdefs[j].nr])
                focus[n_focus++] = sysdefs[j].nr;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        printf("FUZZ SETUP: mmap: %s\n", strerror(errno));
        return 1;
    }
    char top[] = "/tmp/vk-fuzz-XXXXXX";
    if (!mkdtemp(top)) {
        printf("FUZZ SETUP: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("syscall_fuzz: seed %llu, %ld calls, %d workers, %d s limit%s\n", (unsigned long long)seed, total_calls,
           workers, seconds, tame ? ", tame times" : "");
    fflush(stdout);

    struct worker w[MAX_WORKERS];
    memset(w, 0, sizeof w);
    long long start = mono_ms(), deadline = start + seconds * 1000ll;
    long done = 0, started = 0;
    for (;;) {
        long long now = mono_ms();
        int live = 0, usable = 0;
        for (int i = 0; i < workers; i++) {
            if (w[i].pid > 0)
                live++;
            if (!w[i].lost)
                usable++;
        }
        /* Start workers while calls remain to be made. */
        for (int i = 0; i < workers && now < deadline; i++) {
            if (w[i].pid || w[i].lost || started >= total_calls)
                continue;
            long calls = total_calls - started < CALLS_PER_GENERATION ? total_calls - started : CALLS_PER_GENERATION;
            sh->slot[i].calls = 0;
            sh->slot[i].gen = ++w[i].gen;
            sh->slot[i].nr = -1;
            sh->slot[i].child_stuck = 0;
            fflush(stdout);
            pid_t p = fork();
            if (p == 0)
                worker_main(i, w[i].gen, calls, top);
            if (p < 0) {
                printf("FUZZ: fork: %s\n", strerror(errno));
                break;
            }
            w[i].pid = p;
            w[i].started = now;
            w[i].killed = 0;
            w[i].assigned = calls;
            started += calls;
            gens++;
            live++;
        }
        if (!live && (started >= total_calls || now >= deadline || !usable))
            break;
        /* Reap. */
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            for (int i = 0; i < workers; i++) {
                if (w[i].pid != p)
                    continue;
                done += sh->slot[i].calls;
                /* Calls it did not make go back to the pool. */
                started -= w[i].assigned - sh->slot[i].calls;
                if (w[i].killed)
                    ends_timeout++;
                else if (WIFEXITED(st))
                    ends_exit[WEXITSTATUS(st)]++;
                else if (WIFSIGNALED(st) && WTERMSIG(st) < 65)
                    ends_signal[WTERMSIG(st)]++;
                char dir[256];
                snprintf(dir, sizeof dir, "%s/w%d-g%ld", top, i, w[i].gen);
                remove_tree(dir, 0);
                if (sh->slot[i].child_stuck) {
                    report_lost(i, "a planned-fork child outlived SIGKILL by 5 s");
                    lost_count++;
                }
                w[i].pid = 0;
            }
        }
        /* Time slices and lost workers. */
        for (int i = 0; i < workers; i++) {
            if (w[i].pid <= 0)
                continue;
            if (!w[i].killed && (now - w[i].started > SLICE_MS || now >= deadline)) {
                kill(w[i].pid, SIGKILL);
                w[i].killed = now;
            } else if (w[i].killed && now - w[i].killed > KILL_GRACE_MS) {
                report_lost(i, "worker not gone 5 s after SIGKILL");
                lost_count++;
                w[i].lost = 1;
                w[i].pid = -1; /* never reaped: stop waiting for it */
            }
        }
        struct timespec t = {0, 5000000};
        nanosleep(&t, NULL);
    }
    /* Everything left (orphans of workers, children that escaped) must die
     * of one SIGKILL sweep. */
    kill(-1, SIGKILL);
    long long sweep = mono_ms();
    int left = 0;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == ECHILD)
            break;
        if (p > 0)
            continue;
        if (mono_ms() - sweep > KILL_GRACE_MS) {
            left = 1;
            break;
        }
        struct timespec t = {0, 5000000};
        nanosleep(&t, NULL);
    }
    if (left && !lost_count) {
        printf("FUZZ HANG: processes left 5 s after kill(-1, SIGKILL)\n");
        /* Likely a planned-fork child of one of these (it shares the
         * record of its worker's slot). */
        for (int i = 0; i < workers; i++)
            report_lost(i, "a process of this slot may be the one left");
        lost_count++;
    }
    remove_tree(top, 0);
    long long ms = mono_ms() - start;
    printf("syscall_fuzz: %ld calls made in %ld worker generations, %lld.%03lld s\n", done, gens, ms / 1000, ms % 1000);
    printf("  worker ends:");
    for (int i = 0; i < 256; i++)
        if (ends_exit[i])
            printf(" exit %d: %ld,", i, ends_exit[i]);
    for (int i = 1; i < 65; i++)
        if (ends_signal[i])
            printf(" %s: %ld,", strsignal(i), ends_signal[i]);
    printf(" time slice over: %ld\n", ends_timeout);
    printf("FUZZ RESULT: %s\n", lost_count ? "FAIL (processes the kernel lost)" : "ok");
    fflush(stdout);
    return lost_count ? 1 : 0;
}
