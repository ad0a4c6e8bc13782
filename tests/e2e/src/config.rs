//! Renders `examples/envoy/envoy.yaml.j2`. The demo, the e2e test and the benchmark all go
//! through [`EnvoyConfig::render`], so they run the same listener, TLS settings and filter chain.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::{paths, E2eError};

/// What Envoy does with an inbound `x-forwarded-client-cert` before the filters run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XfccHandling {
    /// Drop it (the recommended setting when the filter reads the TLS peer certificate).
    Sanitize,
    /// Pass it through unchanged: needed by policies with the `xfcc` source (behind an edge proxy
    /// that sanitizes it), and used by the e2e test so the FILTER's removal is what gets tested.
    ForwardOnly,
}

impl XfccHandling {
    fn as_envoy_enum(self) -> &'static str {
        match self {
            Self::Sanitize => "SANITIZE",
            Self::ForwardOnly => "FORWARD_ONLY",
        }
    }

    /// Parses `SANITIZE` / `FORWARD_ONLY` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "SANITIZE" => Some(Self::Sanitize),
            "FORWARD_ONLY" => Some(Self::ForwardOnly),
            _ => None,
        }
    }
}

/// The filter to load: the `.wasm` and the policy document it is configured with.
#[derive(Clone, Debug)]
pub struct FilterSetup {
    /// Path of `mtls_authz_filter.wasm`.
    pub wasm: PathBuf,
    /// The policy JSON text, embedded verbatim (key order matters to the filter: `roles` order
    /// is the order of `x-client-role`).
    pub policy: String,
}

/// A test-only listener beside the shipped one (same filter chain, other TLS settings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtraListener {
    /// Envoy's listener is named `mtls_authz_<name>`.
    pub name: &'static str,
    /// `allow_expired_certificate: true` (time checks off for the whole chain).
    pub allow_expired: bool,
    /// `trust_chain_verification: ACCEPT_UNTRUSTED`.
    pub accept_untrusted: bool,
    /// TLS session resumption left on (Envoy's default).
    pub session_resumption: bool,
}

impl ExtraListener {
    /// The e2e listeners: expired leaves reach the filter; unverifiable certificates complete
    /// the handshake; sessions resume.
    pub const E2E: [ExtraListener; 3] = [
        ExtraListener {
            name: "allow_expired",
            allow_expired: true,
            accept_untrusted: false,
            session_resumption: false,
        },
        ExtraListener {
            name: "accept_untrusted",
            allow_expired: false,
            accept_untrusted: true,
            session_resumption: false,
        },
        ExtraListener {
            name: "resumption",
            allow_expired: false,
            accept_untrusted: false,
            session_resumption: true,
        },
    ];

    /// Envoy's name of this listener.
    pub fn envoy_name(&self) -> String {
        format!("mtls_authz_{}", self.name)
    }
}

/// Every value the template needs.
#[derive(Clone, Debug)]
pub struct EnvoyConfig {
    /// Admin listener port on 127.0.0.1 (0: the kernel picks; read it from `--admin-address-path`).
    pub admin_port: u16,
    /// mTLS listener port on 127.0.0.1 (0: the kernel picks; read it from the admin API).
    pub listen_port: u16,
    /// The echo upstream's port on 127.0.0.1.
    pub upstream_port: u16,
    /// Server certificate (PEM) for the listener.
    pub server_cert: PathBuf,
    /// Its private key.
    pub server_key: PathBuf,
    /// CA bundle client certificates must chain to.
    pub ca_bundle: PathBuf,
    /// The filter, or `None` for a plain mTLS proxy (the benchmark's baseline).
    pub filter: Option<FilterSetup>,
    /// Whether the handshake demands a client certificate.
    pub require_client_certificate: bool,
    /// Envoy's handling of inbound XFCC.
    pub xfcc: XfccHandling,
    /// One access-log line per request on stdout.
    pub access_log: bool,
    /// Test-only listeners beside the shipped one (empty for the demo and the benchmark).
    pub extra_listeners: Vec<ExtraListener>,
}

#[derive(Serialize)]
struct TemplateVars<'a> {
    admin_port: u16,
    listen_port: u16,
    upstream_port: u16,
    server_cert: &'a Path,
    server_key: &'a Path,
    ca_bundle: &'a Path,
    wasm: Option<&'a Path>,
    policy: Option<&'a str>,
    require_client_certificate: bool,
    forward_client_cert_details: &'static str,
    access_log: bool,
    extra_listeners: &'a [ExtraListener],
}

impl EnvoyConfig {
    /// The fixture PKI: `server/localhost` for the listener, `ca/bundle.pem` as trust anchors;
    /// ports 0 (kernel-chosen), client certificates required, XFCC sanitized, access log on.
    pub fn with_fixture_certs(upstream_port: u16, filter: Option<FilterSetup>) -> Self {
        Self {
            admin_port: 0,
            listen_port: 0,
            upstream_port,
            server_cert: mtls_authz_fixtures::cert_pem_path("server/localhost"),
            server_key: mtls_authz_fixtures::key_path("server/localhost"),
            ca_bundle: mtls_authz_fixtures::ca_bundle_path(),
            filter,
            require_client_certificate: true,
            xfcc: XfccHandling::Sanitize,
            access_log: true,
            extra_listeners: Vec::new(),
        }
    }

    /// Renders the repository's template.
    pub fn render(&self) -> Result<String, E2eError> {
        let template_path = paths::envoy_template();
        let template = std::fs::read_to_string(&template_path)
            .map_err(|e| E2eError::io(format!("reading {}", template_path.display()), e))?;
        self.render_template(&template)
    }

