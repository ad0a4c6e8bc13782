//! Builds `x-forwarded-client-cert` values from case templates, the way an edge Envoy writes
//! them: `Cert="<URL-encoded PEM>"`.

use base64::Engine as _;

/// Percent-encodes every byte outside RFC 3986 unreserved characters. For PEM text this is
/// exactly what Envoy does (`\n` `' '` `+` `/` `=` are the only other bytes in PEM).
pub fn url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// PEM text of a fixture: the file itself for `.pem`, a `CERTIFICATE` armour around the raw
/// bytes for `.der` (so malformed DER can travel in XFCC too).
pub fn pem_text(name: &str) -> Option<Vec<u8>> {
    let file = crate::cert_file(name)?;
    let bytes = crate::files::read(&file).ok()?;
    if file.ends_with(".pem") {
        return Some(bytes);
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Some(pem.into_bytes())
}

/// A piece of an XFCC template: literal text, or a `{cert:<name>}` placeholder.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Copied as is.
    Text(&'a str),
    /// Replaced by the URL-encoded PEM of the named certificate.
    Cert(&'a str),
}

/// Splits a template into text and `{cert:<name>}` placeholders.
pub fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    const OPEN: &str = "{cert:";
    let mut out = Vec::new();
    let mut rest = template;
    while let Some((text, after)) = rest.split_once(OPEN) {
        let (name, tail) = after
            .split_once('}')
            .ok_or_else(|| format!("unterminated `{OPEN}` in xfcc template `{template}`"))?;
        out.push(Piece::Text(text));
        out.push(Piece::Cert(name));
        rest = tail;
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Expands `{cert:<name>}` placeholders into URL-encoded PEM. Errors name the placeholder.
pub fn expand(template: &str) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Cert(name) => {
                let pem = pem_text(name)
                    .ok_or_else(|| format!("xfcc template names unknown certificate `{name}`"))?;
                out.push_str(&url_encode(&pem));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{expand, pieces, url_encode, Piece};

    #[test]
    fn encodes_pem_like_envoy() {
        assert_eq!(
            url_encode(b"-----BEGIN CERTIFICATE-----\nab+/=\n"),
            "-----BEGIN%20CERTIFICATE-----%0Aab%2B%2F%3D%0A"
        );
    }

    #[test]
    fn expands_every_placeholder_and_keeps_the_rest() {
        let value = expand(
            "By=spiffe://e/x;Cert=\"{cert:healthcare/admin-bob}\",Cert=\"{cert:malformed/garbage}\"",
        )
        .unwrap();
        assert!(value.starts_with("By=spiffe://e/x;Cert=\"-----BEGIN%20CERTIFICATE-----%0AMII"));
        assert_eq!(value.matches("-----BEGIN%20CERTIFICATE-----").count(), 2);
        assert!(value.ends_with("-----END%20CERTIFICATE-----%0A\""));
        assert!(!value.contains('\n') && !value.contains("{cert:"));
    }

    #[test]
    fn splits_text_and_placeholders() {
        assert_eq!(
            pieces("a{cert:x/y}b{cert:z}").unwrap(),
            [
                Piece::Text("a"),
                Piece::Cert("x/y"),
                Piece::Text("b"),
                Piece::Cert("z"),
                Piece::Text("")
            ]
        );
    }

    #[test]
    fn unknown_certificate_and_unterminated_placeholder_are_errors() {
        assert!(expand("Cert=\"{cert:nope/none}\"")
            .unwrap_err()
            .contains("nope/none"));
        assert!(expand("Cert=\"{cert:healthcare/admin-bob")
            .unwrap_err()
            .contains("unterminated"));
        assert_eq!(
            expand("Hash=abc;Subject=\"CN=x\"").unwrap(),
            "Hash=abc;Subject=\"CN=x\""
        );
    }
}
