//! Criterion benchmarks of token verification (issue 14): what a token costs per algorithm,
//! and what a token the cache already verified adds to a request.
//!
//! Run: `cargo bench -p mtls-authz-core --bench token` (a filter such as `token/request`
//! runs one group). Tokens and key set are the generated fixtures (`tests/fixtures/tokens`).
//!
//! Groups:
//! - `token/verify/*`: `token::verify` from the bytes (structure, JSON, header and key checks,
//!   signature, claims) for each algorithm the default allow-list holds; RSA keys are 2048-bit.
//! - `token/parse/es256`: `Jws::parse` alone (the work before any signature).
//! - `token/cache/*`: the per-request work for a token the cache holds: SHA-256 of the token
//!   bytes (`digest`), plus the lookup (`hit`), plus the certificate binding (`hit_and_bind`).
//! - `token/request/*`: `Policy::evaluate` for an allowed request with a cached identity, alone
//!   (`no_token`) and with a cached token (`cached_token`: digest, lookup, binding), and with a
//!   token verified on the spot (`uncached_es256`: what a cache miss costs).
//! - `token/policy/*` (v1.1, phase 2): `Policy::evaluate_with` (a token, no CRLs) under the `tokens` fixture
//!   policy, a request to a rule without `require_token` (`no_token`: the header is never read)
//!   and to one with it, the token found in the header, hashed and served from a cache
//!   (`cached_token`: what the filter does per request) or verified on the spot
//!   (`uncached_es256`).
//! - `token/jwks/parse`: `KeySet::from_jwks` of the fixture set (5 usable keys, 2 skipped).
#![allow(
    clippy::expect_used,
    reason = "benchmark setup: a broken fixture should stop the run loudly"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mtls_authz_core::policy::{HeaderToken, NoToken, RequestToken, TokenPolicy};
use mtls_authz_core::token::{
    binding_matches, token_digest, verify, JwksLimits, Jws, KeySet, TokenCache, TokenCacheLimits,
    TokenConfig, TokenError, TokenLimits, VerifiedToken,
};
use mtls_authz_core::{ClientCert, Identity, Policy, Request, RequestAuthority, UnixTime};
use mtls_authz_fixtures::tokens;

/// 2026-11-23T00:00:00Z, the fixtures' time.
const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);

fn setup() -> (KeySet, TokenConfig, Identity) {
    let keys = KeySet::from_jwks(&tokens::read("jwks.json"), &JwksLimits::DEFAULT).expect("jwks");
    let config = TokenConfig::new(
        "https://idp.health.example",
        &["https://records.health.example"],
    )
    .expect("config");
    let identity = Identity::parse(
        &mtls_authz_fixtures::cert_bytes("healthcare/clinician-alice").expect("fixture cert"),
    )
    .expect("cert parses");
    (keys, config, identity)
}

fn per_algorithm(c: &mut Criterion) {
    let (keys, config, _) = setup();
    let mut group = c.benchmark_group("token/verify");
    for (name, fixture) in [
        ("es256", "valid-es256"),
        ("es384", "valid-es384"),
        ("rs256_2048", "valid-rs256"),
        ("ps256_2048", "valid-ps256"),
        ("eddsa", "valid-eddsa"),
    ] {
        let token = tokens::token(fixture);
        verify(&token, &keys, &config, NOW).expect("verifies");
        group.bench_function(name, |b| {
            b.iter(|| verify(black_box(&token), &keys, &config, NOW))
        });
    }
    group.finish();
    let token = tokens::token("valid-es256");
    c.bench_function("token/parse/es256", |b| {
        b.iter(|| {
            Jws::parse(black_box(&token), &TokenLimits::DEFAULT).map(|jws| jws.signature().len())
        })
    });
    let jwks = tokens::read("jwks.json");
    c.bench_function("token/jwks/parse", |b| {
        b.iter(|| KeySet::from_jwks(black_box(&jwks), &JwksLimits::DEFAULT))
    });
}

fn cache(c: &mut Criterion) {
    let (keys, config, identity) = setup();
    let token = tokens::token("valid-es256");
    let verified = verify(&token, &keys, &config, NOW).expect("verifies");
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    let (until, weight) = (verified.valid_until(), verified.memory_bytes());
    assert!(cache.insert(token_digest(&token), verified, NOW, until, 1, weight));
    let mut group = c.benchmark_group("token/cache");
    group.bench_function("digest", |b| b.iter(|| token_digest(black_box(&token))));
    group.bench_function("hit", |b| {
        b.iter(|| {
            cache
                .get(&token_digest(black_box(&token)), NOW, 1)
                .is_some()
        })
    });
    group.bench_function("hit_and_bind", |b| {
        b.iter(|| {
            cache
                .get(&token_digest(black_box(&token)), NOW, 1)
                .map(|t| binding_matches(t.claims(), &identity).is_ok())
        })
    });
    group.finish();
}

