/* Control messages on AF_UNIX sockets: SCM_RIGHTS (files arrive as new
 * fds on the lowest free numbers, MSG_CMSG_CLOEXEC, several fds and
 * several headers in one message, MSG_CTRUNC when the control buffer is
 * short, files dropped when there is no control buffer or the receiving
 * socket closes unread, MSG_PEEK duplicating them, a stream read stopping
 * after a buffer with files, SCM_MAX_FD, EBADF, malformed headers, fds
 * passed between processes after fork, ETOOMANYREFS past RLIMIT_NOFILE
 * files in flight for an unprivileged user) and SCM_CREDENTIALS (with
 * SO_PASSCRED on either end, claimed credentials and their checks, and
 * streams not joining data from different senders). */
#include "sock.h"
#include <sys/file.h>
#include <sys/resource.h>

/* A message with one header of `type` carrying `len` bytes of `data`. */
static long send_cmsg(int sock, int level, int type, const void *data, int len, size_t cmsg_len, size_t controllen)
{
    char byte = 'c';
    struct iovec iov = {&byte, 1};
    union {
        char buf[4096];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = controllen;
    struct cmsghdr *c = (struct cmsghdr *)u.buf;
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = cmsg_len;
    memcpy(CMSG_DATA(c), data, len);
    return sendmsg(sock, &m, 0);
}

static int same_file(int a, int b)
{
    struct stat x, y;
    return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int lowest_free(void)
{
    int fd = dup(0);
    close(fd);
    return fd;
}

static void pass_fds(void)
{
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    EXPECT_EQ("send a pipe's read end", send_fds(sv[0], &p[0], 1, 0), 1);
    int expect = lowest_free();
    int got[300], n, flags;
    EXPECT_EQ("  recvmsg", recv_fds(sv[1], got, 4, &n, 0, &flags), 1);
    printf("  fds %d, on the lowest free number: %s, the same pipe: %s, FD_CLOEXEC %d\n", n, got[0] == expect ? "yes" : "no", same_file(got[0], p[0]) ? "yes" : "no",
           fcntl(got[0], F_GETFD));
    close(p[0]);
    write(p[1], "through", 7);
    char buf[16];
    EXPECT_EQ("  data through the received fd", read(got[0], buf, sizeof buf), 7);
    close(got[0]);

    send_fds(sv[0], &p[1], 1, 0);
    recv_fds(sv[1], got, 4, &n, MSG_CMSG_CLOEXEC, &flags);
    printf("with MSG_CMSG_CLOEXEC: FD_CLOEXEC %d, msg_flags has MSG_CMSG_CLOEXEC: %s\n", fcntl(got[0], F_GETFD), flags & MSG_CMSG_CLOEXEC ? "yes" : "no");
    close(got[0]);

    int three[3] = {0, 1, 2};
    EXPECT_EQ("three fds in one message", send_fds(sv[0], three, 3, 0), 1);
    recv_fds(sv[1], got, 8, &n, 0, &flags);
    printf("  received %d: %s %s %s\n", n, same_file(got[0], 0) ? "stdin" : "?", same_file(got[1], 1) ? "stdout" : "?", same_file(got[2], 2) ? "stderr" : "?");
    for (int i = 0; i < n; i++)
        close(got[i]);

    /* Two SCM_RIGHTS headers in one message arrive as one. */
    {
        char byte = 'x';
        struct iovec iov = {&byte, 1};
        union {
            char buf[CMSG_SPACE(4) + CMSG_SPACE(8)];
            struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof u);
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(4);
        memcpy(CMSG_DATA(c), &p[1], 4);
        c = CMSG_NXTHDR(&m, c);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(8);
        int two[2] = {0, p[1]};
        memcpy(CMSG_DATA(c), two, 8);
        EXPECT_EQ("two SCM_RIGHTS headers", sendmsg(sv[0], &m, 0), 1);
        char data[4];
        struct iovec riov = {data, sizeof data};
        union {
            char buf[256];
            struct cmsghdr align;
        } r;
        struct msghdr rm;
        memset(&rm, 0, sizeof rm);
        rm.msg_iov = &riov;
        rm.msg_iovlen = 1;
        rm.msg_control = r.buf;
        rm.msg_controllen = sizeof r.buf;
        recvmsg(sv[1], &rm, 0);
        int headers = 0, fds = 0;
        for (c = CMSG_FIRSTHDR(&rm); c; c = CMSG_NXTHDR(&rm, c)) {
            headers++;
            fds += (c->cmsg_len - CMSG_LEN(0)) / 4;
            for (int i = 0; i < (int)((c->cmsg_len - CMSG_LEN(0)) / 4); i++)
                close(((int *)CMSG_DATA(c))[i]);
        }
        printf("  arrive as %d header with %d fds, msg_controllen %zu\n", headers, fds, rm.msg_controllen);
    }

    /* A control buffer with room for one of three fds. */
    int q[2];
    pipe(q);
    int ends[3] = {q[1], q[1], q[1]};
    send_fds(sv[0], ends, 3, 0);
    close(q[1]);
    recv_fds(sv[1], got, 1, &n, 0, &flags);
    printf("room for one of three: received %d, MSG_CTRUNC %s\n", n, flags & MSG_CTRUNC ? "yes" : "no");
    close(got[0]);
    EXPECT_EQ("  the others were closed: the pipe reads end of file", read(q[0], buf, sizeof buf), 0);
    close(q[0]);

    /* No control buffer at all. */
    pipe(q);
    send_fds(sv[0], &q[1], 1, 0);
    close(q[1]);
    recv_fds(sv[1], got, 0, &n, 0, &flags);
    printf("no control buffer: MSG_CTRUNC %s\n", flags & MSG_CTRUNC ? "yes" : "no");
    EXPECT_EQ("  the file was closed", read(q[0], buf, sizeof buf), 0);
    close(q[0]);
    pipe(q);
    send_fds(sv[0], &q[1], 1, 0);
    close(q[1]);
    EXPECT_EQ("read(2) of a message with files", read(sv[1], buf, sizeof buf), 1);
    EXPECT_EQ("  closes them", read(q[0], buf, sizeof buf), 0);
    close(q[0]);
    pipe(q);
    send_fds(sv[0], &q[1], 1, 0);
    close(q[1]);
    {
        char data[4];
        struct iovec riov = {data, sizeof data};
        char small[12];
        struct msghdr rm;
        memset(&rm, 0, sizeof rm);
        rm.msg_iov = &riov;
        rm.msg_iovlen = 1;
        rm.msg_control = small;
        rm.msg_controllen = sizeof small;
        recvmsg(sv[1], &rm, 0);
        printf("a 12-byte control buffer: MSG_CTRUNC %s, msg_controllen %zu\n", rm.msg_flags & MSG_CTRUNC ? "yes" : "no", rm.msg_controllen);
    }
    EXPECT_EQ("  the file was closed", read(q[0], buf, sizeof buf), 0);
    close(q[0]);

    /* MSG_PEEK gives the receiver its own fds each time. */
    pipe(q);
    send_fds(sv[0], &q[0], 1, 0);
    int peeked, taken;
    recv_fds(sv[1], got, 1, &n, MSG_PEEK, &flags);
    peeked = got[0];
    recv_fds(sv[1], got, 1, &n, 0, &flags);
    taken = got[0];
    printf("MSG_PEEK then a read: two fds %s, both the pipe %s\n", peeked != taken ? "yes" : "no", same_file(peeked, q[0]) && same_file(taken, q[0]) ? "yes" : "no");
    close(peeked);
    close(taken);

    /* A stream read stops after a buffer that carried files. */
    send_fds(sv[0], &q[0], 1, 0);
    write(sv[0], "more", 4);
    long r = recv_fds(sv[1], got, 1, &n, 0, &flags);
    printf("a read over a buffer with files and one without: %ld bytes, %d fd\n", r, n);
    close(got[0]);
    EXPECT_EQ("  the next read", read(sv[1], buf, sizeof buf), 4);
    EXPECT_EQ("a zero-length stream send with files", (errno = 0, ({
                  struct msghdr m;
                  memset(&m, 0, sizeof m);
                  union {
                      char b[CMSG_SPACE(4)];
                      struct cmsghdr a;
                  } u;
                  m.msg_control = u.b;
                  m.msg_controllen = sizeof u.b;
                  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
                  c->cmsg_level = SOL_SOCKET;
                  c->cmsg_type = SCM_RIGHTS;
                  c->cmsg_len = CMSG_LEN(4);
                  memcpy(CMSG_DATA(c), &q[0], 4);
                  sendmsg(sv[0], &m, 0);
              })),
              0);
    EXPECT_ERR("  sends nothing", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* Sockets, O_PATH files and the same fd twice travel too. */
    int inner[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, inner);
    int op = open("/", O_PATH);
    int mix[3] = {inner[1], op, op};
    EXPECT_EQ("a socket, an O_PATH fd twice", send_fds(sv[0], mix, 3, 0), 1);
    recv_fds(sv[1], got, 3, &n, 0, &flags);
    send(got[0], "via", 3, 0);
    printf("  received %d; the socket works: %ld bytes arrive\n", n, (long)recv(inner[0], buf, sizeof buf, MSG_DONTWAIT));
    printf("  the O_PATH ones are O_PATH: %s\n", (fcntl(got[1], F_GETFL) & O_PATH) && (fcntl(got[2], F_GETFL) & O_PATH) ? "yes" : "no");
    for (int i = 0; i < n; i++)
        close(got[i]);
    close(op);
    close(inner[0]);
    close(inner[1]);

    /* Datagrams and seqpacket records carry files the same way. */
    int d[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, d);
    send_fds(d[0], &q[0], 1, 0);
    recv_fds(d[1], got, 1, &n, 0, &flags);
    printf("over a datagram socket: %d fd, the pipe %s\n", n, same_file(got[0], q[0]) ? "yes" : "no");
    close(got[0]);
    close(d[0]);
    close(d[1]);
    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, d);
    send_fds(d[0], &q[0], 1, 0);
    recv_fds(d[1], got, 1, &n, 0, &flags);
    printf("over a seqpacket socket: %d fd, the pipe %s\n", n, same_file(got[0], q[0]) ? "yes" : "no");
    close(got[0]);
    close(d[0]);
    close(d[1]);
    close(q[0]);

    /* Files in flight close with the socket that holds them. */
    pipe(q);
    socketpair(AF_UNIX, SOCK_STREAM, 0, d);
    send_fds(d[0], &q[1], 1, 0);
    close(q[1]);
    close(d[1]);
    struct pollfd pf = {q[0], POLLIN, 0};
    printf("in flight to a socket closed unread: the pipe polls %s\n", poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP) ? "HUP" : "open");
    close(d[0]);
    close(q[0]);
    close(sv[0]);
    close(sv[1]);
}

static void header_checks(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int fd = 0, bad = 999, neg = -1;
    EXPECT_ERR("SCM_RIGHTS with a closed fd", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &bad, 4, CMSG_LEN(4), CMSG_SPACE(4)), EBADF);
    EXPECT_ERR("SCM_RIGHTS with fd -1", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &neg, 4, CMSG_LEN(4), CMSG_SPACE(4)), EBADF);
    EXPECT_ERR("an unknown SOL_SOCKET type", send_cmsg(sv[0], SOL_SOCKET, 99, &fd, 4, CMSG_LEN(4), CMSG_SPACE(4)), EINVAL);
    EXPECT_EQ("another level is skipped", send_cmsg(sv[0], 0, 1, &fd, 4, CMSG_LEN(4), CMSG_SPACE(4)), 1);
    EXPECT_ERR("cmsg_len past msg_controllen", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &fd, 4, CMSG_LEN(4) + 8, CMSG_SPACE(4)), EINVAL);
    EXPECT_ERR("cmsg_len 15", send_cmsg(sv[0], 0, 1, &fd, 4, 15, CMSG_SPACE(4)), EINVAL);
    EXPECT_ERR("cmsg_len 2^63", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &fd, 4, (size_t)1 << 63, CMSG_SPACE(4)), EINVAL);
    EXPECT_EQ("msg_controllen 8: no header at all", send_cmsg(sv[0], SOL_SOCKET, 99, &fd, 4, CMSG_LEN(4), 8), 1);
    EXPECT_EQ("SCM_RIGHTS with no fds", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &fd, 0, CMSG_LEN(0), CMSG_SPACE(0)), 1);
    EXPECT_EQ("SCM_RIGHTS with 3 bytes of fd", send_cmsg(sv[0], SOL_SOCKET, SCM_RIGHTS, &fd, 3, CMSG_LEN(3), CMSG_SPACE(3)), 1);
    char buf[64];
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    static int many[254];
    for (int i = 0; i < 254; i++)
        many[i] = dup(0);
    EXPECT_EQ("SCM_MAX_FD (253) fds", send_fds(sv[0], many, 253, 0), 1);
    int got[300], n, flags;
    recv_fds(sv[1], got, 256, &n, 0, &flags);
    printf("  received %d, MSG_CTRUNC %s\n", n, flags & MSG_CTRUNC ? "yes" : "no");
    for (int i = 0; i < n; i++)
        close(got[i]);
    EXPECT_ERR("254 fds", send_fds(sv[0], many, 254, 0), EINVAL);
    for (int i = 0; i < 254; i++)
        close(many[i]);
    close(sv[0]);
    close(sv[1]);
}

