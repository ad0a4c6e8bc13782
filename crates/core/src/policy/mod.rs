//! The v1 configuration contract: parse (`raw`), compile, evaluate.

mod raw;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::decision::Decision;
use crate::identity::{ClientCert, Identity};
use crate::selector::Selector;
use crate::time::UnixTime;

pub use raw::RawPolicy;

/// `enforce` blocks denied requests; `shadow` only reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny responses are sent.
    Enforce,
    /// Never blocks; the decision is logged, counted and sent upstream.
    Shadow,
}

/// Where the client certificate may come from, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The TLS connection's verified peer certificate.
    PeerCertificate,
    /// The last element of a trusted `x-forwarded-client-cert` header.
    Xfcc,
}

/// A request as the evaluator sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `:method`, exactly as sent.
    pub method: &'a str,
    /// Raw `:path` (request-target), before normalisation.
    pub path: &'a str,
}

/// A policy error, naming the JSON path of the offending field (e.g. `rules[2].allow[0]`).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The document is not valid JSON or does not fit the schema (unknown field, wrong type).
    Syntax {
        /// JSON path of the field where parsing stopped, or `$` at the top level.
        path: String,
        /// serde_json's message (includes line and column).
        detail: String,
    },
    /// The document parsed but its content is invalid.
    Invalid {
        /// JSON path of the offending field.
        path: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Syntax { path, detail } => {
                write!(f, "invalid policy at {path}: {detail}")
            }
            PolicyError::Invalid { path, detail } => {
                write!(f, "invalid policy at {path}: {detail}")
            }
        }
    }
}

impl core::error::Error for PolicyError {}

/// A compiled, immutable policy.
#[derive(Debug)]
pub struct Policy {
    mode: Mode,
    sources: Vec<Source>,
    expose_reason: bool,
    forward_headers: Vec<(String, Selector)>,
}

impl Policy {
    /// Parses and compiles a v1 JSON document.
    pub fn from_json(json: &str) -> Result<Policy, PolicyError> {
        let _ = json;
        Err(PolicyError::Invalid {
            path: String::from("$"),
            detail: String::from("not implemented"),
        })
    }

    /// `enforce` or `shadow`.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `identity.sources`, in order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Whether deny bodies carry the rule and reason.
    pub fn expose_reason(&self) -> bool {
        self.expose_reason
    }

    /// `forward_headers` as (lowercase header name, selector), in document order.
    pub fn forward_headers(&self) -> &[(String, Selector)] {
        &self.forward_headers
    }

    /// Rule names in policy order (index = [`Decision::rule_index`]).
    pub fn rule_names(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Decides one request. Never panics; every failure is a deny with a reason.
    pub fn evaluate(&self, request: &Request<'_>, client: ClientCert<'_>, now: UnixTime) -> Decision {
        let _ = (request, client, now);
        unimplemented_decision()
    }

    /// The `forward_headers` to set on an allowed request: (header name, value), values made
    /// header-safe (see [`crate::forward`]). Headers whose selector has no value are omitted.
    pub fn forward_header_values(&self, identity: &Identity, decision: &Decision) -> Vec<(String, String)> {
        let _ = (identity, decision);
        Vec::new()
    }
}

fn unimplemented_decision() -> Decision {
    Decision {
        outcome: crate::decision::Outcome::Deny,
        status: crate::decision::Status::Forbidden,
        reason: crate::decision::Reason::NoRuleMatched,
        rule: None,
        rule_index: None,
        roles: Vec::new(),
        upstream_path: None,
    }
}
