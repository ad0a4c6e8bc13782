//! JWK sets (RFC 7517 §5): the public keys tokens are verified with, read strictly into
//! [`PublicKey`]s. Keys of a type we do not verify with are skipped and counted (a JWKS that
//! also lists encryption keys or P-521 keys is common); a malformed key of a type we do verify
//! with, a private or symmetric key and a repeated `kid` refuse the whole set.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use sha2::{Digest as _, Sha256};

use super::base64url;
use super::config::algorithm_from_jose;
use super::error::{shown, JwksError, TokenError, HMAC_WHY};
use crate::crypto::{EcCurve, PublicKey, SignatureAlgorithm};
use crate::json_value::{self, JsonError, JsonObject, JsonValue};

/// Bounds on the work one JWKS may cause (it may come from the network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwksLimits {
    /// Largest JWKS accepted, in bytes.
    pub max_bytes: usize,
    /// Most keys accepted (usable and skipped together).
    pub max_keys: usize,
}

impl JwksLimits {
    /// 256 KiB and 100 keys: public identity providers publish 2–10 keys (Azure AD's set,
    /// with an `x5c` chain per key, is ~15 KB).
    pub const DEFAULT: JwksLimits = JwksLimits {
        max_bytes: 256 * 1024,
        max_keys: 100,
    };
}

impl Default for JwksLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// JWKS nesting never needs more than `{ keys: [ { x5c: [ "..." ] } ] }`.
const MAX_DEPTH: usize = 8;

/// Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037
/// §2): a public key set never contains them.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// One usable key of a [`KeySet`].
#[derive(Clone, Debug)]
pub struct Jwk {
    kid: Option<String>,
    alg: Option<SignatureAlgorithm>,
    key: PublicKey,
}

impl Jwk {
    /// The key's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's own `alg`, if it has one: then only that algorithm may use it.
    pub fn alg(&self) -> Option<SignatureAlgorithm> {
        self.alg
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Whether this key may verify `algorithm`: the key type and curve fit, and the key's own
    /// `alg`, when present, is that algorithm.
    pub fn fits(&self, algorithm: SignatureAlgorithm) -> Result<(), String> {
        let expected = algorithm.key_type();
        let found = self.key.key_type();
        if expected != found {
            return Err(format!(
                "the token's alg {} needs an {expected} key, but the key is {}",
                algorithm.jose_name(),
                self.key.describe()
            ));
        }
        match self.alg {
            Some(own) if own != algorithm => Err(format!(
                "the key is for alg {}, the token says {}",
                own.jose_name(),
                algorithm.jose_name()
            )),
            _ => Ok(()),
        }
    }
}

/// A key the set lists but that cannot verify signatures here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    /// Index in `keys`.
    pub index: usize,
    /// Its `kid`, if any.
    pub kid: Option<String>,
    /// Why it is skipped (`kty "RSA-HSM" is not ...`, `use "enc"`, ...).
    pub reason: String,
}

/// The usable keys of a JWKS, plus what was skipped. Built by [`KeySet::from_jwks`].
#[derive(Clone, Debug)]
pub struct KeySet {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
    digest: [u8; 32],
}

