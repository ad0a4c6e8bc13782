//! Hex identifiers written in policies: serials, SHA-256 fingerprints, key identifiers.
//!
//! Policies may write hex in any case and with `:` separators (as `openssl x509 -fingerprint`
//! prints); each is normalised to the exact form the identity carries, so comparisons are
//! plain string (or byte) equality on the hot path.

use alloc::string::String;

/// Lower-cases `s` and removes `:`. `None` when anything else is not a hex digit, or nothing
/// is left.
fn compact_hex(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ':' => {}
            c if c.is_ascii_hexdigit() => out.push(c.to_ascii_lowercase()),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A SHA-256 fingerprint: exactly 64 hex digits after removing `:`.
pub(crate) fn parse_fingerprint(s: &str) -> Result<[u8; 32], &'static str> {
    let hex = compact_hex(s)
        .ok_or("a SHA-256 fingerprint is 64 hex digits, optionally separated by `:`")?;
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return Err("a SHA-256 fingerprint is 64 hex digits, optionally separated by `:`");
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let pair = core::str::from_utf8(pair).map_err(|_| "not hex")?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| "not hex")?;
    }
    Ok(out)
}

/// A serial in the identity's form: lowercase hex of the content octets with leading zero
/// octets removed (`0` for zero). Config may add leading zeros, `:` and upper case.
pub(crate) fn parse_serial(s: &str) -> Result<String, &'static str> {
    let hex = compact_hex(s).ok_or("a serial is hex digits, optionally separated by `:`")?;
    let significant = hex.trim_start_matches('0');
    Ok(if significant.is_empty() {
        String::from("0")
    } else if significant.len() % 2 == 1 {
        let mut out = String::with_capacity(significant.len() + 1);
        out.push('0');
        out.push_str(significant);
        out
    } else {
        String::from(significant)
    })
}

/// An Authority Key Identifier in the identity's form: lowercase hex, whole octets.
pub(crate) fn parse_key_id(s: &str) -> Result<String, &'static str> {
    let hex = compact_hex(s).ok_or("a key_id is hex digits, optionally separated by `:`")?;
    if hex.len() % 2 == 1 {
        return Err("a key_id is whole octets: an even number of hex digits");
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fingerprints() {
        let lower = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
        let fp = parse_fingerprint(lower).unwrap();
        assert_eq!(crate::hex::to_hex(&fp), lower);
        let colons = "5E:88:48:98:DA:28:04:71:51:D0:E5:6F:8D:C6:29:27:73:60:3D:0D:6A:AB:BD:D6:2A:11:EF:72:1D:15:42:D8";
        assert_eq!(parse_fingerprint(colons).unwrap(), fp);
        assert!(parse_fingerprint(&lower[..62]).is_err());
        assert!(parse_fingerprint(&alloc::format!("{lower}00")).is_err());
        assert!(parse_fingerprint(&lower.replace('e', "g")).is_err());
        assert!(parse_fingerprint("").is_err());
        assert!(parse_fingerprint(" 5e").is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn serials() {
        assert_eq!(parse_serial("01ab").unwrap(), "01ab");
        assert_eq!(parse_serial("1AB").unwrap(), "01ab");
        assert_eq!(parse_serial("00:00:AB").unwrap(), "ab");
        assert_eq!(parse_serial("0").unwrap(), "0");
        assert_eq!(parse_serial("0000").unwrap(), "0");
        assert_eq!(parse_serial("ff01").unwrap(), "ff01");
        assert!(parse_serial("").is_err());
        assert!(parse_serial(":").is_err());
        assert!(parse_serial("0x1f").is_err());
        assert!(parse_serial("-1").is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn key_ids() {
        assert_eq!(parse_key_id("9F:1C:aa").unwrap(), "9f1caa");
        assert!(parse_key_id("9f1").is_err());
        assert!(parse_key_id("zz").is_err());
        assert!(parse_key_id("").is_err());
    }
}
