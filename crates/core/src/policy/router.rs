//! Path patterns and the segment trie that finds every rule whose paths match a request.
//!
//! Patterns are segment-wise: a literal (compared to the decoded request segment), `*` (one
//! segment), `{name}` (one segment, captured), `**` (zero or more trailing segments, last
//! only). A trailing `/` is insignificant. `*` and `{name}` match alike, so they share one
//! trie edge; captures are remembered per pattern as segment positions. A lookup walks only
//! the literal edge equal to the request segment and the wildcard edge, so its cost depends
//! on the request and the trie's shape, not on the number of rules.

use alloc::string::String;
use alloc::vec::Vec;

use hashbrown::HashMap;
use smallvec::SmallVec;

/// A parsed path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<PatternSegment>,
    /// Ends with `**`.
    rest: bool,
    /// `{name}` captures: (name, segment position).
    captures: Vec<(String, usize)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PatternSegment {
    Literal(String),
    /// `*` or `{name}`.
    Any,
}

impl PathPattern {
    /// True when every request path `narrow` matches, `self` matches too: segment by
    /// segment, `*`/`{name}` covers any segment, a literal only itself; a trailing `**`
    /// covers every longer path, and only a `**` covers one.
    pub(crate) fn covers(&self, narrow: &PathPattern) -> bool {
        let prefix = self.segments.iter().enumerate().all(|(i, broad)| {
            match (broad, narrow.segments.get(i)) {
                (_, None) => false,
                (PatternSegment::Any, Some(_)) => true,
                (PatternSegment::Literal(b), Some(PatternSegment::Literal(n))) => b == n,
                (PatternSegment::Literal(_), Some(PatternSegment::Any)) => false,
            }
        });
        prefix && (self.rest || (!narrow.rest && narrow.segments.len() == self.segments.len()))
    }

    /// Position of the segment captured as `{name}`, if this pattern captures it.
    pub(crate) fn capture_position(&self, name: &str) -> Option<usize> {
        self.captures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, position)| *position)
    }
}

/// Parses a path pattern; the error says what is wrong (the caller adds where).
pub(crate) fn parse_path_pattern(pattern: &str) -> Result<PathPattern, String> {
    let Some(after_root) = pattern.strip_prefix('/') else {
        return Err(String::from("a path pattern must start with `/`"));
    };
    let after_root = after_root.strip_suffix('/').unwrap_or(after_root);
    let mut parsed = PathPattern {
        segments: Vec::new(),
        rest: false,
        captures: Vec::new(),
    };
    if after_root.is_empty() {
        return Ok(parsed);
    }
    let mut raw_segments = after_root.split('/').peekable();
    while let Some(segment) = raw_segments.next() {
        let is_last = raw_segments.peek().is_none();
        let position = parsed.segments.len();
        match segment {
            "" => {
                return Err(String::from(
                    "empty segment (`//`): requests are normalised, so it would never match",
                ))
            }
            "**" if is_last => parsed.rest = true,
            "**" => return Err(String::from("`**` may only be the last segment")),
            "*" => parsed.segments.push(PatternSegment::Any),
            _ if segment.starts_with('{') && segment.ends_with('}') => {
                let name = segment.get(1..segment.len() - 1).unwrap_or_default();
                if !is_param_name(name) {
                    return Err(alloc::format!(
                        "`{segment}`: a parameter name is a letter or `_` followed by letters, digits or `_`"
                    ));
                }
                if parsed.captures.iter().any(|(n, _)| n == name) {
                    return Err(alloc::format!("parameter `{{{name}}}` is captured twice"));
                }
                parsed.captures.push((String::from(name), position));
                parsed.segments.push(PatternSegment::Any);
            }
            _ => {
                check_literal(segment)?;
                parsed
                    .segments
                    .push(PatternSegment::Literal(String::from(segment)));
            }
        }
    }
    Ok(parsed)
}

