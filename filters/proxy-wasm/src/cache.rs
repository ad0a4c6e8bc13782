//! Bounded cache of parsed certificates, keyed by the certificate itself.
//!
//! Parsing a certificate is the most expensive step of a request; a long-lived client sends
//! the same one on every request. The cache stores what `Identity::parse` returned for a
//! certificate (the identity, or the parse error) — never a decision: validity, revocation
//! and policy are evaluated again on every request against the current clock.
//!
//! Bounded twice: by entries (`identity_cache_size`) and by bytes (`identity_cache_max_bytes`,
//! each entry counted as [`Identity::memory_bytes`] plus the cache's own bookkeeping), so
//! 65,536 certificates near the 16 KiB DER cap with thousands of names cannot hold gigabytes.
//! An entry larger than the whole budget is not cached.
//!
//! Eviction is CLOCK (second chance): a hit sets the slot's reference bit; when full, the hand
//! sweeps, clearing bits, and evicts the first slot whose bit is already clear, as many times
//! as the byte budget needs. O(1) amortised, no per-hit reordering, and hot certificates
//! survive a scan of one-off ones.

use std::collections::HashMap;
use std::rc::Rc;

use mtls_authz_core::{hex, CertError, Identity};
use sha2::{Digest, Sha256};

/// What parsing a certificate produced.
pub type Parsed = Result<Identity, CertError>;

/// A cache key: a SHA-256 that identifies the certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// The host's SHA-256 of the peer certificate's DER
    /// (Envoy `connection.sha256_peer_certificate_digest`): lets a hit skip reading the PEM.
    HostDigest([u8; 32]),
    /// SHA-256 of the certificate bytes exactly as received (PEM or DER text).
    Bytes([u8; 32]),
}

impl CacheKey {
    /// Key for certificate bytes as received.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        CacheKey::Bytes(Sha256::digest(bytes).into())
    }

    /// Key from a host digest written as 64 hex digits (any case, `:` separators allowed);
    /// `None` when it is not one.
    pub fn from_host_digest(text: &[u8]) -> Option<Self> {
        let mut digest = [0u8; 32];
        let mut nibbles = text
            .iter()
            .filter(|b| **b != b':')
            .map(|b| hex::digit_value(*b));
        for byte in &mut digest {
            let hi = nibbles.next()??;
            let lo = nibbles.next()??;
            *byte = hi << 4 | lo;
        }
        if nibbles.next().is_some() {
            return None;
        }
        Some(CacheKey::HostDigest(digest))
    }
}

struct Slot {
    key: CacheKey,
    value: Rc<Parsed>,
    referenced: bool,
    /// What this entry costs against the byte budget.
    bytes: usize,
}

/// What one cached result costs: the parse result's memory, its `Rc` box, the slot and the
/// index entry (a hash map stores key and position, plus control bytes).
pub fn entry_bytes(parsed: &Parsed) -> usize {
    let value = match parsed {
        Ok(identity) => identity.memory_bytes(),
        Err(err) => err.memory_bytes(),
    };
    value + 2 * size_of::<usize>() + size_of::<Slot>() + size_of::<(CacheKey, usize)>() + 1
}

/// The cache. Capacity 0 (entries or bytes) disables it.
pub struct IdentityCache {
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    index: HashMap<CacheKey, usize>,
    slots: Vec<Slot>,
    hand: usize,
}

