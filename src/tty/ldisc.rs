//! The line discipline (Linux's N_TTY, drivers/tty/n_tty.c): termios, the
//! input queue with canonical line editing, echo, the signal characters and
//! output post-processing. Pure logic over bytes: no locks, no blocking, no
//! devices. Its owner (`tty::Tty`) feeds received bytes in, drains the echo
//! it produced, reads the queue, and sends the signals `receive` reports.

use std::collections::VecDeque;

use crate::abi::Termios;
use crate::abi::signal::{SIGINT, SIGQUIT, SIGTSTP};
use crate::abi::termios::{
    B38400, CREAD, CS8, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOPRT, HUPCL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUCLC, IUTF8, IXANY,
    IXON, NOFLSH, OCRNL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, TOSTOP, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSTART,
    VSTOP, VSUSP, VTIME, VWERASE, XTABS,
};

/// Linux's N_TTY_BUF_SIZE: the input queue holds one byte less.
pub const N_TTY_BUF_SIZE: usize = 4096;

/// Linux's INIT_C_CC: ^C ^\ DEL ^U ^D, TIME 0, MIN 1, ^Q ^S ^Z, EOL off,
/// ^R ^O ^W ^V.
const INIT_C_CC: [u8; 19] = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0];

/// Linux's tty_std_termios (a console or a pty slave when first opened).
pub fn std_termios() -> Termios {
    Termios {
        c_iflag: ICRNL | IXON,
        c_oflag: OPOST | ONLCR,
        c_cflag: B38400 | CS8 | CREAD | HUPCL,
        c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        c_line: 0,
        c_cc: INIT_C_CC,
    }
}

/// Control characters as the echo code sees them (ASCII C0 and DEL; bytes
/// above 127 are left alone so UTF-8 echoes as typed).
fn is_control(c: u8) -> bool {
    c < 32 || c == 127
}

/// What one queued byte means to a canonical reader.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Normal,
    /// Ends a line and is returned with it ('\n', VEOL, VEOL2, or the last
    /// byte pushed when ICANON was switched on).
    LineEnd,
    /// VEOF: ends a line and is not returned (an empty line reads as 0).
    EndOfFile,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    c: u8,
    kind: Kind,
}

/// What `receive` did.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes taken; the rest must wait until a reader makes room.
    pub consumed: usize,
    /// Signals for the foreground process group, in order.
    pub signals: Vec<i32>,
}

pub struct LineDiscipline {
    termios: Termios,
    queue: VecDeque<Slot>,
    /// How many slots at the front form complete lines (canonical mode).
    canon_len: usize,
    column: u32,
    /// The column where the current input line began (tab erase).
    canon_column: u32,
    /// Inside a "\...": ECHOPRT erase.
    erasing: bool,
    /// The next byte is literal (VLNEXT).
    lnext: bool,
    /// Echo bytes produced by `receive`, post-processed, for the device.
    echo: Vec<u8>,
    /// Output stopped by VSTOP (IXON) or TCOOFF.
    pub stopped: bool,
}

impl LineDiscipline {
    pub fn new(termios: Termios) -> LineDiscipline {
        LineDiscipline {
            termios,
            queue: VecDeque::new(),
            canon_len: 0,
            column: 0,
            canon_column: 0,
            erasing: false,
            lnext: false,
            echo: Vec::new(),
            stopped: false,
        }
    }

    pub fn termios(&self) -> Termios {
        self.termios
    }

    fn iflag(&self, f: u32) -> bool {
        self.termios.c_iflag & f != 0
    }
    fn oflag(&self, f: u32) -> bool {
        self.termios.c_oflag & f != 0
    }
    fn lflag(&self, f: u32) -> bool {
        self.termios.c_lflag & f != 0
    }
    fn cc(&self, i: usize) -> u8 {
        self.termios.c_cc[i]
    }
    /// `c` is the character at `i` and that character is enabled (Linux's
    /// __DISABLED_CHAR, NUL, never matches).
    fn is_cc(&self, c: u8, i: usize) -> bool {
        c != 0 && self.cc(i) == c
    }

