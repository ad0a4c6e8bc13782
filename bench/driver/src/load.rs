//! The load generator: one `oha` run against one proxy, with the client certificate, and
//! what came back (requests/s, latency percentiles, statuses, errors).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::error::{BenchError, Result};
use crate::proxy::pinned;
use crate::variant::LoadMode;

/// The TLS material the client presents and trusts.
#[derive(Clone, Debug)]
pub(crate) struct ClientTls {
    pub(crate) ca_bundle: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    /// Extra request headers (`NAME: VALUE`), e.g. a bearer token.
    pub(crate) headers: Vec<String>,
}

/// One oha run.
pub(crate) struct Run<'a> {
    pub(crate) oha: &'a Path,
    pub(crate) cpu: Option<usize>,
    pub(crate) mode: LoadMode,
    pub(crate) connections: u32,
    pub(crate) duration: Duration,
    /// `None`: plain HTTP (the upstream capacity check).
    pub(crate) tls: Option<&'a ClientTls>,
    pub(crate) port: u16,
    pub(crate) path: &'a str,
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    /// Responses with status 200 per second of the run.
    pub(crate) ok_per_second: f64,
    /// Latency percentiles (all responses), milliseconds.
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Responses with status 200.
    pub(crate) ok: u64,
    /// Responses with any other status, as (status, count).
    pub(crate) other_statuses: Vec<(String, u64)>,
    /// Failed requests (connection errors, timeouts), excluding the ones cut off by the end
    /// of the run.
    pub(crate) errors: u64,
    /// Wall time of the run, seconds.
    pub(crate) seconds: f64,
}

impl Run<'_> {
    pub(crate) fn execute(&self) -> Result<Outcome> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        // The server certificate is issued to `localhost`; oha must not try ::1 first.
        let url = format!("{scheme}://localhost:{}{}", self.port, self.path);
        let mut command = pinned(self.oha, self.cpu);
        command
            .args(["--no-tui", "--output-format", "json", "--ipv4"])
            .arg("-z")
            .arg(format!("{}ms", self.duration.as_millis()))
            .args(self.mode.oha_args(self.connections));
        if let Some(tls) = self.tls {
            command
                .arg("--cacert")
                .arg(&tls.ca_bundle)
                .arg("--cert")
                .arg(&tls.cert)
                .arg("--key")
                .arg(&tls.key);
            for header in &tls.headers {
                command.arg("-H").arg(header);
            }
        }
        command.arg(&url);
        let output = command
            .output()
            .map_err(|e| BenchError::io(format!("running {}", self.oha.display()), e))?;
        if !output.status.success() {
            return Err(BenchError::new(format!(
                "oha {url} ({}) failed with {}: {}",
                self.mode,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        parse_report(&output.stdout)
            .map_err(|e| BenchError::new(format!("oha {url} ({}): {e}", self.mode)))
    }
}

/// oha's `--output-format json` report.
fn parse_report(json: &[u8]) -> std::result::Result<Outcome, String> {
    let report: Value =
        serde_json::from_slice(json).map_err(|e| format!("report is not JSON: {e}"))?;
    let number = |pointer: &str| report.pointer(pointer).and_then(Value::as_f64);
    let seconds = number("/summary/total").ok_or("no summary.total")?;
    let mut ok = 0;
    let mut other_statuses = Vec::new();
    if let Some(statuses) = report
        .get("statusCodeDistribution")
        .and_then(Value::as_object)
    {
        for (status, count) in statuses {
            let count = count.as_u64().unwrap_or(0);
            if status == "200" {
                ok = count;
            } else {
                other_statuses.push((status.clone(), count));
            }
        }
    }
    let errors = report
        .get("errorDistribution")
        .and_then(Value::as_object)
        .map_or(0, |errors| {
            errors
                .iter()
                // Requests still in flight when the duration ends are not failures.
                .filter(|(message, _)| !message.contains("aborted due to deadline"))
                .map(|(_, count)| count.as_u64().unwrap_or(0))
                .sum()
        });
    let millis = |pointer: &str| number(pointer).map_or(f64::NAN, |s| s * 1000.0);
    Ok(Outcome {
        ok_per_second: if seconds > 0.0 {
            ok as f64 / seconds
        } else {
            0.0
        },
        p50_ms: millis("/latencyPercentiles/p50"),
        p99_ms: millis("/latencyPercentiles/p99"),
        ok,
        other_statuses,
        errors,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rate_percentiles_statuses_and_real_errors() {
        let report = br#"{
            "summary": {"total": 2.0, "requestsPerSec": 999.0},
            "latencyPercentiles": {"p50": 0.0005, "p99": 0.002},
            "statusCodeDistribution": {"200": 1000, "403": 2},
            "errorDistribution": {"aborted due to deadline": 16, "connection reset": 3}
        }"#;
        let outcome = parse_report(report).unwrap();
        assert_eq!(outcome.ok, 1000);
        assert!((outcome.ok_per_second - 500.0).abs() < 1e-9);
        assert!((outcome.p50_ms - 0.5).abs() < 1e-9);
        assert!((outcome.p99_ms - 2.0).abs() < 1e-9);
        assert_eq!(outcome.other_statuses, vec![("403".to_owned(), 2)]);
        assert_eq!(outcome.errors, 3);
    }

    #[test]
    fn a_report_without_summary_is_an_error() {
        assert_eq!(parse_report(b"{}").unwrap_err(), "no summary.total");
        assert!(parse_report(b"not json").is_err());
    }
}
