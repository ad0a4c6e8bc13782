//! Time is always passed in (never read inside the core), so decisions are reproducible.

/// Seconds since the Unix epoch (UTC). The caller reads its clock; tests pin it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Converts nanoseconds since the epoch (what proxy-wasm hosts report).
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos / 1_000_000_000)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}
