//! Where things live in the repository, resolved from this crate's manifest directory so the
//! tools work from any current directory. Fixture paths come from `mtls-authz-fixtures`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;
use std::time::Duration;

use crate::E2eError;

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

/// Scratch space for Envoy and NGINX configs and logs (`tests/e2e/.run`, ignored by git).
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

/// A tool the tests need: `$env_var` (which must name a file), else `installed` under the
/// repository root, else the path `script` prints once it has found, built or installed the
/// tool (`doing` says which, for the error). Never "skip": no tool is an error.
pub fn tool(
    env_var: &str,
    installed: &str,
    script: &str,
    doing: &str,
) -> Result<PathBuf, E2eError> {
    if let Some(path) = from_env(env_var) {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(E2eError::process(
                env_var,
                format!("{} is not a file", path.display()),
            ))
        };
    }
    let root = repo_root();
    let installed = root.join(installed);
    if installed.is_file() {
        return Ok(installed);
    }
    let script = root.join(script);
    let output = Command::new("bash")
        .arg(&script)
        .current_dir(&root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| E2eError::io(format!("running {}", script.display()), e))?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && Path::new(&printed).is_file() {
        Ok(PathBuf::from(printed))
    } else {
        Err(E2eError::process(
            format!("{} ({doing})", script.display()),
            format!("{}; printed {printed:?}", output.status),
        ))
    }
}

/// Run directories older than this are removed when a test process starts using the run dir
/// (recent ones may belong to a run in progress elsewhere on this shared machine).
const STALE_RUN_AGE: Duration = Duration::from_secs(3600);

fn remove_stale_run_dirs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_RUN_AGE);
        if stale {
            // Best effort: a directory that cannot be removed only costs disk space.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh directory under `tests/e2e/.run` for one proxy's config, logs and state.
pub fn fresh_run_dir(name: &str) -> Result<PathBuf, E2eError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    static CLEANUP: Once = Once::new();
    CLEANUP.call_once(|| remove_stale_run_dirs(&run_dir()));
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = run_dir().join(format!("{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| E2eError::io(format!("creating {}", dir.display()), e))?;
    Ok(dir)
}
