//! Terminals: guest programs from `tests/guest/tty_*.c` (pseudo-terminals,
//! controlling terminals, job control), each built static and static-PIE,
//! run natively and under vkernel with identical stdout, stderr and status.

mod common;

use common::{Input, Link};

fn check(program: &str, link: Link) {
    let bin = common::build(program, link);
    let native = common::compare(&bin, &[], &Input::Null);
    assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
}

macro_rules! guest_test {
    ($behaviour:ident, $program:literal) => {
        mod $behaviour {
            use super::*;

            #[test]
            fn static_() {
                check($program, Link::Static);
            }

            #[test]
            fn static_pie() {
                check($program, Link::StaticPie);
            }
        }
    };
}

guest_test!(pty_line_discipline_echo_vmin_vtime_and_close_semantics, "tty_pty");
guest_test!(controlling_tty_job_control_signals_and_hangup, "tty_jobs");