impl KeySet {
    /// Reads a JWKS: a JSON object with a `keys` array of JWKs (other top-level members are
    /// ignored, RFC 7517 §5). Supported: `kty` `RSA` (`n`, `e`), `EC` with `crv` `P-256` or
    /// `P-384` (`x`, `y`, each exactly the field length), `OKP` with `crv` `Ed25519` (`x`).
    /// Optional `kid` (a non-empty string, unique in the set), `alg` (must fit the key),
    /// `use` (must be `sig`) and `key_ops` (must contain `verify`); `x5c`, `x5t`, `x5t#S256`
    /// and `x5u` are ignored. Other key types and curves, and keys marked for another use,
    /// are skipped ([`KeySet::skipped`]); everything else wrong is an error.
    pub fn from_jwks(bytes: &[u8], limits: &JwksLimits) -> Result<Self, JwksError> {
        if bytes.len() > limits.max_bytes {
            return Err(JwksError::TooLarge {
                len: bytes.len(),
                max: limits.max_bytes,
            });
        }
        let root = json_value::parse(bytes, MAX_DEPTH).map_err(|error| match error {
            JsonError::DuplicateMember { name, .. } => JwksError::DuplicateMember { name },
            other => JwksError::Json(format!("{other}")),
        })?;
        let Some(root) = root.as_object() else {
            return Err(JwksError::NotAKeySet(format!(
                "the document is {}, not an object",
                root.kind()
            )));
        };
        let entries = match root.get("keys") {
            Some(JsonValue::Array(entries)) => entries,
            Some(other) => {
                return Err(JwksError::NotAKeySet(format!(
                    "`keys` is {}, not an array",
                    other.kind()
                )))
            }
            None => {
                return Err(JwksError::NotAKeySet(String::from(
                    "no `keys` member (a single JWK is not a JWK set)",
                )))
            }
        };
        if entries.len() > limits.max_keys {
            return Err(JwksError::TooManyKeys {
                max: limits.max_keys,
            });
        }
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        let mut kids: Vec<&str> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let Some(jwk) = entry.as_object() else {
                return Err(JwksError::BadKey {
                    index,
                    kid: None,
                    detail: format!("{}, not an object", entry.kind()),
                });
            };
            let kid = read_kid(jwk, index)?;
            if let Some(kid) = kid {
                if kids.contains(&kid) {
                    return Err(JwksError::DuplicateKid {
                        kid: String::from(kid),
                    });
                }
                kids.push(kid);
            }
            match read_key(jwk, index, kid)? {
                Read::Key(key) => keys.push(key),
                Read::Skip(reason) => skipped.push(SkippedKey {
                    index,
                    kid: kid.map(String::from),
                    reason,
                }),
            }
        }
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey {
                skipped: skipped.len(),
            });
        }
        Ok(Self {
            keys,
            skipped,
            digest: Sha256::digest(bytes).into(),
        })
    }

    /// The usable keys, in JWKS order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The keys skipped, and why.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// SHA-256 of the JWKS bytes: a fetcher recognises an unchanged set with it (and keeps
    /// the verified-token cache, which a changed set must empty).
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The key that verifies a token with `algorithm` and `kid`:
    /// - with a `kid`: the key with that `kid`, which must fit the algorithm
    ///   ([`Jwk::fits`]); a skipped key's `kid` says why it cannot be used;
    /// - without: the one key that fits the algorithm; none or several is a refusal (trying
    ///   each key in turn would let one token cost several verifications, and say nothing about
    ///   which key signed it).
    pub fn select(
        &self,
        algorithm: SignatureAlgorithm,
        kid: Option<&str>,
    ) -> Result<&Jwk, TokenError> {
        match kid {
            Some(kid) => {
                let Some(key) = self.keys.iter().find(|key| key.kid() == Some(kid)) else {
                    return Err(
                        match self.skipped.iter().find(|s| s.kid.as_deref() == Some(kid)) {
                            Some(skipped) => TokenError::KeyUnusable {
                                kid: String::from(kid),
                                reason: skipped.reason.clone(),
                            },
                            None => TokenError::UnknownKid {
                                kid: String::from(kid),
                            },
                        },
                    );
                };
                key.fits(algorithm)
                    .map_err(|detail| TokenError::KeyMismatch {
                        kid: String::from(kid),
                        detail,
                    })?;
                Ok(key)
            }
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.fits(algorithm).is_ok());
                match (fitting.next(), fitting.count()) {
                    (Some(key), 0) => Ok(key),
                    (Some(_), more) => Err(TokenError::KidRequired {
                        algorithm,
                        candidates: more + 1,
                    }),
                    (None, _) => Err(TokenError::NoKey { algorithm }),
                }
            }
        }
    }
}

/// A key read from a JWK, or why it is skipped (a key is read once per JWKS: the size of
/// the variant does not matter).
#[allow(clippy::large_enum_variant)]
enum Read {
    Key(Jwk),
    Skip(String),
}

fn read_kid(jwk: &JsonObject, index: usize) -> Result<Option<&str>, JwksError> {
    match jwk.get("kid") {
        None => Ok(None),
        Some(JsonValue::String(kid)) if !kid.is_empty() => Ok(Some(kid)),
        Some(JsonValue::String(_)) => Err(JwksError::BadKey {
            index,
            kid: None,
            detail: String::from("`kid` is empty"),
        }),
        Some(other) => Err(JwksError::BadKey {
            index,
            kid: None,
            detail: format!("`kid` is {}, not a string", other.kind()),
        }),
    }
}