impl std::fmt::Debug for IdentityCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityCache")
            .field("capacity", &self.capacity)
            .field("max_bytes", &self.max_bytes)
            .field("len", &self.slots.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl IdentityCache {
    /// An empty cache holding at most `capacity` certificates and `max_bytes` bytes of them
    /// (see [`entry_bytes`]).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            capacity,
            max_bytes,
            bytes: 0,
            index: HashMap::with_capacity(capacity.min(1024)),
            slots: Vec::with_capacity(capacity.min(1024)),
            hand: 0,
        }
    }

    /// Number of cached certificates.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The cached result for `key`, marking it recently used.
    pub fn get(&mut self, key: &CacheKey) -> Option<Rc<Parsed>> {
        let slot = self.slots.get_mut(*self.index.get(key)?)?;
        slot.referenced = true;
        Some(Rc::clone(&slot.value))
    }

    /// Bytes held by the cached entries (see [`entry_bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Stores `value` under `key`, evicting entries until it fits both bounds; returns the
    /// shared value. A value larger than the byte budget is returned but not kept.
    pub fn insert(&mut self, key: CacheKey, value: Parsed) -> Rc<Parsed> {
        let bytes = entry_bytes(&value);
        let value = Rc::new(value);
        if self.capacity == 0 || bytes > self.max_bytes {
            return value;
        }
        if let Some(&at) = self.index.get(&key) {
            self.remove_at(at);
        }
        while !self.slots.is_empty()
            && (self.slots.len() >= self.capacity || self.bytes + bytes > self.max_bytes)
        {
            let victim = self.sweep();
            self.remove_at(victim);
        }
        self.index.insert(key, self.slots.len());
        self.slots.push(Slot {
            key,
            value: Rc::clone(&value),
            referenced: false,
            bytes,
        });
        self.bytes += bytes;
        value
    }

    /// Removes the slot at `at` (the last slot moves into its place).
    fn remove_at(&mut self, at: usize) {
        if at >= self.slots.len() {
            return;
        }
        let removed = self.slots.swap_remove(at);
        self.index.remove(&removed.key);
        self.bytes = self.bytes.saturating_sub(removed.bytes);
        if let Some(moved) = self.slots.get(at) {
            self.index.insert(moved.key, at);
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }

    /// Advances the hand to the first slot without a second chance left; returns its index.
    fn sweep(&mut self) -> usize {
        // At most two turns: the first clears every bit, the second must find a clear one.
        for _ in 0..self.slots.len().saturating_mul(2) {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.slots.len().max(1);
            match self.slots.get_mut(at) {
                Some(slot) if slot.referenced => slot.referenced = false,
                _ => return at,
            }
        }
        self.hand
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey::Bytes([n; 32])
    }

    fn value(n: u8) -> Parsed {
        Err(CertError::TrailingData { extra: n.into() })
    }

    /// A cache bounded by entries only (the byte budget far away).
    fn by_count(capacity: usize) -> IdentityCache {
        IdentityCache::new(capacity, usize::MAX)
    }

    #[test]
    fn stores_and_returns_results() {
        let mut cache = by_count(4);
        assert!(cache.get(&key(1)).is_none());
        cache.insert(key(1), value(1));
        assert_eq!(*cache.get(&key(1)).unwrap(), value(1));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn never_exceeds_its_capacity() {
        let mut cache = by_count(8);
        for n in 0..100u8 {
            cache.insert(key(n), value(n));
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.len(), 8);
        assert_eq!(cache.index.len(), 8);
        // The most recent insert is always present.
        assert!(cache.get(&key(99)).is_some());
        // Early ones were evicted.
        assert!(cache.get(&key(0)).is_none());
    }

    #[test]
    fn recently_used_entries_survive_eviction() {
        let mut cache = by_count(3);
        cache.insert(key(1), value(1));
        cache.insert(key(2), value(2));
        cache.insert(key(3), value(3));
        assert!(cache.get(&key(1)).is_some());
        cache.insert(key(4), value(4));
        assert!(cache.get(&key(1)).is_some(), "hit entry kept");
        assert!(
            cache.get(&key(2)).is_none(),
            "oldest unreferenced entry evicted"
        );
        assert!(cache.get(&key(3)).is_some());
        assert!(cache.get(&key(4)).is_some());
    }

    #[test]
    fn every_entry_referenced_still_evicts_one() {
        let mut cache = by_count(2);
        cache.insert(key(1), value(1));
        cache.insert(key(2), value(2));
        cache.get(&key(1));
        cache.get(&key(2));
        cache.insert(key(3), value(3));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&key(3)).is_some());
    }

    #[test]
    fn reinserting_a_key_replaces_its_value() {
        let mut cache = by_count(2);
        cache.insert(key(1), value(1));
        cache.insert(key(1), value(7));
        assert_eq!(cache.len(), 1);
        assert_eq!(*cache.get(&key(1)).unwrap(), value(7));
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = by_count(0);
        assert_eq!(*cache.insert(key(1), value(1)), value(1));
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.is_empty());
    }

    /// Large parse results: a DER error carrying a message of `n` KiB.
    fn big(n: usize) -> Parsed {
        Err(CertError::Der("x".repeat(n * 1024)))
    }

    #[test]
    fn the_byte_budget_evicts_before_the_entry_count_does() {
        let one = entry_bytes(&big(10));
        let mut cache = IdentityCache::new(1000, 3 * one + one / 2);
        for n in 0..20u8 {
            cache.insert(key(n), big(10));
            assert!(cache.bytes() <= 3 * one + one / 2, "{:?}", cache);
            assert_eq!(cache.bytes(), cache.len() * one);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&key(19)).is_some());
        // Small entries fit many to the budget; one big entry evicts several.
        let small = entry_bytes(&value(1));
        let mut cache = IdentityCache::new(1000, 20 * small + one);
        for n in 0..20u8 {
            cache.insert(key(n), value(n));
        }
        assert_eq!(cache.len(), 20);
        cache.insert(key(100), big(10));
        assert!(cache.get(&key(100)).is_some());
        assert_eq!(cache.len(), 1 + (20 * small + one - one) / small);
        assert_eq!(cache.index.len(), cache.len());
    }

    #[test]
    fn an_entry_over_the_whole_budget_is_not_kept() {
        let mut cache = IdentityCache::new(10, entry_bytes(&big(1)));
        cache.insert(key(1), big(1));
        assert_eq!(cache.len(), 1);
        assert_eq!(*cache.insert(key(2), big(2)), big(2));
        assert!(cache.get(&key(2)).is_none());
        assert!(
            cache.get(&key(1)).is_some(),
            "a refused entry evicts nothing"
        );
        assert!(IdentityCache::new(10, 0).insert(key(3), value(3)).is_err());
    }

    /// Every slot stays reachable through the index after evictions that move slots.
    #[test]
    fn index_and_slots_agree_after_mixed_evictions() {
        let mut cache = IdentityCache::new(6, 4 * entry_bytes(&big(1)));
        for n in 0..200u8 {
            let parsed = if n % 3 == 0 { big(1) } else { value(n) };
            cache.insert(key(n), parsed);
            if n % 5 == 0 {
                cache.get(&key(n / 2));
            }
            assert_eq!(cache.index.len(), cache.slots.len());
            for (at, slot) in cache.slots.iter().enumerate() {
                assert_eq!(cache.index.get(&slot.key), Some(&at));
            }
            assert_eq!(
                cache.bytes(),
                cache.slots.iter().map(|s| s.bytes).sum::<usize>()
            );
            assert!(cache.len() <= 6);
        }
    }

    #[test]
    fn digest_and_bytes_keys_do_not_collide() {
        let mut cache = by_count(4);
        cache.insert(CacheKey::HostDigest([5; 32]), value(1));
        assert!(cache.get(&CacheKey::Bytes([5; 32])).is_none());
    }

    #[test]
    fn host_digest_parsing() {
        let hex = "ab".repeat(32);
        assert_eq!(
            CacheKey::from_host_digest(hex.as_bytes()),
            Some(CacheKey::HostDigest([0xab; 32]))
        );
        assert_eq!(
            CacheKey::from_host_digest(hex.to_uppercase().as_bytes()),
            Some(CacheKey::HostDigest([0xab; 32]))
        );
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(
            CacheKey::from_host_digest(colons.as_bytes()),
            Some(CacheKey::HostDigest([0xab; 32]))
        );
        assert_eq!(CacheKey::from_host_digest(b""), None);
        assert_eq!(CacheKey::from_host_digest("ab".repeat(31).as_bytes()), None);
        assert_eq!(CacheKey::from_host_digest("ab".repeat(33).as_bytes()), None);
        assert_eq!(CacheKey::from_host_digest("zz".repeat(32).as_bytes()), None);
    }

    #[test]
    fn bytes_key_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let expected = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(CacheKey::of_bytes(b"abc"), CacheKey::Bytes(expected));
    }
}
