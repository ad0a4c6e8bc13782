//! A read-only view of the v1 document for lint, check and audit: the constructs as the author wrote them
//! (pattern kinds, method lists, allow lists). It is read only after the core compiled the same
//! text, so it never decides validity; unknown or extra fields are the core's business.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::output::quote;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Document {
    #[serde(default)]
    pub(crate) issuers: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    pub(crate) roles: BTreeMap<String, Vec<BTreeMap<String, Vec<Pattern>>>>,
    #[serde(default)]
    pub(crate) rules: Vec<Rule>,
    #[serde(default)]
    pub(crate) forward_headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) methods: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    #[serde(default)]
    pub(crate) bind: BTreeMap<String, String>,
}

/// A role pattern: an exact string or an object with one of `prefix`, `suffix`, `glob`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Pattern {
    Exact(String),
    Partial {
        prefix: Option<String>,
        suffix: Option<String>,
        glob: Option<String>,
    },
}

impl Pattern {
    /// `prefix`, `suffix` or `glob` for partial patterns, `None` for exact strings.
    pub(crate) fn partial_kind(&self) -> Option<&'static str> {
        match self {
            Pattern::Exact(_) => None,
            Pattern::Partial {
                prefix: Some(_), ..
            } => Some("prefix"),
            Pattern::Partial {
                suffix: Some(_), ..
            } => Some("suffix"),
            Pattern::Partial { .. } => Some("glob"),
        }
    }

    /// The pattern as a policy writes it (`"x"`, `{"prefix": "x"}`), for messages.
    pub(crate) fn as_written(&self) -> String {
        let kind_value = |kind: &str, value: &str| format!("{{\"{kind}\": {}}}", quote(value));
        match self {
            Pattern::Exact(value) => quote(value),
            Pattern::Partial {
                prefix: Some(v), ..
            } => kind_value("prefix", v),
            Pattern::Partial {
                suffix: Some(v), ..
            } => kind_value("suffix", v),
            Pattern::Partial { glob: Some(v), .. } => kind_value("glob", v),
            Pattern::Partial { .. } => String::from("{}"),
        }
    }
}

/// Reserved role: any client whose certificate passed every identity check.
pub(crate) const AUTHENTICATED: &str = "authenticated";
/// Reserved role: no certificate needed.
pub(crate) const PUBLIC: &str = "public";

/// True for methods that change state (lint and audit treat them as write operations).
pub(crate) fn is_write_method(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}
