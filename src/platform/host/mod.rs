//! Host calls for devices vkernel offers its guests.

pub mod image;
