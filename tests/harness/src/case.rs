//! The case-table types: one [`Case`] is one request with its expected outcome
//! (format documented in `docs/DECISIONS.md`, "Test case table").

use std::collections::BTreeMap;

use serde::Deserialize;

/// Where a case can be replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// `Policy::evaluate` called directly (no headers, no host).
    Core,
    /// The filter's request path on the mock host.
    Mock,
    /// The release `.wasm` in a real Envoy over real mTLS.
    Envoy,
    /// The release `.wasm` in a real NGINX with ngx_wasm_module over real mTLS (and, for
    /// the cases the filter decides there, on the mock host with NGINX's semantics).
    Nginx,
}

impl Layer {
    /// Every layer, the default of a case without `layers`.
    pub const ALL: [Layer; 4] = [Layer::Core, Layer::Mock, Layer::Envoy, Layer::Nginx];
}

/// Which of the e2e proxies' mTLS listeners a case connects to: Envoy's test listeners, and
/// their NGINX equivalents (`ssl_verify_client`), where NGINX has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    /// The shipped example's listener: the chain, validity times included, is verified at the
    /// handshake (Envoy: no session resumption). NGINX: `ssl_verify_client on`.
    #[default]
    Verified,
    /// `allow_expired_certificate: true`: an expired or not-yet-valid leaf (or chain) completes
    /// the handshake, so the FILTER's per-request validity check is what refuses it. NGINX has
    /// no equivalent: such cases run under `on` and their `nginx_expect` says NGINX's answer.
    AllowExpired,
    /// `trust_chain_verification: ACCEPT_UNTRUSTED`: any certificate completes the handshake
    /// and Envoy reports `connection.peer_certificate_valid` false for one it could not verify.
    /// NGINX: `ssl_verify_client optional_no_ca` (`ssl_client_verify` `FAILED:...`).
    AcceptUntrusted,
}

/// One table file: `{"cases": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Table {
    pub(crate) cases: Vec<Case>,
}

/// One request and what every layer must observe.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique across all tables.
    pub id: String,
    /// File stem under `tests/fixtures/policies/`.
    pub policy: String,
    /// Certificate path under `tests/fixtures/certs/` without extension; `None` = no certificate.
    /// For XFCC policies this is the TLS peer (e.g. the edge proxy), not the forwarded client.
    pub cert: Option<String>,
    /// `:method`, exactly as sent.
    pub method: String,
    /// `:path` (request-target), exactly as sent.
    pub path: String,
    /// Extra request headers, in order (a name may repeat).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Request trailers (HTTP/2 trailers, HTTP/1.1 chunked trailers), in order. Mock and proxies.
    #[serde(default)]
    pub trailers: Vec<(String, String)>,
    /// Request body, sent as is (with `content-length` over HTTP/1.1). Mock and proxies.
    #[serde(default)]
    pub body: Option<String>,
    /// What the proxy reports about verifying `cert` on this connection (Envoy
    /// `connection.peer_certificate_valid`); default `true`. `false` needs the
    /// `accept_untrusted` listener on Envoy.
    #[serde(default)]
    pub peer_certificate_valid: Option<bool>,
    /// The Envoy listener the case connects to (default `verified`).
    #[serde(default)]
    pub listener: Listener,
    /// Template of an `x-forwarded-client-cert` header appended to the request:
    /// `{cert:<name>}` becomes the URL-encoded PEM of that fixture (Envoy's `Cert=` encoding),
    /// `{hash:<name>}` the lowercase SHA-256 hex of its DER. See [`crate::xfcc`].
    #[serde(default)]
    pub xfcc: Option<String>,
    /// RFC 3339 UTC time of the request; `None` = [`crate::DEFAULT_TIME`].
    #[serde(default)]
    pub time: Option<String>,
    /// Layers that replay this case; `None` = all.
    #[serde(default)]
    pub layers: Option<Vec<Layer>>,
    /// Why `layers` is restricted (required when it is).
    #[serde(default)]
    pub why_not_everywhere: Option<String>,
    /// What the case demonstrates, when the id is not enough.
    #[serde(default)]
    pub note: Option<String>,
    /// Expected outcome on every layer (unless overridden).
    pub expect: Expect,
    /// Replaces `expect` on the Envoy layer, for outcomes decided outside the filter
    /// (TLS handshake, Envoy's HTTP codec). Requires `envoy_why`.
    #[serde(default)]
    pub envoy_expect: Option<Expect>,
    /// Replaces the Envoy expectation (`envoy_expect`, else `expect`) over HTTP/2 only: Envoy's
    /// HTTP/1 and HTTP/2 codecs refuse different requests (HTTP/1 answers 400, HTTP/2 resets
    /// the stream). Requires `envoy_why`.
    #[serde(default)]
    pub envoy_h2_expect: Option<Expect>,
    /// Why Envoy differs.
    #[serde(default)]
    pub envoy_why: Option<String>,
    /// Replaces `expect` on the NGINX layer, for outcomes decided outside the filter (NGINX's
    /// TLS verification and HTTP parser) or decided differently there by design (a path the
    /// filter cannot forward normalised, a spoofable header it cannot remove). Requires
    /// `nginx_why`.
    #[serde(default)]
    pub nginx_expect: Option<Expect>,
    /// Replaces the NGINX expectation (`nginx_expect`, else `expect`) over HTTP/2 only.
    /// Requires `nginx_why`.
    #[serde(default)]
    pub nginx_h2_expect: Option<Expect>,
    /// Why NGINX differs.
    #[serde(default)]
    pub nginx_why: Option<String>,
    /// File stem of the table the case came from (set by the loader).
    #[serde(skip)]
    pub table: String,
}