static void across_fork(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    char path[256];
    snprintf(path, sizeof path, "%s/from-child", scratch());
    pid_t c = xfork();
    if (c == 0) {
        close(sv[0]);
        int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
        write(f, "written by the child", 20);
        lseek(f, 8, SEEK_SET);
        send_fds(sv[1], &f, 1, 0);
        close(f);
        /* And take a pipe from the parent. */
        int got[2], n;
        recv_fds(sv[1], got, 1, &n, 0, NULL);
        write(got[0], "child was here", 14);
        _exit(0);
    }
    close(sv[1]);
    int got[2], n;
    recv_fds(sv[0], got, 1, &n, 0, NULL);
    char buf[64] = {0};
    long r = read(got[0], buf, sizeof buf - 1);
    printf("a file from the child, at the offset it left: %ld \"%s\"\n", r, buf);
    int p[2];
    pipe(p);
    send_fds(sv[0], &p[1], 1, 0);
    close(p[1]);
    memset(buf, 0, sizeof buf);
    read_full(p[0], buf, 14);
    printf("a pipe to the child and back: \"%s\"\n", buf);
    printf("child: %s\n", status_str(wait_status(c, 0)));
    EXPECT_EQ("  end of file on the pipe after it exited", read(p[0], buf, sizeof buf), 0);
    close(got[0]);
    close(p[0]);
    close(sv[0]);
    unlink(path);
}

