//! Access tokens: JWS compact serialization verified against a JWK set, claims validated
//! against a [`TokenConfig`], and bound to the client certificate (RFC 8705).
//!
//! ```text
//! JWKS bytes --KeySet::from_jwks(limits)--> KeySet ------------------------------+
//! token bytes --Jws::parse(limits)--> Jws --verify(keys, config, now)--> VerifiedToken
//!                                       `--check(keys, config, now)--> every problem
//! verify(token, keys, config, now): the two in one call, a pure function of its inputs
//! binding_matches(claims, identity)   ClaimConsistency::check(claims, identity)
//! TokenCache: token_digest(token) -> VerifiedToken, bounded, expiring with exp
//! ```
//!
//! What is checked, in this order (the first failure is the reason; docs/DECISIONS.md "Tokens
//! (RFC 8705)" says why each rule exists):
//! 1. structure ([`Jws::parse`]): size limits, exactly three `.`-separated parts (five: a JWE,
//!    refused), strict base64url, header and claims each one JSON object with no repeated
//!    member, the registered header members of the right type;
//! 2. header: `alg` a supported algorithm in the configured allow-list (`none` and `HS*`
//!    refused by name), no `b64: false`, no `crit` parameter we do not understand, no member
//!    that names a key (`jku`, `x5u`, `jwk`, `x5c`), `typ` allowed when types are configured;
//! 3. key: chosen from the key set by `kid` (or the one fitting key when there is no `kid`),
//!    its type, curve and own `alg` fitting the token's `alg`;
//! 4. signature;
//! 5. claims: registered claims of the right type, `iss` the configured issuer, an `aud`
//!    value among the configured audiences, `exp` present and not passed, `nbf` and `iat` not
//!    in the future, all with the configured clock skew.
//!
//! Claims are judged only after the signature, so a reason such as `token_expired` always
//! describes a genuine token of the issuer. Certificate binding and consistency are separate
//! calls because they depend on the connection, not on the token.

mod base64url;
mod binding;
mod cache;
mod claims;
mod config;
mod error;
mod header;
mod jwks;
mod source;

use alloc::string::String;
use alloc::vec::Vec;

pub use binding::{binding_matches, certificate_thumbprint, ClaimConsistency};
pub use cache::{token_digest, TokenCache, TokenCacheLimits, TokenDigest};
pub use claims::{ClaimPath, ClaimPathError, Claims, MAX_NUMERIC_DATE};
pub use config::{
    algorithm_from_jose, TokenConfig, TokenLimits, DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW_SECS,
    MAX_CLOCK_SKEW_SECS,
};
pub use error::{JwksError, Part, TokenConfigError, TokenError};
pub use header::{Header, KEY_MEMBERS};
pub use jwks::{Jwk, JwksLimits, KeySet, SkippedKey};
pub use source::{JwksCounts, JwksSource, JwksUpdate};

use crate::crypto::{SignatureAlgorithm, SignatureFormat};
use crate::json_value::{self, JsonError, JsonValue};
use crate::time::UnixTime;

/// Parses `token` and verifies it against `keys` and `config` at `now`: the whole decision on
/// a token in one pure function of its inputs. Binding to the client certificate is a separate
/// step ([`binding_matches`]).
pub fn verify(
    token: &[u8],
    keys: &KeySet,
    config: &TokenConfig,
    now: UnixTime,
) -> Result<VerifiedToken, TokenError> {
    Jws::parse(token, config.limits())?.verify(keys, config, now)
}

/// The token of an `Authorization` header value written `Bearer <token>` (RFC 6750 §2.1: the
/// scheme in any letter case, then one or more spaces), or `None` for another scheme or no
/// token. Whitespace around the value is ignored (proxies hand over header values trimmed); the
/// token itself is not checked here ([`verify`] refuses anything but strict base64url).
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.starts_with(b" ") {
        return None;
    }
    let token = rest.trim_ascii_start();
    (!token.is_empty()).then_some(token)
}

/// A token whose structure has been read (see [`Jws::parse`]) but that has NOT been checked:
/// [`Jws::verify`] does that.
#[derive(Clone, Debug)]
pub struct Jws<'a> {
    signing_input: &'a [u8],
    header: Header,
    claims: Result<Claims, TokenError>,
    signature: Vec<u8>,
    json_bytes: usize,
}

