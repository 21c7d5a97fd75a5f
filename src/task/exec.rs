//! execve: loading ELF programs (static, static-PIE, PT_INTERP) and `#!`
//! scripts into a fresh address space, and building the initial stack
//! (argv, envp, auxv) the way Linux's fs/binfmt_elf.c lays it out.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use goblin::elf::header::{EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR, ProgramHeader};

use crate::abi::auxvec::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT,
    AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_SYSINFO_EHDR, AT_UID,
};
use crate::abi::fcntl::AT_FDCWD;
use crate::abi::mman::{MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::resource::RLIMIT_STACK;
use crate::abi::stat::{S_IFMT, S_IFREG};
use crate::abi::{Errno, KResult, PAGE_SIZE, page_align_down, page_align_up};
use crate::fs::inode::InodeRef;
use crate::fs::lookup::{MAY_EXEC, may_access, resolve_at};
use crate::mm::map::MapRequest;
use crate::mm::vma::Backing;
use crate::mm::{Mm, TASK_SIZE};
use crate::platform::Regs;
use crate::task::Task;

/// Top of the initial stack (below the stub region, with a gap).
pub const STACK_TOP: u64 = TASK_SIZE - 0x100_0000;
/// Where ET_DYN main programs are loaded (Linux's ELF_ET_DYN_BASE without
/// randomisation).
const ET_DYN_BASE: u64 = 0x5555_5555_4000;
/// Initial stack mapping; it grows down on fault.
const INITIAL_STACK: u64 = 128 * 1024;
/// `#!` lines are read from the first 256 bytes (BINPRM_BUF_SIZE).
const BINPRM_BUF_SIZE: usize = 256;
const MAX_SCRIPT_DEPTH: u32 = 4;

/// A loaded program, ready to replace the caller's image.
pub struct Image {
    pub mm: Arc<Mm>,
    pub regs: Regs,
    /// The resolved executable (for /proc/<pid>/exe) and its basename (comm).
    pub exe_path: Vec<u8>,
    pub comm: Vec<u8>,
}

/// Loads `path` with `argv`/`envp` into a new address space. Nothing of the
/// caller changes; the caller commits the image (point of no return).
pub fn load(task: &Task, dirfd: i32, path: &[u8], argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, empty_path_ok: bool) -> KResult<Image> {
    load_depth(task, dirfd, path, argv, envp, empty_path_ok, 0)
}

fn load_depth(task: &Task, dirfd: i32, path: &[u8], argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, empty_ok: bool, depth: u32) -> KResult<Image> {
    let file = resolve_at(task, dirfd, path, true, empty_ok)?;
    let inode = file.inode().clone();
    let md = inode.metadata()?;
    // A noexec mount runs nothing (do_open_execat); nosuid needs nothing
    // here, as exec does not honour set-user-ID bits at all yet.
    if md.mode & S_IFMT != S_IFREG || file.mount.noexec() {
        return Err(Errno::EACCES);
    }
    may_access(&task.creds(), &*inode, &md, MAY_EXEC)?;
    let exe_path = file.to_bytes(&task.fs().root);
    let mut head = vec![0u8; BINPRM_BUF_SIZE];
    let n = read_full(&inode, 0, &mut head)?;
    head.truncate(n);
    if head.starts_with(b"#!") {
        if depth >= MAX_SCRIPT_DEPTH {
            return Err(Errno::ELOOP);
        }
        let (interp, arg) = parse_shebang(&head)?;
        // argv becomes: interp [arg] path argv[1..]
        let mut new_argv = vec![interp.clone()];
        new_argv.extend(arg);
        new_argv.push(if path.is_empty() { exe_path.clone() } else { path.to_vec() });
        new_argv.extend(argv.into_iter().skip(1));
        return load_depth(task, AT_FDCWD, &interp, new_argv, envp, false, depth + 1);
    }
    let elf = ElfFile::parse(&inode)?;
    let mm = Mm::new(task.system.phys.clone());
    let stack_limit = task.rlimit(RLIMIT_STACK).cur;
    {
        let mut st = mm.lock();
        st.limits = task.vm_limits();
        // Linux: the mmap area starts below the stack with a gap of the
        // stack limit, clamped to [128 MiB, 5/6 of the address space].
        let gap = stack_limit.clamp(128 << 20, TASK_SIZE / 6 * 5);
        st.mmap_base = page_align_down(STACK_TOP - gap);
        st.stack_top = STACK_TOP;
    }
    let bias = if elf.header.e_type == ET_DYN { ET_DYN_BASE } else { 0 };
    let main = map_elf(&mm, &elf, &file, bias, &exe_path)?;
    let (entry, interp_base) = match &elf.interp {
        Some(interp_path) => {
            let ifile = resolve_at(task, AT_FDCWD, interp_path, true, false)?;
            if ifile.mount.noexec() {
                return Err(Errno::EACCES);
            }
            let iinode = ifile.inode().clone();
            let ielf = ElfFile::parse(&iinode)?;
            if ielf.interp.is_some() || ielf.header.e_type != ET_DYN {
                return Err(Errno::ELIBBAD);
            }
            let span = ielf.span();
            let base = {
                let st = mm.lock();
                st.find_free(span, st.mmap_base).ok_or(Errno::ENOMEM)?
            };
            let base = page_align_down(base);
            let ipath = ifile.to_bytes(&task.fs().root);
            let loaded = map_elf(&mm, &ielf, &ifile, base, &ipath)?;
            (loaded.entry, base)
        }
        None => (main.entry, 0),
    };
    // Linux maps the vDSO after the program and its interpreter.
    let vdso = crate::mm::vdso::map_into(&mm)?;
    let execfn = if path.is_empty() { exe_path.clone() } else { path.to_vec() };
    {
        let mut st = mm.lock();
        let brk = page_align_up(main.end).ok_or(Errno::ENOMEM)?;
        st.brk_start = brk;
        st.brk = brk;
        // Room for the strings and pointer tables above the usual 128 KiB
        // (Linux's setup_arg_pages keeps 128 KiB below what exec copied).
        let strings: u64 = argv.iter().chain(envp.iter()).map(|s| s.len() as u64 + 1 + 8).sum::<u64>() + execfn.len() as u64 + 1;
        let needed = page_align_up(strings.saturating_add(64 * 1024)).ok_or(Errno::E2BIG)?;
        let stack_len = if needed > INITIAL_STACK / 2 { (needed + INITIAL_STACK).min(8 << 20) } else { INITIAL_STACK };
        st.map(MapRequest {
            addr: STACK_TOP - stack_len,
            len: stack_len,
            prot: PROT_READ | PROT_WRITE | if elf.exec_stack { PROT_EXEC } else { 0 },
            flags: MAP_PRIVATE | MAP_FIXED | MAP_GROWSDOWN,
            backing: Backing::Anonymous,
            label: "[stack]",
        })?;
    }
    let creds = task.creds();
    let mut auxv = vec![
        (AT_PHDR, main.phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, elf.phdrs.len() as u64),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, main.entry),
        (AT_UID, creds.uid as u64),
        (AT_EUID, creds.euid as u64),
        (AT_GID, creds.gid as u64),
        (AT_EGID, creds.egid as u64),
        (AT_SECURE, 0),
        (AT_CLKTCK, 100),
        (AT_HWCAP, host_auxv(AT_HWCAP)),
        (AT_HWCAP2, host_auxv(AT_HWCAP2)),
        (AT_MINSIGSTKSZ, host_auxv(AT_MINSIGSTKSZ)),
    ];
    // First, as Linux's ARCH_DLINFO puts it.
    if let Some(base) = vdso {
        auxv.insert(0, (AT_SYSINFO_EHDR, base));
    }
    let sp = build_stack(&mm, &argv, &envp, &execfn, auxv, stack_limit)?;
    // The first instructions and the stack the new program touches are
    // mapped before it runs, in the batch that sets up its host address
    // space, not by two faults.
    mm.prefault(entry);
    mm.prefault(sp);
    let mut regs: Regs = crate::platform::initial_regs();
    regs.rip = entry;
    regs.rsp = sp;
    regs.cs = 0x33;
    regs.ss = 0x2b;
    regs.eflags = 0x202;
    let comm = exe_basename(&execfn);
    Ok(Image { mm, regs, exe_path, comm })
}

