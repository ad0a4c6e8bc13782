//! The properties mtls-authz's parsers and its decision engine must keep for EVERY input, not
//! only for the fixture cases: the fuzz targets under `fuzz/` call these functions with
//! libFuzzer's inputs, and `tests/corpus.rs` replays the committed seeds and every past
//! finding through them on stable Rust in each CI run.
//!
//! Each `check_*` function takes raw bytes, never fails on malformed input (that must only
//! produce an error or a deny), and panics when a property breaks: a panic is a finding.
//!
//! | target | input | properties |
//! |---|---|---|
//! | `cert_der`, `cert_pem` | certificate bytes | fingerprint is the SHA-256 of the DER; PEM and DER agree; both DNs rendered and parsed back (issuer pin) match; forward-header values are header-safe and decode to the identity's values |
//! | `crl` | CRL bytes (DER or PEM) | listed serials are in the identity's form and all found after validation; a CRL validates against at most one CA (never the real one and the same-name rogue) and only without problems |
//! | `dn` | attribute values | a rendered DN parses back to the same attributes; its unescaped `=`, `,`, `+` mark exactly the attribute boundaries (a naive `includes('OU=Admins')` cannot be fooled) |
//! | `xfcc` | header text | a parsed header stays parsable with one more element appended, and that element's `Cert` is what is returned |
//! | `path` | request-target | normalising is idempotent; no dot segment, empty segment or encoded separator survives; the path served decides like the path authorised; a path accepted as sent splits into the segments authorised |
//! | `policy` | policy JSON | an accepted policy written back to JSON reads back equal and compiles to the same decisions; its router agrees with a plain pattern matcher |
//! | `token` | a JWS compact token | `verify` refuses exactly with the first problem `check` lists and accepts only when it lists none; an accepted token is not expired and binds to at most one fixture certificate |
//! | `forward` | one value | header-safe (visible ASCII, no edge space) and decodes back to the value |
#![forbid(unsafe_code)]
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test-support crate: a broken property must stop the fuzzer with a message"
)]

pub mod cert;
pub mod crl;
pub mod dn;
pub mod forward;
mod identities;
mod json_writer;
pub mod path;
pub mod policy;
pub mod token;
pub mod xfcc;

/// A property check: panics when `data` breaks a property.
pub type Check = fn(&[u8]);

/// Every target, by the name its fuzz binary, seed directory and regression directory use.
pub const TARGETS: &[(&str, Check)] = &[
    ("cert_der", cert::check_der),
    ("cert_pem", cert::check_pem),
    ("crl", crl::check),
    ("dn", dn::check),
    ("xfcc", xfcc::check),
    ("path", path::check),
    ("policy", policy::check),
    ("token", token::check),
    ("forward", forward::check),
];
