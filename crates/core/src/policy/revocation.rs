//! v1.1 `issuers.<name>.certificate` and `issuers.<name>.revocation`: which CA signs an
//! issuer's CRLs, where they come from, and what a request is worth without a fresh one.
//!
//! The policy is immutable; the CRLs in force are not. They live in a [`CrlStore`] the caller
//! owns (the proxy keeps one per filter and refreshes it; tools make one per check), with one
//! [`CrlSource`] per entry of [`Policy::revocations`], in that order.
//!
//! Which CRL judges a certificate: every configured issuer whose CA *may have issued* it — the
//! certificate's issuer DN equals the CA's subject and, only when the certificate carries an
//! authorityKeyIdentifier, that equals the CA's subjectKeyIdentifier. A certificate without an
//! AKI is judged by name alone: skipping it would let a revoked certificate through just for
//! lacking an optional extension.

use alloc::string::String;
use alloc::vec::Vec;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::fetch::FetchSpec;
use super::json_path::JsonPath;
use super::raw::RawRevocation;
use super::{Policy, PolicyError};
use crate::crl::{
    crl_der, CaCertificate, Crl, CrlLimits, CrlNumber, CrlSource, RevocationStatus, Update,
};
use crate::decision::IdentityRejection;
use crate::identity::Identity;
use crate::time::UnixTime;

/// What a request is worth when its issuer's CRL is stale or was never obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// 401 `unauthenticated:revocation_unavailable` (the default: fail closed).
    Deny,
    /// Decided as if not revoked (written explicitly; `lint` warns).
    Allow,
}

/// A compiled `issuers.<name>.revocation`, with the issuer's CA.
#[derive(Clone, Debug)]
pub struct IssuerRevocation {
    /// The `issuers` entry's name (logs, counters).
    name: String,
    /// Index into the policy's issuer pins: the DN the certificate's issuer must equal.
    pin: usize,
    ca: CaCertificate,
    /// SHA-256 of the CA certificate's DER: the same CA across reconfigurations.
    ca_fingerprint: [u8; 32],
    /// The inline CRL's DER, already checked against the CA (all but time).
    inline_crl: Option<Vec<u8>>,
    /// Its CRL number: whether it is newer than a list carried over from an earlier filter.
    inline_number: Option<CrlNumber>,
    fetch: Option<FetchSpec>,
    grace_secs: u64,
    when_unavailable: WhenUnavailable,
}

impl IssuerRevocation {
    /// The issuer's name in the policy.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CA that signs this issuer's CRLs.
    pub fn ca(&self) -> &CaCertificate {
        &self.ca
    }

    /// SHA-256 of the CA certificate's DER.
    pub fn ca_fingerprint(&self) -> &[u8; 32] {
        &self.ca_fingerprint
    }

    /// The inline CRL (DER), if any.
    pub fn inline_crl(&self) -> Option<&[u8]> {
        self.inline_crl.as_deref()
    }

    /// Whether the inline CRL is newer than `current` (a list in force, perhaps carried over
    /// from an earlier configuration): then it is offered until it is valid.
    pub fn inline_crl_is_newer_than(&self, current: &CrlNumber) -> bool {
        self.inline_number
            .as_ref()
            .is_some_and(|inline| inline > current)
    }

    /// Where newer CRLs are fetched from, if anywhere.
    pub fn fetch(&self) -> Option<&FetchSpec> {
        self.fetch.as_ref()
    }

    /// Seconds past nextUpdate a CRL still counts as fresh.
    pub fn grace_secs(&self) -> u64 {
        self.grace_secs
    }

    /// The decision without a fresh CRL.
    pub fn when_unavailable(&self) -> WhenUnavailable {
        self.when_unavailable
    }

    /// A source for this issuer, holding its inline CRL when `now` allows it.
    fn source(&self, now: UnixTime) -> CrlSource {
        let mut source = CrlSource::new(
            self.ca.clone(),
            self.fetch.as_ref().map(FetchSpec::plan),
            self.grace_secs,
            CrlLimits::DEFAULT,
        );
        if let Some(der) = &self.inline_crl {
            source.offer(der, now);
        }
        source
    }
}

/// The CRLs in force for one policy: a [`CrlSource`] per [`Policy::revocations`] entry.
#[derive(Clone, Debug, Default)]
pub struct CrlStore {
    sources: Vec<CrlSource>,
}

impl CrlStore {
    /// The sources, in [`Policy::revocations`] order.
    pub fn sources(&self) -> &[CrlSource] {
        &self.sources
    }

    /// The sources, to poll and feed.
    pub fn sources_mut(&mut self) -> &mut [CrlSource] {
        &mut self.sources
    }

    /// Offers one CRL to every source whose CA it verifies against (tools: `check --crl`).
    /// Returns each source's index and what happened; sources of other CAs are left out.
    pub fn offer_to_matching(&mut self, bytes: &[u8], now: UnixTime) -> Vec<(usize, Update)> {
        let mut updates = Vec::new();
        for (index, source) in self.sources.iter_mut().enumerate() {
            let verifies = crl_der(bytes, &CrlLimits::DEFAULT)
                .ok()
                .and_then(|der| {
                    let crl = Crl::parse(&der, &CrlLimits::DEFAULT).ok()?;
                    Some(crl.signature_problem(source.ca()).is_none())
                })
                .unwrap_or(false);
            if verifies {
                updates.push((index, source.offer(bytes, now)));
            }
        }
        updates
    }
}

impl Policy {
    /// The issuers with v1.1 `revocation`, in `issuers` order.
    pub fn revocations(&self) -> &[IssuerRevocation] {
        &self.revocations
    }