static void in_flight_limit(void)
{
    if (geteuid() == 0) {
        printf("(root may have any number of files in flight)\n");
        return;
    }
    struct rlimit rl = {16, 1024};
    setrlimit(RLIMIT_NOFILE, &rl);
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int five[5] = {0, 0, 0, 0, 0};
    int sent = 0;
    long r;
    while ((r = send_fds(sv[0], five, 5, MSG_DONTWAIT)) == 1)
        sent++;
    printf("with RLIMIT_NOFILE 16, messages of 5 fds sent before %s: %d\n", errname(errno), sent);
    int got[8], n;
    recv_fds(sv[1], got, 8, &n, 0, NULL);
    for (int i = 0; i < n; i++)
        close(got[i]);
    EXPECT_EQ("  after one is received, one more goes", send_fds(sv[0], five, 5, MSG_DONTWAIT), 1);
    close(sv[1]);
    EXPECT_EQ("  closing the receiver frees them all", send_fds(sv[0], five, 1, MSG_DONTWAIT) < 0 ? errno : 0, ECONNREFUSED);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    EXPECT_EQ("  a new pair may send again", send_fds(sv[0], five, 5, MSG_DONTWAIT), 1);
    close(sv[0]);
    close(sv[1]);
}

static void show_creds(const char *label, int sock, int flags)
{
    char data[16];
    struct iovec iov = {data, sizeof data};
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16)];
        struct cmsghdr align;
    } u;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    long r = recvmsg(sock, &m, flags);
    if (r < 0) {
        printf("%s: -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: %ld bytes", label, r);
    int any = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            printf(", SCM_CREDENTIALS pid %s uid %s gid %s", cr.pid == getpid() ? "mine" : cr.pid == 0 ? "0" : "other",
                   cr.uid == getuid() ? "mine" : cr.uid == 65534 ? "65534" : "other", cr.gid == getgid() ? "mine" : cr.gid == 65534 ? "65534" : "other");
            any = 1;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            printf(", SCM_RIGHTS %d", (int)((c->cmsg_len - CMSG_LEN(0)) / 4));
            for (int i = 0; i < (int)((c->cmsg_len - CMSG_LEN(0)) / 4); i++)
                close(((int *)CMSG_DATA(c))[i]);
            any = 1;
        }
    }
    printf("%s%s\n", any ? "" : ", no control messages", m.msg_flags & MSG_CTRUNC ? ", MSG_CTRUNC" : "");
}

