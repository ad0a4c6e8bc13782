//! The request headers as read once from the host, with case-insensitive lookups.

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
    /// then rejects (a method or path is ASCII).
    pub fn text(&self, name: &str) -> String {
        self.first(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
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
    fn text_is_lossy_and_empty_when_absent() {
        let h = headers();
        assert_eq!(h.text(":path"), "/a");
        assert_eq!(h.text("bad"), "\u{fffd}");
        assert_eq!(h.text(":method"), "");
    }
}
