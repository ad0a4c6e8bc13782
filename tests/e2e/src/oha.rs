//! `oha` as a load generator beside the soak's own client: a closed-loop load at saturation
//! over mutual TLS with one client certificate, one method and path, HTTP/1.1 or HTTP/2, for
//! a fixed time, and the statuses it got back. It waits for the requests in flight when the
//! time is up, so every request it sent is counted once (the soak adds them to the filter's
//! counters exactly).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::{paths, E2eError};

/// The `oha` binary: `OHA`, else `.tools/bin/oha`, else what `scripts/ensure-oha.sh` finds or
/// installs (`cargo install oha --locked`, about 6 minutes). Never "skip": no oha is an error.
pub fn binary() -> Result<PathBuf, E2eError> {
    paths::tool(
        "OHA",
        ".tools/bin/oha",
        "scripts/ensure-oha.sh",
        "installing oha",
    )
}

/// One load: what to send, how, for how long.
#[derive(Clone, Debug)]
pub struct Load {
    pub port: u16,
    pub method: &'static str,
    pub path: String,
    pub http2: bool,
    /// Connections (HTTP/2: each carries `streams` requests at a time).
    pub connections: u32,
    pub streams: u32,
    pub duration: Duration,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A running load.
pub struct Running {
    load: Load,
    child: Child,
}

/// What a finished load got back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer, by oha's error text.
    pub errors: BTreeMap<String, u64>,
    /// Wall time of the load in milliseconds.
    pub millis: u64,
}

impl Outcome {
    /// Requests answered.
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }
}

impl Load {
    /// Starts the load in the background.
    pub fn start(self, oha: &Path) -> Result<Running, E2eError> {
        // The server certificate is issued to `localhost`; oha must not try ::1 first.
        let url = format!("https://localhost:{}{}", self.port, self.path);
        let mut command = Command::new(oha);
        command
            .args(["--no-tui", "--output-format", "json", "--ipv4"])
            // Requests in flight at the end are waited for, not cut off: a cut-off request may
            // have been decided (and counted) by the filter without oha counting its answer.
            .arg("--wait-ongoing-requests-after-deadline")
            .arg("-z")
            .arg(format!("{}ms", self.duration.as_millis()))
            .args(["-m", self.method])
            .arg("-c")
            .arg(self.connections.to_string())
            .arg("--cacert")
            .arg(&self.ca)
            .arg("--cert")
            .arg(&self.cert)
            .arg("--key")
            .arg(&self.key);
        if self.http2 {
            command
                .arg("--http2")
                .arg("-p")
                .arg(self.streams.to_string());
        }
        let child = command
            .arg(&url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| E2eError::io(format!("running {}", oha.display()), e))?;
        Ok(Running { load: self, child })
    }
}

impl Running {
    /// Waits for the load to end and reads its report.
    pub fn finish(self) -> Result<Outcome, E2eError> {
        let what = format!(
            "oha {} {} ({})",
            self.load.method,
            self.load.path,
            if self.load.http2 {
                "HTTP/2"
            } else {
                "HTTP/1.1"
            }
        );
        let output = self
            .child
            .wait_with_output()
            .map_err(|e| E2eError::io(format!("waiting for {what}"), e))?;
        if !output.status.success() {
            return Err(E2eError::process(
                what,
                format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ),
            ));
        }
        parse_report(&output.stdout).map_err(|e| E2eError::Protocol(format!("{what}: {e}")))
    }
}

/// oha's `--output-format json` report: statuses, errors and the wall time.
fn parse_report(json: &[u8]) -> Result<Outcome, String> {
    let report: Value =
        serde_json::from_slice(json).map_err(|e| format!("the report is not JSON: {e}"))?;
    let seconds = report
        .pointer("/summary/total")
        .and_then(Value::as_f64)
        .ok_or("the report has no summary.total")?;
    let mut outcome = Outcome {
        millis: (seconds * 1000.0).round() as u64,
        ..Outcome::default()
    };
    if let Some(statuses) = report
        .get("statusCodeDistribution")
        .and_then(Value::as_object)
    {
        for (status, count) in statuses {
            let status = status
                .parse()
                .map_err(|_| format!("status {status:?} is not a number"))?;
            let count = count
                .as_u64()
                .ok_or_else(|| format!("the count of status {status} is not a number"))?;
            outcome.statuses.insert(status, count);
        }
    }
    if let Some(errors) = report.get("errorDistribution").and_then(Value::as_object) {
        for (message, count) in errors {
            let count = count
                .as_u64()
                .ok_or_else(|| format!("the count of error {message:?} is not a number"))?;
            outcome.errors.insert(message.clone(), count);
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn reads_statuses_errors_and_time() {
        let report = br#"{
            "summary": {"total": 2.5, "requestsPerSec": 999.0},
            "statusCodeDistribution": {"200": 1000, "403": 2},
            "errorDistribution": {"connection reset": 3}
        }"#;
        let outcome = parse_report(report).unwrap();
        assert_eq!(outcome.statuses, BTreeMap::from([(200, 1000), (403, 2)]));
        assert_eq!(
            outcome.errors,
            BTreeMap::from([("connection reset".to_owned(), 3)])
        );
        assert_eq!(outcome.millis, 2500);
        assert_eq!(outcome.answered(), 1002);
    }

    #[test]
    fn a_report_without_a_summary_or_with_odd_statuses_is_an_error() {
        assert_eq!(
            parse_report(b"{}").unwrap_err(),
            "the report has no summary.total"
        );
        assert!(parse_report(b"not json").is_err());
        assert_eq!(
            parse_report(br#"{"summary": {"total": 1}, "statusCodeDistribution": {"ok": 1}}"#)
                .unwrap_err(),
            "status \"ok\" is not a number"
        );
    }
}
