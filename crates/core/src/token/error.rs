//! Why a token, a key set or a token configuration was refused.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::crl::format_time;
use crate::crypto::{CryptoError, SignatureAlgorithm};
use crate::time::UnixTime;

/// The three parts of a JWS compact serialization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The protected header.
    Header,
    /// The payload (the claims set).
    Claims,
    /// The signature.
    Signature,
}

impl Part {
    /// `header`, `claims set`, `signature`.
    pub const fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Claims => "claims set",
            Part::Signature => "signature",
        }
    }
}

/// Why a token was refused. A refused token never authenticates anything.
/// [`TokenError::code`] is a stable short name for reason strings, logs and counters;
/// `Display` is the message for people. Values the token supplies (an `alg`, a `kid`, an
/// issuer) are shown escaped and cut at 64 characters.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// No token where one is required (for the filter: no `Authorization: Bearer`).
    Missing,
    /// No key set to verify with yet: `tokens` has only `jwks_fetch` and no fetch has
    /// installed one (fail closed until one does).
    KeysUnavailable,
    /// Several tokens where one is expected: the token header repeated, or one value joined
    /// from several with `,` (which base64url never contains).
    Repeated,
    /// A token in the URL query (`access_token`, RFC 6750 §2.3, `api_token` or
    /// `bearer_token`, in any spelling a framework reads as that name): the application may
    /// act on it, and the filter verifies only the token header.
    InQuery,
    /// More bytes than a [`super::TokenLimits`] cap.
    TooLarge {
        /// What was measured (`token`, `header JSON`, `claims JSON`).
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Five parts: a JWE (encrypted token). Only signed tokens (JWS) are accepted.
    Encrypted,
    /// Not three `.`-separated parts, or an empty header or claims part.
    Malformed(String),
    /// A part is not strict base64url.
    Base64 {
        /// Which part.
        part: Part,
        /// What is wrong, and where.
        detail: String,
    },
    /// The header or claims are not one JSON object (syntax, UTF-8, nesting).
    Json {
        /// Which part.
        part: Part,
        /// serde_json's message with line and column, or what else is wrong.
        detail: String,
    },
    /// A JSON object in the header or claims names a member twice.
    DuplicateMember {
        /// Which part.
        part: Part,
        /// The repeated name.
        name: String,
    },
    /// A header member has the wrong type, or `alg` is missing.
    BadHeader(String),
    /// `alg` is `none` (in any letter case): an unsecured token.
    AlgNone {
        /// As written.
        alg: String,
    },
    /// `alg` is an HMAC algorithm (`HS256`...).
    AlgHmac {
        /// As written.
        alg: String,
    },
    /// `alg` names no signature algorithm we verify (`ES512`, `ES256K`, `RSA-OAEP`...).
    AlgUnsupported {
        /// As written.
        alg: String,
    },
    /// A supported algorithm that the configuration does not allow.
    AlgNotAllowed {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
        /// The configured allow-list (JOSE names).
        allowed: Vec<&'static str>,
    },
    /// `b64: false` (RFC 7797 unencoded payload).
    UnencodedPayload,
    /// `crit` lists header parameters we do not understand (RFC 7515 §4.1.11).
    CritUnsupported {
        /// Those parameters.
        names: Vec<String>,
    },
    /// Header members that name a key for the verifier to use: `jku`, `x5u`, `jwk`, `x5c`.
    KeyInHeader {
        /// The members present, in that order.
        members: Vec<&'static str>,
    },
    /// `typ` is absent or not one of the configured types.
    TypeNotAllowed {
        /// The token's `typ`, if any.
        typ: Option<String>,
        /// The configured types.
        allowed: Vec<String>,
    },
    /// `kid` names no key of the key set.
    UnknownKid {
        /// The token's `kid`.
        kid: String,
    },
    /// No `kid`, and several keys of the set could verify the algorithm.
    KidRequired {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
        /// How many keys could.
        candidates: usize,
    },
    /// No key of the set can verify this algorithm (token without `kid`).
    NoKey {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
    },
    /// `kid` names a key the set holds but does not use for verification (`use: enc`, no
    /// `verify` in `key_ops`, an unsupported curve...).
    KeyUnusable {
        /// The `kid`.
        kid: String,
        /// Why the key set skipped it.
        reason: String,
    },
    /// `kid` names a key of another type, curve or `alg` than the token's algorithm.
    KeyMismatch {
        /// The `kid`.
        kid: String,
        /// What does not fit.
        detail: String,
    },
    /// The signature does not verify with the selected key (or is malformed).
    Signature(CryptoError),
    /// A registered claim has the wrong type or form, or the claims are not an object.
    BadClaim {
        /// The claim (`exp`, `aud`, `cnf.x5t#S256`, `$` for the whole set).
        claim: String,
        /// What is wrong.
        detail: String,
    },
    /// A required claim is absent: `iss`, `aud` or `exp`.
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// `iss` is not the configured issuer.
    IssuerMismatch {
        /// The token's `iss`.
        found: String,
        /// The configured issuer.
        expected: String,
    },
    /// No `aud` value is one of the configured audiences.
    AudienceMismatch {
        /// The token's audiences.
        found: Vec<String>,
    },
    /// `now` is at or after `exp` plus the clock skew.
    Expired {
        /// `exp`.
        exp: UnixTime,
        /// The time of the check.
        now: UnixTime,
        /// The configured skew in seconds.
        skew: u64,
    },
    /// `now` plus the clock skew is before `nbf`.
    NotYetValid {
        /// `nbf`.
        nbf: UnixTime,
        /// The time of the check.
        now: UnixTime,
        /// The configured skew in seconds.
        skew: u64,
    },
    /// `iat` is after `now` plus the clock skew.
    IssuedInFuture {
        /// `iat`.
        iat: UnixTime,
        /// The time of the check.
        now: UnixTime,
        /// The configured skew in seconds.
        skew: u64,
    },
    /// Certificate binding is required and the token has no `cnf` `x5t#S256` (RFC 8705 §3.1).
    NotBound,
    /// The token is bound to another certificate than the one the connection presented.
    BindingMismatch {
        /// The token's `cnf` `x5t#S256`.
        token: String,
        /// The presented certificate's thumbprint, same encoding.
        certificate: String,
    },
    /// A claim ↔ certificate consistency check failed.
    ClaimMismatch {
        /// The claim path.
        claim: String,
        /// The selector it must equal.
        selector: String,
        /// The claim's values (none when absent).
        found: Vec<String>,
    },
}

