//! v1.1: an artefact the proxy fetches over HTTP on a timer, from an upstream it already knows
//! (an Envoy cluster, an NGINX host:port). A CRL today (`issuers.<name>.revocation.fetch`);
//! kept apart from revocation so a JWKS URL can reuse it.
//!
//! Only what the request looks like and how often it is sent are here; the timing rules are
//! [`crate::refresh`], the transport is the proxy glue's.

use alloc::string::String;

use super::json_path::JsonPath;
use super::raw::RawFetch;
use super::PolicyError;
use crate::refresh::RefreshPlan;

/// Seconds between fetches when `refresh_seconds` is left out.
pub const DEFAULT_REFRESH_SECS: u32 = 300;
/// Seconds one fetch may take when `timeout_seconds` is left out (capped below the interval).
pub const DEFAULT_TIMEOUT_SECS: u32 = 10;
/// First retry after a failed fetch (doubling up to the interval): short, so an outage that
/// ends is noticed soon, long enough not to hammer a CRL server that is down.
const MIN_RETRY_SECS: u64 = 5;
/// Longest `upstream`, `authority` or `path`: they go into a host call and into logs.
const MAX_FIELD_LEN: usize = 2048;

/// A compiled `fetch`: the request to send and its [`RefreshPlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchSpec {
    upstream: String,
    authority: String,
    path: String,
    plan: RefreshPlan,
}

impl FetchSpec {
    /// Whether both fetch the same document (upstream, authority and path), whatever their
    /// schedules: what a fetched document may be carried over between.
    pub fn same_source(&self, other: &FetchSpec) -> bool {
        self.upstream == other.upstream
            && self.authority == other.authority
            && self.path == other.path
    }

    /// Checks one `fetch` object; errors name the field at fault.
    pub(super) fn compile(raw: &RawFetch, path: &JsonPath) -> Result<Self, PolicyError> {
        let text = |name: &str, value: &str| -> Result<String, PolicyError> {
            if value.is_empty() || value.len() > MAX_FIELD_LEN {
                return Err(invalid(
                    path.key(name),
                    alloc::format!("must be 1 to {MAX_FIELD_LEN} bytes"),
                ));
            }
            // Goes into a request header: no control characters, no spaces.
            if value.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(invalid(
                    path.key(name),
                    "must not contain spaces or control characters",
                ));
            }
            Ok(String::from(value))
        };
        let upstream = text("upstream", &raw.upstream)?;
        let authority = text("authority", &raw.authority)?;
        let request_path = text("path", &raw.path)?;
        if !request_path.starts_with('/') {
            return Err(invalid(path.key("path"), "must start with `/`"));
        }
        let interval = u64::from(raw.refresh_seconds.unwrap_or(DEFAULT_REFRESH_SECS));
        if interval < 2 {
            return Err(invalid(
                path.key("refresh_seconds"),
                "must be at least 2 seconds (the timeout must be shorter)",
            ));
        }
        let timeout = match raw.timeout_seconds {
            Some(timeout) => u64::from(timeout),
            // The default must fit a short interval too.
            None => u64::from(DEFAULT_TIMEOUT_SECS).min(interval - 1),
        };
        let plan = RefreshPlan::new(interval, timeout, MIN_RETRY_SECS.min(interval))
            .map_err(|error| invalid(path.key("timeout_seconds"), alloc::format!("{error}")))?;
        Ok(Self {
            upstream,
            authority,
            path: request_path,
            plan,
        })
    }

    /// The upstream the request goes to (Envoy: a cluster name).
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The request's `:authority`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The request's `:path`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// How often and how patiently to fetch.
    pub fn plan(&self) -> RefreshPlan {
        self.plan
    }
}

fn invalid(path: JsonPath, detail: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.into_string(),
        detail: detail.into(),
    }
}
