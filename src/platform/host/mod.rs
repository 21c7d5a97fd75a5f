//! Host calls for devices vkernel offers its guests.

pub mod clock;
pub mod image;
