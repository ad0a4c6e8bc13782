//! One-off measurement of token verification, natively and inside wasm (issue 14): the cost
//! of each algorithm, of reading the key set, and of a token the cache already holds.
//!
//! ```text
//! cargo run --release -p mtls-authz-core --example token_measure
//! cargo build --release -p mtls-authz-core --example token_measure --target wasm32-wasip1
//! node scripts/run-wasi.mjs target/wasm32-wasip1/release/examples/token_measure.wasm
//! ```
//! Each figure is the median of 7 runs of a timed loop (the machine is shared: compare the
//! lines of one run with each other, not across runs).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "measurement tool: a broken input should stop it loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use mtls_authz_core::token::{
    binding_matches, token_digest, verify, JwksLimits, Jws, KeySet, TokenCache, TokenCacheLimits,
    TokenConfig, TokenLimits,
};
use mtls_authz_core::{Identity, UnixTime};
use mtls_authz_fixtures::tokens;

const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);

/// Median over 7 runs of the time per call of `f`, in microseconds.
fn per_call_us(rounds: u32, mut f: impl FnMut() -> bool) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let mut ok = 0u32;
        for _ in 0..rounds {
            ok += u32::from(black_box(f()));
        }
        assert_eq!(ok, rounds);
        samples.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let jwks = tokens::read("jwks.json");
    let keys = KeySet::from_jwks(&jwks, &JwksLimits::DEFAULT).unwrap();
    let config = TokenConfig::new(
        "https://idp.health.example",
        &["https://records.health.example"],
    )
    .unwrap();
    let identity =
        Identity::parse(&mtls_authz_fixtures::cert_bytes("healthcare/clinician-alice").unwrap())
            .unwrap();
    println!("target {}", std::env::consts::ARCH);
    for (name, fixture, rounds) in [
        ("ES256", "valid-es256", 200),
        ("ES384", "valid-es384", 100),
        ("RS256 (2048)", "valid-rs256", 200),
        ("PS256 (2048)", "valid-ps256", 200),
        ("EdDSA", "valid-eddsa", 200),
    ] {
        let token = tokens::token(fixture);
        let us = per_call_us(rounds, || {
            verify(black_box(&token), &keys, &config, NOW).is_ok()
        });
        println!("verify {name:<13} {us:>9.1} us");
    }
    let token = tokens::token("valid-es256");
    let parse = per_call_us(20_000, || {
        Jws::parse(black_box(&token), &TokenLimits::DEFAULT).is_ok()
    });
    println!("parse ES256 token    {parse:>9.2} us  (structure + JSON, no signature)");
    let jwks_us = per_call_us(200, || {
        KeySet::from_jwks(black_box(&jwks), &JwksLimits::DEFAULT).is_ok()
    });
    println!("read jwks.json       {jwks_us:>9.1} us  (5 keys: 2 P-256, P-384, RSA-2048, Ed25519)");

    let verified = verify(&token, &keys, &config, NOW).unwrap();
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    let (until, weight) = (verified.valid_until(), verified.memory_bytes());
    assert!(cache.insert(token_digest(&token), verified, NOW, until, 1, weight));
    let digest = per_call_us(100_000, || {
        black_box(token_digest(black_box(&token)));
        true
    });
    let hit = per_call_us(100_000, || {
        cache
            .get(&token_digest(black_box(&token)), NOW, 1)
            .is_some_and(|t| binding_matches(t.claims(), &identity).is_ok())
    });
    println!(
        "cached token         {:>9.3} us  (SHA-256 of the {}-byte token {:.3} us + lookup + binding)",
        hit,
        token.len(),
        digest
    );
    // For comparison: a map keyed by the token bytes themselves (a fast keyed hash, then a
    // full comparison), which would make collisions harmless without SHA-256.
    let mut by_bytes = hashbrown::HashMap::new();
    by_bytes.insert(token.clone(), 1u8);
    let bytes_lookup = per_call_us(100_000, || {
        by_bytes.get(black_box(token.as_slice())).is_some()
    });
    println!("map keyed by bytes   {bytes_lookup:>9.3} us  (alternative: hash of the bytes + comparison)");
}