impl TokenError {
    /// Stable short code (`token_expired`, `token_bad_signature`, ...) for reason strings,
    /// logs and counters.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Missing => "token_missing",
            TokenError::KeysUnavailable => "token_keys_unavailable",
            TokenError::Repeated => "token_repeated",
            TokenError::InQuery => "token_in_query",
            TokenError::TooLarge { .. } => "token_too_large",
            TokenError::Encrypted => "token_encrypted",
            TokenError::Malformed(_) => "token_malformed",
            TokenError::Base64 { .. } => "token_bad_base64",
            TokenError::Json { .. } => "token_bad_json",
            TokenError::DuplicateMember { .. } => "token_duplicate_member",
            TokenError::BadHeader(_) => "token_bad_header",
            TokenError::AlgNone { .. } => "token_alg_none",
            TokenError::AlgHmac { .. } => "token_alg_hmac",
            TokenError::AlgUnsupported { .. } => "token_alg_unsupported",
            TokenError::AlgNotAllowed { .. } => "token_alg_not_allowed",
            TokenError::UnencodedPayload => "token_unencoded_payload",
            TokenError::CritUnsupported { .. } => "token_crit_unsupported",
            TokenError::KeyInHeader { .. } => "token_key_in_header",
            TokenError::TypeNotAllowed { .. } => "token_type_not_allowed",
            TokenError::UnknownKid { .. } => "token_unknown_kid",
            TokenError::KidRequired { .. } => "token_kid_required",
            TokenError::NoKey { .. } => "token_no_key",
            TokenError::KeyUnusable { .. } => "token_key_unusable",
            TokenError::KeyMismatch { .. } => "token_key_mismatch",
            TokenError::Signature(_) => "token_bad_signature",
            TokenError::BadClaim { .. } => "token_bad_claim",
            TokenError::MissingClaim { .. } => "token_missing_claim",
            TokenError::IssuerMismatch { .. } => "token_issuer_mismatch",
            TokenError::AudienceMismatch { .. } => "token_audience_mismatch",
            TokenError::Expired { .. } => "token_expired",
            TokenError::NotYetValid { .. } => "token_not_yet_valid",
            TokenError::IssuedInFuture { .. } => "token_issued_in_future",
            TokenError::NotBound => "token_not_bound",
            TokenError::BindingMismatch { .. } => "token_binding_mismatch",
            TokenError::ClaimMismatch { .. } => "token_claim_mismatch",
        }
    }
}