/// An expected outcome.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status the client receives (200 = forwarded to the upstream).
    #[serde(default)]
    pub status: u16,
    /// Exact reason string (grammar in `crates/core/src/decision.rs`). Required in `expect`;
    /// `None` in an `envoy_expect` whose outcome is not the filter's.
    #[serde(default)]
    pub reason: Option<String>,
    /// Shadow mode only: the status enforce mode would have returned (the core's
    /// `Decision::status`), while `status` is what the client receives.
    #[serde(default)]
    pub enforce_status: Option<u16>,
    /// Every role held, in policy `roles` order (checked when given).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// `:path` the upstream receives (checked when given, allowed requests only).
    #[serde(default)]
    pub upstream_path: Option<String>,
    /// Upstream request headers: a value = exact value; `null` = absent. Mock and proxies only.
    #[serde(default)]
    pub upstream_headers: BTreeMap<String, Option<String>>,
    /// Upstream request trailers, like `upstream_headers`. Mock and proxies only.
    #[serde(default)]
    pub upstream_trailers: BTreeMap<String, Option<String>>,
    /// Exact JSON body of a local (deny) response. Mock and proxies only.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// Real proxies only: the TLS handshake itself fails (no HTTP response at all).
    #[serde(default)]
    pub tls_rejected: bool,
    /// Real proxies only: the handshake succeeds but the proxy's codec refuses the request
    /// without an HTTP response (HTTP/2 stream reset, connection closed).
    #[serde(default)]
    pub stream_reset: bool,
}

impl Expect {
    /// The status the core's `Decision::status` must have: [`Expect::enforce_status`] in
    /// shadow mode, else [`Expect::status`].
    pub fn decision_status(&self) -> u16 {
        self.enforce_status.unwrap_or(self.status)
    }
}

impl Case {
    /// Whether `layer` replays this case.
    pub fn runs_on(&self, layer: Layer) -> bool {
        match &self.layers {
            Some(layers) => layers.contains(&layer),
            None => true,
        }
    }

    /// The expectation for `layer`: `envoy_expect` on Envoy and `nginx_expect` on NGINX when
    /// present, else `expect`.
    pub fn expect_for(&self, layer: Layer) -> &Expect {
        match (layer, &self.envoy_expect, &self.nginx_expect) {
            (Layer::Envoy, Some(envoy), _) => envoy,
            (Layer::Nginx, _, Some(nginx)) => nginx,
            _ => &self.expect,
        }
    }

    /// The Envoy expectation for one protocol: `envoy_h2_expect` over HTTP/2 when present,
    /// else `envoy_expect`, else `expect`.
    pub fn expect_for_envoy(&self, http2: bool) -> &Expect {
        match (&self.envoy_h2_expect, http2) {
            (Some(h2), true) => h2,
            _ => self.expect_for(Layer::Envoy),
        }
    }

    /// Whether the proxy reports `cert` verified on this connection (default `true`).
    pub fn peer_verified(&self) -> bool {
        self.peer_certificate_valid.unwrap_or(true)
    }

    /// The NGINX expectation for one protocol: `nginx_h2_expect` over HTTP/2 when present,
    /// else `nginx_expect`, else `expect`.
    pub fn expect_for_nginx(&self, http2: bool) -> &Expect {
        match (&self.nginx_h2_expect, http2) {
            (Some(h2), true) => h2,
            _ => self.expect_for(Layer::Nginx),
        }
    }

    /// The expectation on a real proxy `layer` ([`Layer::Envoy`] or [`Layer::Nginx`]) for
    /// one protocol.
    pub fn expect_for_proxy(&self, layer: Layer, http2: bool) -> &Expect {
        match layer {
            Layer::Nginx => self.expect_for_nginx(http2),
            _ => self.expect_for_envoy(http2),
        }
    }

    /// `table/id`, for failure messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.table, self.id)
    }
}
