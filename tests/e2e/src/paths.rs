//! Where things live in the repository, resolved from this crate's manifest directory so the
//! tools work from any current directory. Fixture paths come from `mtls-authz-fixtures`.

use std::path::{Path, PathBuf};

/// The repository root (two levels above `tests/e2e`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// `examples/envoy/envoy.yaml.j2`, the one Envoy bootstrap template.
pub fn envoy_template() -> PathBuf {
    repo_root().join("examples/envoy/envoy.yaml.j2")
}

/// Scratch space for Envoy configs and logs (`tests/e2e/.run`, ignored by git).
pub fn run_dir() -> PathBuf {
    repo_root().join("tests/e2e/.run")
}

/// A path from an environment variable: relative paths are taken from the repository root
/// (cargo runs tests from the package directory, not from where the command was typed).
pub fn from_env(var: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(var)?);
    Some(if path.is_absolute() {
        path
    } else {
        repo_root().join(path)
    })
}
