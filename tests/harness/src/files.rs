//! Fixture files by their path under `tests/fixtures`, with `/` separators
//! (`certs/attack/expired.pem`). Two backends answer alike: [`disk`] reads the checkout,
//! [`embedded`] the copy compiled in by `build.rs`. wasm32 has no file system under
//! wasm-bindgen-test, so it uses the embedded copy; every other target reads the disk. The
//! loader goes through the re-exported [`read`], [`is_file`] and [`list`] only, so one driver
//! body serves every target.

#[cfg(not(target_arch = "wasm32"))]
pub use disk::{is_file, list, read};
#[cfg(target_arch = "wasm32")]
pub use embedded::{is_file, list, read};

/// The fixture files of this checkout, read when asked.
pub mod disk {
    use crate::fixtures_dir;

    /// The bytes of a fixture file; the error names the file.
    pub fn read(path: &str) -> Result<Vec<u8>, String> {
        let full = fixtures_dir().join(path);
        std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
    }

    /// Whether `path` is a fixture file.
    pub fn is_file(path: &str) -> bool {
        fixtures_dir().join(path).is_file()
    }

    /// Names of the files directly in the fixture directory `dir`, sorted.
    pub fn list(dir: &str) -> Result<Vec<String>, String> {
        let full = fixtures_dir().join(dir);
        let cannot = |e: &dyn std::fmt::Display| format!("cannot list {}: {e}", full.display());
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&full).map_err(|e| cannot(&e))? {
            let entry = entry.map_err(|e| cannot(&e))?;
            if !entry.path().is_file() {
                continue;
            }
            let name = entry
                .file_name()
                .into_string()
                .map_err(|name| cannot(&format_args!("file name {name:?} is not UTF-8")))?;
            names.push(name);
        }
        names.sort();
        Ok(names)
    }
}

/// The fixture files as they were when this crate was built: every file under `cases/`,
/// `policies/`, `certs/`, `crls/` and `tokens/` except private keys (`*.key`), which only TLS
/// clients use.
pub mod embedded {
    mod generated {
        include!(concat!(env!("OUT_DIR"), "/embedded_fixtures.rs"));
    }

    /// Every embedded file as (path, contents), sorted by path.
    pub fn files() -> &'static [(&'static str, &'static [u8])] {
        generated::FILES
    }

    fn get(path: &str) -> Option<&'static [u8]> {
        let files = files();
        let index = files.binary_search_by(|(p, _)| (*p).cmp(path)).ok()?;
        files.get(index).map(|(_, bytes)| *bytes)
    }

    /// The bytes of a fixture file; the error names the file.
    pub fn read(path: &str) -> Result<Vec<u8>, String> {
        get(path)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("fixture {path} is not embedded (tests/harness/build.rs)"))
    }

    /// Whether `path` is an embedded fixture file.
    pub fn is_file(path: &str) -> bool {
        get(path).is_some()
    }

    /// Names of the files directly in the fixture directory `dir`, sorted. A directory
    /// without embedded files is an error, like a missing directory on disk.
    pub fn list(dir: &str) -> Result<Vec<String>, String> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let names: Vec<String> = files()
            .iter()
            .filter_map(|(path, _)| path.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(String::from)
            .collect();
        if names.is_empty() {
            return Err(format!(
                "no embedded fixture directory {dir} (tests/harness/build.rs)"
            ));
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::{disk, embedded};
    use crate::fixtures_dir;

    /// Every non-key file under `dir` (a path under `tests/fixtures`), recursively.
    fn walk(dir: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(fixtures_dir().join(dir)).unwrap() {
            let entry = entry.unwrap();
            let path = format!("{dir}/{}", entry.file_name().to_str().unwrap());
            if entry.path().is_dir() {
                walk(&path, out);
            } else if !path.ends_with(".key") {
                out.push(path);
            }
        }
    }

    /// The embedded copy is the checkout: same files, same bytes (a stale or incomplete
    /// embedding would make wasm32 test something else than native).
    #[test]
    fn embedded_copy_matches_the_checkout() {
        let mut on_disk = Vec::new();
        for dir in ["cases", "policies", "certs", "crls", "tokens"] {
            walk(dir, &mut on_disk);
        }
        on_disk.sort();
        let embedded: Vec<&str> = embedded::files().iter().map(|(path, _)| *path).collect();
        assert_eq!(embedded, on_disk);
        for (path, bytes) in embedded::files() {
            assert_eq!(disk::read(path).unwrap(), *bytes, "{path}");
        }
        assert!(on_disk.len() > 50, "only {} fixture files", on_disk.len());
    }

    #[test]
    fn both_backends_answer_alike() {
        for dir in [
            "cases",
            "policies",
            "certs/attack",
            "certs/malformed",
            "tokens",
        ] {
            let mut on_disk = disk::list(dir).unwrap();
            on_disk.retain(|name| !name.ends_with(".key"));
            assert_eq!(embedded::list(dir).unwrap(), on_disk, "{dir}");
        }
        for path in [
            "cases/attacks.json",
            "certs/attack/expired.pem",
            "certs/malformed/garbage.der",
            "certs/attack",
            "certs/no-such.pem",
        ] {
            assert_eq!(embedded::is_file(path), disk::is_file(path), "{path}");
            assert_eq!(embedded::read(path).ok(), disk::read(path).ok(), "{path}");
        }
        // Private keys stay on disk: only TLS clients read them.
        assert!(disk::is_file("certs/attack/expired.key"));
        assert!(!embedded::is_file("certs/attack/expired.key"));
    }

    #[test]
    fn errors_name_the_file() {
        let missing = embedded::read("certs/nope.pem").unwrap_err();
        assert_eq!(
            missing,
            "fixture certs/nope.pem is not embedded (tests/harness/build.rs)"
        );
        let missing = disk::read("certs/nope.pem").unwrap_err();
        assert!(
            missing.starts_with(&format!(
                "cannot read {}",
                fixtures_dir().join("certs/nope.pem").display()
            )),
            "{missing}"
        );
        assert_eq!(
            embedded::list("nope").unwrap_err(),
            "no embedded fixture directory nope (tests/harness/build.rs)"
        );
        assert!(disk::list("nope").is_err());
    }
}
