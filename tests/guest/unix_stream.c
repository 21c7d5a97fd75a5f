/* AF_UNIX stream sockets: socket(2) arguments, socketpair with
 * SOCK_NONBLOCK/SOCK_CLOEXEC, fstat and /proc of a socket, SOL_SOCKET
 * options (SO_TYPE, SO_SNDBUF/SO_RCVBUF doubling and minimums), I/O with
 * read/write/readv/writev/send/recv and MSG_PEEK, MSG_DONTWAIT,
 * MSG_WAITALL, shutdown in each direction, EPIPE and SIGPIPE (and
 * MSG_NOSIGNAL), ECONNRESET when a peer closes with unread data, poll
 * readiness in each state, epoll (edge-triggered) and select, a full
 * send buffer, SO_RCVTIMEO/SO_SNDTIMEO,
 * and signals interrupting blocked calls (EINTR, SA_RESTART, and EINTR
 * despite SA_RESTART with a timeout). */
#include "sock.h"
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>

static void socket_arguments(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_OK("socket(AF_UNIX, SOCK_STREAM, 0)", fd);
    close(fd);
    fd = socket(AF_UNIX, SOCK_STREAM, AF_UNIX);
    EXPECT_OK("  protocol PF_UNIX", fd);
    close(fd);
    EXPECT_ERR("  protocol 2", socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
    EXPECT_ERR("  SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
    EXPECT_ERR("  type 11", socket(AF_UNIX, 11, 0), EINVAL);
    EXPECT_ERR("  an unknown flag bit", socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL);
    EXPECT_ERR("  family 46 (AF_MAX)", socket(46, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERR("  family -1", socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
    fd = socket(AF_UNIX, SOCK_RAW, 0);
    EXPECT_EQ("  SOCK_RAW is a datagram socket: SO_TYPE", sockopt_int(fd, SO_TYPE), SOCK_DGRAM);
    close(fd);
    int sv[2];
    EXPECT_ERR("socketpair with a bad pointer", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (void *)8), EFAULT);
    EXPECT_ERR("socketpair with a bad flag", socketpair(AF_UNIX, SOCK_STREAM | 0x10000, 0, sv), EINVAL);
    EXPECT_ERR("socketpair protocol 2", socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT);
    int f = open("/dev/null", O_RDONLY);
    int v;
    socklen_t l = sizeof v;
    EXPECT_ERR("getsockopt on /dev/null", getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK);
    EXPECT_ERR("shutdown on /dev/null", shutdown(f, SHUT_RD), ENOTSOCK);
    EXPECT_ERR("send on /dev/null", send(f, "x", 1, 0), ENOTSOCK);
    close(f);
    EXPECT_ERR("shutdown on a bad fd", shutdown(999, SHUT_RD), EBADF);
    EXPECT_ERR("recv on a bad fd", recv(999, &f, 1, 0), EBADF);
}

static void pair_basics(void)
{
    int sv[2];
    EXPECT_EQ("socketpair(SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC)", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    CHECK("  O_NONBLOCK on both", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK));
    printf("  O_ACCMODE %d\n", fcntl(sv[0], F_GETFL) & O_ACCMODE);
    EXPECT_EQ("  FD_CLOEXEC on both", fcntl(sv[0], F_GETFD) + fcntl(sv[1], F_GETFD), 2);
    struct stat st, st2;
    fstat(sv[0], &st);
    fstat(sv[1], &st2);
    CHECK("  fstat: S_ISSOCK", S_ISSOCK(st.st_mode));
    printf("  fstat mode %o size %ld nlink %ld blksize %ld\n", st.st_mode & 07777, (long)st.st_size, (long)st.st_nlink, (long)st.st_blksize);
    CHECK("  each end its own inode", st.st_ino != st2.st_ino && st.st_dev == st2.st_dev);
    char link[64], want[64];
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", sv[0]);
    long n = readlink(proc, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    CHECK("  /proc/self/fd shows socket:[ino]", strcmp(link, want) == 0);
    EXPECT_ERR("  open of /proc/self/fd/N", open(proc, O_RDWR), ENXIO);
    EXPECT_ERR("  lseek", lseek(sv[0], 0, SEEK_CUR), ESPIPE);
    EXPECT_EQ("  SO_TYPE", sockopt_int(sv[0], SO_TYPE), SOCK_STREAM);
    EXPECT_EQ("  SO_DOMAIN", sockopt_int(sv[0], SO_DOMAIN), AF_UNIX);
    EXPECT_EQ("  SO_PROTOCOL", sockopt_int(sv[0], SO_PROTOCOL), 0);
    EXPECT_EQ("  SO_ACCEPTCONN", sockopt_int(sv[0], SO_ACCEPTCONN), 0);
    EXPECT_EQ("  SO_ERROR", sockopt_int(sv[0], SO_ERROR), 0);
    EXPECT_EQ("  SO_PASSCRED", sockopt_int(sv[0], SO_PASSCRED), 0);
    EXPECT_EQ("  SO_RCVLOWAT", sockopt_int(sv[0], SO_RCVLOWAT), 1);
    EXPECT_EQ("  SO_SNDLOWAT", sockopt_int(sv[0], SO_SNDLOWAT), 1);
    EXPECT_EQ("  SO_PEEK_OFF", sockopt_int(sv[0], SO_PEEK_OFF), -1);
    int def = sockopt_int(sv[0], SO_SNDBUF);
    printf("  SO_SNDBUF default %d, SO_RCVBUF default %d\n", def, sockopt_int(sv[0], SO_RCVBUF));
    int v = 10000;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    EXPECT_EQ("  SO_SNDBUF 10000 reads back doubled", sockopt_int(sv[0], SO_SNDBUF), 20000);
    v = 0;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    printf("  SO_SNDBUF 0 gives the minimum %d\n", sockopt_int(sv[0], SO_SNDBUF));
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    printf("  SO_RCVBUF 0 gives the minimum %d\n", sockopt_int(sv[0], SO_RCVBUF));
    v = 5000;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    EXPECT_EQ("  SO_RCVBUF 5000 reads back doubled", sockopt_int(sv[0], SO_RCVBUF), 10000);
    EXPECT_ERR("  setsockopt with optlen 2", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, 2), EINVAL);
    EXPECT_ERR("  setsockopt with optlen -1", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, -1), EINVAL);
    EXPECT_ERR("  setsockopt with a bad pointer", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, (void *)8, 4), EFAULT);
    EXPECT_ERR("  setsockopt SO_TYPE", setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERR("  setsockopt SO_SNDLOWAT", setsockopt(sv[0], SOL_SOCKET, SO_SNDLOWAT, &v, sizeof v), ENOPROTOOPT);
    EXPECT_ERR("  setsockopt at level 6", setsockopt(sv[0], 6, 1, &v, sizeof v), EOPNOTSUPP);
    socklen_t l = sizeof v;
    EXPECT_ERR("  getsockopt at level 6", getsockopt(sv[0], 6, 1, &v, &l), EOPNOTSUPP);
    EXPECT_ERR("  getsockopt of option 9999", getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
    l = -1;
    EXPECT_ERR("  getsockopt with optlen -1", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
    EXPECT_ERR("  getsockopt with a bad optlen pointer", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT);
    short s16 = 0x7777;
    l = 2;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &s16, &l);
    printf("  SO_TYPE into 2 bytes: %d, optlen %d\n", s16, (int)l);
    l = 64;
    char big[64];
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, big, &l);
    printf("  SO_TYPE into 64 bytes: optlen %d\n", (int)l);
    struct linger lg = {1, 7};
    EXPECT_EQ("  SO_LINGER set", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    memset(&lg, 0, sizeof lg);
    l = sizeof lg;
    getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &l);
    printf("  SO_LINGER %d %d optlen %d\n", lg.l_onoff, lg.l_linger, (int)l);
    EXPECT_ERR("  SO_LINGER with optlen 4", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
    v = 1;
    EXPECT_EQ("  SO_KEEPALIVE set", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
    EXPECT_EQ("  SO_KEEPALIVE", sockopt_int(sv[0], SO_KEEPALIVE), 1);
    close(sv[0]);
    close(sv[1]);
}

static void pair_io(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    char buf[64];
    EXPECT_ERR("recv MSG_DONTWAIT on an empty socket", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    EXPECT_EQ("write 5", write(sv[0], "hello", 5), 5);
    EXPECT_EQ("send 6", send(sv[0], " world", 6, 0), 6);
    int avail = -1;
    ioctl(sv[1], FIONREAD, &avail);
    EXPECT_EQ("FIONREAD", avail, 11);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("recv MSG_PEEK 4", recv(sv[1], buf, 4, MSG_PEEK), 4);
    printf("  peeked \"%s\"\n", buf);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("read joins both writes", read(sv[1], buf, sizeof buf), 11);
    printf("  \"%s\"\n", buf);
    EXPECT_EQ("read of 0 bytes", read(sv[1], buf, 0), 0);
    struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    EXPECT_EQ("writev", writev(sv[0], wv, 3), 5);
    char r1[2], r2[8];
    struct iovec rv[2] = {{r1, 2}, {r2, 8}};
    EXPECT_EQ("readv", readv(sv[1], rv, 2), 5);
    printf("  %.2s|%.3s\n", r1, r2);
    EXPECT_EQ("send with MSG_TRUNC is plain data", send(sv[0], "xyz", 3, 0), 3);
    EXPECT_EQ("recv MSG_TRUNC on a stream reads", recv(sv[1], buf, 2, MSG_TRUNC), 2);
    EXPECT_EQ("  the rest", recv(sv[1], buf, sizeof buf, 0), 1);
    while (recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    EXPECT_ERR("recv MSG_OOB with none queued", recv(sv[1], buf, 1, MSG_OOB), EINVAL);
    EXPECT_ERR("sendto with an address on a connected stream", sendto(sv[0], "x", 1, 0, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX, "/x"}, sizeof(struct sockaddr_un)), EISCONN);
    EXPECT_ERR("send from a bad buffer", send(sv[0], (void *)8, 1, 0), EFAULT);
    EXPECT_ERR("send from a kernel address", send(sv[0], (void *)0xffff800000000000ul, 1, 0), EFAULT);

    /* MSG_WAITALL waits for all of it across several writes. */
    pid_t c = xfork();
    if (c == 0) {
        for (int i = 0; i < 3; i++) {
            sleep_ms(30);
            write(sv[0], "0123", 4);
        }
        _exit(0);
    }
    EXPECT_EQ("recv MSG_WAITALL 12 across three writes", recv(sv[1], buf, 12, MSG_WAITALL), 12);
    wait_status(c, 0);
    EXPECT_ERR("recv MSG_WAITALL|MSG_DONTWAIT on empty", recv(sv[1], buf, 12, MSG_WAITALL | MSG_DONTWAIT), EAGAIN);
    write(sv[0], "ab", 2);
    EXPECT_EQ("recv MSG_WAITALL|MSG_DONTWAIT takes what is there", recv(sv[1], buf, 12, MSG_WAITALL | MSG_DONTWAIT), 2);
    close(sv[0]);
    close(sv[1]);
}

static void shutdown_and_close(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    char buf[16];
    printf("connected pair: %s / %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP), pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    write(sv[0], "abc", 3);
    printf("after a write: reader %s\n", pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("shutdown how 3", shutdown(sv[0], 3), EINVAL);
    EXPECT_ERR("shutdown how -1", shutdown(sv[0], -1), EINVAL);
    EXPECT_EQ("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR), 0);
    printf("  writer %s, reader %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP), pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_EQ("  reader gets the data", read(sv[1], buf, sizeof buf), 3);
    EXPECT_EQ("  then end of file", read(sv[1], buf, sizeof buf), 0);
    EXPECT_ERR("  writer: send MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    EXPECT_EQ("  the reader may still write back", write(sv[1], "back", 4), 4);
    EXPECT_EQ("  and the writer read it", read(sv[0], buf, sizeof buf), 4);
    EXPECT_EQ("shutdown SHUT_RD on the reader", shutdown(sv[1], SHUT_RD), 0);
    printf("  both shut: %s / %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP), pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  its peer cannot write now", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    close(sv[0]);
    close(sv[1]);

    /* A write to a closed peer: EPIPE and SIGPIPE (default action kills). */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    printf("peer closed: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_EQ("  read gives end of file", read(sv[0], buf, sizeof buf), 0);
    pid_t c = xfork();
    if (c == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(sv[0], "x", 1);
        _exit(0);
    }
    printf("  a writer with SIGPIPE's default action: %s\n", status_str(wait_status(c, 0)));
    c = xfork();
    if (c == 0) {
        signal(SIGPIPE, SIG_IGN);
        long r = write(sv[0], "x", 1);
        printf("  with SIGPIPE ignored: %ld %s\n", r, errname(errno));
        fflush(stdout);
        _exit(0);
    }
    wait_status(c, 0);
    close(sv[0]);

    /* Closing with unread data resets the peer's connection. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    printf("closed with unread data: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  the peer's read", read(sv[0], buf, sizeof buf), ECONNRESET);
    EXPECT_EQ("  then end of file", read(sv[0], buf, sizeof buf), 0);
    close(sv[0]);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    EXPECT_EQ("  SO_ERROR reports it once", sockopt_int(sv[0], SO_ERROR), ECONNRESET);
    EXPECT_EQ("  and then not", sockopt_int(sv[0], SO_ERROR), 0);
    close(sv[0]);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unconnected stream socket: %s\n", pollstr(fd, POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  read", read(fd, buf, 1), EINVAL);
    EXPECT_ERR("  send", send(fd, "x", 1, MSG_NOSIGNAL), ENOTCONN);
    EXPECT_EQ("  shutdown is not an error", shutdown(fd, SHUT_RDWR), 0);
    close(fd);
}

static void blocking_across_fork(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t c = xfork();
    if (c == 0) {
        close(sv[0]);
        sleep_ms(50);
        write(sv[1], "late", 4);
        char ack;
        if (read(sv[1], &ack, 1) != 1)
            _exit(3);
        static char chunk[65536];
        unsigned sum = 0;
        for (long i = 0; i < 4 << 20; i += sizeof chunk) {
            for (unsigned j = 0; j < sizeof chunk; j++) {
                chunk[j] = (char)(i + j * 7);
                sum += (unsigned char)chunk[j];
            }
            if (write(sv[1], chunk, sizeof chunk) != sizeof chunk)
                _exit(2);
        }
        write(sv[1], &sum, sizeof sum);
        _exit(0);
    }
    char buf[8];
    EXPECT_EQ("a blocked reader wakes with data from another process", read(sv[0], buf, sizeof buf), 4);
    write(sv[0], "k", 1);
    static char data[(4 << 20) + 4];
    long got = read_full(sv[0], data, sizeof data);
    unsigned sum = 0, theirs;
    for (long i = 0; i < 4 << 20; i++)
        sum += (unsigned char)data[i];
    memcpy(&theirs, data + (4 << 20), 4);
    printf("4 MiB through a stream socket: %ld bytes, checksum %s\n", got, sum == theirs ? "matches" : "differs");
    close(sv[1]);
    EXPECT_EQ("end of file when the writer exits", read(sv[0], buf, sizeof buf), 0);
    printf("writer: %s\n", status_str(wait_status(c, 0)));
    close(sv[0]);
}

static void epoll_and_select(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN | EPOLLET, {.fd = sv[1]}};
    EXPECT_EQ("epoll_ctl ADD a socket (edge-triggered)", epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev), 0);
    pid_t c = xfork();
    if (c == 0) {
        sleep_ms(50);
        write(sv[0], "a", 1);
        sleep_ms(50);
        write(sv[0], "b", 1);
        _exit(0);
    }
    struct epoll_event out[4];
    EXPECT_EQ("epoll_wait wakes for data from another process", epoll_wait(ep, out, 4, 5000), 1);
    printf("  events %#x\n", out[0].events);
    EXPECT_EQ("  nothing new yet", epoll_wait(ep, out, 4, 0), 0);
    EXPECT_EQ("  new data is a new edge", epoll_wait(ep, out, 4, 5000), 1);
    wait_status(c, 0);
    char buf[8];
    read(sv[1], buf, sizeof buf);
    close(sv[0]);
    EXPECT_EQ("the peer closing is an edge", epoll_wait(ep, out, 4, 5000), 1);
    printf("  events %#x\n", out[0].events);
    close(ep);
    int t[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, t);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(t[0], &r);
    FD_SET(t[0], &w);
    struct timeval tv = {0, 0};
    EXPECT_EQ("select: a fresh pair is writable, not readable", select(t[0] + 1, &r, &w, NULL, &tv), 1);
    write(t[1], "x", 1);
    FD_ZERO(&r);
    FD_SET(t[0], &r);
    EXPECT_EQ("  readable once data came", select(t[0] + 1, &r, NULL, NULL, &tv), 1);
    close(t[0]);
    close(t[1]);
    close(sv[1]);
}

static void full_buffer(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    long n, total = 0, count = 0;
    while ((n = write(sv[0], "x", 1)) > 0)
        total += n, count++;
    int e = errno;
    printf("1-byte writes until the buffer is full: more than 100: %s, then %s\n", count > 100 ? "yes" : "no", errname(e));
    printf("  full: writer %s\n", pollstr(sv[0], POLLOUT));
    int q = -1;
    ioctl(sv[0], TIOCOUTQ, &q);
    CHECK("  SIOCOUTQ counts the memory in use", q >= count);
    ioctl(sv[1], FIONREAD, &q);
    EXPECT_EQ("  SIOCINQ counts the bytes", q, count);
    char buf[4096];
    long drained = 0;
    while (strcmp(pollstr(sv[0], POLLOUT), "OUT") != 0 && (n = read(sv[1], buf, 64)) > 0)
        drained += n;
    CHECK("  writable again after reading some", drained > 0 && drained <= count);
    while (read(sv[1], buf, sizeof buf) > 0)
        ;
    static char big[1 << 20];
    n = write(sv[0], big, sizeof big);
    CHECK("a 1 MiB write to an empty non-blocking socket is partial", n > 0 && n < (long)sizeof big);
    EXPECT_ERR("  the next write", write(sv[0], big, 1), EAGAIN);
    close(sv[0]);
    close(sv[1]);
}

static volatile int got_signal;
static void on_alarm(int sig)
{
    (void)sig;
    got_signal++;
}

static void timeouts(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = {0, 200000}, back;
    EXPECT_EQ("SO_RCVTIMEO 0.2 s", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    socklen_t l = sizeof back;
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &l);
    printf("  reads back %ld.%06ld (optlen %d)\n", (long)back.tv_sec, (long)back.tv_usec, (int)l);
    char buf[8];
    long long t0 = now_ns();
    long r = recv(sv[0], buf, sizeof buf, 0);
    int e = errno;
    long long ms = (now_ns() - t0) / 1000000;
    printf("  recv on an empty socket: %ld %s after at least 150 ms: %s\n", r, errname(e), ms >= 150 ? "yes" : "no");
    tv.tv_usec = 1000000;
    EXPECT_ERR("SO_RCVTIMEO with tv_usec 1000000", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
    EXPECT_ERR("SO_RCVTIMEO with optlen 8", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    EXPECT_EQ("SO_RCVTIMEO with a negative tv_sec", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    t0 = now_ns();
    EXPECT_ERR("  recv does not wait at all", recv(sv[0], buf, sizeof buf, 0), EAGAIN);
    printf("  within 100 ms: %s\n", now_ns() - t0 < 100000000 ? "yes" : "no");
    l = sizeof back;
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &l);
    printf("  reads back %ld.%06ld\n", (long)back.tv_sec, (long)back.tv_usec);
    tv.tv_sec = 0;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    l = sizeof back;
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &l);
    printf("  {0, 0} means none: reads back %ld.%06ld\n", (long)back.tv_sec, (long)back.tv_usec);

    /* SO_SNDTIMEO: a blocking writer to a full socket gives up. */
    tv = (struct timeval){0, 250000};
    setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char big[1 << 20];
    long total = 0;
    t0 = now_ns();
    while ((r = write(sv[1], big, sizeof big)) > 0)
        total += r;
    e = errno;
    printf("SO_SNDTIMEO: writes to a full socket end with %s after at least 200 ms: %s\n", errname(e), now_ns() - t0 >= 200000000 ? "yes" : "no");
    close(sv[0]);
    close(sv[1]);
}

/* A signal during a blocked call: EINTR without SA_RESTART, the call
 * goes on with it, and EINTR despite SA_RESTART when a timeout is set. */
static void interrupted(void)
{
    for (int mode = 0; mode < 3; mode++) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        if (mode == 2) {
            struct timeval tv = {5, 0};
            setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
        set_handler(SIGALRM, on_alarm, mode == 0 ? 0 : SA_RESTART);
        pid_t c = xfork();
        if (c == 0) {
            sleep_ms(250);
            write(sv[1], "data", 4);
            _exit(0);
        }
        got_signal = 0;
        arm_timer_ms(50);
        char buf[8];
        long r = recv(sv[0], buf, sizeof buf, 0);
        int e = errno;
        const char *what[] = {"no SA_RESTART", "SA_RESTART", "SA_RESTART and SO_RCVTIMEO"};
        printf("recv interrupted (%s): %ld %s, handler ran %d\n", what[mode], r, r < 0 ? errname(e) : "OK", got_signal);
        wait_status(c, 0);
        close(sv[0]);
        close(sv[1]);
    }
    set_handler(SIGALRM, on_alarm, 0);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    umask(022);
    section("socket arguments", socket_arguments);
    section("socketpair basics and options", pair_basics);
    section("socketpair I/O", pair_io);
    section("shutdown, close, EPIPE, ECONNRESET, poll", shutdown_and_close);
    section("blocking I/O across fork", blocking_across_fork);
    section("epoll and select", epoll_and_select);
    section("a full send buffer", full_buffer);
    section("SO_RCVTIMEO and SO_SNDTIMEO", timeouts);
    section("signals and blocked calls", interrupted);
    remove_scratch();
    return finish();
}