pub(crate) fn is_param_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_literal(segment: &str) -> Result<(), String> {
    if segment == "." || segment == ".." {
        return Err(alloc::format!(
            "`{segment}` segment: requests are normalised, so it would never match"
        ));
    }
    for c in segment.chars() {
        let problem = match c {
            '*' | '{' | '}' => "a literal segment may not contain `*`, `{` or `}` (use a whole `*`, `{name}` or `**` segment)",
            '%' => "path patterns match decoded segments: write the character itself, not a percent-escape",
            '?' | '#' => "the query and fragment are not part of path patterns",
            ';' => "`;` path parameters are rejected in requests, so this would never match",
            '\\' => "`\\` is rejected in requests, so this would never match",
            c if c.is_control() => "control characters are rejected in requests, so this would never match",
            _ => continue,
        };
        return Err(alloc::format!("`{segment}`: {problem}"));
    }
    Ok(())
}

/// A (rule, path) pair: rule index in policy order, path index in the rule's `paths`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Route {
    pub(crate) rule: usize,
    pub(crate) path: usize,
}

/// Matched routes: a request rarely matches more than a few, so they live on the stack.
pub(crate) type Routes = SmallVec<[Route; 8]>;

/// The segment trie over every rule's path patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Router {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    literals: HashMap<String, usize>,
    any: Option<usize>,
    /// Patterns that end exactly here.
    exact: Vec<Route>,
    /// Patterns that end here with `**`.
    rest: Vec<Route>,
}

impl Router {
    pub(crate) fn new() -> Self {
        Self {
            nodes: alloc::vec![Node::default()],
        }
    }

    pub(crate) fn insert(&mut self, pattern: &PathPattern, route: Route) {
        let mut current = 0;
        for segment in &pattern.segments {
            let next_free = self.nodes.len();
            let Some(node) = self.nodes.get_mut(current) else {
                return;
            };
            let (child, created) = match segment {
                PatternSegment::Literal(literal) => match node.literals.get(literal.as_str()) {
                    Some(&child) => (child, false),
                    None => {
                        node.literals.insert(literal.clone(), next_free);
                        (next_free, true)
                    }
                },
                PatternSegment::Any => match node.any {
                    Some(child) => (child, false),
                    None => {
                        node.any = Some(next_free);
                        (next_free, true)
                    }
                },
            };
            if created {
                self.nodes.push(Node::default());
            }
            current = child;
        }
        if let Some(node) = self.nodes.get_mut(current) {
            if pattern.rest {
                node.rest.push(route);
            } else {
                node.exact.push(route);
            }
        }
    }

    /// Appends every route whose pattern matches `segments` (unordered, possibly repeated).
    pub(crate) fn matches(&self, segments: &[&str], out: &mut Routes) {
        self.collect(0, segments, out);
    }

