//! Terminals: the console (vkernel's own stdin/stdout/stderr) and, later,
//! the line discipline and pseudo-terminals.

pub mod console;
pub mod ldisc;
