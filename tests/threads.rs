//! Threads: guest pthread programs from `tests/guest/thread_*.c`, built
//! static, static-PIE and dynamic (glibc's ld.so and libc.so), run natively
//! and under vkernel with identical stdout, stderr and exit status; and
//! python3's threading on top.

mod common;

use common::{Input, Link};

fn check(program: &str, link: Link) {
    let bin = common::build(program, link);
    let native = common::compare(&bin, &[], &Input::Null);
    assert_eq!(native.status, 0, "{program} fails its own checks natively:\n{}", native.stdout_str());
}

macro_rules! thread_test {
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

            #[test]
            fn dynamic() {
                check($program, Link::Dynamic);
            }
        }
    };
}

thread_test!(create_join_tls_mutex_condvar_barrier_robust_exit_fork_exec_proc_task_parent_thread, "thread_basic");
thread_test!(directed_and_process_signals_sigwait_fatal_stop_cancel_setxid, "thread_signals");
thread_test!(shared_futexes_wake_op_pi_waitv_affinity_membarrier_clone3, "thread_futex");
thread_test!(exit_while_threads_are_being_created_ends_every_thread, "thread_exit_race");
thread_test!(hot_syscall_sites_signals_restarts_fork_exec_gs_and_the_table_range, "thread_patched_sites");

/// python3's threading, a thread pool and a timer: same output as native.
#[test]
fn python_threading() {
    let python = "/usr/bin/python3";
    if !std::path::Path::new(python).exists() {
        assert!(std::env::var_os("CI").is_none(), "{python} is missing in CI: .ci/run must install python3");
        eprintln!("SKIPPED python_threading: no {python}");
        return;
    }
    let script = "import threading, queue, concurrent.futures as cf\n\
                  q = queue.Queue()\n\
                  def work(n):\n    s = sum(range(n))\n    q.put(s)\n    return s\n\
                  ts = [threading.Thread(target=work, args=(10000*i,)) for i in range(1, 9)]\n\
                  [t.start() for t in ts]; [t.join() for t in ts]\n\
                  print(sorted(q.get() for _ in range(8)))\n\
                  with cf.ThreadPoolExecutor(4) as ex:\n    print(sum(ex.map(work, range(500))))\n\
                  ev = threading.Event()\n\
                  threading.Timer(0.02, ev.set).start()\n\
                  print(ev.wait(10), threading.active_count())\n\
                  l = threading.Lock(); n = [0]\n\
                  def inc():\n    for _ in range(20000):\n        with l: n[0] += 1\n\
                  ts = [threading.Thread(target=inc) for _ in range(4)]\n\
                  [t.start() for t in ts]; [t.join() for t in ts]\n\
                  print(n[0])\n";
    let out = common::compare(python, &["-S", "-c", script], &Input::Null);
    assert_eq!(out.status, 0, "python3 threading failed natively:\n{}", out.stdout_str());
}
