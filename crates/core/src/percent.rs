//! Percent-encoding one byte (`%XX`, upper-case hex), shared by path normalisation (escapes
//! kept as received) and header-safe forward values.

use alloc::string::String;

/// Appends `%XX` for `value`.
pub(crate) fn push_escape(out: &mut String, value: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    for nibble in [value >> 4, value & 0x0f] {
        if let Some(&c) = HEX.get(usize::from(nibble)) {
            out.push(char::from(c));
        }
    }
}