/// What to check a token against; `None` leaves that check out (for tools that show what
/// they can: `mtls-authz token inspect` without `--jwks` or `--iss`). [`Jws::check`] and
/// [`Jws::verify`] fill every field from a [`TokenConfig`].
#[derive(Clone, Copy, Debug)]
pub struct Checks<'c> {
    /// The key set; `None`: key and signature not checked.
    pub keys: Option<&'c KeySet>,
    /// The allowed algorithms.
    pub algorithms: &'c [SignatureAlgorithm],
    /// The allowed `typ` values (empty: any).
    pub types: &'c [String],
    /// The required issuer; `None`: not checked.
    pub issuer: Option<&'c str>,
    /// The accepted audiences; `None`: not checked.
    pub audiences: Option<&'c [String]>,
    /// Clock skew in seconds for `exp`, `nbf`, `iat`.
    pub clock_skew_secs: u64,
    /// The time of the check.
    pub now: UnixTime,
}

impl<'c> Checks<'c> {
    /// Everything `config` requires, with `keys`, at `now`.
    pub fn from_config(keys: &'c KeySet, config: &'c TokenConfig, now: UnixTime) -> Self {
        Self {
            keys: Some(keys),
            algorithms: config.algorithms(),
            types: config.types(),
            issuer: Some(config.issuer()),
            audiences: Some(config.audiences()),
            clock_skew_secs: config.clock_skew_secs(),
            now,
        }
    }
}

/// Every problem [`Jws::check_with`] found, and the key that verified the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The problems in check order (the first is what [`Jws::verify`] reports).
    pub problems: Vec<TokenError>,
    /// The key whose signature verified: its `kid` and a description (`EC P-256`).
    pub verified_by: Option<(Option<String>, String)>,
}

/// A token that passed every check. Holds the header and claims for binding, consistency,
/// role matching and forwarding.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    algorithm: SignatureAlgorithm,
    kid: Option<String>,
    header: Header,
    claims: Claims,
    valid_until: UnixTime,
    json_bytes: usize,
}

impl VerifiedToken {
    /// The algorithm it was verified with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified it (the key's, which equals the token's when the
    /// token names one).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The first moment verification would refuse the token: `exp` plus the clock skew. A
    /// cache entry expires then.
    pub fn valid_until(&self) -> UnixTime {
        self.valid_until
    }

    /// Approximate heap bytes held (for [`TokenCache::insert`]): the decoded JSON twice
    /// (strings plus the tree around them) and the fixed part.
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>() + 2 * self.json_bytes
    }
}

