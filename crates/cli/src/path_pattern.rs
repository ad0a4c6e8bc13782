//! Structural reading of path patterns as written in a policy: whether one rule's routing
//! covers another's (the shadowing lint) and which value each `{name}` captured (to explain a
//! bind in `check`). Routing decisions themselves are the core's; this is for explanations.
//!
//! Path patterns are segment-wise (`literal`, `*`, `{name}`, trailing `**`); a trailing `/` is
//! insignificant. Pattern A covers pattern B when every path B matches, A matches too.

/// One path-pattern segment.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Literal(&'a str),
    /// `*` or `{name}`: exactly one segment, any value.
    Any,
    /// `**`: zero or more trailing segments.
    Rest,
}

fn segments(pattern: &str) -> Vec<Segment<'_>> {
    pattern
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(|s| match s {
            "**" => Segment::Rest,
            "*" => Segment::Any,
            _ if s.starts_with('{') && s.ends_with('}') => Segment::Any,
            _ => Segment::Literal(s),
        })
        .collect()
}

/// True when every request path matched by `narrow` is matched by `broad`.
pub(crate) fn path_covers(broad: &str, narrow: &str) -> bool {
    let broad = segments(broad);
    let narrow = segments(narrow);
    let mut narrow_iter = narrow.iter();
    for b in &broad {
        if *b == Segment::Rest {
            return true;
        }
        match (b, narrow_iter.next()) {
            (_, None) | (_, Some(Segment::Rest)) => return false,
            (Segment::Any, Some(_)) => {}
            (Segment::Literal(x), Some(Segment::Literal(y))) if x == y => {}
            _ => return false,
        }
    }
    narrow_iter.next().is_none()
}

/// The `{name}` captures of `pattern` against decoded request segments, or `None` when the
/// pattern does not match.
pub(crate) fn captures(pattern: &str, request: &[String]) -> Option<Vec<(String, String)>> {
    let raw: Vec<&str> = pattern.trim_end_matches('/').split('/').skip(1).collect();
    let request: Vec<&String> = request.iter().filter(|s| !s.is_empty()).collect();
    let mut out = Vec::new();
    for (i, (seg, parsed)) in raw.iter().zip(segments(pattern)).enumerate() {
        match parsed {
            Segment::Rest => return Some(out),
            Segment::Any => {
                let value = request.get(i)?;
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    out.push((name.to_owned(), (*value).clone()));
                }
            }
            Segment::Literal(lit) => {
                if request.get(i).map(|s| s.as_str()) != Some(lit) {
                    return None;
                }
            }
        }
    }
    (request.len() == raw.len()).then_some(out)
}

/// True when `broad` (a rule's `methods`, `None` = every method) includes every method of
/// `narrow`.
pub(crate) fn methods_cover(broad: Option<&[String]>, narrow: Option<&[String]>) -> bool {
    match (broad, narrow) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(b), Some(n)) => n.iter().all(|m| b.contains(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_covers_everything() {
        assert!(path_covers("/**", "/"));
        assert!(path_covers("/**", "/a/{id}/b/**"));
        assert!(path_covers("/a/**", "/a"));
        assert!(path_covers("/a/**", "/a/b/c"));
        assert!(!path_covers("/a/**", "/b"));
    }

    #[test]
    fn single_segment_wildcards() {
        assert!(path_covers("/a/*", "/a/{id}"));
        assert!(path_covers("/a/{x}", "/a/b"));
        assert!(!path_covers("/a/b", "/a/{x}"));
        assert!(!path_covers("/a/*", "/a/**"));
        assert!(!path_covers("/a/*", "/a"));
        assert!(!path_covers("/a/*", "/a/b/c"));
    }

    #[test]
    fn trailing_slash_is_insignificant() {
        assert!(path_covers("/a/", "/a"));
        assert!(path_covers("/a", "/a/"));
        assert!(path_covers("/", "/"));
        assert!(!path_covers("/", "/a"));
    }

    #[test]
    fn captures_named_segments() {
        let req: Vec<String> = ["t", "acme", "orders", "7"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            captures("/t/{tenant}/orders/**", &req),
            Some(vec![("tenant".to_string(), "acme".to_string())])
        );
        assert_eq!(
            captures("/t/{tenant}/orders/*", &req).map(|c| c.len()),
            Some(1)
        );
        assert_eq!(captures("/t/{tenant}", &req), None);
        assert_eq!(captures("/x/**", &req), None);
        assert_eq!(captures("/", &[]), Some(vec![]));
    }

    #[test]
    fn methods() {
        let get = vec!["GET".to_string()];
        let get_post = vec!["GET".to_string(), "POST".to_string()];
        assert!(methods_cover(None, Some(&get)));
        assert!(methods_cover(Some(&get_post), Some(&get)));
        assert!(!methods_cover(Some(&get), Some(&get_post)));
        assert!(!methods_cover(Some(&get), None));
    }
}
