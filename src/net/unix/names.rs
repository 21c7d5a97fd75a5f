//! Unix socket names (Linux's unix_bind, unix_autobind, unix_find_other):
//! a path binding is a socket inode made in the filesystem (through
//! fs::namei, with the umask) and found again by that inode's (dev, ino);
//! an abstract name (a leading NUL) lives in a table of its own, one
//! namespace per socket type as Linux's hash makes it. Unlinking a path
//! does not unbind its socket; closing the socket does.

use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::abi::fcntl::AT_FDCWD;
use crate::abi::socket::{AF_UNIX, SOCKADDR_UN_SIZE};
use crate::abi::stat::{S_IFMT, S_IFSOCK};
use crate::abi::{Errno, KResult};
use crate::fs::lookup::{FsCaller, MAY_WRITE, may_access, resolve_at};
use crate::fs::namei;
use crate::fs::path::Dentry;
use crate::net::unix::UnixSocket;

/// A name-table entry a socket owns, for removal when it goes.
pub enum Binding {
    /// The socket inode's (dev, ino).
    Path((u64, u64)),
    /// (socket type, the whole address).
    Abstract(u32, Vec<u8>),
}

fn paths() -> MutexGuard<'static, HashMap<(u64, u64), Weak<UnixSocket>>> {
    static PATHS: std::sync::OnceLock<Mutex<HashMap<(u64, u64), Weak<UnixSocket>>>> = std::sync::OnceLock::new();
    PATHS.get_or_init(Default::default).lock()
}

fn abstract_names() -> MutexGuard<'static, HashMap<(u32, Vec<u8>), Weak<UnixSocket>>> {
    static NAMES: std::sync::OnceLock<Mutex<HashMap<(u32, Vec<u8>), Weak<UnixSocket>>>> = std::sync::OnceLock::new();
    NAMES.get_or_init(Default::default).lock()
}

/// Removes `sock`'s entry (if it is still the one there).
pub fn unbind(binding: &Binding, sock: &UnixSocket) {
    let owns = |w: &Weak<UnixSocket>| std::ptr::eq(w.as_ptr(), sock) || w.strong_count() == 0;
    match binding {
        Binding::Path(key) => {
            let mut t = paths();
            if t.get(key).is_some_and(owns) {
                t.remove(key);
            }
        }
        Binding::Abstract(kind, name) => {
            let mut t = abstract_names();
            let key = (*kind, name.clone());
            if t.get(&key).is_some_and(owns) {
                t.remove(&key);
            }
        }
    }
}

fn family(addr: &[u8]) -> u16 {
    u16::from_ne_bytes([addr[0], addr[1]])
}