fn request(c: &mut Criterion) {
    let (keys, config, identity) = setup();
    let policy = Policy::from_json(include_str!(
        "../../../tests/fixtures/policies/healthcare.json"
    ))
    .expect("policy");
    let request = Request {
        method: "GET",
        path: "/patient-records/123",
    };
    let decision = policy.evaluate(&request, ClientCert::Present(&identity), NOW);
    assert_eq!(
        decision.reason.to_string(),
        "allow:rule[records-read]:role[clinician]"
    );
    let token = tokens::token("valid-es256");
    let verified = verify(&token, &keys, &config, NOW).expect("verifies");
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    let (until, weight) = (verified.valid_until(), verified.memory_bytes());
    assert!(cache.insert(token_digest(&token), verified, NOW, until, 1, weight));
    let mut group = c.benchmark_group("token/request");
    group.bench_function("no_token", |b| {
        b.iter(|| policy.evaluate(black_box(&request), ClientCert::Present(&identity), NOW))
    });
    group.bench_function("cached_token", |b| {
        b.iter(|| {
            let bound = cache
                .get(&token_digest(black_box(&token)), NOW, 1)
                .map(|t| binding_matches(t.claims(), &identity).is_ok());
            (
                bound,
                policy.evaluate(black_box(&request), ClientCert::Present(&identity), NOW),
            )
        })
    });
    group.bench_function("uncached_es256", |b| {
        b.iter(|| {
            let bound = verify(black_box(&token), &keys, &config, NOW)
                .map(|t| binding_matches(t.claims(), &identity).is_ok());
            (
                bound,
                policy.evaluate(black_box(&request), ClientCert::Present(&identity), NOW),
            )
        })
    });
    group.finish();
}

/// The filter's per-request token work, in the core: header lookup, digest, cache lookup.
struct Cached<'a> {
    tokens: &'a TokenPolicy,
    values: &'a [&'a [u8]],
    cache: &'a mut TokenCache<VerifiedToken>,
}

impl RequestToken for Cached<'_> {
    fn verified(&mut self) -> Result<&VerifiedToken, TokenError> {
        let token = self.tokens.token_of(self.values)?;
        self.cache
            .get(&token_digest(token), NOW, 0)
            .ok_or(TokenError::Missing)
    }
}

fn policy_path(c: &mut Criterion) {
    let (_, _, identity) = setup();
    let policy = Policy::from_json(include_str!("../../../tests/fixtures/policies/tokens.json"))
        .expect("policy");
    let tokens_policy = policy.tokens().expect("tokens section");
    let token = tokens::token("valid-es256");
    let header = [b"Bearer ".as_slice(), &token].concat();
    let values = [header.as_slice()];
    let verified = tokens_policy
        .verify(&token, tokens_policy.keys(), NOW)
        .expect("verifies");
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    let (until, weight) = (verified.valid_until(), verified.memory_bytes());
    assert!(cache.insert(token_digest(&token), verified, NOW, until, 0, weight));
    let evaluate = |path: &str, source: &mut dyn RequestToken| {
        policy.evaluate_with(
            &Request {
                method: "GET",
                path,
            },
            RequestAuthority::default(),
            ClientCert::Present(&identity),
            NOW,
            None,
            false,
            None,
            source,
        )
    };
    let mut cached = Cached {
        tokens: tokens_policy,
        values: &values,
        cache: &mut cache,
    };
    assert_eq!(
        evaluate("/patient-records/1", &mut cached)
            .reason
            .to_string(),
        "allow:rule[records-read]:role[records-reader]"
    );
    assert_eq!(
        evaluate("/profile", &mut NoToken).reason.to_string(),
        "allow:rule[profile]:role[clinician]"
    );
    let mut group = c.benchmark_group("token/policy");
    group.bench_function("no_token", |b| {
        b.iter(|| evaluate(black_box("/profile"), &mut NoToken))
    });
    group.bench_function("cached_token", |b| {
        b.iter(|| {
            let mut cached = Cached {
                tokens: tokens_policy,
                values: &values,
                cache: &mut cache,
            };
            evaluate(black_box("/patient-records/1"), &mut cached)
        })
    });
    group.bench_function("uncached_es256", |b| {
        b.iter(|| {
            evaluate(
                black_box("/patient-records/1"),
                &mut HeaderToken::new(Some(tokens_policy), &values, NOW),
            )
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short by default: the machine is shared. Override on the command line for careful runs.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = per_algorithm, cache, request, policy_path
}
criterion_main!(benches);
