//! The example scenarios' demo requests (`examples/envoy/<scenario>.demo.json`): one list that
//! `scripts/demo.sh` prints as curl commands, `examples/envoy/README.md` shows, and the e2e test
//! replays against Envoy — so the documented outcomes are tested outcomes.

use std::path::PathBuf;

use serde::Deserialize;

use crate::{paths, E2eError};

/// The example scenarios, each with a fixture policy of the same name.
pub const SCENARIOS: [&str; 2] = ["healthcare", "multitenant"];

/// The shell variable the printed commands use for `tests/fixtures/certs`.
pub const CERTS_VAR: &str = "C=tests/fixtures/certs";

/// One scenario's requests.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoFile {
    /// Fixture policy (file stem under tests/fixtures/policies).
    pub policy: String,
    /// The requests, in the order the README tells the story.
    pub requests: Vec<DemoRequest>,
}

/// One request of the story.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoRequest {
    /// The status the reader will see.
    pub expect: u16,
    /// One line saying what it shows.
    pub what: String,
    /// Client certificate under tests/fixtures/certs (without extension).
    pub cert: String,
    /// Method.
    pub method: String,
    /// Path as typed.
    pub path: String,
    /// Extra headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// `examples/envoy/<scenario>.demo.json`.
pub fn demo_file_path(scenario: &str) -> PathBuf {
    paths::repo_root()
        .join("examples/envoy")
        .join(format!("{scenario}.demo.json"))
}

/// Loads a scenario's demo requests.
pub fn load(scenario: &str) -> Result<DemoFile, E2eError> {
    let path = demo_file_path(scenario);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| E2eError::io(format!("reading {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| E2eError::Protocol(format!("{}: {e}", path.display())))
}

/// Single-quotes a word for POSIX shells.
fn shell_quote(word: &str) -> String {
    if word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:=%".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

impl DemoRequest {
    /// The curl command a reader types from the repository root (after `C=tests/fixtures/certs`).
    pub fn curl_command(&self, port: u16) -> String {
        let mut words = vec![
            String::from("curl -s -w ' %{http_code}\\n' --cacert $C/ca/bundle.pem"),
            format!("--cert $C/{0}.pem --key $C/{0}.key", self.cert),
        ];
        if self.method != "GET" {
            words.push(format!("-X {}", shell_quote(&self.method)));
        }
        for (name, value) in &self.headers {
            words.push(format!("-H {}", shell_quote(&format!("{name}: {value}"))));
        }
        if self.path.contains("/.") {
            // Without it curl itself would resolve dot-segments before sending.
            words.push(String::from("--path-as-is"));
        }
        words.push(shell_quote(&format!(
            "https://localhost:{port}{}",
            self.path
        )));
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> DemoRequest {
        DemoRequest {
            expect: 200,
            what: String::new(),
            cert: String::from("healthcare/admin-bob"),
            method: method.into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_get_is_the_shortest_command() {
        assert_eq!(
            request("GET", "/patient-records/1", &[]).curl_command(10443),
            "curl -s -w ' %{http_code}\\n' --cacert $C/ca/bundle.pem --cert $C/healthcare/admin-bob.pem \
             --key $C/healthcare/admin-bob.key https://localhost:10443/patient-records/1"
        );
    }

    #[test]
    fn methods_headers_and_dot_segments_are_spelled_out_and_quoted() {
        let command =
            request("DELETE", "/a/../b?x=1&y", &[("x-client-role", "admin's")]).curl_command(1);
        assert!(command.ends_with(
            "-X DELETE -H 'x-client-role: admin'\\''s' --path-as-is 'https://localhost:1/a/../b?x=1&y'"
        ), "{command}");
    }

    #[test]
    fn every_scenario_file_loads_and_names_its_policy() {
        for scenario in SCENARIOS {
            let demo = load(scenario).unwrap();
            assert_eq!(demo.policy, scenario);
            assert!(!demo.requests.is_empty());
        }
    }
}