/// A value from the auxv the host kernel gave vkernel (the CPU facts the
/// guest should see). Read from /proc/self/auxv: glibc's getauxval rewrites
/// AT_HWCAP on x86-64.
fn host_auxv(key: u64) -> u64 {
    static AUXV: std::sync::OnceLock<Vec<(u64, u64)>> = std::sync::OnceLock::new();
    let auxv = AUXV.get_or_init(|| {
        let bytes = std::fs::read("/proc/self/auxv").unwrap_or_default();
        bytes
            .chunks_exact(16)
            .map(|c| (u64::from_ne_bytes(c[..8].try_into().unwrap_or([0; 8])), u64::from_ne_bytes(c[8..].try_into().unwrap_or([0; 8]))))
            .collect()
    });
    auxv.iter().find(|(k, _)| *k == key).map(|&(_, v)| v).unwrap_or(0)
}

fn exe_basename(path: &[u8]) -> Vec<u8> {
    let name = path.rsplit(|&c| c == b'/').next().unwrap_or(path);
    name[..name.len().min(15)].to_vec()
}

fn read_full(inode: &InodeRef, offset: u64, buf: &mut [u8]) -> KResult<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = inode.read_at(offset + got as u64, &mut buf[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

/// `#!interp [arg]`: one optional argument, the rest of the line verbatim.
fn parse_shebang(head: &[u8]) -> KResult<(Vec<u8>, Option<Vec<u8>>)> {
    let line_end = head.iter().position(|&c| c == b'\n').unwrap_or(head.len());
    let line = &head[2..line_end];
    let trim = |s: &[u8]| -> Vec<u8> {
        let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
        let start = s.iter().position(|c| !is_ws(c)).unwrap_or(s.len());
        let end = s.iter().rposition(|c| !is_ws(c)).map(|i| i + 1).unwrap_or(start);
        s[start..end].to_vec()
    };
    let line = trim(line);
    if line.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    match line.iter().position(|&c| c == b' ' || c == b'\t') {
        Some(i) => {
            let arg = trim(&line[i..]);
            Ok((line[..i].to_vec(), if arg.is_empty() { None } else { Some(arg) }))
        }
        None => Ok((line, None)),
    }
}

/// The ELF file header fields vkernel uses (little-endian ELF64).
struct Header {
    e_type: u16,
    e_machine: u16,
    e_entry: u64,
    e_phoff: u64,
    e_phentsize: u16,
    e_phnum: u16,
}

impl Header {
    fn from_bytes(b: &[u8; 64]) -> Header {
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        Header { e_type: u16_at(16), e_machine: u16_at(18), e_entry: u64_at(24), e_phoff: u64_at(32), e_phentsize: u16_at(54), e_phnum: u16_at(56) }
    }
}

struct ElfFile {
    header: Header,
    phdrs: Vec<ProgramHeader>,
    interp: Option<Vec<u8>>,
    exec_stack: bool,
}

impl ElfFile {
    fn parse(inode: &InodeRef) -> KResult<ElfFile> {
        let mut hbuf = [0u8; 64];
        if read_full(inode, 0, &mut hbuf)? < 64 || &hbuf[..4] != b"\x7fELF" {
            return Err(Errno::ENOEXEC);
        }
        let header = Header::from_bytes(&hbuf);
        if hbuf[4] != 2 || hbuf[5] != 1 || header.e_machine != EM_X86_64 || (header.e_type != ET_EXEC && header.e_type != ET_DYN) {
            return Err(Errno::ENOEXEC);
        }
        if header.e_phentsize as usize != 56 || header.e_phnum == 0 || header.e_phnum > 512 {
            return Err(Errno::ENOEXEC);
        }
        let mut pbuf = vec![0u8; header.e_phnum as usize * 56];
        if read_full(inode, header.e_phoff, &mut pbuf)? < pbuf.len() {
            return Err(Errno::ENOEXEC);
        }
        let ctx = goblin::container::Ctx::new(goblin::container::Container::Big, goblin::container::Endian::Little);
        let phdrs = ProgramHeader::parse(&pbuf, 0, header.e_phnum as usize, ctx).map_err(|_| Errno::ENOEXEC)?;
        let mut interp = None;
        let mut exec_stack = false;
        for ph in &phdrs {
            if ph.p_type == PT_INTERP {
                if ph.p_filesz < 2 || ph.p_filesz > 4096 {
                    return Err(Errno::ENOEXEC);
                }
                let mut b = vec![0u8; ph.p_filesz as usize];
                if read_full(inode, ph.p_offset, &mut b)? < b.len() || b.last() != Some(&0) {
                    return Err(Errno::ENOEXEC);
                }
                b.pop();
                interp = Some(b);
            }
            if ph.p_type == PT_GNU_STACK {
                exec_stack = ph.p_flags & PF_X != 0;
            }
        }
        if !phdrs.iter().any(|p| p.p_type == PT_LOAD) {
            return Err(Errno::ENOEXEC);
        }
        Ok(ElfFile { header, phdrs, interp, exec_stack })
    }

    /// Bytes spanned by the PT_LOAD segments.
    fn span(&self) -> u64 {
        let loads = self.phdrs.iter().filter(|p| p.p_type == PT_LOAD);
        let lo = loads.clone().map(|p| page_align_down(p.p_vaddr)).min().unwrap_or(0);
        let hi = loads.map(|p| p.p_vaddr.saturating_add(p.p_memsz)).max().unwrap_or(0);
        page_align_up(hi.saturating_sub(lo)).unwrap_or(u64::MAX)
    }
}

struct Loaded {
    entry: u64,
    phdr: u64,
    /// End of the highest segment (where brk starts for the main program).
    end: u64,
}

/// Maps `elf` (the file at `file`, whose mount stays in use while the
/// program runs, as Linux's exe_file and VMAs keep it).
fn map_elf(mm: &Arc<Mm>, elf: &ElfFile, file: &crate::fs::path::Path, bias: u64, name: &[u8]) -> KResult<Loaded> {
    let inode = file.inode();
    let md = inode.metadata()?;
    let mut end = 0u64;
    let mut phdr_addr = None;
    // Files with their own page cache (tmpfs) are copied on first touch;
    // others share one cache among all their mappings.
    let data: std::sync::Arc<dyn crate::mm::vma::FileData> = std::sync::Arc::new(crate::fs::inode::MappedInode(inode.clone(), Some(file.clone())));
    let cache = crate::mm::vma::private_file_cache(inode.page_cache(), &*data);
    if let Some(cache) = &cache {
        cache.add_mapper(mm);
    }
    let mut st = mm.lock();
    for ph in elf.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        if ph.p_filesz > ph.p_memsz || ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE {
            return Err(Errno::ENOEXEC);
        }
        let file_end = ph.p_offset.checked_add(ph.p_filesz).ok_or(Errno::EOVERFLOW)?;
        let vaddr = bias.checked_add(ph.p_vaddr).ok_or(Errno::ENOEXEC)?;
        let mem_end = vaddr.checked_add(ph.p_memsz).ok_or(Errno::ENOEXEC)?;
        if mem_end > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let start = page_align_down(vaddr);
        let prot = (if ph.p_flags & PF_R != 0 { PROT_READ } else { 0 })
            | (if ph.p_flags & PF_W != 0 { PROT_WRITE } else { 0 })
            | (if ph.p_flags & PF_X != 0 { PROT_EXEC } else { 0 });
        let file_map_end = page_align_up(vaddr + ph.p_filesz).ok_or(Errno::ENOEXEC)?;
        let mem_map_end = page_align_up(mem_end).ok_or(Errno::ENOEXEC)?;
        if ph.p_filesz > 0 {
            st.map(MapRequest {
                addr: start,
                len: file_map_end - start,
                prot,
                flags: MAP_PRIVATE | MAP_FIXED,
                backing: Backing::File {
                    file: data.clone(),
                    offset: ph.p_offset - (vaddr - start),
                    file_end,
                    name: name.to_vec(),
                    dev: md.dev,
                    ino: md.ino,
                    cache: cache.clone(),
                },
                label: "",
            })?;
        }
        let anon_start = if ph.p_filesz > 0 { file_map_end } else { start };
        if mem_map_end > anon_start {
            st.map(MapRequest {
                addr: anon_start,
                len: mem_map_end - anon_start,
                prot,
                flags: MAP_PRIVATE | MAP_FIXED,
                backing: Backing::Anonymous,
                label: "",
            })?;
        }
        end = end.max(mem_end);
        // The program headers are usually inside the first segment.
        let ph_off = elf.header.e_phoff;
        if phdr_addr.is_none() && ph.p_offset <= ph_off && ph_off < file_end {
            phdr_addr = Some(vaddr + (ph_off - ph.p_offset));
        }
    }
    if let Some(p) = elf.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        phdr_addr = Some(bias.wrapping_add(p.p_vaddr));
    }
    // Like Linux, a wild entry point is not an exec error: the program
    // faults when it starts.
    Ok(Loaded { entry: bias.wrapping_add(elf.header.e_entry), phdr: phdr_addr.unwrap_or(0), end })
}

