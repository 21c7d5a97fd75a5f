/* AF_UNIX seqpacket sockets: records keep their boundaries and are cut
 * to the reader's buffer (MSG_TRUNC), connections through listen/accept
 * on an abstract name, end of file when the peer closes or shuts down
 * (for non-blocking reads too), EPIPE on a send to a closed peer,
 * ECONNRESET when the peer closed with records unread, ENOTCONN before a
 * connection, EMSGSIZE, poll readiness, and a record larger than a page
 * between processes. */
#include "sock.h"

static void pair_records(void)
{
    int sv[2];
    EXPECT_EQ("socketpair(SOCK_SEQPACKET)", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    EXPECT_EQ("  SO_TYPE", sockopt_int(sv[0], SO_TYPE), SOCK_SEQPACKET);
    printf("  polls %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    write(sv[0], "first", 5);
    send(sv[0], "second record", 13, 0);
    send(sv[0], "third", 5, MSG_EOR);
    char buf[64];
    EXPECT_EQ("read 64: one record", read(sv[1], buf, sizeof buf), 5);
    struct iovec iov = {buf, 6};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    EXPECT_EQ("recvmsg 6 of a 13-byte record", recvmsg(sv[1], &m, 0), 6);
    printf("  MSG_TRUNC: %s, the rest is gone: ", m.msg_flags & MSG_TRUNC ? "yes" : "no");
    memset(buf, 0, sizeof buf);
    printf("%ld \"%s\"\n", (long)recv(sv[1], buf, sizeof buf, 0), buf);
    send(sv[0], "peek", 4, 0);
    EXPECT_EQ("MSG_PEEK|MSG_TRUNC into 1 byte: the full length", recv(sv[1], buf, 1, MSG_PEEK | MSG_TRUNC), 4);
    EXPECT_EQ("  the record is still there", recv(sv[1], buf, sizeof buf, 0), 4);
    EXPECT_ERR("MSG_DONTWAIT on an empty socket", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    int sndbuf = sockopt_int(sv[0], SO_SNDBUF);
    static char big[300000];
    EXPECT_ERR("a record of SO_SNDBUF - 31 bytes", send(sv[0], big, sndbuf - 31, 0), EMSGSIZE);
    struct sockaddr_un a = {AF_UNIX, "/nonexistent"};
    EXPECT_EQ("sendto with an address goes to the peer", sendto(sv[0], "to", 2, 0, (struct sockaddr *)&a, sizeof a), 2);
    EXPECT_EQ("  recv", recv(sv[1], buf, sizeof buf, 0), 2);

    EXPECT_EQ("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR), 0);
    printf("  the reader polls %s\n", pollstr(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_EQ("  its read: end of file", read(sv[1], buf, sizeof buf), 0);
    EXPECT_EQ("  non-blocking too", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 0);
    EXPECT_ERR("  the writer's send", send(sv[0], "x", 1, 0), EPIPE);
    close(sv[0]);
    close(sv[1]);

    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    send(sv[1], "last words", 10, 0);
    close(sv[1]);
    printf("peer closed: %s\n", pollstr(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_EQ("  its last record", recv(sv[0], buf, sizeof buf, 0), 10);
    EXPECT_EQ("  then end of file", recv(sv[0], buf, sizeof buf, 0), 0);
    EXPECT_EQ("  non-blocking too", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), 0);
    pid_t c = xfork();
    if (c == 0) {
        signal(SIGPIPE, SIG_DFL);
        long r = send(sv[0], "x", 1, 0);
        printf("  a send: %ld %s\n", r, errname(errno));
        fflush(stdout);
        _exit(0);
    }
    printf("  (the sender %s)\n", status_str(wait_status(c, 0)));
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    send(sv[0], "unread", 6, 0);
    send(sv[1], "for you", 7, 0);
    close(sv[1]);
    EXPECT_ERR("closed with a record unread: the peer's recv", recv(sv[0], buf, sizeof buf, 0), ECONNRESET);
    EXPECT_EQ("  then the record it had", recv(sv[0], buf, sizeof buf, 0), 7);
    EXPECT_EQ("  then end of file", recv(sv[0], buf, sizeof buf, 0), 0);
    close(sv[0]);

    int u = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    printf("an unconnected seqpacket socket polls %s\n", pollstr(u, POLLIN | POLLOUT | POLLRDHUP));
    EXPECT_ERR("  send", send(u, "x", 1, 0), ENOTCONN);
    EXPECT_ERR("  recv", recv(u, buf, sizeof buf, MSG_DONTWAIT), ENOTCONN);
    EXPECT_ERR("  sendto an address", sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof a), ENOTCONN);
    close(u);
}

static void connections(void)
{
    socklen_t len;
    struct sockaddr_un a = abstract_addr("seqpacket", &len);
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    EXPECT_EQ("bind an abstract name", bind(l, (struct sockaddr *)&a, len), 0);
    EXPECT_EQ("listen", listen(l, 4), 0);
    printf("  the listener polls %s\n", pollstr(l, POLLIN | POLLOUT));
    char buf[64];
    EXPECT_ERR("  recv on it", recv(l, buf, sizeof buf, MSG_DONTWAIT), ENOTCONN);
    pid_t c = xfork();
    if (c == 0) {
        int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (connect(s, (struct sockaddr *)&a, len) < 0)
            _exit(2);
        static char rec[100000];
        memset(rec, 'r', sizeof rec);
        send(s, "hello", 5, 0);
        send(s, rec, sizeof rec, 0);
        send(s, "bye", 3, 0);
        char ack[4];
        recv(s, ack, sizeof ack, 0);
        _exit(0);
    }
    int s = accept(l, NULL, NULL);
    EXPECT_OK("accept", s);
    static char rec[200000];
    EXPECT_EQ("  a small record", recv(s, rec, sizeof rec, 0), 5);
    EXPECT_EQ("  a 100000-byte record from another process, whole", recv(s, rec, sizeof rec, 0), 100000);
    EXPECT_EQ("  the last", recv(s, rec, sizeof rec, 0), 3);
    send(s, "ack", 3, 0);
    EXPECT_EQ("  end of file when the client exits", recv(s, rec, sizeof rec, 0), 0);
    printf("  client: %s\n", status_str(wait_status(c, 0)));
    close(s);
    close(l);
}

int main(void)
{
    reset_signals();
    no_core_dumps();
    scratch();
    section("seqpacket pairs", pair_records);
    section("seqpacket connections", connections);
    remove_scratch();
    return finish();
}
