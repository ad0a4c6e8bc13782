//! Fuzz target `cert_pem`: the properties in tests/properties (`mtls_authz_properties::cert::check_pem`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_authz_properties::cert::check_pem(data));