    /// Renders a given template text (strict: an undefined variable is an error).
    pub fn render_template(&self, template: &str) -> Result<String, E2eError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // The template quotes every string itself with `tojson`; minijinja would otherwise
        // JSON-escape everything because of the `.yaml` name.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_template("envoy.yaml", template)
            .map_err(|e| E2eError::Template(e.to_string()))?;
        let vars = TemplateVars {
            admin_port: self.admin_port,
            listen_port: self.listen_port,
            upstream_port: self.upstream_port,
            server_cert: &self.server_cert,
            server_key: &self.server_key,
            ca_bundle: &self.ca_bundle,
            wasm: self.filter.as_ref().map(|f| f.wasm.as_path()),
            policy: self.filter.as_ref().map(|f| f.policy.as_str()),
            require_client_certificate: self.require_client_certificate,
            forward_client_cert_details: self.xfcc.as_envoy_enum(),
            access_log: self.access_log,
            extra_listeners: &self.extra_listeners,
        };
        env.get_template("envoy.yaml")
            .and_then(|t| t.render(vars))
            .map_err(|e| E2eError::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(filter: Option<FilterSetup>) -> EnvoyConfig {
        EnvoyConfig {
            admin_port: 9901,
            listen_port: 10443,
            upstream_port: 18080,
            server_cert: PathBuf::from("/certs/server dir/localhost.pem"),
            server_key: PathBuf::from("/certs/server dir/localhost.key"),
            ca_bundle: PathBuf::from("/certs/ca/bundle.pem"),
            filter,
            require_client_certificate: true,
            xfcc: XfccHandling::Sanitize,
            access_log: false,
            extra_listeners: Vec::new(),
        }
    }

    #[test]
    fn policy_is_embedded_as_one_json_string_with_key_order_kept() {
        let policy = "{\n  \"roles\": {\"zeta\": [], \"alpha\": []},\n  \"note\": \"a \\\"quoted\\\" word\"\n}";
        let rendered = sample(Some(FilterSetup {
            wasm: PathBuf::from("/w/mtls_authz_filter.wasm"),
            policy: policy.to_owned(),
        }))
        .render()
        .unwrap();
        let expected_value = format!("value: {}", serde_json::to_string(policy).unwrap());
        assert!(rendered.contains(&expected_value), "{rendered}");
        assert!(rendered.contains("filename: \"/w/mtls_authz_filter.wasm\""));
        assert!(rendered.contains("port_value: 10443"));
        assert!(rendered.contains("port_value: 18080"));
        assert!(rendered.contains("filename: \"/certs/server dir/localhost.pem\""));
        // The shipped listener keeps the chain's time checks and resumes no sessions.
        assert!(!rendered.contains("allow_expired_certificate"));
        assert!(!rendered.contains("trust_chain_verification"));
        assert!(rendered.contains("disable_stateless_session_resumption: true"));
        assert!(rendered.contains("disable_stateful_session_resumption: true"));
        assert!(rendered.contains("enable_trailers: true"));
        assert_eq!(rendered.matches("name: envoy.filters.http.wasm").count(), 1);
        assert!(rendered.contains("forward_client_cert_details: SANITIZE"));
        assert!(rendered.contains("require_client_certificate: true"));
        assert!(!rendered.contains("access_log:"));
    }

    #[test]
    fn without_filter_only_the_router_remains() {
        let rendered = sample(None).render().unwrap();
        assert!(!rendered.contains("envoy.filters.http.wasm"));
        assert!(rendered.contains("envoy.filters.http.router"));
    }

    #[test]
    fn options_reach_the_rendered_config() {
        let mut config = sample(None);
        config.xfcc = XfccHandling::ForwardOnly;
        config.require_client_certificate = false;
        config.access_log = true;
        let rendered = config.render().unwrap();
        assert!(rendered.contains("forward_client_cert_details: FORWARD_ONLY"));
        assert!(rendered.contains("require_client_certificate: false"));
        assert!(rendered.contains("envoy.access_loggers.stdout"));
    }

    #[test]
    fn extra_listeners_repeat_the_filter_chain_with_their_tls_settings() {
        let mut config = sample(Some(FilterSetup {
            wasm: PathBuf::from("/w.wasm"),
            policy: String::from("{}"),
        }));
        config.extra_listeners = ExtraListener::E2E.to_vec();
        let rendered = config.render().unwrap();
        assert_eq!(rendered.matches("name: envoy.filters.http.wasm").count(), 4);
        assert_eq!(
            rendered.matches("allow_expired_certificate: true").count(),
            1
        );
        assert_eq!(
            rendered
                .matches("trust_chain_verification: ACCEPT_UNTRUSTED")
                .count(),
            1
        );
        assert_eq!(
            rendered
                .matches("disable_stateless_session_resumption: true")
                .count(),
            3
        );
        assert!(rendered.contains("name: \"mtls_authz_resumption\""));
    }

    #[test]
    fn an_undefined_variable_is_an_error_not_an_empty_string() {
        let err = sample(None)
            .render_template("port: {{ no_such_port }}")
            .unwrap_err();
        assert!(matches!(err, E2eError::Template(_)), "{err}");
    }

    #[test]
    fn xfcc_handling_parses_both_spellings() {
        assert_eq!(
            XfccHandling::parse("sanitize"),
            Some(XfccHandling::Sanitize)
        );
        assert_eq!(
            XfccHandling::parse("FORWARD_ONLY"),
            Some(XfccHandling::ForwardOnly)
        );
        assert_eq!(XfccHandling::parse("APPEND_FORWARD"), None);
    }
}
