/* Shared helpers for guest test programs.
 *
 * Every program prints facts that are the same natively and under vkernel
 * (never pids, addresses, times or host-specific numbers) and exits 0 when
 * every expectation held, 1 otherwise. The Rust harness compares the whole
 * stdout, stderr and exit status of a native run with a run under vkernel. */
#ifndef VK_GUEST_COMMON_H
#define VK_GUEST_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int vk_failures;

static __attribute__((unused)) const char *errname(int e)
{
    static char buf[32];
    switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
    E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
    E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR)
    E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK)
    E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG)
    E(EIDRM) E(ENODATA) E(EOVERFLOW) E(EBADFD) E(ENOTSOCK) E(EOPNOTSUPP)
    E(EADDRINUSE) E(ETIMEDOUT) E(ECONNREFUSED) E(EALREADY) E(EINPROGRESS)
    E(ESTALE) E(EDQUOT) E(ECANCELED) E(EOWNERDEAD) E(ENOTRECOVERABLE)
    E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(ESOCKTNOSUPPORT) E(EAFNOSUPPORT) E(ECONNRESET) E(EISCONN) E(ENOTCONN)
    E(ETOOMANYREFS) E(ENOBUFS) E(ECONNABORTED) E(EDESTADDRREQ) E(EADDRNOTAVAIL)
#undef E
    case 0: return "OK";
    }
    snprintf(buf, sizeof buf, "E#%d", e);
    return buf;
}

/* Print "label: <value>" or "label: -1 ENAME" for a call returning a number
 * whose value is deterministic (byte counts, fd numbers, 0). */
#define SHOW(label, expr)                                                     \
    do {                                                                      \
        errno = 0;                                                            \
        long vk_r_ = (long)(expr);                                            \
        int vk_e_ = errno;                                                    \
        if (vk_r_ == -1)                                                      \
            printf("%s: -1 %s\n", (label), errname(vk_e_));                   \
        else                                                                  \
            printf("%s: %ld\n", (label), vk_r_);                              \
    } while (0)

/* Expect a call to fail with errno `want`; prints the outcome. */
#define EXPECT_ERR(label, expr, want)                                         \
    do {                                                                      \
        errno = 0;                                                            \
        long vk_r_ = (long)(expr);                                            \
        int vk_e_ = errno;                                                    \
        if (vk_r_ == -1) {                                                    \
            printf("%s: -1 %s\n", (label), errname(vk_e_));                   \
            if (vk_e_ != (want)) {                                            \
                printf("  FAIL: expected %s\n", errname(want));               \
                vk_failures++;                                                \
            }                                                                 \
        } else {                                                              \
            printf("%s: %ld  FAIL: expected -1 %s\n", (label), vk_r_,         \
                   errname(want));                                            \
            vk_failures++;                                                    \
        }                                                                     \
    } while (0)

/* Expect a call to return exactly `want`. */
#define EXPECT_EQ(label, expr, want)                                          \
    do {                                                                      \
        errno = 0;                                                            \
        long vk_r_ = (long)(expr);                                            \
        int vk_e_ = errno;                                                    \
        long vk_w_ = (long)(want);                                            \
        if (vk_r_ == -1 && vk_w_ != -1)                                       \
            printf("%s: -1 %s", (label), errname(vk_e_));                     \
        else                                                                  \
            printf("%s: %ld", (label), vk_r_);                                \
        if (vk_r_ != vk_w_) {                                                 \
            printf("  FAIL: expected %ld", vk_w_);                            \
            vk_failures++;                                                    \
        }                                                                     \
        printf("\n");                                                         \
    } while (0)

/* Expect a call to succeed (return value not -1; the value may vary, so it
 * is not printed). */
#define EXPECT_OK(label, expr)                                                \
    do {                                                                      \
        errno = 0;                                                            \
        long vk_r_ = (long)(expr);                                            \
        int vk_e_ = errno;                                                    \
        if (vk_r_ == -1) {                                                    \
            printf("%s: -1 %s  FAIL: expected success\n", (label),            \
                   errname(vk_e_));                                           \
            vk_failures++;                                                    \
        } else {                                                              \
            printf("%s: ok\n", (label));                                      \
        }                                                                     \
    } while (0)

/* A boolean fact that must hold. */
#define CHECK(label, cond)                                                    \
    do {                                                                      \
        int vk_c_ = !!(cond);                                                 \
        printf("%s: %s\n", (label), vk_c_ ? "yes" : "no");                    \
        if (!vk_c_)                                                           \
            vk_failures++;                                                    \
    } while (0)

static __attribute__((unused)) int finish(void)
{
    printf("failures: %d\n", vk_failures);
    fflush(stdout);
    return vk_failures ? 1 : 0;
}

#endif
