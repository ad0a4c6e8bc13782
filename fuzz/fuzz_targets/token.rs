//! Fuzz target `token`: the properties in tests/properties (`mtls_authz_properties::token::check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_authz_properties::token::check(data));
