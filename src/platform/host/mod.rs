//! Every call vkernel makes to the host kernel on its own behalf (as
//! opposed to running guest code): guest RAM, the host terminal, host
//! files, clocks, randomness and identity. Host errors become `Errno`
//! here, once; callers above see only safe functions.

pub mod files;
pub mod ram;
pub mod system;
pub mod terminal;
