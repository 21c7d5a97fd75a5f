/* AF_UNIX names and connections: bind(2) making a socket node in the
 * filesystem (with the umask and the socket's own mode), EADDRINUSE,
 * EINVAL for a second bind, address length rules and what getsockname
 * reports for each, ENXIO on open, connect's ENOENT/ECONNREFUSED/
 * EPROTOTYPE/EACCES, unlinking a bound path, listen/accept/accept4, the
 * listen backlog (EAGAIN, and a blocking connect waiting for room),
 * getpeername, SO_PEERCRED, SO_PEERNAME, SO_ACCEPTCONN, a closed
 * listener resetting its pending connections, the abstract namespace (one
 * per socket type) and autobind. With the argument "families" it only
 * prints what the families vkernel lacks answer (checked under vkernel). */
#include "sock.h"
#include <sys/ioctl.h>

static void show_name(const char *label, int fd, int peer)
{
    struct sockaddr_un a;
    memset(&a, 0x55, sizeof a);
    socklen_t l = sizeof a;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);
    if (r < 0) {
        printf("%s: -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: len %d family %d", label, (int)l, a.sun_family);
    int plen = (int)l - (int)offsetof(struct sockaddr_un, sun_path);
    if (plen > 0 && a.sun_path[0]) {
        const char *rel = strncmp(a.sun_path, scratch(), strlen(scratch())) == 0 ? a.sun_path + strlen(scratch()) : a.sun_path;
        printf(" path \"$SCRATCH%s\"", rel);
    } else if (plen > 0) {
        printf(" abstract, %d bytes", plen);
    }
    printf("\n");
}

