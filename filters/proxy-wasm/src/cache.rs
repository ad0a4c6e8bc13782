//! Bounded caches: parsed certificates keyed by the certificate itself ([`IdentityCache`]),
//! and, on NGINX, what a TLS connection's client certificate turned out to be, keyed by the
//! connection ([`ConnectionCache`]).
//!
//! Parsing a certificate is the most expensive step of a request; a long-lived client sends
//! the same one on every request. The cache stores what `Identity::parse` returned for a
//! certificate (the identity, or the parse error) — never a decision: validity, revocation
//! and policy are evaluated again on every request against the current clock.
//!
//! Eviction is CLOCK (second chance): a hit sets the slot's reference bit; when full, the hand
//! sweeps, clearing bits, and replaces the first slot whose bit is already clear. O(1)
//! amortised, no per-hit reordering, and hot certificates survive a scan of one-off ones.

use std::cell::OnceCell;
use std::rc::Rc;

use hashbrown::HashMap;
use mtls_authz_core::policy::PreparedIdentity;
use mtls_authz_core::{hex, CertError, Identity, Policy};
use sha2::{Digest, Sha256};

/// What parsing a certificate produced.
pub type Parsed = Result<Identity, CertError>;

/// A certificate as the caches hold it: what parsing produced, and what the policy derives
/// from the certificate alone, worked out on first use. A cache belongs to one configured
/// [`crate::Filter`], so to one policy.
#[derive(Debug)]
pub struct Certificate {
    parsed: Parsed,
    /// Roles and time-independent checks (`Policy::prepare`).
    prepared: OnceCell<PreparedIdentity>,
    /// The `forward_headers` values of a usable identity
    /// (`Policy::forward_header_values_of`): the same on every request of the certificate.
    forward_values: OnceCell<Vec<(String, String)>>,
}

impl Certificate {
    /// Wraps what parsing produced.
    pub fn new(parsed: Parsed) -> Self {
        Self {
            parsed,
            prepared: OnceCell::new(),
            forward_values: OnceCell::new(),
        }
    }

    /// What `policy` derives from the certificate alone (worked out on the first call; the
    /// caller always passes its filter's one policy). `None` when it did not parse.
    pub fn prepared(&self, policy: &Policy) -> Option<&PreparedIdentity> {
        let identity = self.identity()?;
        Some(self.prepared.get_or_init(|| policy.prepare(identity)))
    }

    /// What parsing produced.
    pub fn parsed(&self) -> &Parsed {
        &self.parsed
    }

    /// The identity, when the certificate parsed.
    pub fn identity(&self) -> Option<&Identity> {
        self.parsed.as_ref().ok()
    }

    /// The forward header values, computed by `compute` on the first call only. Call it only
    /// for a usable identity whose decision reached the rules (see
    /// `Policy::forward_header_values_of`).
    pub fn forward_values(
        &self,
        compute: impl FnOnce() -> Vec<(String, String)>,
    ) -> &[(String, String)] {
        self.forward_values.get_or_init(compute)
    }
}

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

/// What a connection-scoped entry may hold at most this long (nanoseconds): see
/// [`ConnectionCache`].
pub const CONNECTION_ENTRY_TTL_NANOS: u64 = 300 * 1_000_000_000;

struct Slot<K, V> {
    key: K,
    value: V,
    referenced: bool,
}

/// A bounded map with CLOCK eviction (see the module docs). Capacity 0 stores nothing.
pub struct Clock<K, V> {
    capacity: usize,
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
}

impl<K, V> std::fmt::Debug for Clock<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("capacity", &self.capacity)
            .field("len", &self.slots.len())
            .finish()
    }
}

impl<K: Copy + Eq + std::hash::Hash, V: Clone> Clock<K, V> {
    /// An empty map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            index: HashMap::with_capacity(capacity.min(1024)),
            slots: Vec::with_capacity(capacity.min(1024)),
            hand: 0,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The value for `key`, marking it recently used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        let slot = self.slots.get_mut(*self.index.get(key)?)?;
        slot.referenced = true;
        Some(slot.value.clone())
    }

    /// Stores `value` under `key` (replacing an old value), evicting one entry when full.
    pub fn insert(&mut self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        if let Some(slot) = self.index.get(&key).and_then(|&i| self.slots.get_mut(i)) {
            slot.value = value;
            slot.referenced = true;
            return;
        }
        let slot = Slot {
            key,
            value,
            referenced: false,
        };
        if self.slots.len() < self.capacity {
            self.index.insert(key, self.slots.len());
            self.slots.push(slot);
            return;
        }
        let victim = self.sweep();
        if let Some(old) = self.slots.get_mut(victim) {
            self.index.remove(&old.key);
            *old = slot;
            self.index.insert(key, victim);
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

/// The cache of parsed certificates, keyed by the certificate. Capacity 0 disables it.
#[derive(Debug)]
pub struct IdentityCache {
    entries: Clock<CacheKey, Rc<Certificate>>,
}

impl IdentityCache {
    /// An empty cache holding at most `capacity` certificates.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Clock::new(capacity),
        }
    }

    /// Number of cached certificates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The cached result for `key`, marking it recently used.
    pub fn get(&mut self, key: &CacheKey) -> Option<Rc<Certificate>> {
        self.entries.get(key)
    }

    /// Stores `value` under `key`, evicting one entry when full; returns the shared value.
    pub fn insert(&mut self, key: CacheKey, value: Parsed) -> Rc<Certificate> {
        let value = Rc::new(Certificate::new(value));
        self.entries.insert(key, Rc::clone(&value));
        value
    }
}

