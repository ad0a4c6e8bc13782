//! Generates `$OUT_DIR/embedded_fixtures.rs`: every fixture file the drivers read (case tables,
//! policies, certificates, CRLs, tokens and JWK sets; not the private keys, which only TLS
//! clients need) as an `include_bytes!` entry keyed by its path under `tests/fixtures`.
//!
//! Targets without a file system (wasm32-unknown-unknown under wasm-bindgen-test) load fixtures
//! from this copy. The list comes from the directories at build time, and the directories are
//! watched, so a new case table or certificate can never be silently missing from it.
#![allow(clippy::panic, reason = "a build script stops with a message")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The directories under `tests/fixtures` that are embedded, recursively.
const EMBEDDED_DIRS: [&str; 5] = ["cases", "policies", "certs", "crls", "tokens"];

fn main() {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("CARGO_MANIFEST_DIR is not set"));
    let fixtures = manifest_dir
        .join("../fixtures")
        .canonicalize()
        .unwrap_or_else(|e| {
            panic!(
                "cannot find tests/fixtures beside {}: {e}",
                manifest_dir.display()
            )
        });
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    for dir in EMBEDDED_DIRS {
        let root = fixtures.join(dir);
        // A directory makes Cargo rescan every file below it: added, removed and edited files
        // all rebuild the embedded set.
        println!("cargo:rerun-if-changed={}", root.display());
        collect(&root, dir, &mut files);
    }
    files.sort();

    let mut out = String::from(
        "/// Every embedded fixture file: (path under `tests/fixtures`, contents), sorted by path.\n\
         pub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (relative, absolute) in &files {
        let absolute = absolute
            .to_str()
            .unwrap_or_else(|| panic!("fixture path {} is not UTF-8", absolute.display()));
        // `{:?}` of a str is a valid Rust string literal (quotes and escapes included).
        writeln!(out, "    ({relative:?}, include_bytes!({absolute:?})),")
            .unwrap_or_else(|e| panic!("formatting the embedded fixture list: {e}"));
    }
    out.push_str("];\n");

    let out_dir = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("OUT_DIR is not set"));
    let target = out_dir.join("embedded_fixtures.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}

/// Adds every file below `dir` (except `*.key`) as (`prefix/...` with `/` separators, path).
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let path = entry.path();
        let name = entry.file_name();
        let name = name
            .to_str()
            .unwrap_or_else(|| panic!("fixture name {} is not UTF-8", path.display()));
        let relative = format!("{prefix}/{name}");
        if path.is_dir() {
            collect(&path, &relative, out);
        } else if !name.ends_with(".key") {
            out.push((relative, path));
        }
    }
}
