//! PEM (RFC 7468) armour around exactly one `CERTIFICATE`.
//!
//! Tolerated: whitespace around the block and explanatory text before it (OpenSSL's
//! `Bag Attributes`, `subject=`/`issuer=` lines, comments), as RFC 7468 §5.2 allows.
//! Rejected: a second `-----BEGIN` anywhere ([`CertError::MultiplePem`]), any label other
//! than `CERTIFICATE` (including `TRUSTED CERTIFICATE`, which carries OpenSSL trust data),
//! PEM headers (`Proc-Type:`), text after the END line, and bad base64. Base64 lines may be
//! wrapped at any fixed width (64 is usual; some tools use 76).

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::identity::{CertError, MAX_CERT_PEM_LEN};

const BEGIN: &[u8] = b"-----BEGIN";
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// The DER inside a PEM `CERTIFICATE` block.
pub(crate) fn certificate_der(text: &[u8]) -> Result<Vec<u8>, CertError> {
    if text.len() > MAX_CERT_PEM_LEN {
        return Err(CertError::TooLarge {
            len: text.len(),
            max: MAX_CERT_PEM_LEN,
        });
    }
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(CertError::Empty);
    }
    match text.windows(BEGIN.len()).filter(|w| *w == BEGIN).count() {
        0 => return Err(CertError::Pem("no `-----BEGIN` line".to_string())),
        1 => {}
        _ => return Err(CertError::MultiplePem),
    }
    let mut decoder =
        pem_rfc7468::Decoder::new_detect_wrap(text).map_err(|e| CertError::Pem(e.to_string()))?;
    let label = decoder.type_label();
    if label != CERTIFICATE_LABEL {
        return Err(CertError::Pem(format!(
            "label is `{label}`, expected `{CERTIFICATE_LABEL}`"
        )));
    }
    let mut der = Vec::new();
    decoder
        .decode_to_end(&mut der)
        .map_err(|e| CertError::Pem(e.to_string()))?;
    Ok(der)
}