/// What the filter learnt about one TLS connection's client certificate, keyed by the host's
/// serial number of the connection (NGINX `$connection`, read as `ngx.connection`).
///
/// Why that key is sound (docs/DECISIONS.md argues it in full): NGINX numbers connections
/// from one atomic counter shared by all workers and never hands a number out twice while
/// the VM lives (a VM lives in one worker of one configuration cycle; the counter is 64-bit
/// wherever Wasmtime runs); an HTTP/2 stream reports its connection's number; and a
/// connection's client certificate cannot change (NGINX refuses renegotiation and never asks
/// for TLS 1.3 post-handshake authentication). So a hit is the same handshake. An entry is
/// also kept at most [`CONNECTION_ENTRY_TTL_NANOS`]: on a host whose counter were 32-bit, a
/// number comes back only after 2^32 more connections, which no proxy opens in 5 minutes.
#[derive(Debug)]
pub struct ConnectionCache<V> {
    entries: Clock<u64, (u64, V)>,
}

impl<V: Clone> ConnectionCache<V> {
    /// An empty cache for at most `capacity` connections.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Clock::new(capacity),
        }
    }

    /// Number of connections remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no connection is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What was stored for connection `serial`, unless it is older than the TTL at `now`
    /// (host clock, nanoseconds) or from the future (a clock that went back).
    pub fn get(&mut self, serial: u64, now: u64) -> Option<V> {
        let (stored_at, value) = self.entries.get(&serial)?;
        let age = now.checked_sub(stored_at)?;
        (age < CONNECTION_ENTRY_TTL_NANOS).then_some(value)
    }

    /// Remembers `value` for connection `serial` at `now`.
    pub fn insert(&mut self, serial: u64, now: u64, value: V) {
        self.entries.insert(serial, (now, value));
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

    #[test]
    fn stores_and_returns_results() {
        let mut cache = IdentityCache::new(4);
        assert!(cache.get(&key(1)).is_none());
        cache.insert(key(1), value(1));
        assert_eq!(*cache.get(&key(1)).unwrap().parsed(), value(1));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn never_exceeds_its_capacity() {
        let mut cache = IdentityCache::new(8);
        for n in 0..100u8 {
            cache.insert(key(n), value(n));
            assert!(cache.len() <= 8);
        }
        assert_eq!(cache.len(), 8);
        assert_eq!(cache.entries.index.len(), 8);
        // The most recent insert is always present.
        assert!(cache.get(&key(99)).is_some());
        // Early ones were evicted.
        assert!(cache.get(&key(0)).is_none());
    }

    #[test]
    fn recently_used_entries_survive_eviction() {
        let mut cache = IdentityCache::new(3);
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
        let mut cache = IdentityCache::new(2);
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
        let mut cache = IdentityCache::new(2);
        cache.insert(key(1), value(1));
        cache.insert(key(1), value(7));
        assert_eq!(cache.len(), 1);
        assert_eq!(*cache.get(&key(1)).unwrap().parsed(), value(7));
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = IdentityCache::new(0);
        assert_eq!(*cache.insert(key(1), value(1)).parsed(), value(1));
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn digest_and_bytes_keys_do_not_collide() {
        let mut cache = IdentityCache::new(4);
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
    fn connection_entries_expire_and_never_come_from_the_future() {
        let mut cache = ConnectionCache::new(4);
        cache.insert(7, 1_000, "alice");
        assert_eq!(cache.get(7, 1_000), Some("alice"));
        assert_eq!(
            cache.get(7, 1_000 + CONNECTION_ENTRY_TTL_NANOS - 1),
            Some("alice")
        );
        assert_eq!(cache.get(7, 1_000 + CONNECTION_ENTRY_TTL_NANOS), None);
        assert_eq!(cache.get(7, 999), None, "a clock that went back");
        assert_eq!(cache.get(8, 1_000), None);
        cache.insert(7, 5_000, "alice again");
        assert_eq!(cache.get(7, 5_000), Some("alice again"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn connection_cache_is_bounded_and_zero_disables_it() {
        let mut cache = ConnectionCache::new(3);
        for serial in 0..100 {
            cache.insert(serial, 0, serial);
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get(99, 0), Some(99));
        let mut off = ConnectionCache::new(0);
        off.insert(1, 0, 1);
        assert!(off.is_empty());
        assert_eq!(off.get(1, 0), None);
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
