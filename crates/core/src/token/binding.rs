//! What ties a verified token to the TLS client: the certificate binding of RFC 8705 §3 and
//! claim ↔ certificate consistency. Both are checked on every request against the
//! connection's certificate, never cached with the token: a token replayed over another
//! client's connection must fail even when it was verified a moment ago.

use alloc::string::String;
use alloc::vec::Vec;

use super::base64url;
use super::claims::{ClaimPath, Claims};
use super::error::TokenError;
use crate::identity::Identity;
use crate::selector::Selector;

/// The certificate's `x5t#S256` (RFC 8705 §3.1): the unpadded base64url of the SHA-256 of its
/// DER, the form a bound token's `cnf` carries.
pub fn certificate_thumbprint(identity: &Identity) -> String {
    base64url::encode(&identity.fingerprint_sha256)
}

/// Whether `claims` are bound to the certificate of `identity`: `cnf["x5t#S256"]` must be
/// present ([`TokenError::NotBound`]) and equal the SHA-256 of the certificate's DER
/// ([`TokenError::BindingMismatch`]). The exact DER counts: the same certificate re-encoded
/// (an ECDSA signature twin) has another thumbprint and does not match.
pub fn binding_matches(claims: &Claims, identity: &Identity) -> Result<(), TokenError> {
    let Some(bound) = claims.certificate_thumbprint() else {
        return Err(TokenError::NotBound);
    };
    if *bound == identity.fingerprint_sha256 {
        Ok(())
    } else {
        Err(TokenError::BindingMismatch {
            token: base64url::encode(bound),
            certificate: certificate_thumbprint(identity),
        })
    }
}

/// One claim ↔ certificate consistency rule: the claim at `claim` must equal a value of
/// `selector` on the client certificate (`sub` = `spiffe_id`, `client_id` = `subject.CN`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimConsistency {
    claim: ClaimPath,
    selector: Selector,
}

impl ClaimConsistency {
    /// The rule `claim` = `selector`.
    pub fn new(claim: ClaimPath, selector: Selector) -> Self {
        Self { claim, selector }
    }

    /// The claim path.
    pub fn claim(&self) -> &ClaimPath {
        &self.claim
    }

    /// The selector.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// Holds when the claim has at least one value ([`Claims::any_value`]) and EVERY value
    /// equals (exactly: no case folding, no trimming) one of the selector's values on
    /// `identity`. A claim that is absent, or has no string-like value, fails, as does an array
    /// with an element that has no value (`["alice", null]`); so does a
    /// selector with no value (a certificate without a SPIFFE ID never satisfies
    /// `sub` = `spiffe_id`). Selectors that need the policy (`issuer_pin`, `roles`) have no
    /// value here and always fail.
    pub fn check(&self, claims: &Claims, identity: &Identity) -> Result<(), TokenError> {
        let mut found: Vec<String> = Vec::new();
        let mut all_equal = true;
        claims.any_value(&self.claim, |value| {
            found.push(String::from(value));
            if !self.selector.any_value(identity, |theirs| theirs == value) {
                all_equal = false;
            }
            false
        });
        if all_equal && !found.is_empty() && claims.every_element_has_a_value(&self.claim) {
            Ok(())
        } else {
            Err(TokenError::ClaimMismatch {
                claim: alloc::format!("{}", self.claim),
                selector: selector_name(&self.selector),
                found,
            })
        }
    }
}

/// The selector as a policy writes it, for messages.
fn selector_name(selector: &Selector) -> String {
    let name = match selector {
        Selector::Subject => "subject",
        Selector::Issuer => "issuer",
        Selector::SubjectAttr(oid) => return alloc::format!("subject.{}", attribute(oid)),
        Selector::IssuerAttr(oid) => return alloc::format!("issuer.{}", attribute(oid)),
        Selector::SanDns => "san.dns",
        Selector::SanUri => "san.uri",
        Selector::SanEmail => "san.email",
        Selector::SanIp => "san.ip",
        Selector::SpiffeId => "spiffe_id",
        Selector::Serial => "serial",
        Selector::FingerprintSha256 => "fingerprint_sha256",
        Selector::Eku => "eku",
        Selector::Ext(oid) => return alloc::format!("ext.{oid}"),
        Selector::IssuerPin => "issuer_pin",
        Selector::Roles => "roles",
    };
    String::from(name)
}

fn attribute(oid: &str) -> &str {
    crate::dn::name_for_oid(oid).unwrap_or(oid)
}
