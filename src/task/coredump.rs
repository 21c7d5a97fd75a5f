//! Core dumps (Linux's fs/coredump.c and the ELF writer of
//! fs/binfmt_elf.c): a process killed by a signal whose default action
//! dumps core, with RLIMIT_CORE of at least a page, leaves an ELF core
//! file named `core` in its working directory, which gdb reads: the
//! dumping thread's registers and FPU state, then every other thread's
//! (each stops and leaves them as it dies), the process's identity, the
//! signal, the auxiliary vector, the mapped files, and the memory Linux's default
//! coredump_filter keeps (anonymous memory that was touched, shared
//! anonymous memory, the first page of mapped ELF files). Pipes in
//! core_pattern are not supported (no dump).

use std::sync::Arc;

use crate::abi::fcntl::{AT_FDCWD, O_CREAT, O_EXCL, O_LARGEFILE, O_NOFOLLOW, O_WRONLY};
use crate::abi::mman::{MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::resource::RLIMIT_CORE;
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, PAGE_SIZE};
use crate::mm::Mm;
use crate::mm::vma::Backing;
use crate::platform::Regs;
use crate::signal::SigInfo;
use crate::task::Task;

const NT_PRSTATUS: u32 = 1;
const NT_FPREGSET: u32 = 2;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_SIGINFO: u32 = 0x5349_4749;
const NT_FILE: u32 = 0x4649_4c45;
const NT_X86_XSTATE: u32 = 0x202;
/// The fxsave area at the start of the XSAVE image.
const FXSAVE_SIZE: usize = 512;
/// Linux's ELF_PRARGSZ.
const PRARGSZ: usize = 80;

/// One segment of memory in the core file.
struct Segment {
    start: u64,
    end: u64,
    flags: u32,
    /// Bytes of the segment written to the file (0: none, or a prefix).
    dump_len: u64,
    /// Read pages the process never touched from the file behind them.
    file_backed: bool,
    /// Dumped only if its first page is an ELF header.
    elf_header_only: bool,
}

/// Another thread of the dumping process, as it was when it died: its
/// registers and FPU state go into the core after the dumper's.
pub struct ThreadState {
    pub task: Arc<Task>,
    pub regs: Regs,
    pub xstate: Vec<u8>,
}

/// Writes the core of `task`'s process killed by `sig`, with the states
/// of its `others` threads; true when a core was written whole (the wait
/// status then says "core dumped").
pub fn dump(task: &Arc<Task>, regs: &Regs, xstate: &[u8], sig: i32, info: &SigInfo, others: &[ThreadState]) -> bool {
    let limit = task.rlimit(RLIMIT_CORE).cur;
    if limit < PAGE_SIZE {
        return false;
    }
    write_core(task, regs, xstate, sig, info, others, limit).unwrap_or(false)
}

fn write_core(task: &Arc<Task>, regs: &Regs, xstate: &[u8], sig: i32, info: &SigInfo, others: &[ThreadState], limit: u64) -> KResult<bool> {
    let mm = task.mm();
    let (segments, files) = segments_of(&mm);
    // Past 65535 program headers the ELF needs an extra section header
    // (PN_XNUM); such processes get no core.
    if segments.len() + 1 > 0xfffe {
        return Ok(false);
    }
    let name = b"core";
    // Linux unlinks an old core first, then creates it exclusively, owned
    // by the dumping task, and refuses anything but a fresh regular file.
    let _ = crate::fs::namei::unlink(&**task, AT_FDCWD, name);
    let file = crate::fs::namei::open(&**task, AT_FDCWD, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_LARGEFILE, 0o600)?;
    let md = file.metadata()?;
    if md.mode & S_IFMT != S_IFREG || md.nlink != 1 || md.uid != task.creds().fsuid {
        return Ok(false);
    }

    let mut notes = notes(task, &mm, regs, xstate, sig, info, &files);
    // Then every other thread's registers, as Linux's fill_thread_core_info.
    let plain = SigInfo::kernel(sig);
    for t in others {
        let mut status = prstatus(&t.task, &t.regs, sig, &plain);
        status[4..12].fill(0); // only si_signo for these
        note(&mut notes, b"CORE", NT_PRSTATUS, &status);
        fpu_notes(&mut notes, &t.xstate);
    }
    let phnum = segments.len() + 1;
    let headers_len = 64 + 56 * phnum as u64;
    let notes_off = headers_len;
    let data_off = (notes_off + notes.len() as u64).next_multiple_of(PAGE_SIZE);
    let mut out = Vec::with_capacity(headers_len as usize + notes.len());
    elf_header(&mut out, phnum as u16);
    program_header(&mut out, 4 /* PT_NOTE */, 0, notes_off, 0, notes.len() as u64, 0, 0);
    let mut off = data_off;
    for s in &segments {
        program_header(&mut out, 1 /* PT_LOAD */, s.flags, off, s.start, s.dump_len, s.end - s.start, PAGE_SIZE);
        off += s.dump_len;
    }
    out.extend_from_slice(&notes);

    let mut writer = CoreWriter { file: &file, written: 0, limit };
    if !writer.write_at(0, &out)? {
        return Ok(false);
    }
    let mut off = data_off;
    let mut page = vec![0u8; PAGE_SIZE as usize];
    for s in &segments {
        for addr in (s.start..s.start + s.dump_len).step_by(PAGE_SIZE as usize) {
            // A page nobody touched stays a hole of zeros, as Linux skips
            // it; one behind a file is read from the file.
            let present = mm.frame_of(addr).is_some();
            if (present || s.file_backed) && mm.read_bytes_into(addr, &mut page).is_ok() && !writer.write_at(off + (addr - s.start), &page)? {
                return Ok(false);
            }
        }
        off += s.dump_len;
    }
    // The file's size covers trailing holes too.
    if off > writer.written {
        if off > limit {
            return Ok(false);
        }
        file.inode.setattr(&crate::fs::inode::SetAttr { size: Some(off), ..Default::default() })?;
    }
    Ok(true)
}

