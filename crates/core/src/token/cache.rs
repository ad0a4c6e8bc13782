//! A bounded cache of verified tokens, keyed by the SHA-256 of the token's bytes: a client that
//! reuses its token pays one hash and one lookup instead of a signature verification.
//!
//! An entry is valid until its expiry (the moment verification would start refusing the token:
//! `exp` plus the clock skew) and only for the key-set generation it was verified under (a new
//! JWKS may have dropped the key). Binding and consistency are NOT cached: they depend on the
//! connection's certificate and are checked on every request (`binding.rs`).
//!
//! Bounded by entries and by bytes (the caller says what an entry weighs). When full, the
//! oldest entry goes first (insertion order, O(1)); expired entries go when they are looked
//! up or reach the front. Only verified tokens are inserted, so a flood of forged tokens
//! cannot evict anything.

use alloc::collections::VecDeque;

use hashbrown::HashMap;
use sha2::{Digest as _, Sha256};

use crate::time::UnixTime;

/// SHA-256 of a token's bytes (the compact serialization exactly as received).
pub type TokenDigest = [u8; 32];

/// The cache key of `token`.
pub fn token_digest(token: &[u8]) -> TokenDigest {
    Sha256::digest(token).into()
}

/// Bounds of a [`TokenCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenCacheLimits {
    /// Most entries held.
    pub max_entries: usize,
    /// Most bytes held (the sum of what [`TokenCache::insert`] was told entries weigh).
    pub max_bytes: usize,
}

impl TokenCacheLimits {
    /// 1,024 entries and 4 MiB per cache (per VM in the filter): the active clients of a busy
    /// proxy worker, at a few KiB per verified token.
    pub const DEFAULT: TokenCacheLimits = TokenCacheLimits {
        max_entries: 1024,
        max_bytes: 4 * 1024 * 1024,
    };
}

impl Default for TokenCacheLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: UnixTime,
    generation: u64,
    bytes: usize,
    /// Insertion number: tells the live entry from an older one of the same digest in `order`.
    seq: u64,
}

/// Verified tokens by [`TokenDigest`]. `V` is what the caller keeps per token (the filter: the
/// verified claims).
#[derive(Debug)]
pub struct TokenCache<V> {
    entries: HashMap<TokenDigest, Entry<V>>,
    /// Digests in insertion order, with their insertion number; entries removed since are
    /// skipped when they reach the front, and the queue is compacted when it holds many.
    order: VecDeque<(TokenDigest, u64)>,
    next_seq: u64,
    bytes: usize,
    limits: TokenCacheLimits,
}

impl<V> TokenCache<V> {
    /// An empty cache with these bounds.
    pub fn new(limits: TokenCacheLimits) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
            bytes: 0,
            limits,
        }
    }

    /// The value cached for `digest`, when it was verified under `generation` and `now` is
    /// before its expiry. An entry that fails either is removed.
    pub fn get(&mut self, digest: &TokenDigest, now: UnixTime, generation: u64) -> Option<&V> {
        let fresh = self
            .entries
            .get(digest)
            .map(|entry| entry.generation == generation && now < entry.expires_at)?;
        if !fresh {
            self.remove(digest);
            return None;
        }
        self.entries.get(digest).map(|entry| &entry.value)
    }

    /// Caches `value` for `digest` until `expires_at`, under `generation`, weighing `bytes`.
    /// Replaces an entry of the same digest; evicts the oldest entries to stay within the
    /// bounds. Returns `false` (and caches nothing) when the entry is already expired at `now`
    /// or alone weighs more than the byte bound.
    pub fn insert(
        &mut self,
        digest: TokenDigest,
        value: V,
        now: UnixTime,
        expires_at: UnixTime,
        generation: u64,
        bytes: usize,
    ) -> bool {
        if expires_at <= now || bytes > self.limits.max_bytes || self.limits.max_entries == 0 {
            return false;
        }
        self.remove(&digest);
        while self.entries.len() >= self.limits.max_entries
            || self.bytes + bytes > self.limits.max_bytes
        {
            if !self.evict_oldest() {
                break;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += bytes;
        self.order.push_back((digest, seq));
        self.entries.insert(
            digest,
            Entry {
                value,
                expires_at,
                generation,
                bytes,
                seq,
            },
        );
        if self.order.len() > 2 * self.limits.max_entries + 16 {
            let entries = &self.entries;
            self.order
                .retain(|(digest, seq)| entries.get(digest).is_some_and(|e| e.seq == *seq));
        }
        true
    }

    /// Forgets `digest`.
    pub fn remove(&mut self, digest: &TokenDigest) {
        if let Some(entry) = self.entries.remove(digest) {
            self.bytes -= entry.bytes;
        }
    }

    /// Drops every entry expired at `now` or verified under another generation; returns how
    /// many (for a periodic sweep, e.g. on the filter's tick).
    pub fn purge(&mut self, now: UnixTime, generation: u64) -> usize {
        let before = self.entries.len();
        let bytes = &mut self.bytes;
        self.entries.retain(|_, entry| {
            let keep = entry.generation == generation && now < entry.expires_at;
            if !keep {
                *bytes -= entry.bytes;
            }
            keep
        });
        let entries = &self.entries;
        self.order
            .retain(|(digest, seq)| entries.get(digest).is_some_and(|e| e.seq == *seq));
        before - self.entries.len()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (as weighed by the callers of [`TokenCache::insert`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The bounds.
    pub fn limits(&self) -> TokenCacheLimits {
        self.limits
    }

    /// Length of the insertion-order queue, tombstones included (tests check it stays bounded).
    #[cfg(test)]
    pub(crate) fn queue_len(&self) -> usize {
        self.order.len()
    }

    /// Evicts the oldest live entry; `false` when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((digest, seq)) = self.order.pop_front() {
            if self
                .entries
                .get(&digest)
                .is_some_and(|entry| entry.seq == seq)
            {
                self.remove(&digest);
                return true;
            }
        }
        false
    }
}
