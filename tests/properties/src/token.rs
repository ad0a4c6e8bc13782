//! `token`: JWS compact tokens ([`verify`], [`Jws::parse`], [`Jws::check`]) against the fixture
//! key set, with every supported algorithm allowed.

use std::sync::OnceLock;

use mtls_authz_core::token::{binding_matches, verify, JwksLimits, Jws, KeySet, TokenConfig};
use mtls_authz_core::UnixTime;

use crate::identities;

/// The fixture issuer, audience and key set (tests/fixtures/tokens).
fn setup() -> &'static (KeySet, TokenConfig) {
    static SETUP: OnceLock<(KeySet, TokenConfig)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let read = |name: &str| {
            std::fs::read(
                mtls_authz_fixtures::fixtures_dir()
                    .join("tokens")
                    .join(name),
            )
            .unwrap_or_else(|e| panic!("tokens/{name}: {e}"))
        };
        let manifest: serde_json::Value =
            serde_json::from_slice(&read("manifest.json")).expect("manifest.json");
        let keys = KeySet::from_jwks(&read("jwks.json"), &JwksLimits::DEFAULT).expect("jwks.json");
        let text = |key: &str| manifest[key].as_str().expect("manifest field").to_owned();
        let config = TokenConfig::new(&text("issuer"), &[text("audience").as_str()])
            .and_then(|c| {
                c.with_algorithm_names(&[
                    "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
                ])
            })
            .expect("token configuration");
        (keys, config)
    })
}

/// Checks one token: see the crate table.
pub fn check(data: &[u8]) {
    let (keys, config) = setup();
    let now = UnixTime(1_795_392_000); // 2026-11-23T00:00:00Z
    let verified = verify(data, keys, config, now);
    if let Ok(jws) = Jws::parse(data, config.limits()) {
        let problems = jws.check(keys, config, now);
        match &verified {
            Ok(_) => assert!(problems.is_empty(), "verified despite {problems:?}"),
            Err(first) => assert_eq!(
                problems.first(),
                Some(first),
                "verify's refusal is not check's first problem"
            ),
        }
    }
    let Ok(token) = verified else {
        return;
    };
    assert!(
        token.valid_until() >= now,
        "a verified token is already expired"
    );
    // A token binds to at most one certificate.
    let bound = identities::all()
        .iter()
        .filter(|identity| binding_matches(token.claims(), identity).is_ok())
        .count();
    assert!(bound <= 1, "one token bound to {bound} certificates");
}
