//! The guest's kernel log: a ring of records vkernel writes its own
//! messages to (boot, processes killed for lack of memory or after an
//! internal error, segfaults, core dumps), read by syslog(2) — `dmesg`.
//! Records are kept as Linux's printk shows them through syslog:
//! "<level>[seconds.micros] text\n". The oldest records go when the ring
//! is full. With -v vkernel also prints them on its stderr.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::OnceLock;

use crate::sched::wait::WaitQueue;

/// Bytes of text the ring keeps (Linux's default log_buf_len is 128 KiB
/// on small machines; a guest has less to say).
pub const LOG_BUF_LEN: usize = 64 * 1024;

pub const KERN_NOTICE: u8 = 5;
pub const KERN_INFO: u8 = 6;

struct Ring {
    records: VecDeque<Vec<u8>>,
    bytes: usize,
    /// Bytes of the oldest records a destructive read (SYSLOG_ACTION_READ)
    /// has not consumed yet: the unread tail is the last `unread` bytes.
    unread: usize,
}

struct Log {
    ring: Mutex<Ring>,
    readers: WaitQueue,
}

fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| Log { ring: Mutex::new(Ring { records: VecDeque::new(), bytes: 0, unread: 0 }), readers: WaitQueue::new() })
}

/// Appends one message at `level` (KERN_*), timestamped from boot.
pub fn printk(level: u8, text: &str) {
    let ns = crate::sched::clock::monotonic_ns();
    let mut record = format!("<{level}>[{:5}.{:06}] {}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000, text.trim_end_matches('\n')).into_bytes();
    record.truncate(1024);
    record.push(b'\n');
    {
        let mut ring = log().ring.lock();
        ring.bytes += record.len();
        ring.unread += record.len();
        ring.records.push_back(record);
        while ring.bytes > LOG_BUF_LEN {
            let Some(old) = ring.records.pop_front() else { break };
            ring.bytes -= old.len();
            ring.unread = ring.unread.min(ring.bytes);
        }
    }
    log().readers.wake_all();
}

/// All records, oldest first, as one text.
#[cfg(test)]
fn contents() -> Vec<u8> {
    log().ring.lock().records.iter().flatten().copied().collect()
}

/// The last `len` bytes' worth of whole records (Linux's
/// syslog_print_all skips the oldest records that do not fit).
pub fn tail(len: usize) -> Vec<u8> {
    let ring = log().ring.lock();
    let mut size = 0;
    let mut first = ring.records.len();
    for (i, r) in ring.records.iter().enumerate().rev() {
        if size + r.len() > len {
            break;
        }
        size += r.len();
        first = i;
    }
    ring.records.iter().skip(first).flatten().copied().collect()
}

/// Forgets every record (SYSLOG_ACTION_CLEAR).
pub fn clear() {
    let mut ring = log().ring.lock();
    ring.records.clear();
    ring.bytes = 0;
    ring.unread = 0;
}

/// Bytes not yet taken by a destructive read (SYSLOG_ACTION_SIZE_UNREAD).
pub fn unread() -> usize {
    log().ring.lock().unread
}

/// Takes up to `len` unread bytes (SYSLOG_ACTION_READ); empty when there
/// are none.
pub fn take_unread(len: usize) -> Vec<u8> {
    let mut ring = log().ring.lock();
    let all: Vec<u8> = ring.records.iter().flatten().copied().collect();
    let start = all.len() - ring.unread.min(all.len());
    let n = len.min(ring.unread);
    let out = all[start..start + n].to_vec();
    ring.unread -= n;
    out
}

/// Where a blocking SYSLOG_ACTION_READ waits for a record.
pub fn readers() -> &'static WaitQueue {
    &log().readers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_level_and_time_and_unread_bytes_are_consumed_once() {
        printk(KERN_INFO, "klog test record");
        let all = String::from_utf8(contents()).unwrap();
        let line = all.lines().find(|l| l.ends_with("klog test record")).unwrap();
        assert!(line.starts_with("<6>[") && line.contains("] klog"));
        let unread = unread();
        assert!(unread >= line.len() + 1);
        let taken = take_unread(unread);
        assert_eq!(taken.len(), unread);
        assert_eq!(super::unread(), 0);
        assert!(tail(line.len() + 1).ends_with(b"klog test record\n"));
    }
}
