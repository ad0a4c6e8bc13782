//! The token fixtures (`tests/fixtures/tokens`, written by `gen_tokens.py`): JWK sets and JWS
//! tokens, with `manifest.json` saying what each is for and what a verifier must answer. Every
//! layer that verifies tokens replays the manifest (the core now; the filter and Envoy once the
//! contract reads tokens).

use serde::Deserialize;

use crate::files;

/// `tokens/manifest.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The issuer the tokens are for (`iss`).
    pub issuer: String,
    /// The audience the tokens are for (`aud`).
    pub audience: String,
    /// The time the expectations hold at (RFC 3339).
    pub time: String,
    /// Every JWK set.
    pub jwks: Vec<JwksFixture>,
    /// Every token.
    pub tokens: Vec<TokenFixture>,
}

/// One JWK set and what reading it must give.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksFixture {
    /// File name under `tokens/`.
    pub file: String,
    /// What it is for.
    pub intent: String,
    /// `ok`, or the `JwksError` code.
    pub expect: String,
    /// Usable keys, when `ok`.
    #[serde(default)]
    pub keys: Option<usize>,
    /// Skipped keys, when `ok`.
    #[serde(default)]
    pub skipped: Option<usize>,
}

/// One token and what verifying it must give.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFixture {
    /// Short name (the file stem).
    pub name: String,
    /// File name under `tokens/`.
    pub file: String,
    /// What it is for.
    pub intent: String,
    /// The JWK set (file under `tokens/`) it is verified with.
    pub jwks: String,
    /// `ok`, or the `TokenError` code of verifying it with the default configuration (issuer,
    /// audience, default algorithms and skew) at [`Manifest::time`].
    pub expect: String,
    /// The client certificate presented with it (fixture name), if any.
    #[serde(default)]
    pub cert: Option<String>,
    /// Binding to `cert`: `ok` or the `TokenError` code.
    #[serde(default)]
    pub binding: Option<String>,
    /// Claim ↔ certificate consistency checks and their expected outcome.
    #[serde(default)]
    pub consistency: Vec<Consistency>,
}

/// A consistency check of a token fixture.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    /// Claim path.
    pub claim: String,
    /// Selector.
    pub selector: String,
    /// `ok` or the `TokenError` code.
    pub expect: String,
}

/// The manifest, checked: unique names, every referenced file present.
pub fn manifest() -> Manifest {
    let bytes = files::read("tokens/manifest.json").unwrap_or_else(|e| panic!("{e}"));
    let manifest: Manifest =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("tokens/manifest.json: {e}"));
    let mut names = std::collections::HashSet::new();
    for token in &manifest.tokens {
        assert!(
            names.insert(&token.name),
            "token {} listed twice",
            token.name
        );
        for file in [&token.file, &token.jwks] {
            assert!(
                files::is_file(&format!("tokens/{file}")),
                "token {}: tokens/{file} does not exist",
                token.name
            );
        }
        if let Some(cert) = &token.cert {
            assert!(
                crate::cert_file(cert).is_some(),
                "token {}: certificate {cert} does not exist",
                token.name
            );
        }
    }
    manifest
}

/// The bytes of `tokens/<file>`.
pub fn read(file: &str) -> Vec<u8> {
    files::read(&format!("tokens/{file}")).unwrap_or_else(|e| panic!("{e}"))
}

/// The token of fixture `name` (`tokens/<name>.jwt`, exactly as stored: no line break).
pub fn token(name: &str) -> Vec<u8> {
    read(&format!("{name}.jwt"))
}
