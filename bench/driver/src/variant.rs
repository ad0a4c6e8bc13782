//! What is compared (the five proxy variants) and how it is loaded (the three client modes).

use std::fmt;

/// One way of running the same mTLS listener and upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Variant {
    /// (a) No authorization filter: the floor.
    NoFilter,
    /// (b) Envoy's native RBAC with the closest equivalent policy.
    Rbac,
    /// (c) A Lua filter doing what hand-written middleware does.
    Lua,
    /// (d) A proxy-wasm filter that only returns Continue.
    EmptyWasm,
    /// (e) The mtls-authz filter with the healthcare policy.
    MtlsAuthz,
}

impl Variant {
    pub(crate) const ALL: [Self; 5] = [
        Self::NoFilter,
        Self::Rbac,
        Self::Lua,
        Self::EmptyWasm,
        Self::MtlsAuthz,
    ];

    /// The letter the issue and the README use.
    pub(crate) fn letter(self) -> char {
        match self {
            Self::NoFilter => 'a',
            Self::Rbac => 'b',
            Self::Lua => 'c',
            Self::EmptyWasm => 'd',
            Self::MtlsAuthz => 'e',
        }
    }

    /// The `variant` value of bench/envoy-bench.yaml.j2, also used in file names.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::NoFilter => "none",
            Self::Rbac => "rbac",
            Self::Lua => "lua",
            Self::EmptyWasm => "empty-wasm",
            Self::MtlsAuthz => "mtls-authz",
        }
    }

    /// Whether a non-clinician (OU=Billing) is refused on GET /patient-records/42.
    pub(crate) fn enforces(self) -> bool {
        matches!(self, Self::Rbac | Self::Lua | Self::MtlsAuthz)
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| text == v.key() || text.len() == 1 && text.starts_with(v.letter()))
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::NoFilter => "no filter",
            Self::Rbac => "Envoy RBAC",
            Self::Lua => "Lua middleware",
            Self::EmptyWasm => "empty wasm",
            Self::MtlsAuthz => "mtls-authz",
        };
        write!(f, "({}) {name}", self.letter())
    }
}

/// How the client drives the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LoadMode {
    /// HTTP/1.1, persistent connections.
    Http1KeepAlive,
    /// HTTP/2, several streams per connection.
    Http2,
    /// HTTP/1.1, a new TLS connection (full mTLS handshake) per request.
    NewConnection,
}

impl LoadMode {
    pub(crate) const ALL: [Self; 3] = [Self::Http1KeepAlive, Self::Http2, Self::NewConnection];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Http1KeepAlive => "h1",
            Self::Http2 => "h2",
            Self::NewConnection => "conn",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == text)
    }

    /// oha's flags for this mode with `connections` concurrent requests in flight.
    pub(crate) fn oha_args(self, connections: u32) -> Vec<String> {
        let args: Vec<String> = match self {
            Self::Http1KeepAlive => vec!["--http-version".into(), "1.1".into()],
            // A quarter of the connections, four streams on each: how HTTP/2 clients behave.
            Self::Http2 => vec!["--http2".into(), "-p".into(), "4".into()],
            Self::NewConnection => vec![
                "--http-version".into(),
                "1.1".into(),
                "--disable-keepalive".into(),
            ],
        };
        let connections = match self {
            Self::Http2 => (connections / 4).max(1),
            Self::Http1KeepAlive | Self::NewConnection => connections,
        };
        args.into_iter()
            .chain(["-c".to_owned(), connections.to_string()])
            .collect()
    }
}

impl fmt::Display for LoadMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http1KeepAlive => "HTTP/1.1 keep-alive",
            Self::Http2 => "HTTP/2",
            Self::NewConnection => "new TLS connection per request",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_parse_by_key_or_letter() {
        for variant in Variant::ALL {
            assert_eq!(Variant::parse(variant.key()), Some(variant));
            assert_eq!(Variant::parse(&variant.letter().to_string()), Some(variant));
        }
        assert_eq!(Variant::parse("x"), None);
        assert_eq!(Variant::parse("ab"), None);
    }

    #[test]
    fn load_modes_map_to_oha_flags() {
        assert_eq!(
            LoadMode::Http2.oha_args(32),
            ["--http2", "-p", "4", "-c", "8"]
        );
        assert_eq!(
            LoadMode::Http1KeepAlive.oha_args(32),
            ["--http-version", "1.1", "-c", "32"]
        );
        assert!(LoadMode::NewConnection
            .oha_args(16)
            .contains(&"--disable-keepalive".to_owned()));
        assert_eq!(LoadMode::parse("conn"), Some(LoadMode::NewConnection));
    }
}