impl<'a> Jws<'a> {
    /// Reads the structure of a JWS compact serialization within `limits`: the token size,
    /// exactly three parts, strict base64url, the decoded header and claims sizes, each a JSON
    /// object without repeated members within the nesting limit, and the types of the
    /// registered header members. These are errors here. The claims' registered types are
    /// read too, but a problem with them is reported by [`Jws::check`] after the signature.
    pub fn parse(token: &'a [u8], limits: &TokenLimits) -> Result<Self, TokenError> {
        if token.len() > limits.max_token_bytes {
            return Err(TokenError::TooLarge {
                what: "token",
                len: token.len(),
                max: limits.max_token_bytes,
            });
        }
        if token.is_empty() {
            return Err(TokenError::Malformed(String::from("the token is empty")));
        }
        let parts = token.iter().filter(|byte| **byte == b'.').count() + 1;
        let mut split = token.splitn(3, |byte| *byte == b'.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), 3) =
            (split.next(), split.next(), split.next(), parts)
        else {
            return Err(if parts == 5 {
                TokenError::Encrypted
            } else {
                TokenError::Malformed(alloc::format!(
                    "{parts} part{} separated by `.`, expected 3 (header.claims.signature)",
                    if parts == 1 { "" } else { "s" }
                ))
            });
        };
        if header_b64.is_empty() {
            return Err(TokenError::Malformed(String::from(
                "the header part is empty",
            )));
        }
        if claims_b64.is_empty() {
            return Err(TokenError::Malformed(String::from(
                "the claims part is empty (a detached payload is not supported)",
            )));
        }
        let header = decode_object(
            header_b64,
            Part::Header,
            "header JSON",
            limits.max_header_bytes,
            limits,
        )?;
        let header_len = header.1;
        let header = Header::from_json(header.0)?;
        let (claims, claims_len) = decode_object(
            claims_b64,
            Part::Claims,
            "claims JSON",
            limits.max_claims_bytes,
            limits,
        )?;
        let signature = base64url::decode(signature_b64).map_err(|detail| TokenError::Base64 {
            part: Part::Signature,
            detail,
        })?;
        let signing_input = token
            .get(..header_b64.len() + 1 + claims_b64.len())
            .unwrap_or_default();
        Ok(Self {
            signing_input,
            header,
            claims: Claims::from_json(JsonValue::Object(claims)),
            signature,
            json_bytes: header_len + claims_len,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims, or why their registered members have the wrong type.
    pub fn claims(&self) -> Result<&Claims, &TokenError> {
        self.claims.as_ref()
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signed bytes: `base64url(header) || '.' || base64url(claims)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input
    }

    /// Every reason to refuse this token under `config` with `keys` at `now`, in check order.
    /// Empty means [`Jws::verify`] succeeds.
    pub fn check(&self, keys: &KeySet, config: &TokenConfig, now: UnixTime) -> Vec<TokenError> {
        self.run(&Checks::from_config(keys, config, now), false)
            .problems
    }

    /// Every problem under `checks` (what is `None` there is not checked), and the key that
    /// verified the signature. For tools; the filter uses [`Jws::verify`].
    pub fn check_with(&self, checks: &Checks<'_>) -> CheckReport {
        self.run(checks, false)
    }

    /// Checks the token and, when nothing is wrong, returns it verified; otherwise the first
    /// problem (the same as `check(..)[0]`). Stops at the first problem, so a token with a
    /// refused `alg` costs no signature verification.
    pub fn verify(
        self,
        keys: &KeySet,
        config: &TokenConfig,
        now: UnixTime,
    ) -> Result<VerifiedToken, TokenError> {
        let report = self.run(&Checks::from_config(keys, config, now), true);
        if let Some(first) = report.problems.into_iter().next() {
            return Err(first);
        }
        let (Some(algorithm), Ok(claims), Some((kid, _))) = (
            SignatureAlgorithm::from_jose(self.header.alg()),
            self.claims,
            report.verified_by,
        ) else {
            // Unreachable: no problem means a supported alg, typed claims and a verified key.
            return Err(TokenError::BadHeader(String::from(
                "internal error: a token without problems lacks a verified key",
            )));
        };
        let exp = claims.exp().unwrap_or(UnixTime(0));
        Ok(VerifiedToken {
            algorithm,
            kid,
            header: self.header,
            valid_until: UnixTime(exp.as_secs().saturating_add(config.clock_skew_secs())),
            claims,
            json_bytes: self.json_bytes,
        })
    }

    /// The checks, in order; `first_only` stops at the first problem.
    fn run(&self, checks: &Checks<'_>, first_only: bool) -> CheckReport {
        let mut report = CheckReport {
            problems: Vec::new(),
            verified_by: None,
        };
        let stop = |report: &mut CheckReport, problem: TokenError| {
            report.problems.push(problem);
            first_only
        };
        let header = &self.header;
        let algorithm = match algorithm_from_jose(header.alg()) {
            Ok(algorithm) if checks.algorithms.contains(&algorithm) => Some(algorithm),
            Ok(algorithm) => {
                let allowed = checks.algorithms.iter().map(|a| a.jose_name()).collect();
                if stop(
                    &mut report,
                    TokenError::AlgNotAllowed { algorithm, allowed },
                ) {
                    return report;
                }
                None
            }
            Err(problem) => {
                if stop(&mut report, problem) {
                    return report;
                }
                None
            }
        };
        if header.b64() == Some(false) && stop(&mut report, TokenError::UnencodedPayload) {
            return report;
        }
        let unknown_crit = header.unknown_crit();
        if !unknown_crit.is_empty()
            && stop(
                &mut report,
                TokenError::CritUnsupported {
                    names: unknown_crit,
                },
            )
        {
            return report;
        }
        if !header.key_members().is_empty()
            && stop(
                &mut report,
                TokenError::KeyInHeader {
                    members: Vec::from(header.key_members()),
                },
            )
        {
            return report;
        }
        if !checks.types.is_empty()
            && !header
                .typ()
                .is_some_and(|typ| config::type_allowed(typ, checks.types))
            && stop(
                &mut report,
                TokenError::TypeNotAllowed {
                    typ: header.typ().map(String::from),
                    allowed: Vec::from(checks.types),
                },
            )
        {
            return report;
        }
        if let (Some(algorithm), Some(keys)) = (algorithm, checks.keys) {
            match keys.select(algorithm, header.kid()) {
                Err(problem) => {
                    if stop(&mut report, problem) {
                        return report;
                    }
                }
                Ok(jwk) => match jwk.key().verify(
                    algorithm,
                    SignatureFormat::Jose,
                    self.signing_input,
                    &self.signature,
                ) {
                    Ok(()) => {
                        report.verified_by =
                            Some((jwk.kid().map(String::from), jwk.key().describe()));
                    }
                    Err(error) => {
                        if stop(&mut report, TokenError::Signature(error)) {
                            return report;
                        }
                    }
                },
            }
        }
        let claims = match &self.claims {
            Ok(claims) => claims,
            Err(problem) => {
                report.problems.push(problem.clone());
                return report;
            }
        };
        if let Some(expected) = checks.issuer {
            let problem = match claims.iss() {
                None => Some(TokenError::MissingClaim { claim: "iss" }),
                Some(found) if found != expected => Some(TokenError::IssuerMismatch {
                    found: String::from(found),
                    expected: String::from(expected),
                }),
                Some(_) => None,
            };
            if let Some(problem) = problem {
                if stop(&mut report, problem) {
                    return report;
                }
            }
        }
        if let Some(audiences) = checks.audiences {
            let problem = match claims.aud() {
                None => Some(TokenError::MissingClaim { claim: "aud" }),
                Some(found) if !found.iter().any(|aud| audiences.contains(aud)) => {
                    Some(TokenError::AudienceMismatch {
                        found: Vec::from(found),
                    })
                }
                Some(_) => None,
            };
            if let Some(problem) = problem {
                if stop(&mut report, problem) {
                    return report;
                }
            }
        }
        let now = checks.now;
        let skew = checks.clock_skew_secs;
        let problem = match claims.exp() {
            None => Some(TokenError::MissingClaim { claim: "exp" }),
            Some(exp) if now.as_secs() >= exp.as_secs().saturating_add(skew) => {
                Some(TokenError::Expired { exp, now, skew })
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            if stop(&mut report, problem) {
                return report;
            }
        }
        if let Some(nbf) = claims.nbf() {
            if now.as_secs().saturating_add(skew) < nbf.as_secs()
                && stop(&mut report, TokenError::NotYetValid { nbf, now, skew })
            {
                return report;
            }
        }
        if let Some(iat) = claims.iat() {
            if iat.as_secs() > now.as_secs().saturating_add(skew) {
                report
                    .problems
                    .push(TokenError::IssuedInFuture { iat, now, skew });
            }
        }
        report
    }
}

/// Decodes one base64url part into a JSON object, within the size and nesting limits.
fn decode_object(
    text: &[u8],
    part: Part,
    what: &'static str,
    max_bytes: usize,
    limits: &TokenLimits,
) -> Result<(json_value::JsonObject, usize), TokenError> {
    // The decoded length, known before decoding: 3 bytes per 4 characters.
    let decoded_len = text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1);
    if decoded_len > max_bytes {
        return Err(TokenError::TooLarge {
            what,
            len: decoded_len,
            max: max_bytes,
        });
    }
    let bytes = base64url::decode(text).map_err(|detail| TokenError::Base64 { part, detail })?;
    let value = json_value::parse(&bytes, limits.max_depth).map_err(|error| match error {
        JsonError::DuplicateMember { name, .. } => TokenError::DuplicateMember { part, name },
        other => TokenError::Json {
            part,
            detail: alloc::format!("{other}"),
        },
    })?;
    match value {
        JsonValue::Object(object) => Ok((object, bytes.len())),
        other => Err(TokenError::Json {
            part,
            detail: alloc::format!("{}, not an object", other.kind()),
        }),
    }
}

#[cfg(test)]
mod tests;
