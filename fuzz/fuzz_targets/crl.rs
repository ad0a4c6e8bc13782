//! Fuzz target `crl`: the properties in tests/properties (`mtls_authz_properties::crl::check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_authz_properties::crl::check(data));
