//! mtls-authz-core: turns a client certificate into a typed [`Identity`] and decides, with a
//! compiled default-deny [`Policy`], whether a request may proceed.
//!
//! The crate is `no_std` + `alloc`, never touches a host and never reads a clock: the caller
//! passes the certificate bytes, the request line and the current [`UnixTime`]. Every input
//! error becomes a typed error or a deny [`Decision`] with a deterministic reason string.
//!
//! ```text
//! cert bytes --Identity::parse (PEM or DER)--> Identity --+
//! policy JSON --Policy::from_json-----------> Policy --+--> Policy::evaluate(request, now) --> Decision
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod authority;
pub mod crl;
pub mod crypto;
pub mod decision;
pub mod dn;
pub mod forward;
pub mod hex;
pub mod identity;
pub mod json_value;
pub mod method_override;
pub mod path;
pub mod pattern;
mod percent;
pub mod policy;
pub mod refresh;
pub mod selector;
pub mod settings;
mod sort;
pub mod spiffe;
pub mod strip;
pub mod time;
pub mod token;
mod x509;
pub mod xfcc;

pub use authority::{AuthorityError, RequestAuthority};
pub use decision::{Decision, Outcome, Reason, Status};
pub use identity::{CertError, CertificateFile, ClientCert, Identity};
pub use path::{normalize_path, normalize_path_with, NormalizedPath, PathError};
pub use policy::{Mode, PeerVerification, Policy, PolicyError, Request, Source};
pub use selector::Selector;
pub use settings::HostKind;
pub use time::UnixTime;
