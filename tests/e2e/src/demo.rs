//! The example scenarios' demo requests (`examples/envoy/<scenario>.demo.json`): one list that
//! `scripts/demo.sh` prints as curl commands, `examples/envoy/README.md` and
//! `examples/nginx/README.md` show, and the e2e tests replay against Envoy and NGINX — so the
//! documented outcomes are tested outcomes.

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

/// The proxy a demo runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proxy {
    /// Envoy (`scripts/demo.sh`).
    Envoy,
    /// NGINX with ngx_wasm_module (`scripts/demo.sh --proxy nginx`).
    Nginx,
}

impl Proxy {
    /// Parses `envoy` / `nginx`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "envoy" => Some(Self::Envoy),
            "nginx" => Some(Self::Nginx),
            _ => None,
        }
    }
}

/// One request of the story.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoRequest {
    /// The status the reader will see (in Envoy; in NGINX too unless `nginx_expect` says).
    pub expect: u16,
    /// The status in NGINX, where it differs from Envoy's.
    #[serde(default)]
    pub nginx_expect: Option<u16>,
    /// Why NGINX answers differently (required with `nginx_expect`).
    #[serde(default)]
    pub nginx_why: Option<String>,
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
    /// The status the request returns in `proxy`.
    pub fn expect_on(&self, proxy: Proxy) -> u16 {
        match proxy {
            Proxy::Nginx => self.nginx_expect.unwrap_or(self.expect),
            Proxy::Envoy => self.expect,
        }
    }

    /// The comment printed above the command: status and what it shows (and, in NGINX, why
    /// it differs from Envoy).
    pub fn comment(&self, proxy: Proxy) -> String {
        match (proxy, &self.nginx_why) {
            (Proxy::Nginx, Some(why)) if self.nginx_expect.is_some() => {
                format!(
                    "{}: {} -- in NGINX: {why}",
                    self.expect_on(proxy),
                    self.what
                )
            }
            _ => format!("{}: {}", self.expect_on(proxy), self.what),
        }
    }

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
            nginx_expect: None,
            nginx_why: None,
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
            for request in &demo.requests {
                assert_eq!(
                    request.nginx_expect.is_some(),
                    request.nginx_why.is_some(),
                    "{scenario} {}: nginx_expect and nginx_why go together",
                    request.path
                );
            }
        }
    }

    #[test]
    fn nginx_outcomes_fall_back_to_envoys() {
        let mut request = request("GET", "/a", &[]);
        assert_eq!(request.expect_on(Proxy::Nginx), 200);
        request.nginx_expect = Some(400);
        request.nginx_why = Some(String::from("because"));
        request.what = String::from("w");
        assert_eq!(request.expect_on(Proxy::Nginx), 400);
        assert_eq!(request.expect_on(Proxy::Envoy), 200);
        assert_eq!(request.comment(Proxy::Nginx), "400: w -- in NGINX: because");
        assert_eq!(request.comment(Proxy::Envoy), "200: w");
    }
}