/// Why HMAC is refused, said the same way for tokens, keys and configuration.
pub(crate) const HMAC_WHY: &str = "HMAC needs a shared secret, and a shared secret must not be in a proxy configuration (anyone who can read it can mint tokens); use an asymmetric algorithm (ES256, ES384, RS256, PS256, EdDSA)";

pub(crate) use crate::json_value::quoted as shown;

fn shown_list(f: &mut fmt::Formatter<'_>, values: &[String]) -> fmt::Result {
    f.write_str("[")?;
    for (i, value) in values.iter().take(8).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&shown(value))?;
    }
    if values.len() > 8 {
        write!(f, ", ... {} more", values.len() - 8)?;
    }
    f.write_str("]")
}

fn skew_note(f: &mut fmt::Formatter<'_>, now: UnixTime, skew: u64) -> fmt::Result {
    write!(f, "(now {}, clock skew {skew} s)", format_time(now))
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Missing => f.write_str("no token"),
            TokenError::KeysUnavailable => {
                f.write_str("no key set yet: the issuer's JWKS has not been fetched")
            }
            TokenError::Repeated => f.write_str(
                "several tokens (the token header repeated, or values joined with `,`): which one counts is ambiguous",
            ),
            TokenError::InQuery => f.write_str(
                "a token in the query (`access_token`, `api_token` or `bearer_token`): the application may read it, and only the token header is verified",
            ),
            TokenError::TooLarge { what, len, max } => {
                write!(f, "the {what} is {len} bytes, more than the {max}-byte limit")
            }
            TokenError::Encrypted => f.write_str(
                "five parts: an encrypted token (JWE); only signed tokens (JWS compact serialization) are accepted",
            ),
            TokenError::Malformed(detail) => write!(f, "not a JWS compact serialization: {detail}"),
            TokenError::Base64 { part, detail } => {
                write!(f, "the {} is not base64url: {detail}", part.name())
            }
            TokenError::Json { part, detail } => {
                write!(f, "the {} is not a JSON object: {detail}", part.name())
            }
            TokenError::DuplicateMember { part, name } => write!(
                f,
                "the {} names the member {} twice (readers disagree on which one counts)",
                part.name(),
                shown(name)
            ),
            TokenError::BadHeader(detail) => write!(f, "header: {detail}"),
            TokenError::AlgNone { alg } => write!(
                f,
                "alg {}: an unsecured token, never accepted",
                shown(alg)
            ),
            TokenError::AlgHmac { alg } => write!(f, "alg {} refused: {HMAC_WHY}", shown(alg)),
            TokenError::AlgUnsupported { alg } => write!(
                f,
                "alg {} is not a signature algorithm we verify (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)",
                shown(alg)
            ),
            TokenError::AlgNotAllowed { algorithm, allowed } => write!(
                f,
                "alg {} is not in the allowed algorithms ({})",
                algorithm.jose_name(),
                allowed.join(", ")
            ),
            TokenError::UnencodedPayload => f.write_str(
                "b64: false (RFC 7797 unencoded payload) is not supported",
            ),
            TokenError::CritUnsupported { names } => {
                f.write_str("crit lists header parameters we do not understand: ")?;
                shown_list(f, names)
            }
            TokenError::KeyInHeader { members } => write!(
                f,
                "the header names its own verification key ({}): keys come only from the configured key set",
                members.join(", ")
            ),
            TokenError::TypeNotAllowed { typ, allowed } => {
                match typ {
                    Some(typ) => write!(f, "typ {} is not one of ", shown(typ))?,
                    None => f.write_str("no typ; expected one of ")?,
                }
                shown_list(f, allowed)
            }
            TokenError::UnknownKid { kid } => {
                write!(f, "kid {} names no key of the key set", shown(kid))
            }
            TokenError::KidRequired {
                algorithm,
                candidates,
            } => write!(
                f,
                "no kid, and {candidates} keys of the key set could verify {}: the token must name its key",
                algorithm.jose_name()
            ),
            TokenError::NoKey { algorithm } => write!(
                f,
                "no kid, and no key of the key set can verify {}",
                algorithm.jose_name()
            ),
            TokenError::KeyUnusable { kid, reason } => write!(
                f,
                "kid {} names a key the key set does not use for signatures: {reason}",
                shown(kid)
            ),
            TokenError::KeyMismatch { kid, detail } => {
                write!(f, "kid {}: {detail}", shown(kid))
            }
            TokenError::Signature(error) => write!(f, "signature: {error}"),
            TokenError::BadClaim { claim, detail } => write!(f, "claim {claim}: {detail}"),
            TokenError::MissingClaim { claim } => write!(f, "the required claim {claim} is missing"),
            TokenError::IssuerMismatch { found, expected } => write!(
                f,
                "iss {} is not the configured issuer {}",
                shown(found),
                shown(expected)
            ),
            TokenError::AudienceMismatch { found } => {
                f.write_str("no configured audience is in aud ")?;
                shown_list(f, found)
            }
            TokenError::Expired { exp, now, skew } => {
                write!(f, "expired at {} ", format_time(*exp))?;
                skew_note(f, *now, *skew)
            }
            TokenError::NotYetValid { nbf, now, skew } => {
                write!(f, "not valid before {} ", format_time(*nbf))?;
                skew_note(f, *now, *skew)
            }
            TokenError::IssuedInFuture { iat, now, skew } => {
                write!(f, "issued in the future, at {} ", format_time(*iat))?;
                skew_note(f, *now, *skew)
            }
            TokenError::NotBound => f.write_str(
                "the token is not bound to a certificate (no cnf x5t#S256, RFC 8705 §3.1)",
            ),
            TokenError::BindingMismatch { token, certificate } => write!(
                f,
                "the token is bound to the certificate with x5t#S256 {token}, not to the presented one ({certificate})"
            ),
            TokenError::ClaimMismatch {
                claim,
                selector,
                found,
            } => {
                if found.is_empty() {
                    write!(f, "claim {claim} has no value to compare with {selector}")
                } else {
                    write!(f, "claim {claim} ")?;
                    shown_list(f, found)?;
                    write!(f, " does not equal the certificate's {selector}")
                }
            }
        }
    }
}

