//! The request headers as read once from the host, with case-insensitive lookups.

use std::borrow::Cow;

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
    /// then rejects (a method or path is ASCII). Borrowed unless it had to be repaired: the
    /// request path reads `:method` and `:path` on every request.
    pub fn text(&self, name: &str) -> Cow<'_, str> {
        self.first(name)
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
    }

    /// The header names (as received, one per case-insensitive name) to remove before the
    /// request is forwarded: every spelling of a `spoofable` name, and the underscore
    /// spellings of a `protected` one (`x_forwarded_client_cert` when the real
    /// `x-forwarded-client-cert` is a trusted source). Both lists hold lower-case names.
    pub fn names_to_remove<'a>(
        &'a self,
        spoofable: &[String],
        protected: &[String],
    ) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for (name, _) in &self.entries {
            if out.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                continue;
            }
            let listed = |list: &[String]| list.iter().any(|n| folded_eq(name, n));
            if listed(spoofable) || (name.contains('_') && listed(protected)) {
                out.push(name);
            }
        }
        out
    }
}

/// Whether header `name` is `canonical` (lower case) as WSGI/CGI-style upstreams see names
/// (`HTTP_X_CLIENT_ROLE`): case-insensitive, with `_` read as `-`. Envoy forwards underscore
/// names by default (`headers_with_underscores_action: ALLOW`), so `x_client_role` would
/// reach such an upstream as the identity header itself.
pub fn folded_eq(name: &str, canonical: &str) -> bool {
    name.len() == canonical.len()
        && name.bytes().zip(canonical.bytes()).all(|(n, c)| {
            let n = if n == b'_' {
                b'-'
            } else {
                n.to_ascii_lowercase()
            };
            n == c
        })
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
        let spoofable = vec!["x-client-role".to_string()];
        let protected = vec![
            "x-client-role".to_string(),
            "x-forwarded-client-cert".to_string(),
        ];
        assert_eq!(
            h.names_to_remove(&spoofable, &protected),
            ["X-Client-Role", "x_client_role", "X_Forwarded_Client_Cert"]
        );
        assert!(folded_eq("X_Client-ROLE", "x-client-role"));
        assert!(!folded_eq("x-client-role2", "x-client-role"));
        assert!(!folded_eq("x-client", "x-client-role"));
    }

    #[test]
    fn text_is_lossy_and_empty_when_absent() {
        let h = headers();
        assert_eq!(h.text(":path"), "/a");
        assert_eq!(h.text("bad"), "\u{fffd}");
        assert_eq!(h.text(":method"), "");
    }
}