    /// A fresh store for this policy: inline CRLs installed (when valid at `now`), nothing
    /// fetched yet.
    pub fn crl_store(&self, now: UnixTime) -> CrlStore {
        CrlStore {
            sources: self.revocations.iter().map(|r| r.source(now)).collect(),
        }
    }

    /// The CRL check of an identity that passed every other check: revoked by a CRL of an
    /// issuer that may have issued it, or without a fresh CRL where that denies. Sources
    /// missing from `crls` (a store of another policy) count as unavailable.
    pub(super) fn check_revocation(
        &self,
        identity: &Identity,
        crls: &CrlStore,
        now: UnixTime,
    ) -> Result<(), IdentityRejection> {
        let mut unavailable = false;
        for (index, revocation) in self.revocations.iter().enumerate() {
            if !self
                .issuers
                .get(revocation.pin)
                .is_some_and(|pin| pin.may_have_issued(identity))
            {
                continue;
            }
            let status = crls
                .sources
                .get(index)
                .map(|source| source.status(identity, now));
            match status {
                Some(RevocationStatus::Revoked) => return Err(IdentityRejection::RevokedCrl),
                Some(RevocationStatus::Good) => {}
                Some(RevocationStatus::Unavailable(_)) | None => {
                    unavailable |= revocation.when_unavailable == WhenUnavailable::Deny;
                }
            }
        }
        if unavailable {
            Err(IdentityRejection::RevocationUnavailable)
        } else {
            Ok(())
        }
    }
}

/// A compiled `issuers.<name>.certificate`: the CA and the SHA-256 of its DER.
pub(super) type PinnedCa = (CaCertificate, [u8; 32]);

/// Compiles `issuers.<name>.certificate`.
pub(super) fn compile_certificate(text: &str, path: &JsonPath) -> Result<PinnedCa, PolicyError> {
    let bad = |detail: String| invalid(path.clone(), detail);
    let ca = CaCertificate::parse(text.as_bytes())
        .map_err(|e| bad(alloc::format!("not a CA certificate in PEM: {e}")))?;
    let der = crate::x509::pem::certificate_der(text.as_bytes())
        .map_err(|e| bad(alloc::format!("not a certificate in PEM: {e}")))?;
    if !ca.is_ca() {
        return Err(bad(String::from(
            "not a CA certificate (basicConstraints cA is not TRUE)",
        )));
    }
    Ok((ca, Sha256::digest(&der).into()))
}

/// Compiles one `revocation` for the issuer pinned at `pin`, whose CA is `ca`.
pub(super) fn compile_revocation(
    name: &str,
    pin: usize,
    ca: PinnedCa,
    raw: &RawRevocation,
    path: &JsonPath,
) -> Result<IssuerRevocation, PolicyError> {
    let (ca, ca_fingerprint) = ca;
    if raw.crl.is_none() && raw.fetch.is_none() {
        return Err(invalid(
            path.clone(),
            "give a CRL source: `crl` (inline), `fetch`, or both",
        ));
    }
    let (inline_crl, inline_number) = match &raw.crl {
        Some(text) => {
            let (der, number) = compile_inline_crl(text, &ca, &path.key("crl"))?;
            (Some(der), number)
        }
        None => (None, None),
    };
    let fetch = match &raw.fetch {
        Some(fetch) => Some(FetchSpec::compile(fetch, &path.key("fetch"))?),
        None => None,
    };
    let when_unavailable = match raw.when_unavailable.as_deref() {
        None | Some("deny") => WhenUnavailable::Deny,
        Some("allow") => WhenUnavailable::Allow,
        Some(other) => {
            return Err(invalid(
                path.key("when_unavailable"),
                alloc::format!("\"{other}\" is not one of \"deny\", \"allow\""),
            ))
        }
    };
    Ok(IssuerRevocation {
        name: String::from(name),
        pin,
        ca,
        ca_fingerprint,
        inline_crl,
        inline_number,
        fetch,
        grace_secs: u64::from(raw.grace_seconds.unwrap_or(0)),
        when_unavailable,
    })
}

/// An inline CRL (PEM, or base64 of the DER) as DER with its CRL number, checked against the
/// CA in everything but time (it is judged against its own thisUpdate; the clock is the
/// store's business).
fn compile_inline_crl(
    text: &str,
    ca: &CaCertificate,
    path: &JsonPath,
) -> Result<(Vec<u8>, Option<CrlNumber>), PolicyError> {
    let limits = CrlLimits::DEFAULT;
    let trimmed = text.trim();
    let decoded;
    let bytes: &[u8] = if trimmed.starts_with("-----BEGIN") {
        trimmed.as_bytes()
    } else {
        let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() > limits.max_pem_bytes() {
            return Err(invalid(path.clone(), "the CRL is larger than the limit"));
        }
        decoded = STANDARD.decode(compact.as_bytes()).map_err(|e| {
            invalid(
                path.clone(),
                alloc::format!("neither a PEM CRL nor base64 of its DER: {e}"),
            )
        })?;
        &decoded
    };
    let der = crl_der(bytes, &limits).map_err(|e| invalid(path.clone(), alloc::format!("{e}")))?;
    let crl =
        Crl::parse(&der, &limits).map_err(|e| invalid(path.clone(), alloc::format!("{e}")))?;
    if let Some(problem) = crl.check(ca, crl.this_update()).into_iter().next() {
        return Err(invalid(path.clone(), alloc::format!("{problem}")));
    }
    let number = crl.number().cloned();
    drop(crl);
    Ok((der.into_owned(), number))
}

fn invalid(path: JsonPath, detail: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.into_string(),
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests;
