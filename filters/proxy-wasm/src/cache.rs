//! Bounded caches of what the filter learns about client certificates, all on one CLOCK map
//! ([`Clock`]):
//! - [`IdentityCache`]: parsed certificates keyed by the certificate itself (Envoy's digest or
//!   a SHA-256 of the bytes as received), with what the policy derives from them alone;
//! - [`ConnectionCache`] (NGINX): what a TLS connection's handshake gave, keyed by the
//!   connection — never a certificate, only the key of its [`IdentityCache`] entry, so every
//!   parsed certificate the filter keeps lives under the identity cache's bounds.
//!
//! Parsing a certificate is the most expensive step of a request; a long-lived client sends
//! the same one on every request. The identity cache stores what `Identity::parse` returned
//! for a certificate (the identity, or the parse error) and the policy's roles, time-independent
//! checks and forward header values for it — never a decision: validity, revocation and the
//! rules are evaluated again on every request against the current clock.
//!
//! Bounded twice: by entries (`identity_cache_size`) and by bytes (`identity_cache_max_bytes`,
//! each entry counted as [`Certificate::memory_bytes`] plus the cache's own bookkeeping), so
//! 65,536 certificates near the 16 KiB DER cap with thousands of names cannot hold gigabytes.
//! An entry larger than the whole budget is not cached.
//!
//! Eviction is CLOCK (second chance): a hit sets the slot's reference bit; when full, the hand
//! sweeps, clearing bits, and evicts the first slot whose bit is already clear, as many times
//! as the byte budget needs. O(1) amortised, no per-hit reordering, and hot certificates
//! survive a scan of one-off ones.

use std::rc::Rc;

use hashbrown::HashMap;
use mtls_authz_core::policy::PreparedIdentity;
use mtls_authz_core::{hex, CertError, Identity, Policy};
use sha2::{Digest, Sha256};

/// What parsing a certificate produced.
pub type Parsed = Result<Identity, CertError>;

/// A certificate as the caches hold it: what parsing produced and, for one that parsed, what
/// the filter's policy derives from the certificate alone. Worked out once, when the
/// certificate is first seen, so the cache can count every byte of it. A cache belongs to one
/// configured [`crate::Filter`], so to one policy.
#[derive(Debug)]
pub struct Certificate {
    parsed: Parsed,
    /// Roles and time-independent checks (`Policy::prepare`).
    prepared: Option<PreparedIdentity>,
    /// The `forward_headers` values (`Policy::forward_header_values_of`): the same on every
    /// request of the certificate; used only for a usable identity whose request is allowed.
    forward_values: Vec<(String, String)>,
}

