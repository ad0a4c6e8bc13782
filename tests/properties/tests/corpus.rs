//! Replays every committed fuzz seed (`fuzz/seeds/<target>/`) and every past finding
//! (`fuzz/regressions/<target>/`) through its target's properties, on stable Rust, in every
//! test run: what the fuzzer once broke stays fixed even where no fuzzer runs.

use std::path::{Path, PathBuf};

use mtls_authz_properties::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| String::from("(no message)"))
}

#[test]
fn every_seed_and_regression_keeps_its_targets_properties() {
    let mut total = 0;
    let mut broken = Vec::new();
    // Each finding is reported below with its file; the default hook would print each twice.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (target, check) in TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(target));
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} has no seed");
        let regressions = files(&fuzz_dir().join("regressions").join(target));
        for file in seeds.iter().chain(&regressions) {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Err(payload) = std::panic::catch_unwind(|| check(&data)) {
                let name = file.strip_prefix(fuzz_dir()).unwrap_or(file);
                broken.push(format!("{}: {}", name.display(), panic_message(&*payload)));
            }
            total += 1;
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz corpus replay: {total} inputs over {} targets",
        TARGETS.len()
    );
    assert!(
        broken.is_empty(),
        "{} input(s) break a property:\n  {}",
        broken.len(),
        broken.join("\n  ")
    );
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (target, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {target}"
        );
        assert!(
            fuzz_dir()
                .join(format!("fuzz_targets/{target}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{target}.rs is missing"
        );
    }
}