fn read_key(jwk: &JsonObject, index: usize, kid: Option<&str>) -> Result<Read, JwksError> {
    let bad = |detail: String| JwksError::BadKey {
        index,
        kid: kid.map(String::from),
        detail,
    };
    // A private key is refused whatever its type: it should never have been published.
    if let Some(member) = PRIVATE_MEMBERS.into_iter().find(|m| jwk.contains(m)) {
        return Err(JwksError::PrivateKey {
            index,
            kid: kid.map(String::from),
            member,
        });
    }
    let kty = string_member(jwk, "kty").ok_or_else(|| bad(String::from("no `kty`")));
    let kty = kty.and_then(|kty| kty.map_err(bad))?;
    if kty == "oct" {
        return Err(JwksError::SymmetricKey {
            index,
            kid: kid.map(String::from),
        });
    }
    let required = |name: &'static str| -> Result<Vec<u8>, JwksError> {
        match string_member(jwk, name) {
            None => Err(bad(format!("kty {kty} needs `{name}`"))),
            Some(Err(detail)) => Err(bad(detail)),
            Some(Ok(text)) => base64url::decode(text.as_bytes())
                .map_err(|detail| bad(format!("`{name}` is not base64url: {detail}"))),
        }
    };
    let curve = || -> Result<&str, JwksError> {
        match string_member(jwk, "crv") {
            None => Err(bad(format!("kty {kty} needs `crv`"))),
            Some(result) => result.map_err(bad),
        }
    };
    let key = match kty {
        "RSA" => {
            let n = required("n")?;
            let e = required("e")?;
            PublicKey::rsa_from_components(&n, &e)
        }
        "EC" => {
            let crv = curve()?;
            let Some(curve) = EcCurve::from_jwk_crv(crv) else {
                return Ok(Read::Skip(format!(
                    "EC curve {} is not supported (P-256, P-384)",
                    shown(crv)
                )));
            };
            let x = required("x")?;
            let y = required("y")?;
            let len = curve.field_len();
            if x.len() != len || y.len() != len {
                return Err(bad(format!(
                    "{} coordinates are {len} bytes each; `x` has {} and `y` {} (RFC 7518 §6.2.1.2: full length)",
                    curve.name(),
                    x.len(),
                    y.len()
                )));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            PublicKey::ec_from_sec1(curve, &point)
        }
        "OKP" => {
            let crv = curve()?;
            if crv != "Ed25519" {
                return Ok(Read::Skip(format!(
                    "OKP curve {} is not supported (Ed25519)",
                    shown(crv)
                )));
            }
            let x = required("x")?;
            PublicKey::ed25519_from_bytes(&x)
        }
        other => {
            return Ok(Read::Skip(format!(
                "kty {} is not supported (RSA, EC, OKP)",
                shown(other)
            )))
        }
    }
    .map_err(|error| bad(format!("{error}")))?;

    let alg = match string_member(jwk, "alg") {
        None => None,
        Some(Err(detail)) => return Err(bad(detail)),
        Some(Ok(alg)) => match algorithm_from_jose(alg) {
            Ok(algorithm) if algorithm.key_type() == key.key_type() => Some(algorithm),
            Ok(algorithm) => {
                return Err(bad(format!(
                    "alg {} needs an {} key, but the key is {}",
                    algorithm.jose_name(),
                    algorithm.key_type(),
                    key.describe()
                )))
            }
            Err(TokenError::AlgNone { .. }) => {
                return Err(bad(format!(
                    "alg {} is not a signature algorithm",
                    shown(alg)
                )))
            }
            Err(TokenError::AlgHmac { .. }) => {
                return Err(bad(format!(
                    "alg {} on a {} key: {HMAC_WHY}",
                    shown(alg),
                    key.describe()
                )))
            }
            // An encryption algorithm (RSA-OAEP, ECDH-ES...) or a signature one we do not
            // verify: the key is not for us.
            Err(_) => {
                return Ok(Read::Skip(format!(
                    "alg {} is not a signature algorithm we verify",
                    shown(alg)
                )))
            }
        },
    };
    match string_member(jwk, "use") {
        None => {}
        Some(Err(detail)) => return Err(bad(detail)),
        Some(Ok("sig")) => {}
        Some(Ok(other)) => {
            return Ok(Read::Skip(format!(
                "use {} (only `sig` keys verify tokens)",
                shown(other)
            )))
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let JsonValue::Array(ops) = ops else {
            return Err(bad(format!("`key_ops` is {}, not an array", ops.kind())));
        };
        let mut seen: Vec<&str> = Vec::new();
        for op in ops {
            let Some(op) = op.as_str() else {
                return Err(bad(format!(
                    "`key_ops` holds {}, not only strings",
                    op.kind()
                )));
            };
            if seen.contains(&op) {
                return Err(bad(format!("`key_ops` lists {} twice", shown(op))));
            }
            seen.push(op);
        }
        if !seen.contains(&"verify") {
            return Ok(Read::Skip(String::from(
                "key_ops does not include `verify`",
            )));
        }
    }
    Ok(Read::Key(Jwk {
        kid: kid.map(String::from),
        alg,
        key,
    }))
}

/// `None` when absent; `Some(Err(message))` when not a string.
fn string_member<'j>(jwk: &'j JsonObject, name: &str) -> Option<Result<&'j str, String>> {
    jwk.get(name).map(|value| {
        value
            .as_str()
            .ok_or_else(|| format!("`{name}` is {}, not a string", value.kind()))
    })
}
