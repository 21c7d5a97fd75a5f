//! Every call vkernel makes to the host kernel on its own behalf (as
//! opposed to running guest code): guest RAM, the host terminal, host
//! files and disk images, clocks, randomness and identity. Host errors
//! become `Errno` here, once; callers above see only safe functions.

pub mod clock;
pub mod files;
pub mod image;
pub mod ram;
pub mod system;
pub mod terminal;
pub mod termination;