/// Writes strings, auxv, envp, argv and argc at the top of the stack;
/// returns the initial stack pointer (16-byte aligned, pointing at argc).
fn build_stack(mm: &Arc<Mm>, argv: &[Vec<u8>], envp: &[Vec<u8>], execfn: &[u8], mut auxv: Vec<(u64, u64)>, stack_limit: u64) -> KResult<u64> {
    let strings: usize = argv.iter().chain(envp.iter()).map(|s| s.len() + 1).sum::<usize>() + execfn.len() + 1;
    // Linux allows argv+envp up to a quarter of the stack limit (ARG_MAX).
    let max = (stack_limit / 4).clamp(128 * 1024, 6 << 20);
    if strings as u64 + 8 * (argv.len().max(1) + envp.len()) as u64 > max {
        return Err(Errno::E2BIG);
    }
    let mut sp = STACK_TOP - 8; // a NULL word at the very top
    let push_str = |s: &[u8], sp: &mut u64| -> KResult<u64> {
        *sp -= s.len() as u64 + 1;
        let mut b = s.to_vec();
        b.push(0);
        mm.write_bytes(*sp, &b)?;
        Ok(*sp)
    };
    let execfn_addr = push_str(execfn, &mut sp)?;
    let env_addrs: Vec<u64> = envp.iter().rev().map(|e| push_str(e, &mut sp)).collect::<KResult<Vec<_>>>()?.into_iter().rev().collect();
    let env_end = env_addrs.last().map(|&a| a + envp.last().map_or(0, |e| e.len() as u64 + 1)).unwrap_or(sp);
    let arg_addrs: Vec<u64> = argv.iter().rev().map(|a| push_str(a, &mut sp)).collect::<KResult<Vec<_>>>()?.into_iter().rev().collect();
    let arg_start = arg_addrs.first().copied().unwrap_or(sp);
    let arg_end = arg_addrs.last().map(|&a| a + argv.last().map_or(0, |v| v.len() as u64 + 1)).unwrap_or(sp);
    let platform = push_str(b"x86_64", &mut sp)?;
    sp &= !15;
    sp -= 16;
    let mut random = [0u8; 16];
    crate::platform::host::system::fill_random(&mut random)?;
    mm.write_bytes(sp, &random)?;
    let random_addr = sp;
    auxv.push((AT_RANDOM, random_addr));
    auxv.push((AT_EXECFN, execfn_addr));
    auxv.push((AT_PLATFORM, platform));
    auxv.push((AT_NULL, 0));
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * auxv.len();
    sp -= words as u64 * 8;
    sp &= !15;
    let mut table: Vec<u64> = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(&arg_addrs);
    table.push(0);
    table.extend(&env_addrs);
    table.push(0);
    let auxv_len = auxv.len();
    for (k, v) in auxv {
        table.push(k);
        table.push(v);
    }
    let bytes: Vec<u8> = table.iter().flat_map(|w| w.to_ne_bytes()).collect();
    mm.write_bytes(sp, &bytes)?;
    let mut st = mm.lock();
    st.start_stack = sp;
    st.saved_auxv = table[table.len() - 2 * auxv_len..].chunks_exact(2).map(|p| (p[0], p[1])).collect();
    st.arg_start = arg_start;
    st.arg_end = arg_end;
    st.env_start = env_addrs.first().copied().unwrap_or(env_end);
    st.env_end = env_end;
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_takes_one_argument_verbatim() {
        assert_eq!(parse_shebang(b"#!/bin/sh\n").unwrap(), (b"/bin/sh".to_vec(), None));
        assert_eq!(parse_shebang(b"#! /usr/bin/env  python3 -u \nx").unwrap(), (b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())));
        assert_eq!(parse_shebang(b"#!   \n"), Err(Errno::ENOEXEC));
    }
}

