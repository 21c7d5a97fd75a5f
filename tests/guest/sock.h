/* Helpers for the unix socket guest programs: addresses, poll masks in
 * words, fd passing. Sockets bound in the filesystem live in scratch()
 * (a private directory under /tmp; under vkernel, the guest's tmpfs). */
#ifndef VK_GUEST_SOCK_H
#define VK_GUEST_SOCK_H

#include "proc.h"
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

/* A path address in the scratch directory; *len is the length with the
 * terminating NUL. */
static __attribute__((unused)) struct sockaddr_un path_addr(const char *name, socklen_t *len)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", scratch(), name);
    *len = offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1;
    return a;
}

/* An abstract address: a NUL, then `name` (no terminator), made unique to
 * this run so native runs do not meet other programs' names. */
static __attribute__((unused)) struct sockaddr_un abstract_addr(const char *name, socklen_t *len)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "vk-test%s-%s", scratch() + 13, name);
    *len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    return a;
}

/* poll() revents in words, e.g. "IN OUT HUP". */
static __attribute__((unused)) const char *pollstr(int fd, short events)
{
    static char buf[4][96];
    static int slot;
    char *b = buf[slot++ & 3];
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, 0);
    b[0] = 0;
    if (r < 0) {
        snprintf(b, 96, "poll: %s", errname(errno));
        return b;
    }
#define P(x) if (p.revents & x) strcat(b, #x + 4), strcat(b, " ");
    P(POLLIN) P(POLLPRI) P(POLLOUT) P(POLLERR) P(POLLHUP) P(POLLNVAL) P(POLLRDHUP)
#undef P
    if (!b[0])
        strcpy(b, "none ");
    b[strlen(b) - 1] = 0;
    return b;
}

/* Sends `n` fds with one byte of data; returns sendmsg's result. */
static __attribute__((unused)) long send_fds(int sock, const int *fds, int n, int flags)
{
    char byte = 'F';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(256 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (n > 0) {
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    return sendmsg(sock, &m, flags);
}

/* Receives one message with up to `max` fds into fds[]; returns the byte
 * count, *nfds the fds received and *mflags msg_flags. */
static __attribute__((unused)) long recv_fds(int sock, int *fds, int max, int *nfds, int flags, int *mflags)
{
    char data[64];
    struct iovec iov = {data, sizeof data};
    union {
        char buf[CMSG_SPACE(256 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = max > 0 ? CMSG_LEN(max * sizeof(int)) : 0;
    if (max == 0)
        m.msg_control = NULL;
    long r = recvmsg(sock, &m, flags);
    *nfds = 0;
    if (mflags)
        *mflags = m.msg_flags;
    if (r < 0)
        return r;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
            *nfds += k;
        }
    return r;
}

static __attribute__((unused)) int sockopt_int(int fd, int name)
{
    int v = -12345;
    socklen_t l = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &l) < 0)
        return -errno - 100000;
    return v;
}

#endif