    fn collect(&self, node: usize, segments: &[&str], out: &mut Routes) {
        let Some(node) = self.nodes.get(node) else {
            return;
        };
        out.extend_from_slice(&node.rest);
        match segments.split_first() {
            None => out.extend_from_slice(&node.exact),
            Some((first, tail)) => {
                if let Some(&child) = node.literals.get(*first) {
                    self.collect(child, tail, out);
                }
                if let Some(child) = node.any {
                    self.collect(child, tail, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn router(patterns: &[&str]) -> Router {
        let mut router = Router::new();
        for (rule, pattern) in patterns.iter().enumerate() {
            router.insert(
                &parse_path_pattern(pattern).unwrap(),
                Route { rule, path: 0 },
            );
        }
        router
    }

    fn matching(router: &Router, segments: &[&str]) -> Vec<usize> {
        let mut out = Routes::new();
        router.matches(segments, &mut out);
        let mut rules: Vec<usize> = out.into_iter().map(|r| r.rule).collect();
        rules.sort_unstable();
        rules
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn segment_matching() {
        let r = router(&[
            "/patient-records",            // 0
            "/patient-records/**",         // 1
            "/tenants/{tenant}/orders/**", // 2
            "/healthz",                    // 3
            "/",                           // 4
            "/**",                         // 5
            "/a/*/c",                      // 6
            "/a/b/c/",                     // 7
        ]);
        assert_eq!(matching(&r, &["patient-records"]), vec![0, 1, 5]);
        assert_eq!(matching(&r, &["patient-records", "1", "x"]), vec![1, 5]);
        assert_eq!(matching(&r, &["patient-recordsX"]), vec![5]);
        assert_eq!(matching(&r, &["tenants", "acme", "orders"]), vec![2, 5]);
        assert_eq!(
            matching(&r, &["tenants", "acme", "orders", "7"]),
            vec![2, 5]
        );
        assert_eq!(matching(&r, &["tenants", "acme"]), vec![5]);
        assert_eq!(matching(&r, &[]), vec![4, 5]);
        assert_eq!(matching(&r, &["a", "b", "c"]), vec![5, 6, 7]);
        assert_eq!(matching(&r, &["a", "x", "c"]), vec![5, 6]);
        assert_eq!(matching(&r, &["a", "x", "c", "d"]), vec![5]);
        assert_eq!(matching(&r, &["Healthz"]), vec![5]);
    }

    fn covers(broad: &str, narrow: &str) -> bool {
        parse_path_pattern(broad)
            .unwrap()
            .covers(&parse_path_pattern(narrow).unwrap())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn coverage() {
        // A trailing `**` covers everything below it, itself included.
        assert!(covers("/**", "/"));
        assert!(covers("/**", "/a/{id}/b/**"));
        assert!(covers("/a/**", "/a"));
        assert!(covers("/a/**", "/a/b/c"));
        assert!(!covers("/a/**", "/b"));
        assert!(!covers("/a/b/**", "/a/**"));
        // `*` and `{name}` cover one segment, a literal only itself.
        assert!(covers("/a/*", "/a/{id}"));
        assert!(covers("/a/{x}", "/a/b"));
        assert!(!covers("/a/b", "/a/{x}"));
        assert!(!covers("/a/*", "/a/**"));
        assert!(!covers("/a/*", "/a"));
        assert!(!covers("/a/*", "/a/b/c"));
        // A trailing `/` is insignificant.
        assert!(covers("/a/", "/a"));
        assert!(covers("/a", "/a/"));
        assert!(covers("/", "/"));
        assert!(!covers("/", "/a"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn captures_positions() {
        let p = parse_path_pattern("/tenants/{tenant}/users/{user}/**").unwrap();
        assert_eq!(p.capture_position("tenant"), Some(1));
        assert_eq!(p.capture_position("user"), Some(3));
        assert_eq!(p.capture_position("other"), None);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pattern_errors() {
        let cases = [
            ("", "a path pattern must start with `/`"),
            ("admin", "a path pattern must start with `/`"),
            ("/a//b", "empty segment (`//`)"),
            ("/**/a", "`**` may only be the last segment"),
            ("/a*", "`a*`: a literal segment may not contain"),
            ("/x-{id}", "`x-{id}`: a literal segment may not contain"),
            ("/{}", "`{}`: a parameter name is"),
            ("/{1x}", "`{1x}`: a parameter name is"),
            ("/{a}/{a}", "parameter `{a}` is captured twice"),
            ("/a%20b", "`a%20b`: path patterns match decoded segments"),
            ("/search?q=1", "`search?q=1`: the query and fragment"),
            ("/a;b", "`a;b`: `;` path parameters"),
            ("/a\\b", "`a\\b`: `\\` is rejected"),
            ("/a/../b", "`..` segment"),
            ("/./b", "`.` segment"),
            ("/a\u{1}", "`a\u{1}`: control characters"),
        ];
        for (pattern, expected) in cases {
            let err = parse_path_pattern(pattern).unwrap_err();
            assert!(err.starts_with(expected), "{pattern:?}: {err}");
        }
        assert!(parse_path_pattern("/caf\u{e9}/a b/x.y").is_ok());
        assert!(parse_path_pattern("//").is_ok());
    }
}
