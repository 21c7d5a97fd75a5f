//! The vDSO's memory: vkernel's own image (src/vdso/, built by build.rs)
//! and its data page, each kept once in guest RAM and mapped into every
//! guest at exec as `[vvar]` (read-only; only vkernel writes it) with
//! `[vdso]` right above it, and Linux's rules for these special mappings
//! (never split, never grown, the data page never writable). What the page
//! says is sched/vclock.rs's business; exec calls `map_into`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::abi::mman::{MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::abi::{Errno, KResult, PAGE_SIZE, page_align_up};
use crate::mm::frame::PhysMemory;
use crate::mm::map::MapRequest;
use crate::mm::page_cache::PageCache;
use crate::mm::vma::{Backing, FileData, Vma};
use crate::mm::{Mm, MmState};

/// The data page's layout (offsets of src/vdso/vvar.h, generated).
#[allow(dead_code)]
pub mod layout {
    include!(concat!(env!("OUT_DIR"), "/vvar_layout.rs"));
    /// Bytes the page's structure takes.
    pub const VK_VVAR_SIZE: u64 = VK_VVAR_BASE + 16 * VK_CLOCKS;
}

/// The image as built; the note with the kernel version is filled in when
/// it is loaded.
static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

pub const VVAR_LABEL: &str = "[vvar]";
pub const VDSO_LABEL: &str = "[vdso]";
/// The data page sits this far below the image (`vk_vvar` in vdso.lds).
const VVAR_SIZE: u64 = PAGE_SIZE;

/// The image and the data page, in guest RAM for vkernel's lifetime.
struct Vdso {
    text: (Arc<dyn FileData>, Arc<PageCache>),
    data: (Arc<dyn FileData>, Arc<PageCache>),
    image_len: u64,
    page: DataPage,
}

static VDSO: OnceLock<Vdso> = OnceLock::new();

/// A vDSO page's contents as a private file mapping reads them.
struct ImageFile(Vec<u8>);

