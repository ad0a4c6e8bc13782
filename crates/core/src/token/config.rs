//! What a token must satisfy: the configured issuer, audiences, algorithms, types, clock skew
//! and size limits. Built once per configuration, checked when built.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{shown, TokenConfigError, TokenError, HMAC_WHY};
use crate::crypto::SignatureAlgorithm;

/// Bounds on the work one token may cause. Tokens arrive in request headers, so these make a
/// hostile one a clear refusal before anything is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLimits {
    /// Largest token (the compact serialization) accepted, in bytes.
    pub max_token_bytes: usize,
    /// Largest header JSON (after base64url decoding), in bytes.
    pub max_header_bytes: usize,
    /// Largest claims JSON (after base64url decoding), in bytes.
    pub max_claims_bytes: usize,
    /// Deepest nesting of arrays and objects in the header or claims.
    pub max_depth: usize,
}

impl TokenLimits {
    /// 16 KiB of token, 2 KiB of header JSON, 12 KiB of claims JSON, 16 levels of nesting.
    /// Access tokens are usually 0.5–2 KiB; Azure AD tokens with group claims reach ~5 KiB
    /// before it switches to "group overage". Envoy's default request-header limit is 60 KiB.
    pub const DEFAULT: TokenLimits = TokenLimits {
        max_token_bytes: 16 * 1024,
        max_header_bytes: 2 * 1024,
        max_claims_bytes: 12 * 1024,
        max_depth: 16,
    };
}

impl Default for TokenLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The algorithms allowed when the configuration names none: the ones RFC 8725 §3.2 and the
/// issue name as current practice.
pub const DEFAULT_ALGORITHMS: [SignatureAlgorithm; 5] = [
    SignatureAlgorithm::EcdsaP256Sha256,
    SignatureAlgorithm::EcdsaP384Sha384,
    SignatureAlgorithm::RsaPkcs1Sha256,
    SignatureAlgorithm::RsaPssSha256,
    SignatureAlgorithm::Ed25519,
];

/// The default clock skew, in seconds: what Envoy's `jwt_authn` uses (`clock_skew_seconds`).
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;
/// Largest clock skew accepted: a larger one would keep expired tokens working for longer
/// than a clock that is merely drifting explains.
pub const MAX_CLOCK_SKEW_SECS: u64 = 600;

/// What a verified token must satisfy. `issuer` and `audiences` are required (RFC 8725 §3.8,
/// §3.9: a token for another issuer or another service must not pass).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenConfig {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<SignatureAlgorithm>,
    types: Vec<String>,
    clock_skew_secs: u64,
    limits: TokenLimits,
}

impl TokenConfig {
    /// A configuration for tokens of `issuer` addressed to any of `audiences`, with the
    /// [`DEFAULT_ALGORITHMS`], any `typ`, [`DEFAULT_CLOCK_SKEW_SECS`] and
    /// [`TokenLimits::DEFAULT`]. The issuer and every audience must be non-empty strings.
    pub fn new(issuer: &str, audiences: &[&str]) -> Result<Self, TokenConfigError> {
        if issuer.is_empty() {
            return Err(TokenConfigError {
                field: "issuer",
                detail: String::from("must not be empty"),
            });
        }
        if audiences.is_empty() {
            return Err(TokenConfigError {
                field: "audiences",
                detail: String::from(
                    "at least one audience is required: a token for another service must not pass",
                ),
            });
        }
        if audiences.iter().any(|audience| audience.is_empty()) {
            return Err(TokenConfigError {
                field: "audiences",
                detail: String::from("an audience must not be empty"),
            });
        }
        Ok(Self {
            issuer: String::from(issuer),
            audiences: audiences.iter().map(|a| String::from(*a)).collect(),
            algorithms: Vec::from(DEFAULT_ALGORITHMS),
            types: Vec::new(),
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            limits: TokenLimits::DEFAULT,
        })
    }

    /// Allows exactly these algorithms, by JOSE name (`ES256`, `RS256`, `PS256`, `EdDSA`...).
    /// `none` and `HS*` are refused with the reason; an unknown or repeated name is an error.
    pub fn with_algorithm_names(self, names: &[&str]) -> Result<Self, TokenConfigError> {
        let mut algorithms = Vec::with_capacity(names.len());
        for name in names {
            let algorithm = algorithm_from_jose(name).map_err(|error| TokenConfigError {
                field: "algorithms",
                detail: error.to_string_without_prefix(),
            })?;
            if algorithms.contains(&algorithm) {
                return Err(TokenConfigError {
                    field: "algorithms",
                    detail: format!("{} is listed twice", shown(name)),
                });
            }
            algorithms.push(algorithm);
        }
        self.with_algorithms(&algorithms)
    }

