//! Finds the filter's `.wasm`: `MTLS_AUTHZ_WASM` when set (CI builds it once), otherwise builds
//! it with cargo — a no-op when it is up to date, so a test never runs a stale filter.

use std::path::PathBuf;
use std::process::Command;

use crate::{paths, E2eError};

/// The file name cargo gives the filter's cdylib.
pub const WASM_FILE: &str = "mtls_authz_filter.wasm";

/// The `.wasm` to load into Envoy.
pub fn locate_or_build() -> Result<PathBuf, E2eError> {
    if let Some(path) = paths::from_env("MTLS_AUTHZ_WASM") {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(E2eError::process(
                "MTLS_AUTHZ_WASM",
                format!("{} is not a file", path.display()),
            ))
        };
    }
    build()
}

/// `cargo build -p mtls-authz-filter --target wasm32-wasip1 --release`, returning the artifact.
pub fn build() -> Result<PathBuf, E2eError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = paths::repo_root();
    let what = "cargo build -p mtls-authz-filter --target wasm32-wasip1 --release";
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "-p",
            "mtls-authz-filter",
            "--target",
            "wasm32-wasip1",
            "--release",
        ])
        .status()
        .map_err(|e| E2eError::io(what, e))?;
    if !status.success() {
        return Err(E2eError::process(what, status.to_string()));
    }
    let target_dir =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let wasm = target_dir.join("wasm32-wasip1/release").join(WASM_FILE);
    if wasm.is_file() {
        Ok(wasm)
    } else {
        Err(E2eError::process(
            what,
            format!("succeeded but {} does not exist", wasm.display()),
        ))
    }
}