impl FileData for ImageFile {
    fn size(&self) -> KResult<u64> {
        Ok(self.0.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let start = (offset as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }

    fn version(&self) -> KResult<(u64, u64, i64, i64, u64)> {
        Ok((0, 0, 0, 0, self.0.len() as u64))
    }
}

/// The data page as vkernel writes it: 64-bit words, each stored whole
/// (the vDSO's readers retry while `seq` is odd or has moved).
pub struct DataPage {
    words: &'static [AtomicU64],
}

impl DataPage {
    /// Stores the word at byte `offset` (a multiple of 8 inside the page
    /// structure; others are ignored).
    pub fn store(&self, offset: u64, value: u64, order: Ordering) {
        if offset % 8 == 0 {
            if let Some(word) = self.words.get((offset / 8) as usize) {
                word.store(value, order);
            }
        }
    }
}

/// Puts the image and the data page in guest RAM (at boot, once; later
/// calls do nothing). Until then exec maps no vDSO.
pub fn install(phys: &Arc<PhysMemory>) -> KResult<()> {
    if VDSO.get().is_some() {
        return Ok(());
    }
    let mut image = IMAGE.to_vec();
    write_version_note(&mut image, linux_version_code(&crate::platform::host::system::kernel_release().0));
    let image_len = page_align_up(image.len() as u64).ok_or(Errno::ENOMEM)?;
    image.resize(image_len as usize, 0);
    let text = PageCache::new(phys.clone());
    for (i, chunk) in image.chunks(PAGE_SIZE as usize).enumerate() {
        text.frame_filled(i as u64, |page| page.copy_from_slice(chunk))?;
    }
    text.set_size(image_len);
    let data = PageCache::new(phys.clone());
    let frame = data.get_or_alloc(0)?;
    data.set_size(VVAR_SIZE);
    let bytes = phys.frame_bytes(frame);
    let words_len = (layout::VK_VVAR_SIZE / 8) as usize;
    // SAFETY: the frame is page-aligned, PAGE_SIZE long and owned by
    // `data`, which lives in VDSO (never dropped) together with the guest
    // RAM mapping `phys` keeps for the whole run; every access to it from
    // vkernel goes through these atomics, and guests only read it.
    let words: &'static [AtomicU64] = unsafe { std::slice::from_raw_parts(bytes.as_mut_ptr() as *const AtomicU64, words_len) };
    let vdso =
        Vdso { text: (Arc::new(ImageFile(image)), text), data: (Arc::new(ImageFile(vec![0; VVAR_SIZE as usize])), data), image_len, page: DataPage { words } };
    let _ = VDSO.set(vdso);
    Ok(())
}

/// The data page, once installed.
pub fn data_page() -> Option<&'static DataPage> {
    VDSO.get().map(|v| &v.page)
}

/// Maps `[vvar]` and `[vdso]` into a fresh address space where Linux puts
/// them: the first free range below the mmap base, after the program and
/// its interpreter are mapped (so right below ld.so, or at the top of the
/// mmap area for a static program; it follows the mmap base wherever that
/// is put). The pages are mapped with the first batch of host changes, so
/// reading the image or the clock costs no fault. Returns the image's
/// address for AT_SYSINFO_EHDR, or None when no vDSO is installed.
pub fn map_into(mm: &Mm) -> KResult<Option<u64>> {
    let Some(vdso) = VDSO.get() else { return Ok(None) };
    let mut st = mm.lock();
    let total = VVAR_SIZE + vdso.image_len;
    let start = st.find_free(total, st.mmap_base).ok_or(Errno::ENOMEM)?;
    let text_start = start + VVAR_SIZE;
    let mapping = |addr: u64, len: u64, prot: u32, (file, cache): &(Arc<dyn FileData>, Arc<PageCache>), label: &'static str| MapRequest {
        addr,
        len,
        prot,
        flags: MAP_PRIVATE | MAP_FIXED,
        backing: Backing::File { file: file.clone(), offset: 0, file_end: len, name: Vec::new(), dev: 0, ino: 0, cache: Some(cache.clone()) },
        label,
    };
    st.map(mapping(start, VVAR_SIZE, PROT_READ, &vdso.data, VVAR_LABEL))?;
    st.map(mapping(text_start, vdso.image_len, PROT_READ | PROT_EXEC, &vdso.text, VDSO_LABEL))?;
    let mut addr = start;
    while addr < start + total {
        if !st.pages.contains_key(&(addr / PAGE_SIZE)) {
            st.handle_fault(&mm.phys, addr, true).map_err(|_| Errno::ENOMEM)?;
        }
        addr += PAGE_SIZE;
    }
    Ok(Some(text_start))
}

/// Is this one of the vDSO's mappings (Linux's special mappings)?
pub fn is_special(vma: &Vma) -> bool {
    vma.label == VVAR_LABEL || vma.label == VDSO_LABEL
}

/// The protections a mapping may be given (Linux's VM_MAY* bits): the
/// data page is only ever readable; the image may be made writable (a
/// debugger's breakpoints land in a private copy); a host file's shared
/// mapping from a noexec mount never executable.
pub fn max_prot(vma: &Vma) -> u32 {
    match &vma.backing {
        _ if vma.label == VVAR_LABEL => PROT_READ,
        crate::mm::vma::Backing::HostFile { may_exec: false, .. } => PROT_READ | PROT_WRITE,
        _ => PROT_READ | PROT_WRITE | PROT_EXEC,
    }
}

impl MmState {
    /// Would changing [start, end) cut a vDSO mapping in two? Linux
    /// refuses to split special mappings (EINVAL).
    pub fn cuts_special_mapping(&self, start: u64, end: u64) -> bool {
        self.vmas.range(..end).rev().take_while(|(_, v)| v.end > start).any(|(_, v)| is_special(v) && (v.start < start || v.end > end))
    }
}

/// Linux's KERNEL_VERSION of a release string such as "6.1.0-13-amd64".
fn linux_version_code(release: &[u8]) -> u32 {
    let text = String::from_utf8_lossy(release);
    let mut parts = text.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a.min(255) << 16) | (b.min(255) << 8) | c.min(255)
}

