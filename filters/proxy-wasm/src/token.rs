//! v1.1 `tokens`: the request's token, verified once per VM and then served from a cache.
//!
//! Signature verification is the expensive part of a token in wasm, so verified tokens are
//! kept per VM in the core's [`TokenCache`], keyed by the SHA-256 of the token bytes, bounded,
//! each entry expiring with the token (`exp` plus the clock skew): a client reusing its token
//! pays one hash and one lookup. Only verified tokens are cached (a flood of forged ones evicts
//! nothing); binding and consistency depend on the connection and are checked by the core on
//! every request. The cache belongs to the [`crate::filter::Filter`], which a new
//! configuration replaces, and each entry is tagged with the generation of the key set that
//! verified it (a fetched set changes it, see [`crate::jwks`]), so an entry never outlives
//! the key set that verified it.
//!
//! The token header is read from the headers the filter already holds and forwarded
//! unchanged: it is not a header the filter strips or sets.

use std::cell::RefCell;
use std::rc::Rc;

use mtls_authz_core::policy::{RequestToken, TokenPolicy};
use mtls_authz_core::token::{token_digest, KeySet, TokenCache, TokenError, VerifiedToken};
use mtls_authz_core::UnixTime;

use crate::headers::RequestHeaders;

/// Verified tokens of one VM.
pub type VerifiedTokens = TokenCache<Rc<VerifiedToken>>;

/// One request's token, looked up lazily (the core asks only under `require_token`).
pub struct CachedToken<'a> {
    tokens: Option<&'a TokenPolicy>,
    /// The key set in force and its generation.
    keys: (Option<&'a KeySet>, u64),
    headers: &'a RequestHeaders,
    cache: &'a RefCell<VerifiedTokens>,
    now: UnixTime,
    held: Option<Result<Rc<VerifiedToken>, TokenError>>,
}

impl<'a> CachedToken<'a> {
    /// The token of `headers` under `tokens`, verified at `now` with `keys` (the set in force
    /// and its generation) through `cache`.
    pub fn new(
        tokens: Option<&'a TokenPolicy>,
        keys: (Option<&'a KeySet>, u64),
        headers: &'a RequestHeaders,
        cache: &'a RefCell<VerifiedTokens>,
        now: UnixTime,
    ) -> Self {
        Self {
            tokens,
            keys,
            headers,
            cache,
            now,
            held: None,
        }
    }

    fn look_up(&self) -> Result<Rc<VerifiedToken>, TokenError> {
        let tokens = self.tokens.ok_or(TokenError::Missing)?;
        let values = self.headers.all(tokens.header_name());
        let token = tokens.token_of(&values)?;
        let digest = token_digest(token);
        let (keys, generation) = self.keys;
        let mut cache = self.cache.borrow_mut();
        if let Some(verified) = cache.get(&digest, self.now, generation) {
            return Ok(Rc::clone(verified));
        }
        let verified = Rc::new(tokens.verify(token, keys, self.now)?);
        cache.insert(
            digest,
            Rc::clone(&verified),
            self.now,
            verified.valid_until(),
            generation,
            verified.memory_bytes(),
        );
        Ok(verified)
    }
}

impl RequestToken for CachedToken<'_> {
    fn verified(&mut self) -> Result<&VerifiedToken, TokenError> {
        if self.held.is_none() {
            self.held = Some(self.look_up());
        }
        match &self.held {
            Some(Ok(verified)) => Ok(verified),
            Some(Err(error)) => Err(error.clone()),
            None => Err(TokenError::Missing),
        }
    }
}
