//! Plugin configuration bytes → compiled [`FilterConfig`].
//!
//! The document is the v1 policy, compiled by the core (which reports errors with their JSON
//! path), including two optional filter fields, extensions of the contract recorded in
//! docs/DECISIONS.md, read apart from the decision by the core's `settings` module so
//! `mtls-authz validate` checks them too:
//! - `"host"`: `"auto"` (default), `"envoy"` or `"nginx"` — where the peer certificate is read.
//! - `"identity_cache_size"`: parsed identities kept per VM, 0–65536 (default 1024; 0 = off).
//!
//! Any error refuses the configuration (`on_configure` returns false): fail closed, never
//! "allow all".

use core::fmt;

use mtls_authz_core::{settings, Policy, PolicyError};

pub use mtls_authz_core::settings::{
    HostKind, DEFAULT_IDENTITY_CACHE_SIZE, MAX_IDENTITY_CACHE_SIZE,
};

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
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses and compiles the plugin configuration.
pub fn parse(bytes: Option<&[u8]>) -> Result<FilterConfig, ConfigError> {
    let bytes = bytes.ok_or(ConfigError::Missing)?;
    let text = std::str::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(ConfigError::Missing);
    }
    let (policy, settings) = settings::compile(text).map_err(ConfigError::Policy)?;
    Ok(FilterConfig {
        host: settings.host,
        identity_cache_size: settings.identity_cache_size,
        policy,
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

    const RULES: &str = r#""rules": [{"name": "h", "paths": ["/healthz"], "allow": ["public"]}]"#;

    fn parse_with(fields: &str) -> Result<FilterConfig, ConfigError> {
        parse(Some(format!("{{{fields}{RULES}}}").as_bytes()))
    }

    #[test]
    fn host_values() {
        assert_eq!(parse_with("").unwrap().host, HostKind::Auto);
        assert_eq!(
            parse_with(r#""host": "auto","#).unwrap().host,
            HostKind::Auto
        );
        assert_eq!(
            parse_with(r#""host": "envoy","#).unwrap().host,
            HostKind::Envoy
        );
        assert_eq!(
            parse_with(r#""host": "nginx","#).unwrap().host,
            HostKind::Nginx
        );
        for bad in [r#""host": "Envoy","#, r#""host": 1,"#] {
            let err = parse_with(bad).unwrap_err();
            assert!(matches!(err, ConfigError::Policy(_)), "{bad}");
            assert!(
                err.to_string().starts_with("invalid policy at host"),
                "{err}"
            );
        }
    }

    #[test]
    fn v1_1_bounds() {
        let policy = |fields: &str| parse_with(fields).map(|c| c.policy);
        assert_eq!(
            policy("").unwrap().identity_cache_max_bytes(),
            mtls_authz_core::policy::DEFAULT_IDENTITY_CACHE_MAX_BYTES
        );
        assert_eq!(
            policy(r#""identity_cache_max_bytes": 0,"#)
                .unwrap()
                .identity_cache_max_bytes(),
            0
        );
        assert_eq!(
            policy(r#""identity_cache_max_bytes": 1073741825,"#).unwrap_err().to_string(),
            "invalid policy at identity_cache_max_bytes: expected an integer from 0 to 1073741824, found 1073741825"
        );
        assert_eq!(policy("").unwrap().form_body_check_max_bytes(), None);
        assert_eq!(
            policy(r#""form_body_check": {"max_bytes": 4096},"#)
                .unwrap()
                .form_body_check_max_bytes(),
            Some(4096)
        );
        for bad in ["0", "1048577"] {
            let err =
                policy(&format!(r#""form_body_check": {{"max_bytes": {bad}}},"#)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid policy at form_body_check.max_bytes: expected an integer from 1 to 1048576, found {bad}")
            );
        }
        assert_eq!(
            policy(r#""identity": {"peer_verification": "listener"},"#)
                .unwrap()
                .peer_verification(),
            mtls_authz_core::PeerVerification::Listener
        );
        assert_eq!(
            policy("").unwrap().peer_verification(),
            mtls_authz_core::PeerVerification::Connection
        );
        assert!(policy(r#""identity": {"peer_verification": "handshake"},"#)
            .unwrap_err()
            .to_string()
            .starts_with("invalid policy at identity.peer_verification: unknown variant `handshake`, expected one of `connection`, `listener`"));
    }

    #[test]
    fn cache_size_values() {
        let size = |fields: &str| parse_with(fields).map(|c| c.identity_cache_size);
        assert_eq!(size(""), Ok(DEFAULT_IDENTITY_CACHE_SIZE));
        assert_eq!(size(r#""identity_cache_size": 0,"#), Ok(0));
        assert_eq!(
            size(r#""identity_cache_size": 65536,"#),
            Ok(MAX_IDENTITY_CACHE_SIZE)
        );
        assert_eq!(
            size(r#""identity_cache_size": 65537,"#).unwrap_err().to_string(),
            "invalid policy at identity_cache_size: expected an integer from 0 to 65536, found 65537"
        );
        for bad in ["-1", "1.5", "\"10\""] {
            let err = size(&format!(r#""identity_cache_size": {bad},"#)).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("invalid policy at identity_cache_size"),
                "{bad}: {err}"
            );
        }
    }
}
