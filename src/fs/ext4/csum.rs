//! The checksums ext4 and jbd2 store: crc32c in the kernel's convention (a
//! running value with no pre- or post-inversion, seeded by the caller) and
//! the crc16 of the older `uninit_bg` group descriptors.

/// Linux's `crc32c(seed, data)`: the `crc32c` crate inverts on entry and
/// exit, so undo both to continue from a raw seed.
pub fn crc32c(seed: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!seed, data)
}

/// CRC-16/ARC (reflected polynomial 0xA001), Linux's lib/crc16.c.
pub fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &byte in data {
        crc ^= byte as u16;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_kernel_convention() {
        // The standard check value is for the inverted form.
        assert_eq!(!crc32c(!0, b"123456789"), 0xE306_9283);
        // Chaining equals one pass.
        let whole = crc32c(7, b"hello world");
        assert_eq!(crc32c(crc32c(7, b"hello "), b"world"), whole);
    }

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
    }
}
