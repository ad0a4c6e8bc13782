//! Plugin configuration bytes → compiled [`FilterConfig`].
//!
//! The document is the v1 policy (compiled by the core, which reports errors with their JSON
//! path) plus two optional filter fields, extensions of the contract recorded in
//! docs/DECISIONS.md:
//! - `"host"`: `"auto"` (default), `"envoy"` or `"nginx"` — where the peer certificate is read.
//! - `"identity_cache_size"`: parsed identities kept per VM, 0–65536 (default 1024; 0 = off).
//!
//! Any error refuses the configuration (`on_configure` returns false): fail closed, never
//! "allow all".

use core::fmt;

use mtls_authz_core::{Policy, PolicyError};

/// Default number of parsed certificates kept per VM.
pub const DEFAULT_IDENTITY_CACHE_SIZE: usize = 1024;
/// Largest accepted `identity_cache_size` (each entry holds one parsed certificate).
pub const MAX_IDENTITY_CACHE_SIZE: usize = 65_536;

/// Which host's properties carry the peer certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    /// Envoy's properties first, then NGINX's (for configs shared across proxies).
    Auto,
    /// `connection.peer_certificate`, `connection.mtls`, `connection.sha256_peer_certificate_digest`.
    Envoy,
    /// `ngx.ssl_client_raw_cert`, counted only when `ngx.ssl_client_verify` is `SUCCESS`.
    Nginx,
}

/// Everything `on_configure` produces.
#[derive(Debug)]
pub struct FilterConfig {
    /// The compiled policy.
    pub policy: Policy,
    /// Where the peer certificate comes from.
    pub host: HostKind,
    /// Capacity of the identity cache (0 = no cache).
    pub identity_cache_size: usize,
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The host passed no configuration, or an empty one.
    Missing,
    /// The configuration is not UTF-8.
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The policy part is invalid (the core names the JSON path).
    Policy(PolicyError),
    /// The host refused to define the counters.
    Metrics(crate::host::HostError),
    /// A filter field is invalid.
    Field {
        /// JSON path of the field (`host`, `identity_cache_size`).
        path: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing => f.write_str(
                "no plugin configuration: pass the policy JSON as the plugin configuration",
            ),
            ConfigError::NotUtf8 { offset } => {
                write!(f, "plugin configuration is not UTF-8 (byte {offset})")
            }
            ConfigError::Policy(err) => err.fmt(f),
            ConfigError::Metrics(err) => write!(f, "cannot define metrics: {err}"),
            ConfigError::Field { path, detail } => {
                write!(f, "invalid policy at {path}: {detail}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The filter's own top-level fields. Other fields belong to the core, which rejects unknown
/// ones; this struct ignores them.
#[derive(serde::Deserialize)]
struct FilterFields {
    #[serde(default)]
    host: Option<serde_json::Value>,
    #[serde(default)]
    identity_cache_size: Option<serde_json::Value>,
}

/// Parses and compiles the plugin configuration.
pub fn parse(bytes: Option<&[u8]>) -> Result<FilterConfig, ConfigError> {
    let bytes = bytes.ok_or(ConfigError::Missing)?;
    let text = std::str::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(ConfigError::Missing);
    }
    // The core reports syntax errors and unknown fields with their path, so it goes first.
    let policy = Policy::from_json(text).map_err(ConfigError::Policy)?;
    let fields: FilterFields = serde_json::from_str(text).map_err(|e| ConfigError::Field {
        path: "$",
        detail: e.to_string(),
    })?;
    Ok(FilterConfig {
        policy,
        host: host_kind(fields.host)?,
        identity_cache_size: cache_size(fields.identity_cache_size)?,
    })
}

fn host_kind(value: Option<serde_json::Value>) -> Result<HostKind, ConfigError> {
    let Some(value) = value else {
        return Ok(HostKind::Auto);
    };
    match value.as_str() {
        Some("auto") => Ok(HostKind::Auto),
        Some("envoy") => Ok(HostKind::Envoy),
        Some("nginx") => Ok(HostKind::Nginx),
        _ => Err(ConfigError::Field {
            path: "host",
            detail: format!("expected \"auto\", \"envoy\" or \"nginx\", found {value}"),
        }),
    }
}

fn cache_size(value: Option<serde_json::Value>) -> Result<usize, ConfigError> {
    let Some(value) = value else {
        return Ok(DEFAULT_IDENTITY_CACHE_SIZE);
    };
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n <= MAX_IDENTITY_CACHE_SIZE)
        .ok_or_else(|| ConfigError::Field {
            path: "identity_cache_size",
            detail: format!(
                "expected an integer from 0 to {MAX_IDENTITY_CACHE_SIZE}, found {value}"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_configuration_is_refused() {
        assert_eq!(parse(None).unwrap_err(), ConfigError::Missing);
        assert_eq!(parse(Some(b"")).unwrap_err(), ConfigError::Missing);
        assert_eq!(parse(Some(b" \n\t")).unwrap_err(), ConfigError::Missing);
        assert_eq!(
            ConfigError::Missing.to_string(),
            "no plugin configuration: pass the policy JSON as the plugin configuration"
        );
    }

    #[test]
    fn non_utf8_configuration_is_refused_with_its_offset() {
        let err = parse(Some(b"{\"mode\": \"\xff\"}")).unwrap_err();
        assert_eq!(err, ConfigError::NotUtf8 { offset: 10 });
        assert_eq!(
            err.to_string(),
            "plugin configuration is not UTF-8 (byte 10)"
        );
    }

    #[test]
    fn invalid_policy_is_refused_with_the_core_error() {
        let text = "{\"mode\": \"enforce\", \"nope\": 1}";
        let core_error = Policy::from_json(text).unwrap_err();
        let err = parse(Some(text.as_bytes())).unwrap_err();
        assert_eq!(err, ConfigError::Policy(core_error.clone()));
        assert_eq!(err.to_string(), core_error.to_string());
        assert!(err.to_string().starts_with("invalid policy at "));
    }

    #[test]
    fn not_json_is_refused() {
        let err = parse(Some(b"mode: enforce")).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Policy(PolicyError::Syntax { .. })
        ));
    }

    #[test]
    fn host_values() {
        assert_eq!(host_kind(None), Ok(HostKind::Auto));
        assert_eq!(
            host_kind(Some(serde_json::json!("auto"))),
            Ok(HostKind::Auto)
        );
        assert_eq!(
            host_kind(Some(serde_json::json!("envoy"))),
            Ok(HostKind::Envoy)
        );
        assert_eq!(
            host_kind(Some(serde_json::json!("nginx"))),
            Ok(HostKind::Nginx)
        );
        let err = host_kind(Some(serde_json::json!("Envoy"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid policy at host: expected \"auto\", \"envoy\" or \"nginx\", found \"Envoy\""
        );
        assert!(host_kind(Some(serde_json::json!(1))).is_err());
    }

    #[test]
    fn cache_size_values() {
        assert_eq!(cache_size(None), Ok(DEFAULT_IDENTITY_CACHE_SIZE));
        assert_eq!(cache_size(Some(serde_json::json!(0))), Ok(0));
        assert_eq!(
            cache_size(Some(serde_json::json!(65_536))),
            Ok(MAX_IDENTITY_CACHE_SIZE)
        );
        let err = cache_size(Some(serde_json::json!(65_537))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid policy at identity_cache_size: expected an integer from 0 to 65536, found 65537"
        );
        assert!(cache_size(Some(serde_json::json!(-1))).is_err());
        assert!(cache_size(Some(serde_json::json!(1.5))).is_err());
        assert!(cache_size(Some(serde_json::json!("10"))).is_err());
    }
}
