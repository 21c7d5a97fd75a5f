/* AF_UNIX datagram sockets: message boundaries, truncation (MSG_TRUNC in
 * flags and as a request), MSG_PEEK, zero-length datagrams, EMSGSIZE,
 * shutdown, a closed peer (ECONNREFUSED, then ENOTCONN), sendto/recvfrom
 * with path, abstract and unbound sources, sendto's errors, the
 * receiver's queue limit (net.unix.max_dgram_qlen: EAGAIN, a blocking
 * sender and a poller woken when it drains, SO_SNDTIMEO), connect and
 * disconnect (AF_UNSPEC), EPERM towards a socket connected elsewhere, a
 * changed peer dropping the old peer's messages, sendmmsg and recvmmsg,
 * and msghdr validation. */
#include "sock.h"
#include <sys/ioctl.h>

#define MSG_CMSG_COMPAT 0x80000000u /* include/linux/socket.h */

static void pair_datagrams(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    printf("datagram pair: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    send(sv[0], "one", 3, 0);
    send(sv[0], "three", 5, 0);
    send(sv[0], "", 0, 0);
    send(sv[0], "fourteen bytes", 14, 0);
    int avail = -1;
    ioctl(sv[1], FIONREAD, &avail);
    EXPECT_EQ("FIONREAD is the first datagram's size", avail, 3);
    char buf[64];
    EXPECT_EQ("recv 64 gets one datagram", recv(sv[1], buf, sizeof buf, 0), 3);
    EXPECT_EQ("recv MSG_PEEK 2 of the next", recv(sv[1], buf, 2, MSG_PEEK), 2);
    EXPECT_EQ("recv MSG_PEEK|MSG_TRUNC 2: the full length", recv(sv[1], buf, 2, MSG_PEEK | MSG_TRUNC), 5);
    struct iovec iov = {buf, 2};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    EXPECT_EQ("recvmsg into 2 bytes", recvmsg(sv[1], &m, 0), 2);
    printf("  msg_flags MSG_TRUNC: %s\n", m.msg_flags & MSG_TRUNC ? "yes" : "no");
    EXPECT_EQ("the zero-length datagram", recv(sv[1], buf, sizeof buf, 0), 0);
    EXPECT_EQ("recv 4 with MSG_TRUNC: the full length", recv(sv[1], buf, 4, MSG_TRUNC), 14);
    EXPECT_ERR("then nothing", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    struct iovec wv[2] = {{"ab", 2}, {"cd", 2}};
    EXPECT_EQ("writev is one datagram", writev(sv[0], wv, 2), 4);
    EXPECT_EQ("  read", read(sv[1], buf, sizeof buf), 4);
    int sndbuf = sockopt_int(sv[0], SO_SNDBUF);
    static char big[300000];
    EXPECT_EQ("a datagram of SO_SNDBUF - 32 bytes", send(sv[0], big, sndbuf - 32, 0), sndbuf - 32);
    EXPECT_ERR("one of SO_SNDBUF - 31", send(sv[0], big, sndbuf - 31, 0), EMSGSIZE);
    EXPECT_EQ("  the big one arrives whole", recv(sv[1], big, sizeof big, 0), sndbuf - 32);
    int v = 2000;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    EXPECT_ERR("with SO_SNDBUF 2000 (4608), 4577 bytes", send(sv[0], big, 4577, 0), EMSGSIZE);
    EXPECT_EQ("  4576 bytes", send(sv[0], big, 4576, 0), 4576);
    recv(sv[1], big, sizeof big, 0);

    EXPECT_EQ("shutdown SHUT_RD on the receiver", shutdown(sv[1], SHUT_RD), 0);
    printf("  receiver %s, sender %s\n", pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP), pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  send to it", send(sv[0], "x", 1, 0), EPIPE);
    EXPECT_ERR("  its recv, non-blocking", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    EXPECT_EQ("  its recv, blocking: end of file", recv(sv[1], buf, sizeof buf, 0), 0);
    EXPECT_EQ("  it still sends", send(sv[1], "y", 1, 0), 1);
    EXPECT_EQ("shutdown SHUT_WR on the other", shutdown(sv[0], SHUT_WR), 0);
    pid_t c = xfork();
    if (c == 0) {
        long r = send(sv[0], "z", 1, 0);
        printf("  its send: %ld %s\n", r, errname(errno));
        fflush(stdout);
        _exit(0);
    }
    printf("  (SIGPIPE's default action left it %s)\n", status_str(wait_status(c, 0)));
    EXPECT_EQ("  it still receives", recv(sv[0], buf, sizeof buf, 0), 1);
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[1], "pending", 7, 0);
    close(sv[1]);
    printf("peer closed: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_EQ("  what it sent is still there", recv(sv[0], buf, sizeof buf, 0), 7);
    EXPECT_ERR("  a send", send(sv[0], "x", 1, 0), ECONNREFUSED);
    EXPECT_ERR("  the next", send(sv[0], "x", 1, 0), ENOTCONN);
    printf("  then: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    close(sv[0]);
}

static void show_source(const char *label, int fd)
{
    char buf[64];
    struct sockaddr_un from;
    memset(&from, 0x55, sizeof from);
    socklen_t fl = sizeof from;
    long n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n < 0) {
        printf("%s: -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: %ld bytes from a %d-byte address", label, n, (int)fl);
    if (fl > 2 && from.sun_path[0])
        printf(" (a path%s)", strncmp(from.sun_path, scratch(), strlen(scratch())) == 0 ? " in the scratch directory" : "");
    else if (fl > 2)
        printf(" (abstract)");
    printf("\n");
}

static void bound_datagrams(void)
{
    socklen_t len, cl;
    struct sockaddr_un srv = path_addr("dsrv", &len);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(s, (struct sockaddr *)&srv, len);
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_EQ("sendto a path from an unbound socket", sendto(u, "anon", 4, 0, (struct sockaddr *)&srv, len), 4);
    show_source("  recvfrom", s);
    struct sockaddr_un pc = path_addr("dclient", &cl);
    int p = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(p, (struct sockaddr *)&pc, cl);
    sendto(p, "path", 4, 0, (struct sockaddr *)&srv, len);
    show_source("from a socket bound to a path", s);
    socklen_t al;
    struct sockaddr_un ab = abstract_addr("dgram-client", &al);
    int q = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(q, (struct sockaddr *)&ab, al);
    sendto(q, "abstract", 8, 0, (struct sockaddr *)&srv, len);
    show_source("from an abstract name", s);
    char buf[64];
    socklen_t fl = 1;
    struct sockaddr_un from;
    sendto(p, "x", 1, 0, (struct sockaddr *)&srv, len);
    recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("recvfrom with a 1-byte address buffer: addrlen %d\n", (int)fl);
    sendto(p, "x", 1, 0, (struct sockaddr *)&srv, len);
    fl = sizeof from;
    EXPECT_ERR("recvfrom with a bad address pointer", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)8, &fl), EFAULT);
    EXPECT_ERR("  (the datagram was taken)", recv(s, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    struct sockaddr_un miss = path_addr("nobody", &fl);
    EXPECT_ERR("sendto a missing path", sendto(u, "x", 1, 0, (struct sockaddr *)&miss, fl), ENOENT);
    EXPECT_ERR("send without an address, unconnected", send(u, "x", 1, 0), ENOTCONN);
    EXPECT_ERR("sendto with addrlen 1", sendto(u, "x", 1, 0, (struct sockaddr *)&srv, 1), EINVAL);
    EXPECT_ERR("sendto with addrlen 200", sendto(u, "x", 1, 0, (struct sockaddr *)&srv, 200), EINVAL);
    EXPECT_EQ("sendto with addrlen 0 is a send", sendto(u, "x", 1, 0, (struct sockaddr *)&srv, 0) < 0 && errno == ENOTCONN, 1);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sp = path_addr("stream-listener", &fl);
    bind(l, (struct sockaddr *)&sp, fl);
    listen(l, 1);
    EXPECT_ERR("sendto a stream listener", sendto(u, "x", 1, 0, (struct sockaddr *)&sp, fl), EPROTOTYPE);
    close(l);
    struct sockaddr_un nob = abstract_addr("no-such", &fl);
    EXPECT_ERR("sendto an unbound abstract name", sendto(u, "x", 1, 0, (struct sockaddr *)&nob, fl), ECONNREFUSED);

    /* The queue limit for senders the receiver is not connected to. */
    int n = 0;
    while (sendto(u, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&srv, len) == 1)
        n++;
    int e = errno;
    printf("datagrams queued from an unconnected sender until %s: %d\n", errname(e), n);
    printf("  the receiver polls %s\n", pollstr(s, POLLIN | POLLOUT));
    recv(s, buf, sizeof buf, 0);
    EXPECT_EQ("  after one is read, one more fits", sendto(u, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&srv, len), 1);
    EXPECT_ERR("  and no more", sendto(p, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&srv, len), EAGAIN);
    connect(u, (struct sockaddr *)&srv, len);
    printf("  a sender connected to it polls %s\n", pollstr(u, POLLOUT));
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(150);
        for (int i = 0; i < 3; i++)
            recv(s, buf, sizeof buf, 0);
        _exit(0);
    }
    struct pollfd pf = {u, POLLOUT, 0};
    int r = poll(&pf, 1, 5000);
    printf("  poll for POLLOUT wakes when the receiver drains: %d %s\n", r, r == 1 && (pf.revents & POLLOUT) ? "POLLOUT" : "no");
    wait_status(c, 0);
    while (send(u, "q", 1, MSG_DONTWAIT) == 1)
        ;
    c = xfork();
    if (c == 0) {
        sleep_ms(150);
        recv(s, buf, sizeof buf, 0);
        _exit(0);
    }
    long long t0 = now_ns();
    EXPECT_EQ("a blocking send to a full receiver waits for room", send(u, "w", 1, 0), 1);
    printf("  it waited: %s\n", now_ns() - t0 > 100000000 ? "yes" : "no");
    wait_status(c, 0);
    struct timeval tv = {0, 200000};
    setsockopt(u, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    t0 = now_ns();
    EXPECT_ERR("  with SO_SNDTIMEO it gives up", send(u, "t", 1, 0), EAGAIN);
    printf("  after at least 150 ms: %s\n", now_ns() - t0 >= 150000000 ? "yes" : "no");
    close(u);
    close(p);
    close(q);
    close(s);
}

static void connect_semantics(void)
{
    socklen_t la, lb;
    struct sockaddr_un A = path_addr("dA", &la), B = path_addr("dB", &lb);
    int a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0), x = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(a, (struct sockaddr *)&A, la);
    bind(b, (struct sockaddr *)&B, lb);
    EXPECT_EQ("connect a datagram socket", connect(x, (struct sockaddr *)&A, la), 0);
    struct sockaddr_un pn;
    socklen_t pl = sizeof pn;
    EXPECT_EQ("  getpeername", getpeername(x, (struct sockaddr *)&pn, &pl), 0);
    printf("  peer address length %d\n", (int)pl);
    EXPECT_EQ("  send without an address", send(x, "hi", 2, 0), 2);
    char buf[16];
    EXPECT_EQ("  arrives", recv(a, buf, sizeof buf, MSG_DONTWAIT), 2);
    EXPECT_EQ("  sendto another address still works", sendto(x, "b", 1, 0, (struct sockaddr *)&B, lb), 1);
    recv(b, buf, sizeof buf, MSG_DONTWAIT);
    EXPECT_EQ("connect A to B", connect(a, (struct sockaddr *)&B, lb), 0);
    EXPECT_ERR("  now x may not send to A", send(x, "no", 2, 0), EPERM);
    int y = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_ERR("  nor may a new socket connect to it", connect(y, (struct sockaddr *)&A, la), EPERM);
    EXPECT_EQ("  but B may", sendto(b, "ok", 2, 0, (struct sockaddr *)&A, la), 2);
    EXPECT_EQ("  recv", recv(a, buf, sizeof buf, MSG_DONTWAIT), 2);
    struct sockaddr_un unspec = {AF_UNSPEC, ""};
    EXPECT_EQ("disconnect A (AF_UNSPEC)", connect(a, (struct sockaddr *)&unspec, sizeof unspec), 0);
    pl = sizeof pn;
    EXPECT_ERR("  getpeername", getpeername(a, (struct sockaddr *)&pn, &pl), ENOTCONN);
    EXPECT_ERR("  send", send(a, "x", 1, 0), ENOTCONN);
    EXPECT_EQ("  x may send to it again", send(x, "again", 5, 0), 5);
    EXPECT_ERR("connect with addrlen 1", connect(y, (struct sockaddr *)&unspec, 1), EINVAL);
    EXPECT_EQ("AF_UNSPEC on an unconnected socket", connect(y, (struct sockaddr *)&unspec, 2), 0);
    EXPECT_EQ("connect to itself", connect(a, (struct sockaddr *)&A, la), 0);
    recv(a, buf, sizeof buf, MSG_DONTWAIT);
    EXPECT_EQ("  send to itself", send(a, "self", 4, 0), 4);
    EXPECT_EQ("  recv its own", recv(a, buf, sizeof buf, MSG_DONTWAIT), 4);

    /* A new peer: what the old peer sent is dropped, and a peer that was
     * connected back learns of it. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[1], "old", 3, 0);
    EXPECT_EQ("a pair end connecting elsewhere", connect(sv[0], (struct sockaddr *)&B, lb), 0);
    EXPECT_ERR("  finds its queue emptied", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    EXPECT_EQ("  its old peer's SO_ERROR", sockopt_int(sv[1], SO_ERROR), ECONNRESET);
    close(sv[0]);
    close(sv[1]);

    /* The peer closes. */
    int z = socket(AF_UNIX, SOCK_DGRAM, 0);
    connect(z, (struct sockaddr *)&B, lb);
    close(b);
    EXPECT_ERR("send after the peer closed", send(z, "x", 1, 0), ECONNREFUSED);
    EXPECT_ERR("  then", send(z, "x", 1, 0), ENOTCONN);
    EXPECT_ERR("sendto its old path", sendto(y, "x", 1, 0, (struct sockaddr *)&B, lb), ECONNREFUSED);
    close(z);
    close(y);
    close(x);
    close(a);
}

static void mmsg(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct mmsghdr mm[4];
    struct iovec iov[4];
    char data[4][16];
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 4; i++) {
        snprintf(data[i], sizeof data[i], "message %d", i);
        iov[i].iov_base = data[i];
        iov[i].iov_len = strlen(data[i]) + i;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ("sendmmsg 3", sendmmsg(sv[0], mm, 3, 0), 3);
    printf("  msg_len %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
    EXPECT_EQ("sendmmsg 0", sendmmsg(sv[0], mm, 0, 0), 0);
    mm[1].msg_hdr.msg_iov = (void *)8;
    EXPECT_EQ("sendmmsg 3 with a bad second message", sendmmsg(sv[0], mm, 3, 0), 1);
    mm[0].msg_hdr.msg_iov = (void *)8;
    EXPECT_ERR("  with a bad first one", sendmmsg(sv[0], mm, 3, 0), EFAULT);
    EXPECT_ERR("  with MSG_CMSG_COMPAT", sendmmsg(sv[0], mm, 3, MSG_CMSG_COMPAT), EINVAL);

    char rbuf[4][32];
    struct iovec riov[4];
    struct mmsghdr rm[4];
    memset(rm, 0, sizeof rm);
    for (int i = 0; i < 4; i++) {
        riov[i].iov_base = rbuf[i];
        riov[i].iov_len = sizeof rbuf[i];
        rm[i].msg_hdr.msg_iov = &riov[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    EXPECT_EQ("recvmmsg 4 with MSG_DONTWAIT", recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, NULL), 4);
    printf("  msg_len %u %u %u %u\n", rm[0].msg_len, rm[1].msg_len, rm[2].msg_len, rm[3].msg_len);
    EXPECT_ERR("recvmmsg on an empty socket, non-blocking", recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, NULL), EAGAIN);
    send(sv[0], "a", 1, 0);
    send(sv[0], "b", 1, 0);
    EXPECT_EQ("recvmmsg 4 MSG_WAITFORONE with two queued", recvmmsg(sv[1], rm, 4, MSG_WAITFORONE, NULL), 2);
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(50);
        send(sv[0], "late", 4, 0);
        _exit(0);
    }
    EXPECT_EQ("recvmmsg MSG_WAITFORONE blocks for the first", recvmmsg(sv[1], rm, 4, MSG_WAITFORONE, NULL), 1);
    wait_status(c, 0);
    struct timespec ts = {0, 100000000};
    send(sv[0], "t", 1, 0);
    EXPECT_EQ("recvmmsg with a timeout and one queued: the timeout ends it only after a message", recvmmsg(sv[1], rm, 1, 0, &ts), 1);
    struct timespec bad = {0, 1000000000};
    EXPECT_ERR("recvmmsg with tv_nsec 1e9", recvmmsg(sv[1], rm, 1, 0, &bad), EINVAL);
    EXPECT_ERR("recvmmsg with a bad timeout pointer", recvmmsg(sv[1], rm, 1, 0, (struct timespec *)8), EFAULT);
    send(sv[0], "1", 1, 0);
    send(sv[0], "2", 1, 0);
    rm[1].msg_hdr.msg_iov = (void *)8;
    EXPECT_EQ("recvmmsg 2 with a bad second buffer", recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL), 1);
    EXPECT_EQ("  the error is kept: SO_ERROR", sockopt_int(sv[1], SO_ERROR), EFAULT);
    rm[1].msg_hdr.msg_iov = &riov[1];
    EXPECT_EQ("  the second datagram is still there", recvmmsg(sv[1], rm, 2, MSG_DONTWAIT, NULL), 1);
    close(sv[0]);
    close(sv[1]);
}

static void msghdr_checks(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    EXPECT_ERR("sendmsg with a bad msghdr pointer", sendmsg(sv[0], (struct msghdr *)8, 0), EFAULT);
    EXPECT_ERR("sendmsg with MSG_CMSG_COMPAT", sendmsg(sv[0], &m, MSG_CMSG_COMPAT), EINVAL);
    EXPECT_ERR("recvmsg with MSG_CMSG_COMPAT", recvmsg(sv[0], &m, MSG_CMSG_COMPAT), EINVAL);
    m.msg_iovlen = 1025;
    EXPECT_ERR("sendmsg with 1025 iovecs", sendmsg(sv[0], &m, 0), EMSGSIZE);
    EXPECT_ERR("recvmsg with 1025 iovecs", recvmsg(sv[0], &m, 0), EMSGSIZE);
    m.msg_iovlen = 1;
    struct sockaddr_un a;
    m.msg_name = &a;
    m.msg_namelen = -1;
    EXPECT_ERR("sendmsg with msg_namelen -1", sendmsg(sv[0], &m, 0), EINVAL);
    m.msg_namelen = 0;
    EXPECT_EQ("sendmsg with a name of length 0 (the peer)", sendmsg(sv[0], &m, 0), 1);
    m.msg_name = NULL;
    m.msg_namelen = -1;
    EXPECT_EQ("sendmsg with no name and msg_namelen -1", sendmsg(sv[0], &m, 0), 1);
    m.msg_namelen = 0;
    m.msg_control = &a;
    m.msg_controllen = (size_t)1 << 31;
    EXPECT_ERR("sendmsg with msg_controllen 2^31", sendmsg(sv[0], &m, 0), ENOBUFS);
    m.msg_controllen = 8;
    EXPECT_EQ("sendmsg with 8 bytes of control data (ignored)", sendmsg(sv[0], &m, 0), 1);
    m.msg_control = (void *)8;
    m.msg_controllen = 16;
    EXPECT_ERR("sendmsg with a bad control pointer", sendmsg(sv[0], &m, 0), EFAULT);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    struct iovec bad[2] = {{&byte, 1}, {&byte, (size_t)-1}};
    m.msg_iov = bad;
    m.msg_iovlen = 2;
    EXPECT_ERR("sendmsg with a negative iov_len", sendmsg(sv[0], &m, 0), EINVAL);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    struct msghdr r;
    memset(&r, 0, sizeof r);
    char in[4];
    struct iovec riov = {in, sizeof in};
    r.msg_iov = &riov;
    r.msg_iovlen = 1;
    r.msg_name = &a;
    r.msg_namelen = sizeof a;
    r.msg_flags = 0x7fff;
    EXPECT_EQ("recvmsg", recvmsg(sv[1], &r, 0), 1);
    printf("  msg_namelen %d (the pair's sender is unbound), msg_flags %#x, msg_controllen %zu\n", r.msg_namelen, r.msg_flags, r.msg_controllen);
    r.msg_flags = 0;
    EXPECT_EQ("recvmsg MSG_CMSG_CLOEXEC", recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC), 1);
    printf("  msg_flags %#x\n", r.msg_flags);
    r.msg_namelen = -1;
    EXPECT_ERR("recvmsg with msg_namelen -1", recvmsg(sv[1], &r, 0), EINVAL);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    umask(022);
    scratch();
    section("datagram pairs", pair_datagrams);
    section("bound sockets, sendto and recvfrom, the queue limit", bound_datagrams);
    section("connect, disconnect, EPERM", connect_semantics);
    section("sendmmsg and recvmmsg", mmsg);
    section("msghdr checks", msghdr_checks);
    remove_scratch();
    return finish();
}
