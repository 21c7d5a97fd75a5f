//! Unix sockets: guest programs from `tests/guest/unix_*.c` (helpers in
//! `sock.h`), each built static, static-PIE and dynamic, run natively and
//! under vkernel with identical stdout, stderr and exit status; python3's
//! socket module; and the families vkernel does not offer, checked under
//! vkernel only.
//!
//! Sockets bound in the filesystem live in a scratch directory under
//! /tmp (the guest's private tmpfs under vkernel); signal and process
//! work happens in forked children, since under vkernel the program is
//! PID 1 (see `tests/guest/proc.h`).

mod common;

use common::{Input, Link};

fn check(program: &str, link: Link, args: &[&str]) {
    let bin = common::build(program, link);
    let native = common::compare(&bin, args, &Input::Null);
    assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
}

/// One module per behaviour, a test per link mode.
macro_rules! guest_test {
    ($behaviour:ident, $program:literal $(, $arg:literal)* $(,)?) => {
        mod $behaviour {
            use super::*;

            #[test]
            fn static_() {
                check($program, Link::Static, &[$($arg),*]);
            }

            #[test]
            fn static_pie() {
                check($program, Link::StaticPie, &[$($arg),*]);
            }

            #[test]
            fn dynamic() {
                check($program, Link::Dynamic, &[$($arg),*]);
            }
        }
    };
}

guest_test!(stream_options_io_shutdown_epipe_econnreset_poll_timeouts_and_signals, "unix_stream");
guest_test!(path_and_abstract_names_connect_errors_backlog_peercred_and_autobind, "unix_names");
guest_test!(datagram_boundaries_truncation_queue_limit_connect_eperm_and_mmsg, "unix_dgram");
guest_test!(seqpacket_records_truncation_eof_epipe_and_connections, "unix_seqpacket");
guest_test!(scm_rights_cloexec_ctrunc_peek_max_fds_across_fork_and_scm_credentials, "unix_rights");

/// Families vkernel does not offer yet answer EAFNOSUPPORT (natively they
/// exist, so there is nothing to compare with).
#[test]
fn inet_inet6_and_netlink_sockets_are_eafnosupport() {
    let bin = common::build("unix_names", Link::Static);
    let out = common::run_vkernel(&bin, &["families"], &Input::Null);
    assert_eq!(
        out.stdout_str(),
        "socket(AF_INET, SOCK_STREAM): -1 EAFNOSUPPORT\n\
         socket(AF_INET6, SOCK_DGRAM): -1 EAFNOSUPPORT\n\
         socket(AF_NETLINK, SOCK_RAW): -1 EAFNOSUPPORT\n\
         socketpair(AF_INET, SOCK_STREAM): -1 EAFNOSUPPORT\n",
        "stderr: {}",
        out.stderr_str()
    );
    assert_eq!(out.status, 0);
}

#[test]
fn python3_socketpair_and_a_listening_socket() {
    if !std::path::Path::new("/usr/bin/python3").exists() {
        eprintln!("SKIPPED python3_socketpair_and_a_listening_socket: no /usr/bin/python3");
        return;
    }
    let script = "import socket, os, tempfile\n\
                  a, b = socket.socketpair()\n\
                  a.sendall(b'ping'); print(b.recv(16), a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM)\n\
                  d = tempfile.mkdtemp(); p = os.path.join(d, 's')\n\
                  l = socket.socket(socket.AF_UNIX); l.bind(p); l.listen(1)\n\
                  c = socket.socket(socket.AF_UNIX); c.connect(p)\n\
                  s, addr = l.accept(); c.sendall(b'x' * 100000); c.close()\n\
                  n = 0\n\
                  while True:\n    \
                      chunk = s.recv(65536)\n    \
                      if not chunk: break\n    \
                      n += len(chunk)\n\
                  print(n, repr(addr), s.getsockname() == p)\n\
                  x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
                  x.send(b'one'); x.send(b'two'); print(y.recv(2), y.recv(10))\n\
                  os.unlink(p); os.rmdir(d)\n";
    common::compare("/usr/bin/python3", &["-S", "-c", script], &Input::Null);
}