/// Writes into the core file within RLIMIT_CORE (false once past it).
struct CoreWriter<'a> {
    file: &'a Arc<crate::fs::file::File>,
    written: u64,
    limit: u64,
}

impl CoreWriter<'_> {
    fn write_at(&mut self, off: u64, data: &[u8]) -> KResult<bool> {
        let end = off + data.len() as u64;
        if end > self.limit {
            return Ok(false);
        }
        let mut done = 0;
        while done < data.len() {
            let n = self.file.ops.pwrite(self.file, &data[done..], off + done as u64)?;
            if n == 0 {
                return Err(Errno::ENOSPC);
            }
            done += n;
        }
        self.written = self.written.max(end);
        Ok(true)
    }
}

/// The memory segments and mapped files (start, end, page offset, name)
/// of the address space, with how much of each Linux's default filter
/// (0x33) dumps.
fn segments_of(mm: &Arc<Mm>) -> (Vec<Segment>, Vec<(u64, u64, u64, Vec<u8>)>) {
    let st = mm.lock();
    let mut segments = Vec::new();
    let mut files = Vec::new();
    for vma in st.vmas.values() {
        let flags = (if vma.prot & PROT_READ != 0 { 4 } else { 0 })
            | (if vma.prot & PROT_WRITE != 0 { 2 } else { 0 })
            | (if vma.prot & PROT_EXEC != 0 { 1 } else { 0 });
        let touched = st.pages.range(vma.start / PAGE_SIZE..vma.end / PAGE_SIZE).next().is_some();
        let whole = vma.end - vma.start;
        let (dump_len, file_backed, elf_header_only) = match &vma.backing {
            _ if vma.prot & PROT_READ == 0 => (0, false, false),
            Backing::Anonymous => (if touched { whole } else { 0 }, false, false),
            Backing::Shared { .. } => (whole, false, false),
            // A shared file mapping: named in NT_FILE, not dumped (0x33).
            Backing::HostFile { file, offset, .. } => {
                files.push((vma.start, vma.end, offset / PAGE_SIZE, file.maps_name().unwrap_or_default()));
                (0, false, false)
            }
            Backing::File { offset, name, .. } => {
                files.push((vma.start, vma.end, offset / PAGE_SIZE, name.clone()));
                if vma.flags & MAP_SHARED != 0 {
                    (0, false, false)
                } else if touched && vma.prot & PROT_WRITE != 0 {
                    // Written private file memory (Linux: an anon_vma).
                    (whole, true, false)
                } else if *offset == 0 {
                    // The ELF header page, when the file is an ELF.
                    (PAGE_SIZE.min(whole), true, true)
                } else {
                    (0, false, false)
                }
            }
        };
        segments.push(Segment { start: vma.start, end: vma.end, flags, dump_len, file_backed, elf_header_only });
    }
    drop(st);
    // The ELF-header rule needs the page's bytes (read without the lock).
    for s in segments.iter_mut().filter(|s| s.elf_header_only) {
        let mut magic = [0u8; 4];
        if mm.read_bytes_into(s.start, &mut magic).is_err() || magic != *b"\x7fELF" {
            s.dump_len = 0;
        }
    }
    (segments, files)
}

fn elf_header(out: &mut Vec<u8>, phnum: u16) {
    out.extend_from_slice(b"\x7fELF");
    out.extend_from_slice(&[2, 1, 1, 0]); // 64-bit, little-endian, version 1, SYSV
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&4u16.to_le_bytes()); // ET_CORE
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    out.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    out.extend_from_slice(&phnum.to_le_bytes());
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
}

