//! Filter settings: the fields of a policy document that steer the proxy filter, not the
//! decision (`host`, `identity_cache_size`; filter extensions of the contract,
//! docs/DECISIONS.md). They live here, outside the compiled [`Policy`], so the decision core
//! knows nothing of proxies; the filter and `mtls-authz validate` both read a document through
//! [`compile`], so the CLI checks them without depending on the filter crate.

use crate::policy::raw::{RawHost, RawPolicy};
use crate::policy::{Policy, PolicyError};

/// Default of `identity_cache_size`: parsed certificates kept per filter VM.
pub const DEFAULT_IDENTITY_CACHE_SIZE: usize = 1024;
/// Largest accepted `identity_cache_size` (each entry holds one parsed certificate).
pub const MAX_IDENTITY_CACHE_SIZE: usize = 65_536;

/// Whose properties carry the peer certificate (filter extension `host`, docs/DECISIONS.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// NGINX's properties where `ngx.request_uri` exists, else Envoy's (one config for both
    /// proxies; the other proxy's certificate properties are never read).
    Auto,
    /// `connection.peer_certificate`, `connection.mtls`, `connection.sha256_peer_certificate_digest`,
    /// `connection.peer_certificate_valid`.
    Envoy,
    /// `ngx.ssl_client_raw_cert`, counted only when `ngx.ssl_client_verify` is `SUCCESS`.
    Nginx,
}

/// The filter-only settings of one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSettings {
    /// `host` (default [`HostKind::Auto`]).
    pub host: HostKind,
    /// `identity_cache_size`: parsed certificates kept per VM (0 = no cache).
    pub identity_cache_size: usize,
}

impl FilterSettings {
    fn from_raw(host: Option<RawHost>, size: Option<u32>) -> Result<Self, PolicyError> {
        let host = match host {
            None | Some(RawHost::Auto) => HostKind::Auto,
            Some(RawHost::Envoy) => HostKind::Envoy,
            Some(RawHost::Nginx) => HostKind::Nginx,
        };
        let identity_cache_size = match size {
            None => DEFAULT_IDENTITY_CACHE_SIZE,
            Some(size) => usize::try_from(size)
                .ok()
                .filter(|n| *n <= MAX_IDENTITY_CACHE_SIZE)
                .ok_or_else(|| PolicyError::Invalid {
                    path: alloc::string::String::from("identity_cache_size"),
                    detail: alloc::format!(
                        "expected an integer from 0 to {MAX_IDENTITY_CACHE_SIZE}, found {size}"
                    ),
                })?,
        };
        Ok(FilterSettings {
            host,
            identity_cache_size,
        })
    }
}

/// Compiles a whole document as the filter takes it: the decision policy, then the filter
/// settings. The policy's errors come first; either refuses the document (fail closed).
pub fn compile(json: &str) -> Result<(Policy, FilterSettings), PolicyError> {
    let raw = RawPolicy::from_json(json)?;
    let (host, size) = (raw.host, raw.identity_cache_size);
    let policy = Policy::compile(raw)?;
    Ok((policy, FilterSettings::from_raw(host, size)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(fields: &str) -> Result<FilterSettings, alloc::string::String> {
        compile(&alloc::format!(r#"{{"rules": []{fields}}}"#))
            .map(|(_, settings)| settings)
            .map_err(|e| alloc::string::ToString::to_string(&e))
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn defaults_values_and_range() {
        assert_eq!(
            settings(""),
            Ok(FilterSettings {
                host: HostKind::Auto,
                identity_cache_size: DEFAULT_IDENTITY_CACHE_SIZE,
            })
        );
        assert_eq!(
            settings(r#", "host": "nginx", "identity_cache_size": 0"#),
            Ok(FilterSettings {
                host: HostKind::Nginx,
                identity_cache_size: 0,
            })
        );
        assert_eq!(
            settings(r#", "host": "envoy", "identity_cache_size": 65536"#).map(|s| s.host),
            Ok(HostKind::Envoy)
        );
        assert_eq!(
            settings(r#", "identity_cache_size": 65537"#),
            Err(alloc::string::String::from(
                "invalid policy at identity_cache_size: expected an integer from 0 to 65536, found 65537"
            ))
        );
    }

    /// The policy's own errors come before the settings' (as when the core compiled both).
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn policy_errors_come_first() {
        let err = settings(r#", "mode": "loud", "identity_cache_size": 65537"#).unwrap_err();
        assert!(err.starts_with("invalid policy at mode:"), "{err}");
    }
}