/// Fills the "Linux" note (type 0) of the image with `version`.
fn write_version_note(image: &mut [u8], version: u32) {
    let mut header = Vec::new();
    for word in [6u32, 4, 0] {
        header.extend_from_slice(&word.to_le_bytes());
    }
    header.extend_from_slice(b"Linux\0\0\0");
    if let Some(at) = image.windows(header.len()).position(|w| w == header.as_slice()) {
        let desc = at + header.len();
        image[desc..desc + 4].copy_from_slice(&version.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use goblin::elf::Elf;

    fn dynamic_symbol<'a>(elf: &'a Elf, name: &str) -> Option<goblin::elf::Sym> {
        elf.dynsyms.iter().find(|s| elf.dynstrtab.get_at(s.st_name) == Some(name))
    }

    #[test]
    fn image_exports_linux_symbols_in_one_read_only_segment_without_relocations() {
        let elf = Elf::parse(IMAGE).expect("the vDSO is an ELF");
        assert_eq!(elf.header.e_type, goblin::elf::header::ET_DYN);
        let loads: Vec<_> = elf.program_headers.iter().filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD).collect();
        assert_eq!(loads.len(), 1, "one PT_LOAD");
        assert_eq!(loads[0].p_vaddr, 0, "linked at 0");
        assert_eq!(loads[0].p_flags & goblin::elf::program_header::PF_W, 0, "nothing writable");
        assert!(elf.dynrelas.is_empty() && elf.dynrels.is_empty() && elf.pltrelocs.is_empty(), "no relocations");
        for name in ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_clock_getres", "__vdso_getcpu", "clock_gettime", "time"] {
            let sym = dynamic_symbol(&elf, name).unwrap_or_else(|| panic!("{name} exported"));
            assert!(sym.st_value > 0 && sym.st_value < IMAGE.len() as u64, "{name} inside the image");
        }
        let soname = elf.soname.expect("a soname");
        assert_eq!(soname, "linux-vdso.so.1");
        let verdefs: Vec<String> = elf
            .verdef
            .as_ref()
            .expect("version definitions")
            .iter()
            .flat_map(|d| d.iter().filter_map(|aux| elf.dynstrtab.get_at(aux.vda_name).map(str::to_string)).collect::<Vec<_>>())
            .collect();
        assert!(verdefs.iter().any(|v| v == "LINUX_2.6"), "LINUX_2.6 defined: {verdefs:?}");
        assert!(elf.program_headers.iter().any(|p| p.p_type == goblin::elf::program_header::PT_NOTE));
        assert!(elf.program_headers.iter().any(|p| p.p_type == goblin::elf::program_header::PT_GNU_EH_FRAME));
    }

    #[test]
    fn version_note_takes_the_release() {
        assert_eq!(linux_version_code(b"6.18.44-fc-v1045"), (6 << 16) | (18 << 8) | 44);
        assert_eq!(linux_version_code(b"4.19.300"), (4 << 16) | (19 << 8) | 255);
        let mut image = IMAGE.to_vec();
        write_version_note(&mut image, 0x0006_1203);
        let at = image.windows(8).position(|w| w == b"Linux\0\0\0").expect("the note");
        assert_eq!(&image[at + 8..at + 12], &0x0006_1203u32.to_le_bytes());
    }

    #[test]
    fn vdso_mappings_are_never_split() {
        let mm = Mm::new(Arc::new(PhysMemory::new(64 * PAGE_SIZE).unwrap()));
        let mut s = mm.lock();
        s.insert_vma(Vma { start: 0x10_0000, end: 0x10_2000, prot: PROT_READ | PROT_EXEC, flags: MAP_PRIVATE, backing: Backing::Anonymous, label: VDSO_LABEL });
        assert!(s.cuts_special_mapping(0x10_1000, 0x10_3000));
        assert!(s.cuts_special_mapping(0x0f_f000, 0x10_1000));
        assert!(!s.cuts_special_mapping(0x10_0000, 0x10_2000));
        assert!(!s.cuts_special_mapping(0x0f_0000, 0x20_0000));
        assert!(!s.cuts_special_mapping(0x10_2000, 0x10_3000));
    }
}