impl Certificate {
    /// What parsing produced, with what `policy` derives from a certificate that parsed.
    pub fn new(parsed: Parsed, policy: &Policy) -> Self {
        let (prepared, forward_values) = match &parsed {
            Ok(identity) => (
                Some(policy.prepare(identity)),
                policy
                    .forward_header_values_of(identity)
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), value))
                    .collect(),
            ),
            Err(_) => (None, Vec::new()),
        };
        Self {
            parsed,
            prepared,
            forward_values,
        }
    }

    /// A certificate that could not be read or parsed.
    pub fn failed(err: CertError) -> Self {
        Self {
            parsed: Err(err),
            prepared: None,
            forward_values: Vec::new(),
        }
    }

    /// What the policy derives from the certificate alone; `None` when it did not parse.
    pub fn prepared(&self) -> Option<&PreparedIdentity> {
        self.prepared.as_ref()
    }

    /// What parsing produced.
    pub fn parsed(&self) -> &Parsed {
        &self.parsed
    }

    /// The identity, when the certificate parsed.
    pub fn identity(&self) -> Option<&Identity> {
        self.parsed.as_ref().ok()
    }

    /// The forward header values of the identity (empty when it did not parse). Valid for a
    /// usable identity whose decision holds exactly its roles: an allowed request.
    pub fn forward_values(&self) -> &[(String, String)] {
        &self.forward_values
    }

    /// The memory this certificate holds: its own size and every heap allocation it owns.
    pub fn memory_bytes(&self) -> usize {
        let parsed_heap = match &self.parsed {
            Ok(identity) => identity.memory_bytes() - size_of::<Identity>(),
            Err(err) => err.memory_bytes() - size_of::<CertError>(),
        };
        let prepared_heap = self
            .prepared
            .as_ref()
            .map_or(0, |p| p.memory_bytes() - size_of::<PreparedIdentity>());
        let forward_heap = self.forward_values.capacity() * size_of::<(String, String)>()
            + self
                .forward_values
                .iter()
                .map(|(name, value)| name.capacity() + value.capacity())
                .sum::<usize>();
        size_of::<Self>() + parsed_heap + prepared_heap + forward_heap
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

struct Slot<K, V> {
    key: K,
    value: V,
    referenced: bool,
    /// What this entry costs against the byte budget.
    bytes: usize,
}

/// A map bounded by entries and by bytes (each entry's cost given on insert), with CLOCK
/// eviction (see the module docs). Capacity 0 (entries or bytes) stores nothing.
pub struct Clock<K, V> {
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
}

impl<K, V> std::fmt::Debug for Clock<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("capacity", &self.capacity)
            .field("max_bytes", &self.max_bytes)
            .field("len", &self.slots.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl<K: Copy + Eq + std::hash::Hash, V: Clone> Clock<K, V> {
    /// The bookkeeping one entry costs besides its value: the slot and the index entry (a
    /// hash map stores key and position, plus a control byte).
    pub const ENTRY_OVERHEAD: usize = size_of::<Slot<K, V>>() + size_of::<(K, usize)>() + 1;

    /// An empty map holding at most `capacity` entries and `max_bytes` bytes of them.
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

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes held by the entries, as their costs were given on insert.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The value for `key`, marking it recently used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        let slot = self.slots.get_mut(*self.index.get(key)?)?;
        slot.referenced = true;
        Some(slot.value.clone())
    }

    /// Stores `value` (costing `bytes`) under `key`, replacing an old value and evicting
    /// entries until both bounds hold. A value over the whole byte budget is not kept (and
    /// evicts nothing): returns whether it was kept.
    pub fn insert(&mut self, key: K, value: V, bytes: usize) -> bool {
        if self.capacity == 0 || bytes > self.max_bytes {
            return false;
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
            value,
            referenced: false,
            bytes,
        });
        self.bytes += bytes;
        true
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

/// What one cached certificate costs: the certificate's memory, its `Rc` box (two counts)
/// and the map's bookkeeping.
pub fn entry_bytes(certificate: &Certificate) -> usize {
    certificate.memory_bytes()
        + 2 * size_of::<usize>()
        + Clock::<CacheKey, Rc<Certificate>>::ENTRY_OVERHEAD
}

/// The cache of parsed certificates, keyed by the certificate. Capacity 0 (entries or bytes)
/// disables it.
#[derive(Debug)]
pub struct IdentityCache {
    entries: Clock<CacheKey, Rc<Certificate>>,
}

impl IdentityCache {
    /// An empty cache holding at most `capacity` certificates and `max_bytes` bytes of them
    /// (see [`entry_bytes`]).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            entries: Clock::new(capacity, max_bytes),
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

    /// Bytes held by the cached entries (see [`entry_bytes`]).
    pub fn bytes(&self) -> usize {
        self.entries.bytes()
    }

    /// The cached certificate for `key`, marking it recently used.
    pub fn get(&mut self, key: &CacheKey) -> Option<Rc<Certificate>> {
        self.entries.get(key)
    }

    /// Stores `certificate` under `key`, evicting entries until it fits both bounds; returns
    /// the shared certificate. One larger than the byte budget is returned but not kept.
    pub fn insert(&mut self, key: CacheKey, certificate: Certificate) -> Rc<Certificate> {
        let bytes = entry_bytes(&certificate);
        let certificate = Rc::new(certificate);
        self.entries.insert(key, Rc::clone(&certificate), bytes);
        certificate
    }
}

/// What a connection-scoped entry may hold at most this long (nanoseconds): see
/// [`ConnectionCache`].
pub const CONNECTION_ENTRY_TTL_NANOS: u64 = 300 * 1_000_000_000;

/// What the filter learnt about one TLS connection's client certificate, keyed by the host's
/// serial number of the connection (NGINX `$connection`, read as `ngx.connection`). Values
/// are small and `Copy` (a verdict and at most an [`IdentityCache`] key), so the cache is
/// bounded by its entry count: each entry costs [`ConnectionCache::ENTRY_BYTES`].
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

impl<V: Copy> ConnectionCache<V> {
    /// What one remembered connection costs (its value and the map's bookkeeping).
    pub const ENTRY_BYTES: usize = Clock::<u64, (u64, V)>::ENTRY_OVERHEAD;

    /// An empty cache for at most `capacity` connections.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Clock::new(capacity, usize::MAX),
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
        self.entries.insert(serial, (now, value), Self::ENTRY_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey::Bytes([n; 32])
    }

    fn error(n: u8) -> Parsed {
        Err(CertError::TrailingData { extra: n.into() })
    }

    fn value(n: u8) -> Certificate {
        Certificate::failed(CertError::TrailingData { extra: n.into() })
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
        assert_eq!(*cache.get(&key(1)).unwrap().parsed(), error(1));
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
        assert_eq!(cache.entries.index.len(), 8);
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
        assert_eq!(*cache.get(&key(1)).unwrap().parsed(), error(7));
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = by_count(0);
        assert_eq!(*cache.insert(key(1), value(1)).parsed(), error(1));
        assert!(cache.get(&key(1)).is_none());
        assert!(cache.is_empty());
    }

    /// Large parse results: a DER error carrying a message of `n` KiB.
    fn big(n: usize) -> Certificate {
        Certificate::failed(CertError::Der("x".repeat(n * 1024)))
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
        assert_eq!(cache.entries.index.len(), cache.len());
    }

    #[test]
    fn an_entry_over_the_whole_budget_is_not_kept() {
        let mut cache = IdentityCache::new(10, entry_bytes(&big(1)));
        cache.insert(key(1), big(1));
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.insert(key(2), big(2)).parsed(),
            big(2).parsed(),
            "returned, not kept"
        );
        assert!(cache.get(&key(2)).is_none());
        assert!(
            cache.get(&key(1)).is_some(),
            "a refused entry evicts nothing"
        );
        let mut off = IdentityCache::new(10, 0);
        off.insert(key(3), value(3));
        assert!(off.is_empty());
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
            let clock = &cache.entries;
            assert_eq!(clock.index.len(), clock.slots.len());
            for (at, slot) in clock.slots.iter().enumerate() {
                assert_eq!(clock.index.get(&slot.key), Some(&at));
            }
            assert_eq!(
                cache.bytes(),
                clock.slots.iter().map(|s| s.bytes).sum::<usize>()
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

    /// A parsed certificate is charged for its identity, its prepared roles and its forward
    /// header values: all of it is worked out before it is cached.
    #[test]
    fn a_certificate_is_charged_for_everything_it_holds() {
        let policy = Policy::from_json(&mtls_authz_fixtures::load_policy("healthcare")).unwrap();
        let identity = Identity::parse(
            &mtls_authz_fixtures::cert_bytes("healthcare/clinician-alice").unwrap(),
        )
        .unwrap();
        let identity_bytes = identity.memory_bytes();
        let certificate = Certificate::new(Ok(identity), &policy);
        assert!(certificate.prepared().is_some());
        assert!(!certificate.forward_values().is_empty());
        let forward: usize = certificate
            .forward_values()
            .iter()
            .map(|(n, v)| n.len() + v.len())
            .sum();
        assert!(certificate.memory_bytes() >= identity_bytes + forward);
        let mut cache = IdentityCache::new(4, usize::MAX);
        cache.insert(key(1), certificate);
        assert_eq!(
            cache.bytes(),
            entry_bytes(&cache.get(&key(1)).unwrap()),
            "the cache holds what entry_bytes says"
        );
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