    /// Allows exactly these algorithms (at least one).
    pub fn with_algorithms(
        mut self,
        algorithms: &[SignatureAlgorithm],
    ) -> Result<Self, TokenConfigError> {
        if algorithms.is_empty() {
            return Err(TokenConfigError {
                field: "algorithms",
                detail: String::from("at least one algorithm is required"),
            });
        }
        self.algorithms = Vec::from(algorithms);
        Ok(self)
    }

    /// Requires `typ` to be one of `types` (compared without letter case, and `application/`
    /// may be written or left out: RFC 7515 §4.1.9). Empty: any `typ`, or none. RFC 9068
    /// access tokens use `at+jwt`.
    pub fn with_types(mut self, types: &[&str]) -> Self {
        self.types = types.iter().map(|t| String::from(*t)).collect();
        self
    }

    /// The clock skew tolerated on `exp`, `nbf` and `iat`, at most [`MAX_CLOCK_SKEW_SECS`].
    pub fn with_clock_skew_secs(mut self, secs: u64) -> Result<Self, TokenConfigError> {
        if secs > MAX_CLOCK_SKEW_SECS {
            return Err(TokenConfigError {
                field: "clock_skew_secs",
                detail: format!(
                    "{secs} is above {MAX_CLOCK_SKEW_SECS}: expired tokens would keep working that long"
                ),
            });
        }
        self.clock_skew_secs = secs;
        Ok(self)
    }

    /// Other size limits.
    pub fn with_limits(mut self, limits: TokenLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The required `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The accepted audiences (one of them must be in `aud`).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The allowed algorithms.
    pub fn algorithms(&self) -> &[SignatureAlgorithm] {
        &self.algorithms
    }

    /// The accepted `typ` values (empty: any).
    pub fn types(&self) -> &[String] {
        &self.types
    }

    /// The clock skew in seconds.
    pub fn clock_skew_secs(&self) -> u64 {
        self.clock_skew_secs
    }

    /// The size limits.
    pub fn limits(&self) -> &TokenLimits {
        &self.limits
    }
}

/// The algorithm of a JOSE `alg` value, or the refusal that explains it: `none` in any case
/// ([`TokenError::AlgNone`]), `HS*` in any case ([`TokenError::AlgHmac`]), anything else we do
/// not verify ([`TokenError::AlgUnsupported`]). Supported names are exact and case-sensitive.
pub fn algorithm_from_jose(alg: &str) -> Result<SignatureAlgorithm, TokenError> {
    if let Some(algorithm) = SignatureAlgorithm::from_jose(alg) {
        return Ok(algorithm);
    }
    let upper = alg.as_bytes().get(..2).map(<[u8]>::to_ascii_uppercase);
    Err(if alg.eq_ignore_ascii_case("none") {
        TokenError::AlgNone {
            alg: String::from(alg),
        }
    } else if upper.as_deref() == Some(b"HS") {
        TokenError::AlgHmac {
            alg: String::from(alg),
        }
    } else {
        TokenError::AlgUnsupported {
            alg: String::from(alg),
        }
    })
}

impl TokenError {
    /// The message of an `alg` refusal for a configuration (no "alg" prefix needed there).
    fn to_string_without_prefix(&self) -> String {
        match self {
            TokenError::AlgNone { alg } => {
                format!(
                    "{} would accept unsecured tokens: never allowed",
                    shown(alg)
                )
            }
            TokenError::AlgHmac { alg } => format!("{} refused: {HMAC_WHY}", shown(alg)),
            other => alloc::string::ToString::to_string(other),
        }
    }
}

/// Whether `typ` is one of `allowed` (RFC 7515 §4.1.9: media types compare without case, and
/// `application/` may be omitted).
pub(crate) fn type_allowed(typ: &str, allowed: &[String]) -> bool {
    let strip = |value: &str| -> String {
        let lower = value.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => String::from(rest),
            _ => lower,
        }
    };
    let typ = strip(typ);
    allowed.iter().any(|candidate| strip(candidate) == typ)
}
