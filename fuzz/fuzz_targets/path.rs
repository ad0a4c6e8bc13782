//! Fuzz target `path`: the properties in tests/properties (`mtls_authz_properties::path::check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_authz_properties::path::check(data));
