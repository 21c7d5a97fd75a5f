/* Helpers for the event and IPC guest programs (event_*.c): what an fd is
 * (its /proc link and fdinfo lines), poll with a timeout, and a child that
 * does something after a delay. Built on proc.h: signal and process work
 * happens in forked sections. */
#ifndef VK_GUEST_EVENT_H
#define VK_GUEST_EVENT_H

#include "proc.h"
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>

/* readlink of /proc/self/fd/N, or "<error>". */
static __attribute__((unused)) const char *fd_link(int fd)
{
    static char buf[256];
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    long n = readlink(p, buf, sizeof buf - 1);
    if (n < 0)
        snprintf(buf, sizeof buf, "<%s>", errname(errno));
    else
        buf[n] = 0;
    return buf;
}

/* The line of /proc/self/fdinfo/N that starts with `key`, without the
 * newline, or "<none>". */
static __attribute__((unused)) const char *fdinfo_line(int fd, const char *key)
{
    static char line[256];
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(p, "r");
    if (!f) {
        snprintf(line, sizeof line, "<%s>", errname(errno));
        return line;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, strlen(key))) {
            line[strcspn(line, "\n")] = 0;
            fclose(f);
            return line;
        }
    }
    fclose(f);
    return "<none>";
}

/* poll one fd for `events` for up to ms milliseconds; returns revents (0
 * on timeout, -1 on error). */
static __attribute__((unused)) int poll_one(int fd, short events, int ms)
{
    struct pollfd p = {fd, events, 0};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return r < 0 ? -1 : r == 0 ? 0 : p.revents;
}

/* Names for poll bits, for printing. */
static __attribute__((unused)) const char *pollbits(int r)
{
    static char buf[4][96];
    static int slot;
    char *b = buf[slot++ & 3];
    if (r < 0) {
        snprintf(b, 96, "error %s", errname(errno));
        return b;
    }
    b[0] = 0;
#define P(x) if (r & x) strcat(b, b[0] ? "|" #x : #x);
    P(POLLIN) P(POLLPRI) P(POLLOUT) P(POLLERR) P(POLLHUP) P(POLLNVAL) P(POLLRDNORM) P(POLLWRNORM)
#undef P
    if (!b[0])
        strcpy(b, "none");
    return b;
}

/* epoll_wait for one event for up to ms; returns the event mask, 0 on
 * timeout, -1 on error. */
static __attribute__((unused)) int epoll_one(int ep, int ms, uint64_t *data)
{
    struct epoll_event ev;
    int r;
    while ((r = epoll_wait(ep, &ev, 1, ms)) < 0 && errno == EINTR)
        ;
    if (r <= 0)
        return r;
    if (data)
        *data = ev.data.u64;
    return (int)ev.events;
}

/* Milliseconds since `start_ns` (now_ns()). */
static __attribute__((unused)) long ms_since(long long start_ns)
{
    return (long)((now_ns() - start_ns) / 1000000);
}

#endif