static void credentials(void)
{
    int sv[2], on = 1, off = 0;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    send(sv[0], "plain", 5, 0);
    show_creds("neither end asks", sv[1], 0);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    EXPECT_EQ("SO_PASSCRED", sockopt_int(sv[1], SO_PASSCRED), 1);
    send(sv[0], "asked", 5, 0);
    show_creds("the receiver has SO_PASSCRED", sv[1], 0);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &off, sizeof off);
    send(sv[0], "sent unasked", 12, 0);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    show_creds("sent before the receiver asked", sv[1], 0);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &off, sizeof off);
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    send(sv[0], "sender asks", 11, 0);
    show_creds("only the sender has SO_PASSCRED", sv[1], 0);
    send(sv[0], "sender asks", 11, 0);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    show_creds("  and the receiver asks after", sv[1], 0);
    struct ucred me = {getpid(), getuid(), getgid()};
    EXPECT_EQ("SCM_CREDENTIALS with my own", send_cmsg(sv[0], SOL_SOCKET, SCM_CREDENTIALS, &me, sizeof me, CMSG_LEN(sizeof me), CMSG_SPACE(sizeof me)), 1);
    show_creds("  received", sv[1], 0);
    struct ucred other = me;
    other.pid = getppid();
    long r = send_cmsg(sv[0], SOL_SOCKET, SCM_CREDENTIALS, &other, sizeof other, CMSG_LEN(sizeof other), CMSG_SPACE(sizeof other));
    printf("claiming the parent's pid: %s\n", r == 1 ? (geteuid() == 0 ? "allowed (root)" : "allowed?") : (geteuid() == 0 ? "refused?" : errname(errno)));
    if (r == 1)
        show_creds("  received", sv[1], 0);
    other = me;
    other.uid = -1;
    EXPECT_ERR("uid -1", send_cmsg(sv[0], SOL_SOCKET, SCM_CREDENTIALS, &other, sizeof other, CMSG_LEN(sizeof other), CMSG_SPACE(sizeof other)), EINVAL);
    EXPECT_ERR("a short SCM_CREDENTIALS", send_cmsg(sv[0], SOL_SOCKET, SCM_CREDENTIALS, &me, 8, CMSG_LEN(8), CMSG_SPACE(8)), EINVAL);
    if (geteuid() != 0) {
        other = me;
        other.uid = getuid() + 1;
        EXPECT_ERR("another uid", send_cmsg(sv[0], SOL_SOCKET, SCM_CREDENTIALS, &other, sizeof other, CMSG_LEN(sizeof other), CMSG_SPACE(sizeof other)), EPERM);
    }
    int p[2];
    pipe(p);
    send_fds(sv[0], &p[0], 1, 0);
    show_creds("credentials come before files", sv[1], 0);
    send(sv[0], "x", 1, 0);
    {
        char data[4];
        struct iovec iov = {data, sizeof data};
        union {
            char buf[20];
            struct cmsghdr align;
        } u;
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = u.buf;
        m.msg_controllen = 20;
        recvmsg(sv[1], &m, 0);
        printf("credentials into a 20-byte control buffer: MSG_CTRUNC %s, msg_controllen %zu, cmsg_len %zu\n", m.msg_flags & MSG_CTRUNC ? "yes" : "no", m.msg_controllen,
               ((struct cmsghdr *)u.buf)->cmsg_len);
    }
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);

    /* A stream reader that wants credentials never gets two senders' data
     * in one read. */
    for (int passcred = 0; passcred < 2; passcred++) {
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &passcred, sizeof passcred);
        setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
        write(sv[0], "parent", 6);
        pid_t c = xfork();
        if (c == 0) {
            write(sv[0], "child", 5);
            _exit(0);
        }
        wait_status(c, 0);
        char buf[32];
        printf("a stream %s SO_PASSCRED: reads %ld", passcred ? "with" : "without", (long)read(sv[1], buf, sizeof buf));
        printf(" then %ld\n", (long)recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
        close(sv[0]);
        close(sv[1]);
    }
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    scratch();
    section("passing files", pass_fds);
    section("control message checks", header_checks);
    section("files across fork", across_fork);
    section("the in-flight limit", in_flight_limit);
    section("credentials", credentials);
    remove_scratch();
    return finish();
}