    pub fn canonical(&self) -> bool {
        self.lflag(ICANON)
    }

    pub fn tostop(&self) -> bool {
        self.lflag(TOSTOP)
    }

    /// Linux's n_tty_set_termios: switching ICANON drops line marks; input
    /// already queued becomes one readable line when ICANON comes on.
    pub fn set_termios(&mut self, new: Termios) {
        let toggled = (self.termios.c_lflag ^ new.c_lflag) & ICANON != 0;
        let ixon_off = self.iflag(IXON) && new.c_iflag & IXON == 0;
        self.termios = new;
        if toggled {
            for s in self.queue.iter_mut() {
                s.kind = Kind::Normal;
            }
            if self.canonical() && !self.queue.is_empty() {
                if let Some(last) = self.queue.back_mut() {
                    last.kind = Kind::LineEnd;
                }
                self.canon_len = self.queue.len();
            } else {
                self.canon_len = 0;
            }
            self.erasing = false;
            self.lnext = false;
        }
        if ixon_off {
            self.stopped = false;
        }
    }

    // ---- input ----

    /// Bytes a reader may take now (FIONREAD): complete lines in canonical
    /// mode, everything otherwise.
    pub fn readable(&self) -> usize {
        if self.canonical() { self.canon_len } else { self.queue.len() }
    }

    /// Linux's input_available_p: a complete line, or at least `amount`
    /// (at least one) bytes.
    pub fn input_available(&self, amount: usize) -> bool {
        if self.canonical() { self.canon_len > 0 } else { self.queue.len() >= amount.max(1) }
    }

    /// What poll waits for: VMIN bytes when VTIME is 0 (Linux: n_tty_poll).
    pub fn poll_readable(&self) -> bool {
        let amount = if self.cc(VTIME) != 0 { 0 } else { self.cc(VMIN) as usize };
        self.input_available(amount)
    }

    /// Room for another byte: the queue holds N_TTY_BUF_SIZE - 1, but an
    /// incomplete canonical line keeps taking input (each byte past the
    /// limit replaces the last) so that erase and newline still work.
    fn has_room(&self) -> bool {
        self.queue.len() < N_TTY_BUF_SIZE - 1 || (self.canonical() && self.canon_len == 0)
    }

    pub fn flush_input(&mut self) {
        self.queue.clear();
        self.canon_len = 0;
        self.erasing = false;
    }