impl core::error::Error for TokenError {}

/// Why a JWK set (JWKS) was refused. A refused set never replaces the one in force.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksError {
    /// More bytes than [`super::JwksLimits::max_bytes`].
    TooLarge {
        /// Length received.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not JSON (syntax, UTF-8, nesting).
    Json(String),
    /// An object names a member twice.
    DuplicateMember {
        /// The repeated name.
        name: String,
    },
    /// Not an object with a `keys` array.
    NotAKeySet(String),
    /// More keys than [`super::JwksLimits::max_keys`].
    TooManyKeys {
        /// The cap.
        max: usize,
    },
    /// A key of a type we verify with is malformed (members, base64url, lengths, the key
    /// itself: modulus size, point on the curve...).
    BadKey {
        /// Index in `keys`.
        index: usize,
        /// Its `kid`, if any.
        kid: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// A key carries private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`).
    PrivateKey {
        /// Index in `keys`.
        index: usize,
        /// Its `kid`, if any.
        kid: Option<String>,
        /// The first private member found.
        member: &'static str,
    },
    /// A symmetric key (`kty: oct`): a shared secret.
    SymmetricKey {
        /// Index in `keys`.
        index: usize,
        /// Its `kid`, if any.
        kid: Option<String>,
    },
    /// Two keys with the same `kid`.
    DuplicateKid {
        /// The `kid`.
        kid: String,
    },
    /// No key of the set can verify signatures.
    NoUsableKey {
        /// Keys skipped (unsupported type or curve, `use: enc`...).
        skipped: usize,
    },
}

impl JwksError {
    /// Stable short code (`jwks_private_key`, `jwks_duplicate_kid`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            JwksError::TooLarge { .. } => "jwks_too_large",
            JwksError::Json(_) => "jwks_bad_json",
            JwksError::DuplicateMember { .. } => "jwks_duplicate_member",
            JwksError::NotAKeySet(_) => "jwks_not_a_key_set",
            JwksError::TooManyKeys { .. } => "jwks_too_many_keys",
            JwksError::BadKey { .. } => "jwks_bad_key",
            JwksError::PrivateKey { .. } => "jwks_private_key",
            JwksError::SymmetricKey { .. } => "jwks_symmetric_key",
            JwksError::DuplicateKid { .. } => "jwks_duplicate_kid",
            JwksError::NoUsableKey { .. } => "jwks_no_usable_key",
        }
    }
}

