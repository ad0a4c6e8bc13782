//! One-off measurement of a large CRL, natively and inside wasm (issue 13): parse + verify
//! time and the memory it takes, then the cost of a lookup.
//!
//! ```text
//! cargo run --release -p mtls-authz-core --example crl_measure [ENTRIES]
//! cargo build --release -p mtls-authz-core --example crl_measure --target wasm32-wasip1
//! node scripts/run-wasi.mjs target/wasm32-wasip1/release/examples/crl_measure.wasm
//! ```
//! (`run-wasi.mjs` passes no arguments: 100,000 entries.) Memory: natively the peak resident
//! set growth while the CRL is taken in (Linux `VmHWM`, reset through `/proc/self/clear_refs`),
//! in wasm the linear memory growth (it never shrinks, so it is the peak). Both include the
//! transient allocations of parsing; the DER itself was allocated before.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "measurement tool: a broken input should stop it loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use mtls_authz_core::crl::{CaCertificate, Crl, CrlLimits, RevocationList};
use mtls_authz_core::{Identity, UnixTime};
use mtls_authz_fixtures::crl::{large_crl, large_crl_serial_hex, LARGE_CRL_ISSUER};

const NOW: UnixTime = UnixTime::from_secs(1_795_392_000);

/// Heap the process holds now, and a way to measure the peak of what follows.
struct Memory;

#[cfg(target_arch = "wasm32")]
impl Memory {
    fn reset_peak() -> usize {
        core::arch::wasm32::memory_size(0) * 65_536
    }
    fn peak() -> usize {
        core::arch::wasm32::memory_size(0) * 65_536
    }
    const WHAT: &'static str = "wasm linear memory growth";
}

#[cfg(not(target_arch = "wasm32"))]
impl Memory {
    fn status(field: &str) -> usize {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status.lines().find_map(|line| {
                    let value = line.strip_prefix(field)?.trim().strip_suffix("kB")?;
                    value.trim().parse::<usize>().ok()
                })
            })
            .map_or(0, |kib| kib * 1024)
    }
    fn reset_peak() -> usize {
        // "5" resets VmHWM to the current RSS (Linux >= 4.0).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Self::status("VmRSS:")
    }
    fn peak() -> usize {
        Self::status("VmHWM:")
    }
    const WHAT: &'static str = "peak RSS growth";
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn main() {
    let entries: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("ENTRIES is a number"))
        .unwrap_or(100_000);
    let ca =
        CaCertificate::parse(&mtls_authz_fixtures::cert_bytes(LARGE_CRL_ISSUER).unwrap()).unwrap();
    let identity =
        Identity::parse(&mtls_authz_fixtures::cert_bytes("crl/ed25519-client").unwrap()).unwrap();
    let limits = CrlLimits::DEFAULT;
    let der = large_crl(entries);
    println!(
        "target {}, {entries} entries, {} bytes of DER",
        std::env::consts::ARCH,
        der.len()
    );

    // First thing after building the DER: a fresh heap, so the growth is this CRL's.
    let before = Memory::reset_peak();
    let list = RevocationList::from_crl(&der, &ca, NOW, &limits).unwrap();
    let peak = Memory::peak();
    println!(
        "memory: {} {} while taking it in; the list holds {} (serial set, {} serials)",
        Memory::WHAT,
        mib(peak.saturating_sub(before)),
        mib(list.memory_bytes()),
        list.len()
    );

    // Warm-up (first-touch page faults, code paths), then the measured runs.
    drop(RevocationList::from_crl(&der, &ca, NOW, &limits).unwrap());
    let mut parse_ms = Vec::new();
    let mut verify_ms = Vec::new();
    let mut total_ms = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let crl = Crl::parse(&der, &limits).unwrap();
        let parsed = start.elapsed();
        assert_eq!(crl.signature_problem(&ca), None);
        let verified = start.elapsed();
        let list = crl.validate(&ca, NOW).unwrap();
        black_box(&list);
        parse_ms.push(parsed.as_secs_f64() * 1e3);
        verify_ms.push((verified - parsed).as_secs_f64() * 1e3);
        let start = Instant::now();
        let list = RevocationList::from_crl(black_box(&der), &ca, NOW, &limits).unwrap();
        total_ms.push(start.elapsed().as_secs_f64() * 1e3);
        black_box(list);
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!(
        "parse (structure + serial set): {:.1} ms, signature check: {:.1} ms, \
         RevocationList::from_crl (parse + check + verify): {:.1} ms  (median of 5)",
        median(&mut parse_ms),
        median(&mut verify_ms),
        median(&mut total_ms)
    );

    let serial = large_crl_serial_hex(entries / 2);
    let rounds = 1_000_000u32;
    let start = Instant::now();
    let mut hits = 0u32;
    for _ in 0..rounds {
        hits += u32::from(black_box(&list).contains_serial(black_box(&serial)));
    }
    let contains_ns = start.elapsed().as_secs_f64() * 1e9 / f64::from(rounds);
    let start = Instant::now();
    for _ in 0..rounds {
        hits += u32::from(black_box(&list).is_revoked(black_box(&identity)));
    }
    let is_revoked_ns = start.elapsed().as_secs_f64() * 1e9 / f64::from(rounds);
    assert_eq!(hits, rounds);
    println!(
        "lookup: contains_serial {contains_ns:.0} ns, is_revoked (own issuer: name + key id + serial) {is_revoked_ns:.0} ns"
    );
}