/// Linux's unix_validate_addr: a family and at least one byte of name,
/// no longer than a sockaddr_un.
pub fn validate(addr: &[u8]) -> KResult<()> {
    if addr.len() <= 2 || addr.len() > SOCKADDR_UN_SIZE {
        return Err(Errno::EINVAL);
    }
    if family(addr) != AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

fn is_abstract(addr: &[u8]) -> bool {
    addr[2] == 0
}

/// Linux's unix_mkname_bsd: the path ends at the first NUL within the
/// address; the name kept is the family, the path and one NUL (so 111
/// bytes for a path filling all 108 bytes, as on Linux).
fn path_name(addr: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let path: Vec<u8> = addr[2..].iter().take_while(|&&c| c != 0).copied().collect();
    let mut name = addr[..2].to_vec();
    name.extend_from_slice(&path);
    name.push(0);
    (path, name)
}

/// bind(2): an address of the family alone autobinds (and succeeds on a
/// bound socket); a path makes a socket node (EADDRINUSE if the name
/// exists, EINVAL if the socket is bound already); an abstract name
/// must be free.
pub fn bind(sock: &UnixSocket, caller: &dyn FsCaller, addr: &[u8]) -> KResult<()> {
    if addr.len() == 2 && family(addr) == AF_UNIX as u16 {
        return autobind(sock);
    }
    validate(addr)?;
    if is_abstract(addr) { bind_abstract(sock, addr) } else { bind_path(sock, caller, addr) }
}

fn bind_path(sock: &UnixSocket, caller: &dyn FsCaller, addr: &[u8]) -> KResult<()> {
    let (path, name) = path_name(addr);
    let mode = S_IFSOCK | sock.inode.mode();
    let node = namei::mknod(caller, AT_FDCWD, &path, mode, 0).map_err(|e| if e == Errno::EEXIST { Errno::EADDRINUSE } else { e })?;
    let _bind = sock.bindlock.lock();
    let md = node.metadata()?;
    let key = (md.dev, md.ino);
    let mut st = sock.state.lock();
    if st.addr.is_some() {
        drop(st);
        // Bound already: the node just made goes again.
        if let Some(parent) = node.dentry.parent() {
            let name = node.dentry.name();
            if parent.inode.unlink(&name).is_ok() {
                Dentry::removed(&parent, &name);
            }
        }
        return Err(Errno::EINVAL);
    }
    paths().insert(key, sock.me.clone());
    st.addr = Some(Arc::new(name));
    st.binding = Some(Binding::Path(key));
    st.path = Some(node);
    Ok(())
}

fn bind_abstract(sock: &UnixSocket, addr: &[u8]) -> KResult<()> {
    let _bind = sock.bindlock.lock();
    let mut st = sock.state.lock();
    if st.addr.is_some() {
        return Err(Errno::EINVAL);
    }
    let key = (sock.kind, addr.to_vec());
    {
        let mut t = abstract_names();
        if t.get(&key).is_some_and(|w| w.strong_count() > 0) {
            return Err(Errno::EADDRINUSE);
        }
        t.insert(key, sock.me.clone());
    }
    st.addr = Some(Arc::new(addr.to_vec()));
    st.binding = Some(Binding::Abstract(sock.kind, addr.to_vec()));
    Ok(())
}

/// Linux's unix_autobind: an abstract name of five hex digits, from a
/// random start; ENOSPC when all 2^20 are taken.
pub fn autobind(sock: &UnixSocket) -> KResult<()> {
    let _bind = sock.bindlock.lock();
    if sock.state.lock().addr.is_some() {
        return Ok(());
    }
    let mut seed = [0u8; 4];
    let _ = crate::platform::host::system::fill_random(&mut seed);
    let last = u32::from_ne_bytes(seed) & 0xfffff;
    let mut order = last;
    loop {
        order = (order + 1) & 0xfffff;
        let mut addr = (AF_UNIX as u16).to_ne_bytes().to_vec();
        addr.push(0);
        addr.extend_from_slice(format!("{order:05x}").as_bytes());
        let key = (sock.kind, addr.clone());
        let mut t = abstract_names();
        if !t.get(&key).is_some_and(|w| w.strong_count() > 0) {
            t.insert(key, sock.me.clone());
            drop(t);
            let mut st = sock.state.lock();
            st.addr = Some(Arc::new(addr.clone()));
            st.binding = Some(Binding::Abstract(sock.kind, addr));
            return Ok(());
        }
        if order == last {
            return Err(Errno::ENOSPC);
        }
    }
}

/// Linux's unix_find_other: the socket an address names, for a socket
/// of type `kind`. A path must resolve (ENOENT, EACCES, ...), be writable
/// (EACCES) and be a socket node a live socket is bound to (ECONNREFUSED)
/// of the same type (EPROTOTYPE); an abstract name must be bound by a
/// socket of the same type (ECONNREFUSED).
pub fn find_other(caller: Option<&dyn FsCaller>, addr: &[u8], kind: u32) -> KResult<Arc<UnixSocket>> {
    if is_abstract(addr) {
        return abstract_names().get(&(kind, addr.to_vec())).and_then(Weak::upgrade).ok_or(Errno::ECONNREFUSED);
    }
    let caller = caller.ok_or(Errno::ECONNREFUSED)?;
    let (path, _) = path_name(addr);
    let node = resolve_at(caller, AT_FDCWD, &path, true, false)?;
    let md = node.metadata()?;
    may_access(&caller.creds(), &**node.inode(), &md, MAY_WRITE)?;
    if md.mode & S_IFMT != S_IFSOCK {
        return Err(Errno::ECONNREFUSED);
    }
    let other = paths().get(&(md.dev, md.ino)).and_then(Weak::upgrade).ok_or(Errno::ECONNREFUSED)?;
    if other.kind != kind {
        return Err(Errno::EPROTOTYPE);
    }
    Ok(other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(path: &[u8]) -> Vec<u8> {
        let mut a = (AF_UNIX as u16).to_ne_bytes().to_vec();
        a.extend_from_slice(path);
        a
    }

    #[test]
    fn path_names_end_at_the_first_nul_and_keep_one() {
        let (p, n) = path_name(&addr(b"/tmp/s\0junk"));
        assert_eq!(p, b"/tmp/s");
        assert_eq!(n, addr(b"/tmp/s\0"));
        let (p, n) = path_name(&addr(&[b'x'; 108]));
        assert_eq!(p.len(), 108);
        assert_eq!(n.len(), 111);
    }

    #[test]
    fn addresses_need_the_family_and_a_name_within_sockaddr_un() {
        assert_eq!(validate(&addr(b"")), Err(Errno::EINVAL));
        assert_eq!(validate(&addr(&[b'x'; 109])), Err(Errno::EINVAL));
        assert_eq!(validate(&[2, 0, b'x']), Err(Errno::EINVAL));
        assert_eq!(validate(&addr(b"\0a")), Ok(()));
    }
}