/// The point of no return of execve: `task` takes the new image (its
/// address space, name and executable), closes its close-on-exec files,
/// resets caught signals and the alternate stack, forgets the thread
/// words set for the old image, and releases a vfork parent. Returns the
/// registers the task starts from.
/// Linux's de_thread: before an exec replaces the image, every other
/// thread of the process is killed and waited for, and a non-leader caller
/// takes the process id as its thread id. Fails (EINTR, EAGAIN) only when
/// the caller is being killed itself (a kill, a group exit, another
/// thread's exec).
pub fn de_thread(task: &Arc<Task>) -> KResult<()> {
    let process = &task.process;
    if process.thread_count() <= 1 {
        return Ok(());
    }
    if process.group_exiting() || !process.claim_exec(task.tid()) {
        return Err(Errno::EAGAIN);
    }
    for t in process.threads() {
        if !Arc::ptr_eq(&t, task) {
            t.signals.lock().pending.add(crate::signal::SigInfo::kernel(crate::abi::signal::SIGKILL));
            t.notify_signal();
        }
    }
    let waited = crate::sched::wait::wait_killable(&process.thread_exited, || Ok((process.thread_count() <= 1).then_some(())));
    process.set_exec_tid(0);
    waited?;
    let tid = task.tid();
    if tid != process.tgid {
        let mut tasks = task.system.tasks.lock();
        tasks.remove(&tid);
        task.set_tid(process.tgid);
        tasks.insert(process.tgid, Arc::downgrade(task));
        drop(tasks);
        // Children this thread forked keep it as their parent thread.
        for child in process.children.lock().iter().filter(|c| c.parent_thread() == tid) {
            child.set_parent_thread(process.tgid);
        }
    }
    Ok(())
}

pub fn commit(task: &Arc<Task>, image: Image) -> crate::platform::Regs {
    task.set_mm(image.mm);
    task.process.membarrier_registrations.store(0, Ordering::Relaxed);
    task.unshare_files();
    let closed = task.files().take_close_on_exec();
    for file in closed {
        crate::fs::file::close_fd(file, task.tgid);
    }
    // A CLONE_SIGHAND sharer in another process keeps its handlers.
    task.unshare_sigactions();
    task.sigactions().reset_for_exec();
    task.signals.lock().altstack = Default::default();
    crate::task::posix_timer::delete_all(&task.process);
    task.set_comm(&image.comm);
    *task.exe.lock() = image.exe_path;
    task.creds.lock().apply_exec();
    task.process.limits.dumpable.store(true, Ordering::Relaxed);
    task.clear_child_tid.store(0, Ordering::Relaxed);
    task.robust_list.store(0, Ordering::Relaxed);
    task.exe_done_since_fork.store(true, Ordering::Relaxed);
    if let Some(done) = task.vfork_done.lock().take() {
        done.complete();
    }
    image.regs
}