fn key_name(f: &mut fmt::Formatter<'_>, index: usize, kid: &Option<String>) -> fmt::Result {
    write!(f, "keys[{index}]")?;
    match kid {
        Some(kid) => write!(f, " (kid {})", shown(kid)),
        None => Ok(()),
    }
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksError::TooLarge { len, max } => {
                write!(f, "the JWKS is {len} bytes, more than the {max}-byte limit")
            }
            JwksError::Json(detail) => write!(f, "the JWKS is not JSON: {detail}"),
            JwksError::DuplicateMember { name } => write!(
                f,
                "the JWKS names the member {} twice in one object",
                shown(name)
            ),
            JwksError::NotAKeySet(detail) => write!(f, "not a JWK set: {detail}"),
            JwksError::TooManyKeys { max } => {
                write!(f, "the JWKS has more than {max} keys (the limit)")
            }
            JwksError::BadKey { index, kid, detail } => {
                key_name(f, *index, kid)?;
                write!(f, ": {detail}")
            }
            JwksError::PrivateKey { index, kid, member } => {
                key_name(f, *index, kid)?;
                write!(
                    f,
                    " is a private key (member `{member}`): publish only public keys; a private key in a proxy configuration lets anyone who reads it sign tokens"
                )
            }
            JwksError::SymmetricKey { index, kid } => {
                key_name(f, *index, kid)?;
                write!(f, " is a symmetric key (kty oct): {HMAC_WHY}")
            }
            JwksError::DuplicateKid { kid } => write!(
                f,
                "two keys have the kid {}: a token's kid must name one key",
                shown(kid)
            ),
            JwksError::NoUsableKey { skipped } => write!(
                f,
                "no key of the JWKS can verify signatures ({skipped} skipped)"
            ),
        }
    }
}

impl core::error::Error for JwksError {}

/// Why a token configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenConfigError {
    /// The setting (`issuer`, `audiences`, `algorithms`, `clock_skew_secs`...).
    pub field: &'static str,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for TokenConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

impl core::error::Error for TokenConfigError {}
