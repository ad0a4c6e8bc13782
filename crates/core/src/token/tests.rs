//! Token verification against the generated fixtures (tests/fixtures/tokens, gen_tokens.py,
//! whose manifest says what each token and key set must give) and hand-made variants.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};

use mtls_authz_fixtures::tokens::{self as fixtures, TokenFixture};

use super::*;
use crate::crypto::CryptoError;
use crate::identity::Identity;
use crate::selector::Selector;

/// 2026-11-23T00:00:00Z, the fixtures' time.
const NOW: UnixTime = UnixTime(1_795_392_000);
const ISSUER: &str = "https://idp.health.example";
const AUDIENCE: &str = "https://records.health.example";
/// exp of the `expired` fixture: 2026-01-01T00:00:00Z.
const EXPIRED: u64 = 1_767_225_600;
/// 2090-01-01T00:00:00Z: nbf of `not-yet-valid`, iat of `issued-in-future`.
const FUTURE: u64 = 3_786_912_000;

fn config() -> TokenConfig {
    TokenConfig::new(ISSUER, &[AUDIENCE]).unwrap()
}

fn keys(file: &str) -> KeySet {
    KeySet::from_jwks(&fixtures::read(file), &JwksLimits::DEFAULT)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn identity(name: &str) -> Identity {
    Identity::parse(&mtls_authz_fixtures::cert_bytes(name).unwrap()).unwrap()
}

fn fixture(name: &str) -> TokenFixture {
    fixtures::manifest()
        .tokens
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no token fixture {name}"))
}

/// Verifies fixture `name` with its key set and the default configuration at `now`.
fn verify_at(name: &str, config: &TokenConfig, now: UnixTime) -> Result<VerifiedToken, TokenError> {
    let fixture = fixture(name);
    verify(&fixtures::token(name), &keys(&fixture.jwks), config, now)
}

fn outcome(name: &str) -> Result<VerifiedToken, TokenError> {
    verify_at(name, &config(), NOW)
}

fn error(name: &str) -> TokenError {
    match outcome(name) {
        Ok(_) => panic!("{name} verified"),
        Err(error) => error,
    }
}

fn code(result: &Result<impl Sized, TokenError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(error) => error.code(),
    }
}

