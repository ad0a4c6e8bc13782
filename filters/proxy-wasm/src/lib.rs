//! mtls-authz proxy-wasm filter.
