//! The only module that calls `x509-cert`/`der`: an upgrade of those crates touches this file.
