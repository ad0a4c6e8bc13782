//! The request headers as read once from the host, with case-insensitive lookups.

use std::borrow::Cow;

use mtls_authz_core::strip::StrippedHeaders;

/// Every request header instance, in the order the host gave them.
#[derive(Clone, Debug, Default)]
pub struct RequestHeaders {
    entries: Vec<(String, Vec<u8>)>,
}

impl RequestHeaders {
    /// Wraps what `Host::request_headers` returned.
    pub fn new(entries: Vec<(String, Vec<u8>)>) -> Self {
        Self { entries }
    }

    /// Number of entries (every instance, pseudo-headers included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the host gave no entry at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry's name, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// The first instance of `name`.
    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every instance of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&[u8]> {
        self.entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// Whether any instance of `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The first instance of `name` as text; invalid UTF-8 becomes U+FFFD, which the core
    /// then rejects (a method or path is ASCII). Borrowed unless it had to be repaired: the
    /// request path reads `:method` and `:path` on every request.
    pub fn text(&self, name: &str) -> Cow<'_, str> {
        self.first(name)
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
    }

    /// The header names (as received, one per case-insensitive name) to remove before the
    /// request is forwarded: see [`mtls_authz_core::strip`].
    pub fn names_to_remove<'a>(&'a self, stripped: &StrippedHeaders) -> Vec<&'a str> {
        self.names_where(|name| stripped.must_remove(name))
    }

    /// The same for request trailers ([`StrippedHeaders::must_remove_trailer`]).
    pub fn trailer_names_to_remove<'a>(&'a self, stripped: &StrippedHeaders) -> Vec<&'a str> {
        self.names_where(|name| stripped.must_remove_trailer(name))
    }

    /// The names (as received, one per case-insensitive name) that `remove` selects.
    fn names_where(&self, remove: impl Fn(&str) -> bool) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (name, _) in &self.entries {
            if out.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                continue;
            }
            if remove(name) {
                out.push(name);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> RequestHeaders {
        RequestHeaders::new(vec![
            (":path".into(), b"/a".to_vec()),
            ("X-Dup".into(), b"1".to_vec()),
            ("x-dup".into(), b"2".to_vec()),
            ("bad".into(), vec![0xff]),
        ])
    }

    #[test]
    fn lookups_ignore_case_and_keep_order() {
        let h = headers();
        assert_eq!(h.first("x-DUP"), Some(&b"1"[..]));
        assert_eq!(h.all("x-dup"), vec![&b"1"[..], &b"2"[..]]);
        assert!(h.contains("X-DUP"));
        assert!(!h.contains("x-other"));
        assert_eq!(h.first("x-other"), None);
    }

    #[test]
    fn names_to_remove_fold_case_and_underscores() {
        let h = RequestHeaders::new(vec![
            (":path".into(), b"/a".to_vec()),
            ("X-Client-Role".into(), b"1".to_vec()),
            ("x-client-role".into(), b"2".to_vec()),
            ("x_client_role".into(), b"3".to_vec()),
            ("x-forwarded-client-cert".into(), b"4".to_vec()),
            ("X_Forwarded_Client_Cert".into(), b"5".to_vec()),
            ("x-other".into(), b"6".to_vec()),
            ("x_other".into(), b"7".to_vec()),
        ]);
        // x-client-role is a forward header; XFCC is a trusted source.
        let stripped = StrippedHeaders::new(["x-client-role"], true);
        assert_eq!(
            h.names_to_remove(&stripped),
            ["X-Client-Role", "x_client_role", "X_Forwarded_Client_Cert"]
        );
    }

    #[test]
    fn text_is_lossy_and_empty_when_absent() {
        let h = headers();
        assert_eq!(h.text(":path"), "/a");
        assert_eq!(h.text("bad"), "\u{fffd}");
        assert_eq!(h.text(":method"), "");
    }
}