static void path_names(void)
{
    socklen_t len;
    struct sockaddr_un a = path_addr("srv", &len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ("bind to a path", bind(s, (struct sockaddr *)&a, len), 0);
    struct stat st;
    stat(a.sun_path, &st);
    printf("  the node: S_ISSOCK %s, mode %o (umask 022)\n", S_ISSOCK(st.st_mode) ? "yes" : "no", st.st_mode & 07777);
    show_name("  getsockname", s, 0);
    show_name("  getpeername", s, 1);
    EXPECT_ERR("  open(2) of the node", open(a.sun_path, O_RDWR), ENXIO);
    EXPECT_ERR("  open(2) O_RDONLY", open(a.sun_path, O_RDONLY), ENXIO);
    int p = open(a.sun_path, O_PATH);
    EXPECT_OK("  open O_PATH", p);
    close(p);
    socklen_t l2, lb;
    struct sockaddr_un b = path_addr("srv-second", &lb);
    EXPECT_ERR("  a second bind of the same socket", bind(s, (struct sockaddr *)&b, lb), EINVAL);
    EXPECT_ERR("  leaves no node behind", stat(b.sun_path, &st), ENOENT);
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("another socket on the same path", bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
    close(open(b.sun_path, O_CREAT | O_WRONLY, 0644));
    EXPECT_ERR("  on a regular file's path", bind(t, (struct sockaddr *)&b, lb), EADDRINUSE);
    struct sockaddr_un m = path_addr("no-such-dir/s", &l2);
    EXPECT_ERR("  in a missing directory", bind(t, (struct sockaddr *)&m, l2), ENOENT);
    EXPECT_ERR("  addrlen 1", bind(t, (struct sockaddr *)&a, 1), EINVAL);
    EXPECT_ERR("  addrlen 111", bind(t, (struct sockaddr *)&a, 111), EINVAL);
    EXPECT_ERR("  addrlen 200", bind(t, (struct sockaddr *)&a, 200), EINVAL);
    EXPECT_ERR("  addrlen -1", bind(t, (struct sockaddr *)&a, -1), EINVAL);
    EXPECT_ERR("  a bad pointer", bind(t, (struct sockaddr *)8, len), EFAULT);
    struct sockaddr_un w = a;
    w.sun_family = AF_INET;
    EXPECT_ERR("  family AF_INET", bind(t, (struct sockaddr *)&w, len), EINVAL);
    EXPECT_ERR("  bind on /dev/null", bind(open("/dev/null", O_RDONLY), (struct sockaddr *)&a, len), ENOTSOCK);

    /* The address needs no NUL; getsockname counts one anyway. */
    struct sockaddr_un n = path_addr("nonul", &l2);
    EXPECT_EQ("bind without the terminating NUL", bind(t, (struct sockaddr *)&n, l2 - 1), 0);
    show_name("  getsockname", t, 0);
    close(t);

    /* Modes: the socket's own mode (fchmod) less the umask. */
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    fchmod(t, 0640);
    umask(0);
    struct sockaddr_un c = path_addr("mode640", &l2);
    bind(t, (struct sockaddr *)&c, l2);
    stat(c.sun_path, &st);
    printf("after fchmod 0640 and umask 0: mode %o\n", st.st_mode & 07777);
    umask(077);
    close(t);
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    c = path_addr("umask077", &l2);
    bind(t, (struct sockaddr *)&c, l2);
    stat(c.sun_path, &st);
    printf("with umask 077: mode %o\n", st.st_mode & 07777);
    umask(022);
    close(t);

    /* connect's errors. */
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un x = path_addr("missing", &l2);
    EXPECT_ERR("connect to a missing path", connect(t, (struct sockaddr *)&x, l2), ENOENT);
    EXPECT_ERR("connect to a regular file", connect(t, (struct sockaddr *)&b, lb), ECONNREFUSED);
    struct sockaddr_un dir;
    memset(&dir, 0, sizeof dir);
    dir.sun_family = AF_UNIX;
    strcpy(dir.sun_path, scratch());
    EXPECT_ERR("connect to a directory", connect(t, (struct sockaddr *)&dir, sizeof dir), ECONNREFUSED);
    EXPECT_ERR("connect to a bound socket that does not listen", connect(t, (struct sockaddr *)&a, len), ECONNREFUSED);
    EXPECT_ERR("connect with addrlen 2", connect(t, (struct sockaddr *)&a, 2), EINVAL);
    EXPECT_ERR("connect with a bad pointer", connect(t, (struct sockaddr *)8, len), EFAULT);
    EXPECT_ERR("connect on /dev/null with a bad pointer", connect(open("/dev/null", O_RDONLY), (struct sockaddr *)8, len), EFAULT);
    EXPECT_ERR("connect on /dev/null", connect(open("/dev/null", O_RDONLY), (struct sockaddr *)&a, len), ENOTSOCK);
    EXPECT_ERR("listen on an unbound socket", listen(t, 5), EINVAL);
    EXPECT_ERR("accept on a socket that does not listen", accept(s, NULL, NULL), EINVAL);
    EXPECT_EQ("listen", listen(s, 5), 0);
    int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    EXPECT_ERR("a seqpacket socket connecting to a stream listener", connect(q, (struct sockaddr *)&a, len), EPROTOTYPE);
    close(q);
    q = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_ERR("a datagram socket connecting to it", connect(q, (struct sockaddr *)&a, len), EPROTOTYPE);
    EXPECT_ERR("listen on a datagram socket", listen(q, 5), EOPNOTSUPP);
    EXPECT_ERR("accept on a datagram socket", accept(q, NULL, NULL), EOPNOTSUPP);
    close(q);
    if (geteuid() != 0) {
        chmod(a.sun_path, 0500);
        EXPECT_ERR("connect to a node without write permission", connect(t, (struct sockaddr *)&a, len), EACCES);
        chmod(a.sun_path, 0755);
    }
    EXPECT_EQ("connect", connect(t, (struct sockaddr *)&a, len), 0);
    EXPECT_ERR("  again", connect(t, (struct sockaddr *)&a, len), EISCONN);
    EXPECT_ERR("  the listener connecting", connect(s, (struct sockaddr *)&a, len), EINVAL);

    /* Unlinking the path leaves the socket bound and listening. */
    EXPECT_EQ("unlink the bound path", unlink(a.sun_path), 0);
    int u = accept(s, NULL, NULL);
    EXPECT_OK("  the pending connection is still accepted", u);
    EXPECT_EQ("  and carries data", write(t, "hi", 2) + read(u, &l2, 2), 4);
    int v = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("  a new connect finds no name", connect(v, (struct sockaddr *)&a, len), ENOENT);
    show_name("  getsockname still names it", s, 0);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ("  another socket may bind the path again", bind(s2, (struct sockaddr *)&a, len), 0);
    listen(s2, 1);
    EXPECT_EQ("  and connects reach the new one", connect(v, (struct sockaddr *)&a, len), 0);
    int w2 = accept(s2, NULL, NULL);
    CHECK("  (accepted there)", w2 >= 0);
    close(w2);
    close(v);
    close(s2);
    close(u);
    close(t);
    close(s);
}

static void connections(void)
{
    socklen_t len;
    struct sockaddr_un a = path_addr("conn", &len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (struct sockaddr *)&a, len);
    EXPECT_EQ("listen backlog 2", listen(s, 2), 0);
    EXPECT_EQ("  SO_ACCEPTCONN", sockopt_int(s, SO_ACCEPTCONN), 1);
    printf("  an idle listener polls %s\n", pollstr(s, POLLIN | POLLOUT));
    fcntl(s, F_SETFL, O_NONBLOCK);
    EXPECT_ERR("  a non-blocking accept finds nothing", accept(s, NULL, NULL), EAGAIN);
    fcntl(s, F_SETFL, 0);
    int c[5];
    for (int i = 0; i < 4; i++) {
        c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        char label[64];
        snprintf(label, sizeof label, "  non-blocking connect %d", i + 1);
        SHOW(label, connect(c[i], (struct sockaddr *)&a, len));
    }
    printf("  with connections pending it polls %s\n", pollstr(s, POLLIN | POLLOUT));
    printf("  a connected client polls %s\n", pollstr(c[0], POLLIN | POLLOUT));
    struct sockaddr_un peer;
    memset(&peer, 0x55, sizeof peer);
    socklen_t pl = sizeof peer;
    int x = accept(s, (struct sockaddr *)&peer, &pl);
    EXPECT_OK("accept", x);
    printf("  the unbound client's address: len %d family %d\n", (int)pl, peer.sun_family);
    show_name("  the accepted socket's name", x, 0);
    show_name("  its peer", x, 1);
    show_name("  the client's peer", c[0], 1);
    show_name("  the client's own name", c[0], 0);
    show_name("  the listener's peer", s, 1);
    EXPECT_EQ("  now the fourth connect", connect(c[3], (struct sockaddr *)&a, len), 0);
    pl = 1;
    int y = accept(s, (struct sockaddr *)&peer, &pl);
    printf("accept with a 1-byte address buffer: %s, addrlen %d\n", y >= 0 ? "ok" : errname(errno), (int)pl);
    pl = sizeof peer;
    EXPECT_ERR("accept with a bad address pointer", accept(s, (struct sockaddr *)8, &pl), EFAULT);
    char buf[8];
    EXPECT_EQ("  that connection was lost: the client reads end of file", read(c[2], buf, sizeof buf), 0);
    EXPECT_ERR("accept4 with a bad flag", accept4(s, NULL, NULL, 0x10000), EINVAL);
    int z = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    EXPECT_OK("accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)", z);
    CHECK("  O_NONBLOCK and FD_CLOEXEC", (fcntl(z, F_GETFL) & O_NONBLOCK) && fcntl(z, F_GETFD) == FD_CLOEXEC);
    CHECK("  plain accept gives neither", !(fcntl(x, F_GETFL) & O_NONBLOCK) && fcntl(x, F_GETFD) == 0);

    /* SO_PEERCRED: each end sees the other's creator. */
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(c[0], SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("SO_PEERCRED of a client: the listener's pid %s, euid %s, egid %s, optlen %d\n", cr.pid == getpid() ? "yes" : "no", cr.uid == geteuid() ? "yes" : "no",
           cr.gid == getegid() ? "yes" : "no", (int)cl);
    int fresh = socket(AF_UNIX, SOCK_STREAM, 0);
    cl = sizeof cr;
    getsockopt(fresh, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("  of an unconnected socket: pid %d uid %d gid %d\n", cr.pid, (int)cr.uid, (int)cr.gid);
    int sv[2];
    pipe(sv);
    pid_t child = xfork();
    if (child == 0) {
        int k = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(k, (struct sockaddr *)&a, len);
        read(sv[0], buf, 1);
        _exit(0);
    }
    int from_child = accept(s, NULL, NULL);
    cl = sizeof cr;
    getsockopt(from_child, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("  of the accepted end: the connecting child's pid %s\n", cr.pid == child ? "yes" : "no");
    cl = 4;
    getsockopt(from_child, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("  into 4 bytes: optlen %d\n", (int)cl);
    write(sv[1], "x", 1);
    wait_status(child, 0);
    close(sv[0]);
    close(sv[1]);
    EXPECT_EQ("  read after the child exited", read(from_child, buf, sizeof buf), 0);
    close(from_child);

    /* SO_PEERNAME: the peer's address, but EINVAL for a buffer larger than it. */
    char pn[128];
    socklen_t pnl = sizeof pn;
    EXPECT_ERR("SO_PEERNAME into 128 bytes", getsockopt(c[0], SOL_SOCKET, SO_PEERNAME, pn, &pnl), EINVAL);
    pnl = 4;
    EXPECT_EQ("SO_PEERNAME into 4 bytes", getsockopt(c[0], SOL_SOCKET, SO_PEERNAME, pn, &pnl), 0);
    printf("  optlen %d\n", (int)pnl);
    pnl = 4;
    EXPECT_ERR("  of an unconnected socket", getsockopt(fresh, SOL_SOCKET, SO_PEERNAME, pn, &pnl), ENOTCONN);
    close(fresh);

    /* Closing a listener resets the connections it had not accepted. */
    int pend = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(pend, (struct sockaddr *)&a, len);
    write(pend, "lost", 4);
    close(s);
    printf("a pending client after its listener closed: %s\n", pollstr(pend, POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  its read", read(pend, buf, sizeof buf), ECONNRESET);
    EXPECT_EQ("  then", read(pend, buf, sizeof buf), 0);
    EXPECT_ERR("  a write", send(pend, "x", 1, MSG_NOSIGNAL), EPIPE);
    EXPECT_EQ("  the accepted ones go on: write", write(x, "ok", 2), 2);
    EXPECT_EQ("  read", read(c[0], buf, sizeof buf), 2);
    close(pend);
    for (int i = 0; i < 4; i++)
        close(c[i]);
    close(x);
    close(y);
    close(z);
}

static volatile int alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void backlog_waits(void)
{
    socklen_t len;
    struct sockaddr_un a = path_addr("backlog", &len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (struct sockaddr *)&a, len);
    listen(s, 0);
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ("backlog 0: the first connect", connect(c1, (struct sockaddr *)&a, len), 0);
    int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    EXPECT_ERR("  a second, non-blocking", connect(c2, (struct sockaddr *)&a, len), EAGAIN);
    int p[2];
    pipe(p);
    pid_t child = xfork();
    if (child == 0) {
        int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
        int r = connect(c3, (struct sockaddr *)&a, len);
        char m = r == 0 ? 'y' : 'n';
        write(p[1], &m, 1);
        _exit(0);
    }
    sleep_ms(100);
    struct pollfd pf = {p[0], POLLIN, 0};
    printf("  a blocking connect waits while the backlog is full: %s\n", poll(&pf, 1, 0) == 0 ? "yes" : "no");
    int x = accept(s, NULL, NULL);
    char m = 0;
    read(p[0], &m, 1);
    printf("  and completes once one is accepted: %s\n", m == 'y' ? "yes" : "no");
    wait_status(child, 0);
    close(x);
    close(c1);
    close(c2);
    EXPECT_EQ("listen again with backlog -1 (somaxconn)", listen(s, -1), 0);

    struct timeval tv = {0, 200000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fcntl(s, F_SETFL, O_NONBLOCK);
    while ((x = accept(s, NULL, NULL)) >= 0)
        close(x);
    fcntl(s, F_SETFL, 0);
    long long t0 = now_ns();
    EXPECT_ERR("accept with SO_RCVTIMEO", accept(s, NULL, NULL), EAGAIN);
    printf("  after at least 150 ms: %s\n", now_ns() - t0 >= 150000000 ? "yes" : "no");
    tv.tv_usec = 0;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    set_handler(SIGALRM, on_alarm, 0);
    arm_timer_ms(50);
    EXPECT_ERR("a blocked accept and a signal without SA_RESTART", accept(s, NULL, NULL), EINTR);
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    child = xfork();
    if (child == 0) {
        sleep_ms(200);
        int k = socket(AF_UNIX, SOCK_STREAM, 0);
        connect(k, (struct sockaddr *)&a, len);
        _exit(0);
    }
    alarms = 0;
    arm_timer_ms(50);
    x = accept(s, NULL, NULL);
    printf("  with SA_RESTART it goes on and accepts: %s (handler ran %d)\n", x >= 0 ? "yes" : errname(errno), alarms);
    wait_status(child, 0);
    close(x);
    EXPECT_EQ("shutdown SHUT_RD on the listener", shutdown(s, SHUT_RD), 0);
    EXPECT_ERR("  accept", accept(s, NULL, NULL), EINVAL);
    int k = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("  connect", connect(k, (struct sockaddr *)&a, len), ECONNREFUSED);
    close(k);
    close(s);
}

static void abstract_names(void)
{
    socklen_t len;
    struct sockaddr_un a = abstract_addr("one", &len);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ("bind an abstract name", bind(s, (struct sockaddr *)&a, len), 0);
    struct sockaddr_un got;
    socklen_t gl = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &gl);
    printf("  getsockname: the same %s, len equal %s\n", memcmp(&got, &a, len) == 0 ? "bytes" : "?", gl == len ? "yes" : "no");
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("  another stream socket on it", bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_EQ("  a datagram socket on it (a namespace per type)", bind(d, (struct sockaddr *)&a, len), 0);
    struct sockaddr_un longer = a;
    longer.sun_path[len - 2] = 0;
    EXPECT_EQ("  the name with a NUL more is another name", bind(t, (struct sockaddr *)&longer, len + 1), 0);
    close(t);
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERR("connect before listen", connect(t, (struct sockaddr *)&a, len), ECONNREFUSED);
    listen(s, 5);
    EXPECT_EQ("connect after listen", connect(t, (struct sockaddr *)&a, len), 0);
    int q = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    EXPECT_ERR("a seqpacket socket connecting to the name", connect(q, (struct sockaddr *)&a, len), ECONNREFUSED);
    int e = socket(AF_UNIX, SOCK_DGRAM, 0);
    EXPECT_EQ("a datagram socket connecting to the name reaches the datagram one", connect(e, (struct sockaddr *)&a, len), 0);
    EXPECT_EQ("  send", send(e, "dg", 2, 0), 2);
    char buf[8];
    EXPECT_EQ("  recv", recv(d, buf, sizeof buf, MSG_DONTWAIT), 2);
    struct sockaddr_un x = abstract_addr("nobody", &gl);
    EXPECT_ERR("connect to an unbound name", connect(q, (struct sockaddr *)&x, gl), ECONNREFUSED);
    close(s);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ("the name is free once its socket closed", bind(s, (struct sockaddr *)&a, len), 0);
    close(s);
    close(t);
    close(q);
    close(e);
    close(d);

    /* Autobind: an address of the family alone. */
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un fam = {AF_UNIX, ""};
    EXPECT_EQ("bind with addrlen 2 (autobind)", bind(s, (struct sockaddr *)&fam, 2), 0);
    gl = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &gl);
    int hex = 1;
    for (int i = 1; i < 6; i++)
        hex &= strchr("0123456789abcdef", got.sun_path[i]) != NULL;
    printf("  getsockname: len %d, a NUL and five hex digits: %s\n", (int)gl, got.sun_path[0] == 0 && hex ? "yes" : "no");
    EXPECT_EQ("  autobind again", bind(s, (struct sockaddr *)&fam, 2), 0);
    socklen_t l2 = sizeof got;
    struct sockaddr_un again;
    getsockname(s, (struct sockaddr *)&again, &l2);
    CHECK("  keeps the name", memcmp(&again, &got, gl) == 0);
    EXPECT_ERR("  bind a name after it", bind(s, (struct sockaddr *)&a, len), EINVAL);
    close(s);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(t, (struct sockaddr *)&a, len);
    listen(t, 1);
    connect(s, (struct sockaddr *)&a, len);
    gl = sizeof got;
    getsockname(s, (struct sockaddr *)&got, &gl);
    printf("a client with SO_PASSCRED is autobound by connect: len %d\n", (int)gl);
    close(s);
    close(t);
}

static void families(void)
{
    SHOW("socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM, 0));
    SHOW("socket(AF_INET6, SOCK_DGRAM)", socket(AF_INET6, SOCK_DGRAM, 0));
    SHOW("socket(AF_NETLINK, SOCK_RAW)", socket(AF_NETLINK, SOCK_RAW, 0));
    int sv[2];
    SHOW("socketpair(AF_INET, SOCK_STREAM)", socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "families") == 0) {
        families();
        return 0;
    }
    reset_signals();
    no_core_dumps();
    umask(022);
    scratch();
    section("names in the filesystem", path_names);
    section("listen, connect, accept", connections);
    section("the backlog, timeouts and signals", backlog_waits);
    section("the abstract namespace and autobind", abstract_names);
    remove_scratch();
    return finish();
}