    /// Echo bytes waiting for the device.
    pub fn take_echo(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.echo)
    }

    /// Feeds bytes from the device (keyboard, pty master) through input
    /// processing.
    pub fn receive(&mut self, input: &[u8]) -> Received {
        let mut out = Received::default();
        for &byte in input {
            if !self.has_room() {
                break;
            }
            out.consumed += 1;
            let mut c = byte;
            if self.iflag(ISTRIP) {
                c &= 0x7f;
            }
            if self.iflag(IUCLC) && self.lflag(IEXTEN) {
                c = c.to_ascii_lowercase();
            }
            if self.lnext {
                self.lnext = false;
                self.receive_ordinary(c);
            } else if self.is_special(c) {
                self.receive_special(c, &mut out.signals);
            } else {
                self.receive_ordinary(c);
            }
        }
        out
    }

    /// Linux's char_map: does `c` need more than "echo and queue"?
    fn is_special(&self, c: u8) -> bool {
        if c == 0 {
            return false;
        }
        if c == b'\r' && self.iflag(IGNCR | ICRNL) || c == b'\n' && self.iflag(INLCR) {
            return true;
        }
        if self.canonical() {
            if self.is_cc(c, VERASE) || self.is_cc(c, VKILL) || self.is_cc(c, VEOF) || c == b'\n' || self.is_cc(c, VEOL) {
                return true;
            }
            if self.lflag(IEXTEN) && (self.is_cc(c, VWERASE) || self.is_cc(c, VLNEXT) || self.is_cc(c, VEOL2) || (self.lflag(ECHO) && self.is_cc(c, VREPRINT)))
            {
                return true;
            }
        }
        if self.iflag(IXON) && (self.is_cc(c, VSTART) || self.is_cc(c, VSTOP)) {
            return true;
        }
        self.lflag(ISIG) && (self.is_cc(c, VINTR) || self.is_cc(c, VQUIT) || self.is_cc(c, VSUSP))
    }

    /// The fast path: restart output on IXANY, echo, queue.
    fn receive_ordinary(&mut self, c: u8) {
        if self.stopped && self.iflag(IXON) && self.iflag(IXANY) {
            self.stopped = false;
        }
        if self.lflag(ECHO) {
            self.finish_erasing();
            if self.partial_line_empty() {
                self.canon_column = self.column;
            }
            self.echo_char(c);
        }
        self.put(c, Kind::Normal);
    }

    fn receive_special(&mut self, c: u8, signals: &mut Vec<i32>) {
        if self.iflag(IXON) {
            if self.is_cc(c, VSTART) {
                self.stopped = false;
                return;
            }
            if self.is_cc(c, VSTOP) {
                self.stopped = true;
                return;
            }
        }
        if self.lflag(ISIG) {
            let sig = if self.is_cc(c, VINTR) {
                Some(SIGINT)
            } else if self.is_cc(c, VQUIT) {
                Some(SIGQUIT)
            } else if self.is_cc(c, VSUSP) {
                Some(SIGTSTP)
            } else {
                None
            };
            if let Some(sig) = sig {
                self.signal_char(sig, c, signals);
                return;
            }
        }
        if self.stopped && self.iflag(IXON) && self.iflag(IXANY) {
            self.stopped = false;
        }
        let mut c = c;
        if c == b'\r' {
            if self.iflag(IGNCR) {
                return;
            }
            if self.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(INLCR) {
            c = b'\r';
        }
        if self.canonical() {
            if self.is_cc(c, VERASE) || self.is_cc(c, VKILL) || (self.is_cc(c, VWERASE) && self.lflag(IEXTEN)) {
                self.eraser(c);
                return;
            }
            if self.is_cc(c, VLNEXT) && self.lflag(IEXTEN) {
                self.lnext = true;
                if self.lflag(ECHO) {
                    self.finish_erasing();
                    if self.lflag(ECHOCTL) {
                        self.echo_raw(b'^');
                        self.echo_raw(b'\x08');
                    }
                }
                return;
            }
            if self.is_cc(c, VREPRINT) && self.lflag(ECHO) && self.lflag(IEXTEN) {
                self.finish_erasing();
                self.echo_char(c);
                self.echo_raw(b'\n');
                let line: Vec<u8> = self.queue.iter().skip(self.canon_len).map(|s| s.c).collect();
                for b in line {
                    self.echo_char(b);
                }
                return;
            }
            if c == b'\n' {
                if self.lflag(ECHO) || self.lflag(ECHONL) {
                    self.echo_raw(b'\n');
                }
                self.end_line(c, Kind::LineEnd);
                return;
            }
            if self.is_cc(c, VEOF) {
                self.end_line(0, Kind::EndOfFile);
                return;
            }
            if self.is_cc(c, VEOL) || (self.is_cc(c, VEOL2) && self.lflag(IEXTEN)) {
                if self.lflag(ECHO) {
                    if self.partial_line_empty() {
                        self.canon_column = self.column;
                    }
                    self.echo_char(c);
                }
                self.end_line(c, Kind::LineEnd);
                return;
            }
        }
        if self.lflag(ECHO) {
            self.finish_erasing();
            if c == b'\n' {
                self.echo_raw(b'\n');
            } else {
                if self.partial_line_empty() {
                    self.canon_column = self.column;
                }
                self.echo_char(c);
            }
        }
        self.put(c, Kind::Normal);
    }

    /// VINTR/VQUIT/VSUSP: flush (unless NOFLSH), restart output, echo the
    /// character, signal the foreground process group (Linux: isig).
    fn signal_char(&mut self, sig: i32, c: u8, signals: &mut Vec<i32>) {
        signals.push(sig);
        if !self.lflag(NOFLSH) {
            self.echo.clear();
            self.flush_input();
        }
        if self.iflag(IXON) {
            self.stopped = false;
        }
        if self.lflag(ECHO) {
            self.echo_char(c);
        }
    }

    fn partial_line_empty(&self) -> bool {
        self.queue.len() == self.canon_len
    }

    fn put(&mut self, c: u8, kind: Kind) {
        if self.queue.len() >= N_TTY_BUF_SIZE - 1 {
            // Overflow of an incomplete canonical line: replace the last byte.
            if self.queue.len() > self.canon_len {
                self.queue.pop_back();
            } else {
                return;
            }
        }
        self.queue.push_back(Slot { c, kind });
    }

    fn end_line(&mut self, c: u8, kind: Kind) {
        self.put(c, kind);
        self.canon_len = self.queue.len();
    }

    fn is_continuation(&self, c: u8) -> bool {
        self.iflag(IUTF8) && c & 0xc0 == 0x80
    }

    fn finish_erasing(&mut self) {
        if self.erasing {
            self.echo_raw(b'/');
            self.erasing = false;
        }
    }

    /// VERASE, VWERASE and VKILL on the current line, with the echo Linux
    /// gives for ECHOE, ECHOK, ECHOKE, ECHOPRT and ECHOCTL (n_tty: eraser).
    fn eraser(&mut self, c: u8) {
        #[derive(PartialEq)]
        enum Erase {
            Char,
            Word,
            Line,
        }
        if self.partial_line_empty() {
            return;
        }
        let kind = if self.is_cc(c, VERASE) {
            Erase::Char
        } else if self.is_cc(c, VWERASE) {
            Erase::Word
        } else {
            if !self.lflag(ECHO) {
                self.queue.truncate(self.canon_len);
                return;
            }
            if !self.lflag(ECHOK) || !self.lflag(ECHOKE) || !self.lflag(ECHOE) {
                self.queue.truncate(self.canon_len);
                self.finish_erasing();
                self.echo_char(c);
                if self.lflag(ECHOK) {
                    self.echo_raw(b'\n');
                }
                return;
            }
            Erase::Line
        };
        let mut seen_alnums = 0;
        while self.queue.len() > self.canon_len {
            // One (possibly multi-byte UTF-8) character.
            let mut head = self.queue.len();
            let mut ch;
            loop {
                head -= 1;
                ch = self.queue[head].c;
                if !(self.is_continuation(ch) && head > self.canon_len) {
                    break;
                }
            }
            if self.is_continuation(ch) {
                break;
            }
            if kind == Erase::Word {
                if ch.is_ascii_alphanumeric() || ch == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            let erased: Vec<u8> = self.queue.iter().skip(head).map(|s| s.c).collect();
            self.queue.truncate(head);
            if self.lflag(ECHO) {
                if self.lflag(ECHOPRT) {
                    if !self.erasing {
                        self.echo_raw(b'\\');
                        self.erasing = true;
                    }
                    self.echo_char(ch);
                    for &b in &erased[1..] {
                        self.echo_raw(b);
                        self.column = self.column.saturating_sub(1);
                    }
                } else if kind == Erase::Char && !self.lflag(ECHOE) {
                    self.echo_char(self.cc(VERASE));
                } else if ch == b'\t' {
                    self.erase_tab();
                } else {
                    let cols = if is_control(ch) { if self.lflag(ECHOCTL) { 2 } else { 0 } } else { 1 };
                    for _ in 0..cols {
                        self.echo_raw(b'\x08');
                        self.echo_raw(b' ');
                        self.echo_raw(b'\x08');
                    }
                }
            }
            if kind == Erase::Char {
                break;
            }
        }
        if self.partial_line_empty() && self.lflag(ECHO) {
            self.finish_erasing();
        }
    }

    /// Backs the cursor over a tab just erased: the columns it covered
    /// depend on what precedes it on the line (Linux: ECHO_OP_ERASE_TAB).
    fn erase_tab(&mut self) {
        let mut chars: u32 = 0;
        let mut after_tab = false;
        for s in self.queue.iter().skip(self.canon_len).rev() {
            if s.c == b'\t' {
                after_tab = true;
                break;
            } else if is_control(s.c) {
                if self.lflag(ECHOCTL) {
                    chars += 2;
                }
            } else if !self.is_continuation(s.c) {
                chars += 1;
            }
        }
        if !after_tab {
            chars += self.canon_column;
        }
        for _ in 0..8 - (chars & 7) {
            self.echo.push(b'\x08');
            self.column = self.column.saturating_sub(1);
        }
    }

    /// Echoes `c`, control characters as "^X" under ECHOCTL.
    fn echo_char(&mut self, c: u8) {
        if self.lflag(ECHOCTL) && is_control(c) && c != b'\t' {
            self.echo.push(b'^');
            self.echo.push(c ^ 0o100);
            self.column += 2;
        } else {
            self.echo_raw(c);
        }
    }

    /// Echoes `c` as output, post-processed under OPOST.
    fn echo_raw(&mut self, c: u8) {
        if self.oflag(OPOST) {
            let mut out = std::mem::take(&mut self.echo);
            self.output_char(c, &mut out);
            self.echo = out;
        } else {
            self.echo.push(c);
        }
    }

    // ---- output ----

    /// Output post-processing of bytes a program writes (Linux:
    /// do_output_char); the column is shared with echo.
    pub fn process_output(&mut self, data: &[u8]) -> Vec<u8> {
        if !self.oflag(OPOST) {
            return data.to_vec();
        }
        let mut out = Vec::with_capacity(data.len() + data.len() / 8);
        for &c in data {
            self.output_char(c, &mut out);
        }
        out
    }

    fn output_char(&mut self, c: u8, out: &mut Vec<u8>) {
        let mut c = c;
        match c {
            b'\n' => {
                if self.oflag(ONLRET) {
                    self.column = 0;
                }
                if self.oflag(ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    out.extend_from_slice(b"\r\n");
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if self.oflag(ONOCR) && self.column == 0 {
                    return;
                }
                if self.oflag(OCRNL) {
                    c = b'\n';
                    if self.oflag(ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column += spaces;
                if self.termios.c_oflag & TABDLY == XTABS {
                    out.extend(std::iter::repeat_n(b' ', spaces as usize));
                    return;
                }
            }
            0x08 => self.column = self.column.saturating_sub(1),
            _ => {
                if !is_control(c) {
                    if self.oflag(OLCUC) {
                        c = c.to_ascii_uppercase();
                    }
                    if !self.is_continuation(c) {
                        self.column += 1;
                    }
                }
            }
        }
        out.push(c);
    }

    // ---- reading ----

    /// Takes queued input into `buf`: at most one line in canonical mode (a
    /// VEOF ends the line and is not returned: alone it reads as 0 bytes),
    /// whatever is there otherwise. The caller decides when to block.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        if self.canonical() {
            while self.canon_len > 0 {
                let s = self.queue[0];
                if s.kind == Kind::EndOfFile {
                    self.pop();
                    break;
                }
                if n == buf.len() {
                    break;
                }
                self.pop();
                buf[n] = s.c;
                n += 1;
                if s.kind == Kind::LineEnd {
                    break;
                }
            }
        } else {
            while n < buf.len() {
                let Some(s) = self.queue.pop_front() else { break };
                buf[n] = s.c;
                n += 1;
            }
            self.canon_len = 0;
        }
        n
    }

    fn pop(&mut self) {
        self.queue.pop_front();
        self.canon_len = self.canon_len.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldisc() -> LineDiscipline {
        LineDiscipline::new(std_termios())
    }

    fn read_all(l: &mut LineDiscipline) -> Vec<u8> {
        let mut buf = [0u8; 8192];
        let n = l.read(&mut buf);
        buf[..n].to_vec()
    }

    fn set_lflag(l: &mut LineDiscipline, on: u32, off: u32) {
        let mut t = l.termios();
        t.c_lflag = (t.c_lflag | on) & !off;
        l.set_termios(t);
    }

    #[test]
    fn canonical_line_is_readable_only_after_newline() {
        let mut l = ldisc();
        l.receive(b"hello");
        assert!(!l.input_available(1));
        assert_eq!(read_all(&mut l), b"");
        l.receive(b"\r");
        assert_eq!(l.readable(), 6);
        assert_eq!(read_all(&mut l), b"hello\n");
        assert_eq!(l.take_echo(), b"hello\r\n");
    }

    #[test]
    fn canonical_read_returns_one_line_at_a_time() {
        let mut l = ldisc();
        l.receive(b"one\ntwo\n");
        assert_eq!(read_all(&mut l), b"one\n");
        assert_eq!(read_all(&mut l), b"two\n");
    }

    #[test]
    fn canonical_read_with_a_short_buffer_continues_the_line() {
        let mut l = ldisc();
        l.receive(b"abcdef\n");
        let mut buf = [0u8; 4];
        assert_eq!(l.read(&mut buf), 4);
        assert_eq!(&buf, b"abcd");
        assert_eq!(read_all(&mut l), b"ef\n");
    }

    #[test]
    fn eof_ends_a_line_without_being_returned_and_alone_reads_zero() {
        let mut l = ldisc();
        l.receive(b"abc\x04");
        assert!(l.input_available(1));
        assert_eq!(read_all(&mut l), b"abc");
        l.receive(b"\x04");
        assert!(l.input_available(1));
        assert_eq!(read_all(&mut l), b"");
        assert!(!l.input_available(1));
        // ^D is not echoed.
        assert_eq!(l.take_echo(), b"abc");
    }

    #[test]
    fn erase_removes_a_character_and_echoes_backspace_space_backspace() {
        let mut l = ldisc();
        l.receive(b"abx\x7fc\n");
        assert_eq!(read_all(&mut l), b"abc\n");
        assert_eq!(l.take_echo(), b"abx\x08 \x08c\r\n");
    }

    #[test]
    fn erase_without_echoe_echoes_the_erase_character() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ECHOE | ECHOCTL);
        l.receive(b"ab\x7f");
        assert_eq!(l.take_echo(), b"ab\x7f");
    }

    #[test]
    fn erase_at_line_start_does_nothing() {
        let mut l = ldisc();
        l.receive(b"a\n\x7f");
        assert_eq!(read_all(&mut l), b"a\n");
        assert_eq!(l.take_echo(), b"a\r\n");
    }

    #[test]
    fn erasing_a_control_character_backs_over_both_columns() {
        let mut l = ldisc();
        l.receive(b"\x01\x7f");
        assert_eq!(l.take_echo(), b"^A\x08 \x08\x08 \x08");
    }

    #[test]
    fn kill_erases_the_line_visually_with_echoke() {
        let mut l = ldisc();
        l.receive(b"abc\x15xy\n");
        assert_eq!(read_all(&mut l), b"xy\n");
        assert_eq!(l.take_echo(), b"abc\x08 \x08\x08 \x08\x08 \x08xy\r\n");
    }

    #[test]
    fn kill_without_echoke_echoes_the_kill_character_and_newline() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ECHOKE);
        l.receive(b"abc\x15");
        assert_eq!(l.take_echo(), b"abc^U\r\n");
        assert_eq!(l.readable(), 0);
    }

    #[test]
    fn word_erase_removes_the_last_word_and_trailing_blanks() {
        let mut l = ldisc();
        l.receive(b"ls foo_bar  \x17baz\n");
        assert_eq!(read_all(&mut l), b"ls baz\n");
    }

    #[test]
    fn word_erase_needs_iexten() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, IEXTEN);
        l.receive(b"a b\x17\n");
        assert_eq!(read_all(&mut l), b"a b\x17\n");
    }

    #[test]
    fn utf8_erase_removes_a_whole_character() {
        let mut l = ldisc();
        let mut t = l.termios();
        t.c_iflag |= IUTF8;
        l.set_termios(t);
        l.receive("aé\x7f\n".as_bytes());
        assert_eq!(read_all(&mut l), b"a\n");
        assert_eq!(l.take_echo(), "aé\x08 \x08\r\n".as_bytes());
    }

    #[test]
    fn tab_erase_backs_to_the_previous_tab_stop() {
        let mut l = ldisc();
        l.receive(b"ab\t\x7f");
        // "ab" then a tab to column 8; erasing it goes back 6 columns.
        assert_eq!(l.take_echo(), b"ab\t\x08\x08\x08\x08\x08\x08");
    }

    #[test]
    fn lnext_quotes_the_next_character() {
        let mut l = ldisc();
        l.receive(b"a\x16\x03\x16\x7f\n");
        assert_eq!(read_all(&mut l), b"a\x03\x7f\n");
        assert_eq!(l.take_echo(), b"a^\x08^C^\x08^?\r\n");
    }

    #[test]
    fn reprint_echoes_the_current_line_again() {
        let mut l = ldisc();
        l.receive(b"abc\x12");
        assert_eq!(l.take_echo(), b"abc^R\r\nabc");
    }

    #[test]
    fn interrupt_signals_flushes_and_echoes_caret_c() {
        let mut l = ldisc();
        l.receive(b"done\npartial");
        l.take_echo();
        let r = l.receive(b"\x03");
        assert_eq!(r.signals, vec![SIGINT]);
        assert_eq!(l.take_echo(), b"^C");
        assert_eq!(l.readable(), 0);
        assert!(!l.input_available(1));
    }

    #[test]
    fn noflsh_keeps_input_on_a_signal() {
        let mut l = ldisc();
        set_lflag(&mut l, NOFLSH, 0);
        let r = l.receive(b"x\n\x1c\x1a");
        assert_eq!(r.signals, vec![SIGQUIT, SIGTSTP]);
        assert_eq!(read_all(&mut l), b"x\n");
    }

    #[test]
    fn signal_characters_are_data_without_isig() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ISIG);
        let r = l.receive(b"\x03\n");
        assert!(r.signals.is_empty());
        assert_eq!(read_all(&mut l), b"\x03\n");
    }

    #[test]
    fn disabled_control_characters_never_match_nul() {
        let mut l = ldisc();
        let mut t = l.termios();
        t.c_cc[VINTR] = 0;
        l.set_termios(t);
        let r = l.receive(b"\0\n");
        assert!(r.signals.is_empty());
        assert_eq!(read_all(&mut l), b"\0\n");
    }

    #[test]
    fn carriage_return_mapping_icrnl_igncr_inlcr() {
        let mut l = ldisc();
        let mut t = l.termios();
        t.c_lflag &= !(ICANON | ECHO);
        t.c_iflag = IGNCR;
        l.set_termios(t);
        l.receive(b"a\rb");
        assert_eq!(read_all(&mut l), b"ab");
        t.c_iflag = INLCR;
        l.set_termios(t);
        l.receive(b"a\nb\r");
        assert_eq!(read_all(&mut l), b"a\rb\r");
        t.c_iflag = 0;
        l.set_termios(t);
        l.receive(b"\r");
        assert_eq!(read_all(&mut l), b"\r");
    }

    #[test]
    fn echonl_echoes_newline_without_echo() {
        let mut l = ldisc();
        set_lflag(&mut l, ECHONL, ECHO);
        l.receive(b"secret\n");
        assert_eq!(l.take_echo(), b"\r\n");
        assert_eq!(read_all(&mut l), b"secret\n");
    }

    #[test]
    fn raw_mode_passes_every_byte_without_echo() {
        let mut l = ldisc();
        let mut t = l.termios();
        t.c_iflag = 0;
        t.c_lflag = 0;
        t.c_oflag = 0;
        l.set_termios(t);
        let r = l.receive(b"\x03\x7f\r\n\x04");
        assert!(r.signals.is_empty());
        assert_eq!(read_all(&mut l), b"\x03\x7f\r\n\x04");
        assert!(l.take_echo().is_empty());
        assert_eq!(l.process_output(b"a\nb"), b"a\nb");
    }

    #[test]
    fn noncanonical_echo_of_control_characters() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ICANON);
        l.receive(b"a\x7f\x1b");
        assert_eq!(l.take_echo(), b"a^?^[");
        assert_eq!(read_all(&mut l), b"a\x7f\x1b");
    }

    #[test]
    fn vmin_decides_poll_readiness_when_vtime_is_zero() {
        let mut l = ldisc();
        let mut t = l.termios();
        t.c_lflag &= !ICANON;
        t.c_cc[VMIN] = 3;
        t.c_cc[VTIME] = 0;
        l.set_termios(t);
        l.receive(b"ab");
        assert!(!l.poll_readable());
        l.receive(b"c");
        assert!(l.poll_readable());
    }

    #[test]
    fn input_queue_holds_4095_bytes_in_raw_mode() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ICANON | ECHO);
        let r = l.receive(&[b'x'; 5000]);
        assert_eq!(r.consumed, 4095);
        assert_eq!(l.readable(), 4095);
    }

    #[test]
    fn overlong_canonical_line_keeps_room_for_newline() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ECHO);
        let r = l.receive(&[b'x'; 5000]);
        assert_eq!(r.consumed, 5000);
        l.receive(b"\n");
        let mut buf = vec![0u8; 8192];
        let n = l.read(&mut buf);
        assert_eq!(n, 4095);
        assert_eq!(buf[n - 1], b'\n');
        // A complete line blocks further input until it is read.
        l.receive(&[b'y'; 5000]);
    }

    #[test]
    fn switching_to_canonical_makes_queued_input_a_line() {
        let mut l = ldisc();
        set_lflag(&mut l, 0, ICANON);
        l.receive(b"abc");
        set_lflag(&mut l, ICANON, 0);
        assert!(l.input_available(1));
        assert_eq!(read_all(&mut l), b"abc");
    }

    #[test]
    fn switching_to_raw_makes_a_partial_line_readable() {
        let mut l = ldisc();
        l.receive(b"abc");
        set_lflag(&mut l, 0, ICANON);
        assert_eq!(l.readable(), 3);
        assert_eq!(read_all(&mut l), b"abc");
    }

    #[test]
    fn output_processing_onlcr_ocrnl_onocr_tabs() {
        let mut l = ldisc();
        assert_eq!(l.process_output(b"a\nb"), b"a\r\nb");
        let mut t = l.termios();
        t.c_oflag = OPOST | OCRNL;
        l.set_termios(t);
        assert_eq!(l.process_output(b"x\r"), b"x\n");
        // OCRNL left the column at 1; a fresh line discipline starts at 0.
        let mut l = ldisc();
        t.c_oflag = OPOST | ONOCR;
        l.set_termios(t);
        assert_eq!(l.process_output(b"\rab\r"), b"ab\r");
        t.c_oflag = OPOST | XTABS;
        l.set_termios(t);
        assert_eq!(l.process_output(b"ab\tc"), b"ab      c");
        t.c_oflag = OPOST | OLCUC;
        l.set_termios(t);
        assert_eq!(l.process_output(b"abc"), b"ABC");
        t.c_oflag = ONLCR;
        l.set_termios(t);
        assert_eq!(l.process_output(b"a\n"), b"a\n");
    }

    #[test]
    fn ixon_stop_and_start_characters_are_not_input() {
        let mut l = ldisc();
        l.receive(b"\x13");
        assert!(l.stopped);
        l.receive(b"\x11");
        assert!(!l.stopped);
        l.receive(b"\n");
        assert_eq!(read_all(&mut l), b"\n");
    }

    #[test]
    fn echoprt_prints_erased_characters_between_slashes() {
        let mut l = ldisc();
        set_lflag(&mut l, ECHOPRT, 0);
        l.receive(b"abc\x7f\x7fd");
        assert_eq!(l.take_echo(), b"abc\\cb/d");
    }
}
