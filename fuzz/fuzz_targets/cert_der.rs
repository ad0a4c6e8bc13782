//! Fuzz target `cert_der`: the properties in tests/properties (`mtls_authz_properties::cert::check_der`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mtls_authz_properties::cert::check_der(data));