#[allow(clippy::too_many_arguments)]
fn program_header(out: &mut Vec<u8>, kind: u32, flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64, align: u64) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    for v in [offset, vaddr, 0, filesz, memsz, align] {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn note(out: &mut Vec<u8>, name: &[u8], kind: u32, desc: &[u8]) {
    out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(name);
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(desc);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The notes segment, in Linux's order for the dumping thread.
fn notes(task: &Arc<Task>, mm: &Arc<Mm>, regs: &Regs, xstate: &[u8], sig: i32, info: &SigInfo, files: &[(u64, u64, u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    note(&mut out, b"CORE", NT_PRSTATUS, &prstatus(task, regs, sig, info));
    note(&mut out, b"CORE", NT_PRPSINFO, &prpsinfo(task, mm));
    note(&mut out, b"CORE", NT_SIGINFO, &info.bytes);
    // The auxiliary vector (gdb finds a PIE's load address from AT_ENTRY).
    let auxv: Vec<u8> = mm.lock().saved_auxv.iter().flat_map(|&(k, v)| k.to_le_bytes().into_iter().chain(v.to_le_bytes())).collect();
    note(&mut out, b"CORE", NT_AUXV, &auxv);
    note(&mut out, b"CORE", NT_FILE, &file_note(files));
    fpu_notes(&mut out, xstate);
    out
}

/// A thread's FPU notes: the fxsave area, then the whole XSAVE image.
fn fpu_notes(out: &mut Vec<u8>, xstate: &[u8]) {
    if xstate.len() >= FXSAVE_SIZE {
        note(out, b"CORE", NT_FPREGSET, &xstate[..FXSAVE_SIZE]);
    }
    if xstate.len() > FXSAVE_SIZE {
        note(out, b"LINUX", NT_X86_XSTATE, xstate);
    }
}

/// struct elf_prstatus (336 bytes on x86-64).
fn prstatus(task: &Arc<Task>, regs: &Regs, sig: i32, info: &SigInfo) -> Vec<u8> {
    let mut b = vec![0u8; 336];
    b[0..4].copy_from_slice(&info.bytes[0..4]); // si_signo
    b[4..8].copy_from_slice(&info.bytes[8..12]); // si_code
    b[8..12].copy_from_slice(&info.bytes[4..8]); // si_errno
    b[12..14].copy_from_slice(&(sig as u16).to_le_bytes());
    let (pending, blocked) = {
        let s = task.signals.lock();
        (s.pending.set | task.process.shared_pending.lock().set, s.blocked)
    };
    put64(&mut b, 16, pending);
    put64(&mut b, 24, blocked);
    put32(&mut b, 32, task.tid() as u32);
    put32(&mut b, 36, task.ppid() as u32);
    put32(&mut b, 40, task.pgid() as u32);
    put32(&mut b, 44, task.sid() as u32);
    let (user, system) = crate::task::cpu_times(task);
    let (cuser, csystem) = {
        let st = task.process.state();
        (st.children_user_ns, st.children_system_ns)
    };
    for (i, ns) in [user, system, cuser, csystem].into_iter().enumerate() {
        put64(&mut b, 48 + 16 * i, ns / 1_000_000_000);
        put64(&mut b, 56 + 16 * i, (ns % 1_000_000_000) / 1000);
    }
    let r = regs;
    let words = [
        r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx, r.rdx, r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss,
        r.fs_base, r.gs_base, r.ds, r.es, r.fs, r.gs,
    ];
    for (i, w) in words.into_iter().enumerate() {
        put64(&mut b, 112 + 8 * i, w);
    }
    put32(&mut b, 328, 1); // pr_fpvalid
    b
}

/// struct elf_prpsinfo (136 bytes on x86-64).
fn prpsinfo(task: &Arc<Task>, mm: &Arc<Mm>) -> Vec<u8> {
    let mut b = vec![0u8; 136];
    b[1] = b'R';
    put64(&mut b, 8, 0x600); // PF_DUMPCORE | PF_SIGNALED
    let creds = task.creds();
    put32(&mut b, 16, creds.uid);
    put32(&mut b, 20, creds.gid);
    put32(&mut b, 24, task.tgid as u32);
    put32(&mut b, 28, task.ppid() as u32);
    put32(&mut b, 32, task.pgid() as u32);
    put32(&mut b, 36, task.sid() as u32);
    let comm = task.comm();
    let n = comm.len().min(15);
    b[40..40 + n].copy_from_slice(&comm[..n]);
    let (start, end) = {
        let st = mm.lock();
        (st.arg_start, st.arg_end)
    };
    let len = (end.saturating_sub(start) as usize).min(PRARGSZ - 1);
    let mut args = vec![0u8; len];
    if mm.read_bytes_into(start, &mut args).is_ok() {
        if args.last() == Some(&0) {
            args.pop();
        }
        for c in args.iter_mut().filter(|c| **c == 0) {
            *c = b' ';
        }
        b[56..56 + args.len()].copy_from_slice(&args);
    }
    b
}

/// NT_FILE: the count, the page size, (start, end, page offset) for each
/// mapped file, then their names.
fn file_note(files: &[(u64, u64, u64, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&(files.len() as u64).to_le_bytes());
    b.extend_from_slice(&PAGE_SIZE.to_le_bytes());
    for (start, end, pgoff, _) in files {
        for v in [*start, *end, *pgoff] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    for (_, _, _, name) in files {
        b.extend_from_slice(name);
        b.push(0);
    }
    b
}