fn jwks_code(result: &Result<KeySet, JwksError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(error) => error.code(),
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_fixture_key_set_reads_as_the_manifest_says() {
    let manifest = fixtures::manifest();
    assert_eq!(manifest.issuer, ISSUER);
    assert_eq!(manifest.audience, AUDIENCE);
    assert_eq!(manifest.time, "2026-11-23T00:00:00Z");
    assert_eq!(manifest.jwks.len(), 10);
    for jwks in &manifest.jwks {
        let result = KeySet::from_jwks(&fixtures::read(&jwks.file), &JwksLimits::DEFAULT);
        assert_eq!(jwks_code(&result), jwks.expect, "{}: {result:?}", jwks.file);
        if let Ok(set) = result {
            assert_eq!(Some(set.keys().len()), jwks.keys, "{}", jwks.file);
            assert_eq!(Some(set.skipped().len()), jwks.skipped, "{}", jwks.file);
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn every_fixture_token_verifies_binds_and_matches_as_the_manifest_says() {
    let manifest = fixtures::manifest();
    assert!(manifest.tokens.len() >= 50, "{}", manifest.tokens.len());
    let config = config();
    let mut failures = Vec::new();
    for fixture in &manifest.tokens {
        let bytes = fixtures::token(&fixture.name);
        let keys = keys(&fixture.jwks);
        let result = verify(&bytes, &keys, &config, NOW);
        if code(&result) != fixture.expect {
            failures.push(format!(
                "{}: expected {}, got {result:?}",
                fixture.name, fixture.expect
            ));
            continue;
        }
        // check() lists the same first problem verify() stops at.
        if let Ok(jws) = Jws::parse(&bytes, config.limits()) {
            let problems = jws.check(&keys, &config, NOW);
            assert_eq!(
                problems.first(),
                result.as_ref().err(),
                "{}: check and verify disagree",
                fixture.name
            );
        }
        let Ok(token) = result else { continue };
        let Some(cert) = &fixture.cert else { continue };
        let identity = identity(cert);
        if let Some(expected) = &fixture.binding {
            let binding = binding_matches(token.claims(), &identity);
            if code(&binding) != expected {
                failures.push(format!(
                    "{}: binding expected {expected}, got {binding:?}",
                    fixture.name
                ));
            }
        }
        for rule in &fixture.consistency {
            let consistency = ClaimConsistency::new(
                ClaimPath::parse(&rule.claim).unwrap(),
                Selector::parse(&rule.selector).unwrap(),
            );
            let result = consistency.check(token.claims(), &identity);
            if code(&result) != rule.expect {
                failures.push(format!(
                    "{}: {} = {} expected {}, got {result:?}",
                    fixture.name, rule.claim, rule.selector, rule.expect
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The messages people read, for the attacks the issue lists.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn refusals_say_what_and_why() {
    let table: &[(&str, &str)] = &[
        ("alg-none", "alg \"none\": an unsecured token, never accepted"),
        ("alg-none-mixed-case", "alg \"nOnE\": an unsecured token, never accepted"),
        (
            "hs256-rsa-public-key",
            "alg \"HS256\" refused: HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)",
        ),
        (
            "es256-header-rsa-kid",
            "kid \"rsa-1\": the token's alg ES256 needs an EC P-256 key, but the key is RSA 2048",
        ),
        (
            "es384-header-p256-kid",
            "kid \"es256-1\": the token's alg ES384 needs an EC P-384 key, but the key is EC P-256",
        ),
        ("unknown-kid", "kid \"es256-retired\" names no key of the key set"),
        (
            "key-use-enc-kid",
            "kid \"rsa-enc-1\" names a key the key set does not use for signatures: alg \"RSA-OAEP\" is not a signature algorithm we verify",
        ),
        (
            "no-kid",
            "no kid, and 2 keys of the key set could verify ES256: the token must name its key",
        ),
        (
            "jku-header",
            "the header names its own verification key (jku): keys come only from the configured key set",
        ),
        (
            "jwk-header",
            "the header names its own verification key (jwk): keys come only from the configured key set",
        ),
        (
            "crit-unknown",
            "crit lists header parameters we do not understand: [\"https://health.example/must-understand\"]",
        ),
        (
            "b64-false",
            "b64: false (RFC 7797 unencoded payload) is not supported",
        ),
        (
            "duplicate-sub",
            "the claims set names the member \"sub\" twice (readers disagree on which one counts)",
        ),
        (
            "duplicate-sub-escaped",
            "the claims set names the member \"sub\" twice (readers disagree on which one counts)",
        ),
        (
            "duplicate-alg",
            "the header names the member \"alg\" twice (readers disagree on which one counts)",
        ),
        (
            "bad-signature",
            "signature: ECDSA P-256 SHA-256 signature does not verify",
        ),
        (
            "expired",
            "expired at 2026-01-01T00:00:00Z (now 2026-11-23T00:00:00Z, clock skew 60 s)",
        ),
        (
            "not-yet-valid",
            "not valid before 2090-01-01T00:00:00Z (now 2026-11-23T00:00:00Z, clock skew 60 s)",
        ),
        (
            "issued-in-future",
            "issued in the future, at 2090-01-01T00:00:00Z (now 2026-11-23T00:00:00Z, clock skew 60 s)",
        ),
        (
            "wrong-aud",
            "no configured audience is in aud [\"https://billing.health.example\"]",
        ),
        (
            "wrong-iss",
            "iss \"https://idp.other.example\" is not the configured issuer \"https://idp.health.example\"",
        ),
        ("no-exp", "the required claim exp is missing"),
        (
            "exp-string",
            "claim exp: a string, not a NumericDate (seconds since 1970)",
        ),
        (
            "cnf-hex-thumbprint",
            "claim cnf.x5t#S256: 48 bytes; a SHA-256 certificate thumbprint is 32",
        ),
        ("claims-array", "the claims set is not a JSON object: an array, not an object"),
        (
            "deeply-nested",
            "the claims set is not a JSON object: nesting deeper than 16 (the limit) at line 1 column 559",
        ),
        (
            "signature-standard-base64",
            "the signature is not base64url: `_` at offset",
        ),
        (
            "jwe-five-parts",
            "five parts: an encrypted token (JWE); only signed tokens (JWS compact serialization) are accepted",
        ),
        (
            "valid-rs512",
            "alg RS512 is not in the allowed algorithms (ES256, ES384, RS256, PS256, EdDSA)",
        ),
    ];
    for (name, message) in table {
        let text = error(name).to_string();
        if name.starts_with("signature-standard") {
            // The offset of the first `+` or `/` depends on the signature bytes.
            assert!(
                text.starts_with("the signature is not base64url: `+` at offset")
                    || text.starts_with("the signature is not base64url: `/` at offset"),
                "{name}: {text}"
            );
            continue;
        }
        assert_eq!(&text, message, "{name}");
    }
    let padded = error("padded-base64url").to_string();
    assert!(
        padded.starts_with("the claims set is not base64url: padding `=` at offset ")
            && padded.ends_with(" (base64url in a JWS has no padding, RFC 7515 §2)"),
        "{padded}"
    );
    assert_eq!(
        error("huge").to_string(),
        "the token is 27170 bytes, more than the 16384-byte limit"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_verified_token_carries_its_key_algorithm_and_expiry() {
    for (name, algorithm, kid) in [
        (
            "valid-es256",
            SignatureAlgorithm::EcdsaP256Sha256,
            "es256-1",
        ),
        (
            "valid-es384",
            SignatureAlgorithm::EcdsaP384Sha384,
            "es384-1",
        ),
        ("valid-rs256", SignatureAlgorithm::RsaPkcs1Sha256, "rsa-1"),
        ("valid-ps256", SignatureAlgorithm::RsaPssSha256, "rsa-1"),
        ("valid-eddsa", SignatureAlgorithm::Ed25519, "ed25519-1"),
    ] {
        let token = outcome(name).unwrap();
        assert_eq!(token.algorithm(), algorithm, "{name}");
        assert_eq!(token.kid(), Some(kid), "{name}");
        assert_eq!(token.header().alg(), algorithm.jose_name());
        assert_eq!(token.claims().sub(), Some("alice"));
        assert_eq!(token.claims().iss(), Some(ISSUER));
        assert_eq!(token.claims().aud(), Some(&[String::from(AUDIENCE)][..]));
        assert_eq!(token.claims().exp(), Some(UnixTime(4_102_358_400)));
        assert_eq!(token.claims().iat(), Some(UnixTime(1_735_689_600)));
        assert_eq!(token.claims().jti(), None);
        // exp + the default 60 s skew.
        assert_eq!(token.valid_until(), UnixTime(4_102_358_460));
        assert!(token.memory_bytes() > 500, "{}", token.memory_bytes());
    }
    // The kid-less token takes the single key's (absent) kid.
    assert_eq!(outcome("no-kid-single-key").unwrap().kid(), None);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_allow_list_decides_which_algorithms_pass() {
    let every = config()
        .with_algorithm_names(&[
            "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
        ])
        .unwrap();
    for name in ["valid-rs384", "valid-rs512", "valid-ps384", "valid-ps512"] {
        assert!(verify_at(name, &every, NOW).is_ok(), "{name}");
    }
    let only_eddsa = config().with_algorithm_names(&["EdDSA"]).unwrap();
    assert!(verify_at("valid-eddsa", &only_eddsa, NOW).is_ok());
    assert_eq!(
        verify_at("valid-es256", &only_eddsa, NOW).unwrap_err(),
        TokenError::AlgNotAllowed {
            algorithm: SignatureAlgorithm::EcdsaP256Sha256,
            allowed: vec!["EdDSA"],
        }
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn configurations_refuse_what_cannot_be_safe() {
    let message = |result: Result<TokenConfig, TokenConfigError>| result.unwrap_err().to_string();
    assert_eq!(
        message(TokenConfig::new("", &[AUDIENCE])),
        "issuer: must not be empty"
    );
    assert_eq!(
        message(TokenConfig::new(ISSUER, &[])),
        "audiences: at least one audience is required: a token for another service must not pass"
    );
    assert_eq!(
        message(TokenConfig::new(ISSUER, &[""])),
        "audiences: an audience must not be empty"
    );
    assert_eq!(
        message(config().with_algorithm_names(&["ES256", "HS256"])),
        "algorithms: \"HS256\" refused: HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)"
    );
    assert_eq!(
        message(config().with_algorithm_names(&["none"])),
        "algorithms: \"none\" would accept unsecured tokens: never allowed"
    );
    assert_eq!(
        message(config().with_algorithm_names(&["ES512"])),
        "algorithms: alg \"ES512\" is not a signature algorithm we verify (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
    );
    assert_eq!(
        message(config().with_algorithm_names(&["ES256", "ES256"])),
        "algorithms: \"ES256\" is listed twice"
    );
    assert_eq!(
        message(config().with_algorithm_names(&[])),
        "algorithms: at least one algorithm is required"
    );
    assert_eq!(
        message(config().with_clock_skew_secs(601)),
        "clock_skew_secs: 601 is above 600: expired tokens would keep working that long"
    );
    let config = config();
    assert_eq!(config.algorithms(), DEFAULT_ALGORITHMS);
    assert_eq!(config.clock_skew_secs(), 60);
    assert!(config.types().is_empty());
    assert_eq!(config.limits(), &TokenLimits::DEFAULT);
    assert_eq!(config.audiences(), [String::from(AUDIENCE)]);
    // Exact names: case matters for supported ones, none/HS* are recognised in any case.
    assert!(matches!(
        algorithm_from_jose("es256"),
        Err(TokenError::AlgUnsupported { .. })
    ));
    assert!(matches!(
        algorithm_from_jose("hs512"),
        Err(TokenError::AlgHmac { .. })
    ));
    assert!(matches!(
        algorithm_from_jose("NONE"),
        Err(TokenError::AlgNone { .. })
    ));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn types_when_configured() {
    let at_jwt = config().with_types(&["at+jwt"]);
    assert!(verify_at("typ-at-jwt", &at_jwt, NOW).is_ok());
    assert_eq!(
        verify_at("valid-es256", &at_jwt, NOW)
            .unwrap_err()
            .to_string(),
        "typ \"JWT\" is not one of [\"at+jwt\"]"
    );
    assert_eq!(
        verify_at("x5t-header-ignored", &at_jwt, NOW)
            .unwrap_err()
            .to_string(),
        "no typ; expected one of [\"at+jwt\"]"
    );
    // RFC 7515 §4.1.9: case-insensitive, `application/` optional on either side.
    let spelled = config().with_types(&["Application/AT+JWT"]);
    assert!(verify_at("typ-at-jwt", &spelled, NOW).is_ok());
    assert!(config::type_allowed(
        "application/at+jwt",
        &[String::from("at+jwt")]
    ));
    assert!(!config::type_allowed("at+jwt+x", &[String::from("at+jwt")]));
    assert!(!config::type_allowed(
        "application/x/at+jwt",
        &[String::from("x/at+jwt")]
    ));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn clock_skew_boundaries() {
    let skew = 60;
    let at = |name: &str, secs: u64| code(&verify_at(name, &config(), UnixTime(secs)));
    // exp: accepted until exp + skew - 1, refused from exp + skew.
    assert_eq!(at("expired", EXPIRED - 1), "ok");
    assert_eq!(at("expired", EXPIRED + skew - 1), "ok");
    assert_eq!(at("expired", EXPIRED + skew), "token_expired");
    // nbf: refused until nbf - skew - 1, accepted from nbf - skew.
    assert_eq!(
        at("not-yet-valid", FUTURE - skew - 1),
        "token_not_yet_valid"
    );
    assert_eq!(at("not-yet-valid", FUTURE - skew), "ok");
    // iat: refused when iat > now + skew.
    assert_eq!(
        at("issued-in-future", FUTURE - skew - 1),
        "token_issued_in_future"
    );
    assert_eq!(at("issued-in-future", FUTURE - skew), "ok");
    // A zero skew is exact.
    let exact = config().with_clock_skew_secs(0).unwrap();
    assert_eq!(
        code(&verify_at("expired", &exact, UnixTime(EXPIRED - 1))),
        "ok"
    );
    assert_eq!(
        code(&verify_at("expired", &exact, UnixTime(EXPIRED))),
        "token_expired"
    );
    // A fractional exp is rounded down.
    let fractional = outcome("exp-fractional").unwrap();
    assert_eq!(fractional.claims().exp(), Some(UnixTime(4_102_358_400)));
}

/// `check` reports everything wrong with a token, where `verify` stops at the first.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn check_lists_every_problem_in_order() {
    let codes = |name: &str, config: &TokenConfig, now: UnixTime| -> Vec<&'static str> {
        let fixture = fixture(name);
        let bytes = fixtures::token(name);
        Jws::parse(&bytes, config.limits())
            .unwrap()
            .check(&keys(&fixture.jwks), config, now)
            .iter()
            .map(TokenError::code)
            .collect()
    };
    // The attacker's key signed it, and the header names a key: both reported.
    assert_eq!(
        codes("jku-header", &config(), NOW),
        ["token_key_in_header", "token_bad_signature"]
    );
    // alg none: no key, no signature; the claims are still judged.
    assert_eq!(codes("alg-none", &config(), NOW), ["token_alg_none"]);
    let elsewhere = TokenConfig::new("https://idp.other.example", &["urn:other"]).unwrap();
    assert_eq!(
        codes("expired", &elsewhere, NOW),
        [
            "token_issuer_mismatch",
            "token_audience_mismatch",
            "token_expired"
        ]
    );
    assert_eq!(
        codes("not-yet-valid", &elsewhere, UnixTime(0)),
        [
            "token_issuer_mismatch",
            "token_audience_mismatch",
            "token_not_yet_valid",
            "token_issued_in_future"
        ]
    );
    assert!(codes("valid-es256", &config(), NOW).is_empty());

    // Partial checks for tools: without keys nothing is said about the signature.
    let bytes = fixtures::token("bad-signature");
    let jws = Jws::parse(&bytes, &TokenLimits::DEFAULT).unwrap();
    let report = jws.check_with(&Checks {
        keys: None,
        algorithms: &DEFAULT_ALGORITHMS,
        types: &[],
        issuer: None,
        audiences: None,
        clock_skew_secs: 60,
        now: NOW,
    });
    assert_eq!(report.problems, []);
    assert_eq!(report.verified_by, None);
    let set = keys("jwks.json");
    let report = jws.check_with(&Checks {
        keys: Some(&set),
        ..Checks::from_config(&set, &config(), NOW)
    });
    assert_eq!(
        report.problems,
        [TokenError::Signature(CryptoError::BadSignature {
            algorithm: SignatureAlgorithm::EcdsaP256Sha256
        })]
    );
    let bytes = fixtures::token("valid-es256");
    let report = Jws::parse(&bytes, &TokenLimits::DEFAULT)
        .unwrap()
        .check_with(&Checks::from_config(&set, &config(), NOW));
    assert_eq!(
        report.verified_by,
        Some((Some(String::from("es256-1")), String::from("EC P-256")))
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn structure_errors() {
    let parse = |text: &str| Jws::parse(text.as_bytes(), &TokenLimits::DEFAULT).map(|_| ());
    let message = |text: &str| parse(text).unwrap_err().to_string();
    assert_eq!(
        message(""),
        "not a JWS compact serialization: the token is empty"
    );
    assert_eq!(
        message("abc"),
        "not a JWS compact serialization: 1 part separated by `.`, expected 3 (header.claims.signature)"
    );
    assert_eq!(
        message("a.b"),
        "not a JWS compact serialization: 2 parts separated by `.`, expected 3 (header.claims.signature)"
    );
    assert_eq!(
        message("a.b.c.d"),
        "not a JWS compact serialization: 4 parts separated by `.`, expected 3 (header.claims.signature)"
    );
    assert_eq!(parse("a.b.c.d.e"), Err(TokenError::Encrypted));
    assert_eq!(
        message(".e30.x"),
        "not a JWS compact serialization: the header part is empty"
    );
    assert_eq!(
        message("e30..x"),
        "not a JWS compact serialization: the claims part is empty (a detached payload is not supported)"
    );
    // `{}` as a header has no alg.
    assert_eq!(message("e30.e30.AA"), "header: no `alg`");
    assert_eq!(
        message("eyJhbGciOjF9.e30.AA"),
        "header: `alg` is a number, not a string"
    );
    // A header that is not JSON, not UTF-8, not an object.
    assert_eq!(
        message("eyJhbGci.e30.AA"),
        "the header is not a JSON object: EOF while parsing an object at line 1 column 6"
    );
    assert_eq!(
        message("_w.e30.AA"),
        "the header is not a JSON object: not UTF-8 (byte 0)"
    );
    assert_eq!(
        message("WzFd.e30.AA"),
        "the header is not a JSON object: an array, not an object"
    );
    // A token with a trailing line break (copied from a file) is refused, not trimmed.
    let mut valid = fixtures::token("valid-es256");
    valid.push(b'\n');
    let error = Jws::parse(&valid, &TokenLimits::DEFAULT).unwrap_err();
    assert_eq!(error.code(), "token_bad_base64");
    assert!(
        error
            .to_string()
            .starts_with("the signature is not base64url: whitespace at offset 86"),
        "{error}"
    );
    // Header members of the wrong type.
    let header = |json: &str| {
        let text = format!("{}.e30.AA", base64url::encode(json.as_bytes()));
        message(&text)
    };
    assert_eq!(
        header(r#"{"alg":"ES256","kid":7}"#),
        "header: `kid` is a number, not a string"
    );
    assert_eq!(
        header(r#"{"alg":"ES256","crit":[]}"#),
        "header: `crit` is empty (RFC 7515 §4.1.11 forbids an empty list)"
    );
    assert_eq!(
        header(r#"{"alg":"ES256","crit":"b64"}"#),
        "header: `crit` is a string, not an array of strings"
    );
    assert_eq!(
        header(r#"{"alg":"ES256","crit":["b64","b64"]}"#),
        "header: `crit` lists \"b64\" twice"
    );
    assert_eq!(
        header(r#"{"alg":"ES256","b64":"false"}"#),
        "header: `b64` is a string, not a boolean"
    );
    assert_eq!(
        header(r#"{"alg":"ES256","typ":null}"#),
        "header: `typ` is null, not a string"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn limits_are_checked_before_decoding() {
    let bytes = fixtures::token("valid-es256");
    let small = |limits: TokenLimits| Jws::parse(&bytes, &limits).map(|_| ()).unwrap_err();
    assert_eq!(
        small(TokenLimits {
            max_token_bytes: 100,
            ..TokenLimits::DEFAULT
        }),
        TokenError::TooLarge {
            what: "token",
            len: bytes.len(),
            max: 100
        }
    );
    assert_eq!(
        small(TokenLimits {
            max_header_bytes: 20,
            ..TokenLimits::DEFAULT
        }),
        TokenError::TooLarge {
            what: "header JSON",
            len: 43,
            max: 20
        }
    );
    assert_eq!(
        small(TokenLimits {
            max_claims_bytes: 100,
            ..TokenLimits::DEFAULT
        })
        .to_string(),
        "the claims JSON is 255 bytes, more than the 100-byte limit"
    );
    assert_eq!(
        small(TokenLimits {
            max_depth: 1,
            ..TokenLimits::DEFAULT
        })
        .to_string(),
        "the claims set is not a JSON object: nesting deeper than 1 (the limit) at line 1 column 197"
    );
    // The same token passes with the limits at its exact sizes.
    assert!(Jws::parse(
        &bytes,
        &TokenLimits {
            max_token_bytes: bytes.len(),
            max_header_bytes: 43,
            max_claims_bytes: 255,
            max_depth: 2,
        }
    )
    .is_ok());
}

/// Every single-byte change and every truncation of a valid token is refused (and none
/// panics): the signature covers everything, and the encoding is canonical.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn no_alteration_of_a_valid_token_verifies() {
    let set = keys("jwks.json");
    let config = config();
    for name in ["valid-es256", "valid-eddsa"] {
        let original = fixtures::token(name);
        assert!(verify(&original, &set, &config, NOW).is_ok());
        for i in 0..original.len() {
            for flip in [0x01u8, 0x20, 0x80] {
                let mut altered = original.clone();
                if let Some(byte) = altered.get_mut(i) {
                    *byte ^= flip;
                }
                assert!(
                    verify(&altered, &set, &config, NOW).is_err(),
                    "{name}: byte {i} ^ {flip:#04x} still verifies"
                );
            }
        }
        for len in 0..original.len() {
            assert!(
                verify(original.get(..len).unwrap(), &set, &config, NOW).is_err(),
                "{name} cut at {len}"
            );
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn binding_uses_the_exact_certificate() {
    let alice = identity("healthcare/clinician-alice");
    let bob = identity("healthcare/admin-bob");
    let token = outcome("valid-es256").unwrap();
    assert_eq!(binding_matches(token.claims(), &alice), Ok(()));
    assert_eq!(
        certificate_thumbprint(&alice),
        "zlMbPgMKrsQi7_bjlT2XzCg9MTwpYyUK6VL5D23__H8"
    );
    assert_eq!(
        binding_matches(token.claims(), &bob).unwrap_err().to_string(),
        format!(
            "the token is bound to the certificate with x5t#S256 zlMbPgMKrsQi7_bjlT2XzCg9MTwpYyUK6VL5D23__H8, not to the presented one ({})",
            certificate_thumbprint(&bob)
        )
    );
    assert_eq!(
        binding_matches(outcome("no-cnf").unwrap().claims(), &alice)
            .unwrap_err()
            .to_string(),
        "the token is not bound to a certificate (no cnf x5t#S256, RFC 8705 §3.1)"
    );
    // The ECDSA signature twin of a certificate is the same certificate to the TLS stack, but
    // another DER: a token bound to one does not match the other.
    let original = identity("healthcare/revoked-by-fingerprint");
    let twin = identity("attack/revoked-fingerprint-twin.pem");
    let json = format!(
        r#"{{"cnf":{{"x5t#S256":"{}"}}}}"#,
        certificate_thumbprint(&original)
    );
    let claims = Claims::from_json(json_value::parse(json.as_bytes(), 4).unwrap()).unwrap();
    assert_eq!(binding_matches(&claims, &original), Ok(()));
    assert_eq!(
        binding_matches(&claims, &twin).map_err(|e| e.code()),
        Err("token_binding_mismatch")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn consistency_needs_every_claim_value_among_the_selector_values() {
    let billing = identity("services/billing-api");
    let alice = identity("healthcare/clinician-alice");
    let rule = |claim: &str, selector: &str| {
        ClaimConsistency::new(
            ClaimPath::parse(claim).unwrap(),
            Selector::parse(selector).unwrap(),
        )
    };
    let mismatch = outcome("sub-not-spiffe-id").unwrap();
    assert_eq!(
        rule("sub", "spiffe_id")
            .check(mismatch.claims(), &billing)
            .unwrap_err()
            .to_string(),
        "claim sub [\"spiffe://example.org/ns/orders/sa/api\"] does not equal the certificate's spiffe_id"
    );
    // san.uri holds the billing ID only: still a mismatch.
    assert!(rule("sub", "san.uri")
        .check(mismatch.claims(), &billing)
        .is_err());
    let consistent = outcome("valid-billing-spiffe").unwrap();
    assert_eq!(
        rule("sub", "san.uri").check(consistent.claims(), &billing),
        Ok(())
    );
    // A certificate without a SPIFFE ID never satisfies sub = spiffe_id.
    let alice_token = outcome("valid-es256").unwrap();
    assert_eq!(
        rule("sub", "spiffe_id").check(alice_token.claims(), &alice),
        Err(TokenError::ClaimMismatch {
            claim: String::from("sub"),
            selector: String::from("spiffe_id"),
            found: vec![String::from("alice")],
        })
    );
    assert_eq!(
        rule("client_id", "subject.CN").check(alice_token.claims(), &alice),
        Ok(())
    );
    // An absent claim fails, with its own message.
    assert_eq!(
        rule("azp", "subject.CN")
            .check(alice_token.claims(), &alice)
            .unwrap_err()
            .to_string(),
        "claim azp has no value to compare with subject.CN"
    );
    // Multi-valued claims: every value must be among the certificate's.
    let rich = outcome("claims-rich").unwrap();
    assert!(rule("realm_access.roles", "subject.OU")
        .check(rich.claims(), &alice)
        .is_err());
    // Every element counts: one without a value (null, object, fraction, nested array) is
    // not skipped (review finding).
    for json in [
        &br#"{"client_id":["alice",null]}"#[..],
        br#"{"client_id":["alice",{"cn":"admin"}]}"#,
        br#"{"client_id":["alice",1.5]}"#,
        br#"{"client_id":["alice",["admin"]]}"#,
    ] {
        let claims = Claims::from_json(json_value::parse(json, 4).unwrap()).unwrap();
        assert_eq!(
            rule("client_id", "subject.CN")
                .check(&claims, &alice)
                .map_err(|e| e.code()),
            Err("token_claim_mismatch"),
            "{}",
            String::from_utf8_lossy(json)
        );
    }
    let claims =
        Claims::from_json(json_value::parse(br#"{"client_id":["alice","alice"]}"#, 4).unwrap())
            .unwrap();
    assert_eq!(
        rule("client_id", "subject.CN").check(&claims, &alice),
        Ok(())
    );
    // Exact comparison: no case folding.
    let json = br#"{"cn":"ALICE","ou":["Clinicians"]}"#;
    let claims = Claims::from_json(json_value::parse(json, 4).unwrap()).unwrap();
    assert!(rule("cn", "subject.CN").check(&claims, &alice).is_err());
    assert_eq!(rule("ou", "subject.OU").check(&claims, &alice), Ok(()));
    assert_eq!(
        rule("ou", "subject.2.5.4.11")
            .check(
                &Claims::from_json(json_value::parse(br#"{"ou":"x"}"#, 4).unwrap()).unwrap(),
                &alice
            )
            .unwrap_err()
            .to_string(),
        "claim ou [\"x\"] does not equal the certificate's subject.OU"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn claim_values_for_matchers() {
    let token = outcome("claims-rich").unwrap();
    let claims = token.claims();
    let values = |path: &str| claims.values(&ClaimPath::parse(path).unwrap());
    assert_eq!(values("scope"), ["openid", "records:read"]);
    assert_eq!(values("scp"), ["records.read", "records.write"]);
    assert_eq!(values("realm_access.roles"), ["clinician", "auditor"]);
    assert_eq!(
        values(r#"["https://health.example/roles"]"#),
        ["records-admin"]
    );
    assert_eq!(values("email_verified"), ["true"]);
    assert_eq!(values("tenant_id"), ["42"]);
    // Arrays: strings, booleans and integers; null and nested arrays yield nothing.
    assert_eq!(values("amr"), ["mfa", "2", "true"]);
    assert_eq!(values("sub"), ["alice"]);
    assert_eq!(values("aud"), [AUDIENCE]);
    assert_eq!(values("iat"), ["1735689600"]);
    // Objects, absent claims and paths through non-objects yield nothing.
    assert!(values("realm_access").is_empty());
    assert!(values("cnf").is_empty());
    assert!(values("nope").is_empty());
    assert!(values("sub.x").is_empty());
    assert!(values("realm_access.roles.x").is_empty());
    // Only the top-level scope claims are split.
    let json = br#"{"scope":"a  b ","nested":{"scope":"a b"},"s":"a b","f":1.5,"n":-3}"#;
    let claims = Claims::from_json(json_value::parse(json, 4).unwrap()).unwrap();
    let values = |path: &str| claims.values(&ClaimPath::parse(path).unwrap());
    assert_eq!(values("scope"), ["a", "b"]);
    assert_eq!(values("nested.scope"), ["a b"]);
    assert_eq!(values("s"), ["a b"]);
    assert!(values("f").is_empty());
    assert_eq!(values("n"), ["-3"]);
    // any_value stops at the first hit.
    let mut seen = Vec::new();
    assert!(token.claims().any_value(&ClaimPath::claim("scope"), |v| {
        seen.push(String::from(v));
        v == "openid"
    }));
    assert_eq!(seen, ["openid"]);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn claim_paths_parse_and_print_back() {
    for (text, segments) in [
        ("sub", vec!["sub"]),
        ("realm_access.roles", vec!["realm_access", "roles"]),
        (
            r#"["https://x.example/roles"]"#,
            vec!["https://x.example/roles"],
        ),
        (r#"org["team.name"].id"#, vec!["org", "team.name", "id"]),
        (r#"a["b"]["c\"d"]"#, vec!["a", "b", "c\"d"]),
        ("x-y:z", vec!["x-y:z"]),
    ] {
        let path = ClaimPath::parse(text).unwrap();
        assert_eq!(path.segments(), segments, "{text}");
        let printed = path.to_string();
        assert_eq!(
            ClaimPath::parse(&printed).unwrap(),
            path,
            "{text} -> {printed}"
        );
    }
    assert_eq!(ClaimPath::parse(r#"a["b"]"#).unwrap().to_string(), "a.b");
    assert_eq!(
        ClaimPath::parse(r#"["a.b"].c"#).unwrap().to_string(),
        r#"["a.b"].c"#
    );
    for (bad, detail) in [
        ("", "it must start with a claim name"),
        (".a", "it must start with a claim name"),
        ("a.", "it ends with a dot"),
        ("a..b", "an empty name between dots"),
        ("a[", "`[` must hold a JSON string and `]`"),
        ("a[b]", "`[` must hold a JSON string and `]`"),
        (r#"a["b""#, "`[` must hold a JSON string and `]`"),
        (r#"a[""]"#, "an empty name"),
        (r#"a["b"]c"#, "expected `.` or `[` after a name"),
        (
            "a]",
            "`]` and `\"` only appear in a bracketed name such as [\"a.b\"]",
        ),
        (
            "a\"b",
            "`]` and `\"` only appear in a bracketed name such as [\"a.b\"]",
        ),
        (r#"["\x"]"#, "\"\\x\" is not a JSON string"),
        ("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", "more than 16 names"),
    ] {
        let error = ClaimPath::parse(bad).unwrap_err();
        assert_eq!(error.detail, detail, "{bad}");
    }
    assert_eq!(
        ClaimPath::parse("a..b").unwrap_err().to_string(),
        "claim path \"a..b\": an empty name between dots"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn claims_types_are_checked() {
    let read = |json: &str| {
        Claims::from_json(json_value::parse(json.as_bytes(), 8).unwrap())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(read(r#"{}"#), Ok(()));
    assert_eq!(
        read(r#"[]"#),
        Err(String::from(
            "claim $: the claims set is an array, not an object"
        ))
    );
    assert_eq!(
        read(r#"{"iss":1}"#),
        Err(String::from("claim iss: a number, not a string"))
    );
    assert_eq!(
        read(r#"{"sub":null}"#),
        Err(String::from("claim sub: null, not a string"))
    );
    assert_eq!(
        read(r#"{"aud":[]}"#),
        Err(String::from("claim aud: an empty array"))
    );
    assert_eq!(
        read(r#"{"aud":["a",1]}"#),
        Err(String::from(
            "claim aud: an array holding a number, not only strings"
        ))
    );
    assert_eq!(
        read(r#"{"aud":{}}"#),
        Err(String::from(
            "claim aud: an object, not a string or an array of strings"
        ))
    );
    assert_eq!(
        read(r#"{"exp":-1}"#),
        Err(String::from("claim exp: a date before 1970"))
    );
    assert_eq!(
        read(r#"{"nbf":-0.5}"#),
        Err(String::from("claim nbf: a date before 1970"))
    );
    assert_eq!(
        read(r#"{"exp":1e300}"#),
        Err(String::from("claim exp: a date after the year 9999"))
    );
    assert_eq!(
        read(r#"{"iat":253402300800}"#),
        Err(String::from("claim iat: a date after the year 9999"))
    );
    assert_eq!(read(r#"{"iat":253402300799}"#), Ok(()));
    assert_eq!(
        read(r#"{"cnf":"x"}"#),
        Err(String::from("claim cnf: a string, not an object"))
    );
    assert_eq!(
        read(r#"{"cnf":{"x5t#S256":7}}"#),
        Err(String::from("claim cnf.x5t#S256: a number, not a string"))
    );
    assert_eq!(
        read(r#"{"cnf":{"x5t#S256":"zlMbPgMKrsQi7_bjlT2XzCg9MTwpYyUK6VL5D23__H8="}}"#),
        Err(String::from(
            "claim cnf.x5t#S256: not base64url: padding `=` at offset 43 (base64url in a JWS has no padding, RFC 7515 §2)"
        ))
    );
    // A cnf without x5t#S256 (a DPoP-bound token's jkt) is not a certificate binding.
    let claims =
        Claims::from_json(json_value::parse(br#"{"cnf":{"jkt":"abc"}}"#, 8).unwrap()).unwrap();
    assert_eq!(claims.certificate_thumbprint(), None);
    // Fractions round toward the stricter side.
    let claims =
        Claims::from_json(json_value::parse(br#"{"exp":10.9,"nbf":10.1,"iat":1e1}"#, 8).unwrap())
            .unwrap();
    assert_eq!(claims.exp(), Some(UnixTime(10)));
    assert_eq!(claims.nbf(), Some(UnixTime(11)));
    assert_eq!(claims.iat(), Some(UnixTime(10)));
}

// ---- key sets -----------------------------------------------------------------------------

fn jwks_error(json: &str) -> String {
    KeySet::from_jwks(json.as_bytes(), &JwksLimits::DEFAULT)
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

/// A P-256 JWK of the fixture key es256-1, with `extra` members spliced in.
fn es256_jwk(extra: &str) -> String {
    let set = String::from_utf8(fixtures::read("jwks.json")).unwrap();
    let start = set
        .find(r#"{"kty":"EC","crv":"P-256","kid":"es256-1""#)
        .unwrap();
    let end = start + set.get(start..).unwrap().find('}').unwrap() + 1;
    let jwk = set.get(start..end).unwrap();
    if extra.is_empty() {
        String::from(jwk)
    } else {
        format!("{},{extra}}}", jwk.strip_suffix('}').unwrap())
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn key_set_fixtures_explain_refusals() {
    let error = |file: &str| {
        KeySet::from_jwks(&fixtures::read(file), &JwksLimits::DEFAULT)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("jwks-private-key.json"),
        "keys[0] (kid \"es256-1\") is a private key (member `d`): publish only public keys; a private key in a proxy configuration lets anyone who reads it sign tokens"
    );
    assert_eq!(
        error("jwks-symmetric.json"),
        "keys[1] (kid \"hmac-1\") is a symmetric key (kty oct): HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)"
    );
    assert_eq!(
        error("jwks-duplicate-kid.json"),
        "two keys have the kid \"es256-1\": a token's kid must name one key"
    );
    assert_eq!(
        error("jwks-rsa-1024.json"),
        "keys[0] (kid \"rsa-1024\"): RSA modulus of 1024 bits is outside the accepted 2048..=8192 bits"
    );
    assert_eq!(
        error("jwks-bad-point.json"),
        "keys[0] (kid \"es256-1\"): malformed public key: not a valid SEC1 point on P-256 (65 bytes)"
    );
    assert_eq!(
        error("jwks-rsa-alg-hs256.json"),
        "keys[0] (kid \"rsa-1\"): alg \"HS256\" on a RSA 2048 key: HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)"
    );
    assert_eq!(
        error("jwks-no-usable-key.json"),
        "no key of the JWKS can verify signatures (1 skipped)"
    );
    assert_eq!(
        error("jwks-duplicate-member.json"),
        "the JWKS names the member \"kty\" twice in one object"
    );
    let set = keys("jwks.json");
    let kids: Vec<Option<&str>> = set.keys().iter().map(Jwk::kid).collect();
    assert_eq!(
        kids,
        [
            Some("es256-1"),
            Some("es256-2"),
            Some("es384-1"),
            Some("rsa-1"),
            Some("ed25519-1")
        ]
    );
    assert_eq!(
        set.skipped(),
        [
            SkippedKey {
                index: 5,
                kid: Some(String::from("p521-1")),
                reason: String::from("EC curve \"P-521\" is not supported (P-256, P-384)"),
            },
            SkippedKey {
                index: 6,
                kid: Some(String::from("rsa-enc-1")),
                reason: String::from("alg \"RSA-OAEP\" is not a signature algorithm we verify"),
            },
        ]
    );
    let described: Vec<String> = set.keys().iter().map(|k| k.key().describe()).collect();
    assert_eq!(
        described,
        ["EC P-256", "EC P-256", "EC P-384", "RSA 2048", "Ed25519"]
    );
    assert_eq!(
        set.keys().first().and_then(Jwk::alg),
        Some(SignatureAlgorithm::EcdsaP256Sha256)
    );
    assert_eq!(set.keys().get(3).and_then(Jwk::alg), None);
    // The digest identifies the bytes.
    assert_eq!(set.digest(), keys("jwks.json").digest());
    assert_ne!(set.digest(), keys("jwks-single-es256.json").digest());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn key_sets_are_read_strictly() {
    let jwk = es256_jwk("");
    let set = |keys: &str| format!(r#"{{"keys":[{keys}]}}"#);
    assert!(KeySet::from_jwks(set(&jwk).as_bytes(), &JwksLimits::DEFAULT).is_ok());
    // Other top-level members are ignored (RFC 7517 §5).
    assert!(KeySet::from_jwks(
        format!(r#"{{"x":1,"keys":[{jwk}]}}"#).as_bytes(),
        &JwksLimits::DEFAULT
    )
    .is_ok());
    for (json, message) in [
        (String::from("[]"), "not a JWK set: the document is an array, not an object"),
        (String::from("{}"), "not a JWK set: no `keys` member (a single JWK is not a JWK set)"),
        (String::from(r#"{"keys":{}}"#), "not a JWK set: `keys` is an object, not an array"),
        (String::from(r#"{"keys":[]}"#), "no key of the JWKS can verify signatures (0 skipped)"),
        (String::from("{"), "the JWKS is not JSON: EOF while parsing an object at line 1 column 1"),
        (set("1"), "keys[0]: a number, not an object"),
        (set(r#"{"crv":"P-256"}"#), "keys[0]: no `kty`"),
        (set(r#"{"kty":7}"#), "keys[0]: `kty` is a number, not a string"),
        (set(r#"{"kty":"RSA","e":"AQAB"}"#), "keys[0]: kty RSA needs `n`"),
        (set(r#"{"kty":"EC","x":"AA","y":"AA"}"#), "keys[0]: kty EC needs `crv`"),
        (set(r#"{"kty":"OKP","crv":"Ed25519","x":"AA=="}"#), "keys[0]: `x` is not base64url: padding `=` at offset 2 (base64url in a JWS has no padding, RFC 7515 §2)"),
        (set(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#), "keys[0]: malformed public key: an Ed25519 key is 32 bytes, not 3"),
        (set(r#"{"kty":"EC","crv":"P-256","kid":"k","x":"AAAA","y":"AAAA"}"#), "keys[0] (kid \"k\"): P-256 coordinates are 32 bytes each; `x` has 3 and `y` 3 (RFC 7518 §6.2.1.2: full length)"),
        (set(r#"{"kty":"EC","kid":""}"#), "keys[0]: `kid` is empty"),
        (set(r#"{"kty":"EC","kid":1}"#), "keys[0]: `kid` is a number, not a string"),
        (set(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":1}"#), "keys[0]: `use` is a number, not a string"),
        (set(&es256_jwk(r#""key_ops":"verify""#)), "keys[0] (kid \"es256-1\"): `key_ops` is a string, not an array"),
        (set(&es256_jwk(r#""key_ops":["verify","verify"]"#)), "keys[0] (kid \"es256-1\"): `key_ops` lists \"verify\" twice"),
        (set(&es256_jwk(r#""key_ops":[1]"#)), "keys[0] (kid \"es256-1\"): `key_ops` holds a number, not only strings"),
        (set(r#"{"kty":"RSA","kid":"r","alg":"ES256","n":"AQAB","e":"AQAB"}"#), "keys[0] (kid \"r\"): RSA modulus of 17 bits is outside the accepted 2048..=8192 bits"),
        (set(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"none"}"#), "keys[0]: alg \"none\" is not a signature algorithm"),
        (set(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"ES256"}"#), "keys[0]: alg ES256 needs an EC P-256 key, but the key is Ed25519"),
        (set(r#"{"kty":"EC","p":"x"}"#), "keys[0] is a private key (member `p`): publish only public keys; a private key in a proxy configuration lets anyone who reads it sign tokens"),
        (set(r#"{"kty":"nope","d":"x"}"#), "keys[0] is a private key (member `d`): publish only public keys; a private key in a proxy configuration lets anyone who reads it sign tokens"),
    ] {
        assert_eq!(jwks_error(&json), message, "{json}");
    }
    // Skipped, not refused: other key types, curves, uses, operations and algorithms.
    for (extra_key, reason) in [
        (
            r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#,
            "OKP curve \"X25519\" is not supported (Ed25519)",
        ),
        (
            r#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#,
            "EC curve \"secp256k1\" is not supported (P-256, P-384)",
        ),
        (
            r#"{"kty":"AKP","pub":"AA"}"#,
            "kty \"AKP\" is not supported (RSA, EC, OKP)",
        ),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"enc"}"#,
            "use \"enc\" (only `sig` keys verify tokens)",
        ),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","key_ops":["sign"]}"#,
            "key_ops does not include `verify`",
        ),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"Ed448"}"#,
            "alg \"Ed448\" is not a signature algorithm we verify",
        ),
    ] {
        let keys = KeySet::from_jwks(
            set(&format!("{jwk},{extra_key}")).as_bytes(),
            &JwksLimits::DEFAULT,
        )
        .unwrap_or_else(|e| panic!("{extra_key}: {e}"));
        assert_eq!(keys.keys().len(), 1);
        assert_eq!(keys.skipped().len(), 1);
        assert_eq!(
            keys.skipped().first().map(|s| s.reason.as_str()),
            Some(reason),
            "{extra_key}"
        );
    }
    // key_ops with verify, use sig: usable.
    let usable = set(&es256_jwk(
        r#""key_ops":["verify","sign"],"x5c":["AAAA"],"x5t":"x""#,
    ));
    assert!(KeySet::from_jwks(usable.as_bytes(), &JwksLimits::DEFAULT).is_ok());
    // Limits.
    let json = set(&jwk);
    assert_eq!(
        KeySet::from_jwks(
            json.as_bytes(),
            &JwksLimits {
                max_bytes: 10,
                max_keys: 100
            }
        )
        .unwrap_err(),
        JwksError::TooLarge {
            len: json.len(),
            max: 10
        }
    );
    let two = set(&format!(
        "{jwk},{}",
        es256_jwk("").replace("es256-1", "es256-x")
    ));
    assert_eq!(
        KeySet::from_jwks(
            two.as_bytes(),
            &JwksLimits {
                max_bytes: 10_000,
                max_keys: 1
            }
        )
        .unwrap_err(),
        JwksError::TooManyKeys { max: 1 }
    );
    assert_eq!(
        jwks_error(&format!(
            r#"{{"keys":[{}]}}"#,
            "[".repeat(10) + &"]".repeat(10)
        )),
        "the JWKS is not JSON: nesting deeper than 8 (the limit) at line 1 column 16"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn key_selection() {
    let set = keys("jwks.json");
    let select = |algorithm, kid| set.select(algorithm, kid).map(|key| key.kid());
    use SignatureAlgorithm as A;
    assert_eq!(
        select(A::EcdsaP256Sha256, Some("es256-2")),
        Ok(Some("es256-2"))
    );
    assert_eq!(select(A::RsaPssSha512, Some("rsa-1")), Ok(Some("rsa-1")));
    // No kid: the one fitting key, or a refusal.
    assert_eq!(select(A::EcdsaP384Sha384, None), Ok(Some("es384-1")));
    assert_eq!(select(A::Ed25519, None), Ok(Some("ed25519-1")));
    assert_eq!(
        select(A::EcdsaP256Sha256, None),
        Err(TokenError::KidRequired {
            algorithm: A::EcdsaP256Sha256,
            candidates: 2
        })
    );
    let single = keys("jwks-single-es256.json");
    assert_eq!(
        single.select(A::Ed25519, None).map(|_| ()),
        Err(TokenError::NoKey {
            algorithm: A::Ed25519
        })
    );
    assert_eq!(
        single
            .select(A::EcdsaP256Sha256, Some("es256-1"))
            .map(|_| ()),
        Err(TokenError::UnknownKid {
            kid: String::from("es256-1")
        })
    );
    // The key's own alg binds it: es256-1 says ES256, so not even another P-256 algorithm
    // could use it; the EdDSA key says EdDSA.
    assert_eq!(
        select(A::Ed25519, Some("es256-1")).unwrap_err().code(),
        "token_key_mismatch"
    );
    assert_eq!(set.keys().get(4).map(|k| k.fits(A::Ed25519)), Some(Ok(())));
    // A skipped key's kid says why it cannot be used.
    assert_eq!(
        select(A::EcdsaP256Sha256, Some("p521-1")).unwrap_err().to_string(),
        "kid \"p521-1\" names a key the key set does not use for signatures: EC curve \"P-521\" is not supported (P-256, P-384)"
    );
}

// ---- cache ----------------------------------------------------------------------------------

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn cache_hits_until_expiry_and_only_in_its_generation() {
    let token = outcome("valid-es256").unwrap();
    let bytes = fixtures::token("valid-es256");
    let digest = token_digest(&bytes);
    assert_ne!(digest, token_digest(&fixtures::token("valid-es384")));
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    let until = token.valid_until();
    assert!(cache.insert(digest, token, NOW, until, 7, 1000));
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.bytes(), 1000);
    assert!(cache.get(&digest, NOW, 7).is_some());
    assert!(cache
        .get(&digest, UnixTime(until.as_secs() - 1), 7)
        .is_some());
    // Another generation (the key set changed): a miss, and the entry is gone.
    assert!(cache.get(&digest, NOW, 8).is_none());
    assert!(cache.is_empty());
    assert_eq!(cache.bytes(), 0);
    // At its expiry: a miss, and gone.
    let mut cache = TokenCache::new(TokenCacheLimits::DEFAULT);
    assert!(cache.insert(digest, 1u8, NOW, UnixTime(NOW.as_secs() + 10), 7, 10));
    assert!(cache
        .get(&digest, UnixTime(NOW.as_secs() + 10), 7)
        .is_none());
    assert!(cache.is_empty());
    // Nothing already expired, nothing heavier than the whole cache.
    let mut cache = TokenCache::new(TokenCacheLimits {
        max_entries: 4,
        max_bytes: 100,
    });
    assert!(!cache.insert(digest, 1u8, NOW, NOW, 0, 1));
    assert!(!cache.insert(digest, 1u8, NOW, UnixTime(NOW.as_secs() + 1), 0, 101));
    assert!(cache.is_empty());
    assert!(!TokenCache::new(TokenCacheLimits {
        max_entries: 0,
        max_bytes: 100
    })
    .insert(digest, 1u8, NOW, UnixTime(NOW.as_secs() + 1), 0, 1));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn cache_evicts_the_oldest_within_its_bounds() {
    let key = |i: u8| [i; 32];
    let later = UnixTime(NOW.as_secs() + 3600);
    let mut cache = TokenCache::new(TokenCacheLimits {
        max_entries: 3,
        max_bytes: 100,
    });
    for i in 0..3 {
        assert!(cache.insert(key(i), i, NOW, later, 0, 10));
    }
    // A fourth entry evicts the oldest.
    assert!(cache.insert(key(3), 3, NOW, later, 0, 10));
    assert_eq!(cache.len(), 3);
    assert!(cache.get(&key(0), NOW, 0).is_none());
    assert_eq!(cache.get(&key(1), NOW, 0), Some(&1));
    // Re-inserting a digest replaces it and makes it the newest.
    assert!(cache.insert(key(1), 11, NOW, later, 0, 10));
    assert!(cache.insert(key(4), 4, NOW, later, 0, 10));
    assert!(cache.get(&key(2), NOW, 0).is_none(), "2 was the oldest");
    assert_eq!(cache.get(&key(1), NOW, 0), Some(&11));
    // Bytes: an 85-byte entry evicts until it fits.
    assert!(cache.insert(key(5), 5, NOW, later, 0, 85));
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.bytes(), 95);
    assert!(cache.get(&key(1), NOW, 0).is_none());
    assert_eq!(cache.get(&key(5), NOW, 0), Some(&5));
    // purge drops the expired and the other generations.
    cache.clear();
    assert!(cache.insert(key(1), 1, NOW, UnixTime(NOW.as_secs() + 5), 0, 1));
    assert!(cache.insert(key(2), 2, NOW, later, 1, 1));
    assert!(cache.insert(key(3), 3, NOW, later, 0, 1));
    assert_eq!(cache.purge(UnixTime(NOW.as_secs() + 5), 0), 2);
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.bytes(), 1);
    assert_eq!(cache.limits().max_entries, 3);
    // Many replacements of one digest keep the bookkeeping bounded and the order right.
    let mut cache = TokenCache::new(TokenCacheLimits {
        max_entries: 2,
        max_bytes: 1000,
    });
    for round in 0..1000u32 {
        assert!(cache.insert(key(9), round, NOW, later, 0, 1));
    }
    assert!(cache.queue_len() <= 2 * 2 + 16 + 1);
    assert!(cache.insert(key(8), 8, NOW, later, 0, 1));
    assert!(cache.insert(key(7), 7, NOW, later, 0, 1));
    assert!(cache.get(&key(9), NOW, 0).is_none(), "9 was the oldest");
    assert_eq!(cache.len(), 2);
}

/// What the filter will do per request: hash, look up, and bind — the token verified once.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn cached_tokens_are_still_bound_per_request() {
    let set = keys("jwks.json");
    let config = config();
    let alice = identity("healthcare/clinician-alice");
    let bob = identity("healthcare/admin-bob");
    let bytes = fixtures::token("valid-es256");
    let mut cache: TokenCache<VerifiedToken> = TokenCache::new(TokenCacheLimits::DEFAULT);
    let mut verifications = 0;
    let mut request = |identity: &Identity, now: UnixTime| -> Result<(), TokenError> {
        let digest = token_digest(&bytes);
        if cache.get(&digest, now, 1).is_none() {
            verifications += 1;
            let token = verify(&bytes, &set, &config, now)?;
            let (until, weight) = (token.valid_until(), token.memory_bytes());
            cache.insert(digest, token, now, until, 1, weight);
        }
        let token = cache.get(&digest, now, 1).ok_or(TokenError::Missing)?;
        binding_matches(token.claims(), identity)
    };
    assert_eq!(request(&alice, NOW), Ok(()));
    assert_eq!(request(&alice, NOW), Ok(()));
    // The same cached token replayed over bob's connection: refused.
    assert_eq!(
        request(&bob, NOW).map_err(|e| e.code()),
        Err("token_binding_mismatch")
    );
    assert_eq!(request(&alice, NOW), Ok(()));
    assert_eq!(verifications, 1);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bearer_tokens_are_taken_from_the_authorization_value() {
    assert_eq!(
        bearer_token(b"Bearer abc.def.ghi"),
        Some(&b"abc.def.ghi"[..])
    );
    assert_eq!(bearer_token(b"bearer   abc"), Some(&b"abc"[..]));
    assert_eq!(bearer_token(b" BEARER abc \t"), Some(&b"abc"[..]));
    // The token is not judged here: a space inside it is verify's to refuse.
    assert_eq!(bearer_token(b"Bearer a b"), Some(&b"a b"[..]));
    for other in [
        &b""[..],
        b"Bearer",
        b"Bearer ",
        b"Bearerabc",
        b"Bearer\tabc",
        b"Basic YWxpY2U6cHc=",
        b"DPoP abc.def.ghi",
        b"Token abc",
    ] {
        assert_eq!(bearer_token(other), None, "{other:?}");
    }
}
