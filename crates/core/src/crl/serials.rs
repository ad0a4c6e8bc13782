//! The revoked serials of one CRL: a hash set of small fixed-size byte arrays.
//!
//! A serial is kept in the identity's form (INTEGER content octets, leading zero octets
//! removed: `crate::x509::serial_octets`), at most 21 octets (what the DER reader accepts), in
//! a 22-byte key (length + octets, zero-padded): no allocation per entry, O(1) lookup, about
//! 23 bytes per bucket (hashbrown keeps one control byte per bucket, at most 7/8 full). A
//! 100,000-entry CRL takes ~3 MiB (131,072 buckets), its DER ~3.3 MB.

use hashbrown::HashSet;

/// Longest serial kept: 20 octets plus the sign octet a 20-octet positive value needs
/// (x509-cert's decoder accepts 21 for that reason, and so do we).
pub(crate) const MAX_SERIAL_OCTETS: usize = 21;

/// One serial as a hash key: `[len, octets..., 0...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SerialKey([u8; MAX_SERIAL_OCTETS + 1]);

impl SerialKey {
    /// The key of serial octets already in identity form, or `None` when longer than
    /// [`MAX_SERIAL_OCTETS`].
    pub(crate) fn from_octets(octets: &[u8]) -> Option<Self> {
        let mut key = [0u8; MAX_SERIAL_OCTETS + 1];
        let (length, rest) = key.split_first_mut()?;
        *length = u8::try_from(octets.len()).ok()?;
        rest.get_mut(..octets.len())?.copy_from_slice(octets);
        Some(Self(key))
    }

    /// The key of a serial in the identity's text form (lowercase hex of whole octets, `0`
    /// for zero); `None` for anything else.
    pub(crate) fn from_identity_hex(hex: &str) -> Option<Self> {
        if hex == "0" {
            return Self::from_octets(&[]);
        }
        let digits = hex.as_bytes();
        if !digits.len().is_multiple_of(2) || digits.len() > 2 * MAX_SERIAL_OCTETS {
            return None;
        }
        let mut octets = [0u8; MAX_SERIAL_OCTETS];
        for (slot, pair) in octets.iter_mut().zip(digits.chunks_exact(2)) {
            let (high, low) = match pair {
                [high, low] => (
                    crate::hex::digit_value(*high)?,
                    crate::hex::digit_value(*low)?,
                ),
                _ => return None,
            };
            *slot = (high << 4) | low;
        }
        Self::from_octets(octets.get(..digits.len() / 2)?)
    }
}

/// The set of revoked serials of one CRL.
#[derive(Clone, Debug, Default)]
pub(crate) struct RevokedSerials {
    set: HashSet<SerialKey>,
}

impl RevokedSerials {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            set: HashSet::with_capacity(capacity),
        }
    }

    pub(crate) fn insert(&mut self, key: SerialKey) {
        self.set.insert(key);
    }

    pub(crate) fn contains(&self, key: &SerialKey) -> bool {
        self.set.contains(key)
    }

    /// Distinct serials.
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    /// Bytes held by the table (buckets and control bytes), for reports.
    pub(crate) fn allocated_bytes(&self) -> usize {
        let buckets = self.set.capacity().saturating_mul(8) / 7;
        let buckets = buckets.checked_next_power_of_two().unwrap_or(buckets);
        if self.set.capacity() == 0 {
            0
        } else {
            buckets.saturating_mul(size_of::<SerialKey>() + 1)
        }
    }
}
