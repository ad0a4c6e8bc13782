//! Identity-cache churn: many distinct client certificates against one proxy, to show that
//! memory stays bounded once the filter's cache is full.
//!
//! Each certificate (bench/gen_clients.py) opens its own TLS connection and sends two requests
//! on it; every one must be allowed (each certificate is a valid clinician), which proves it
//! was parsed and authorised, not refused early.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{BenchError, Result};

/// Client side of a churn pass.
pub(crate) struct Churn<'a> {
    pub(crate) certs: &'a [PathBuf],
    pub(crate) key: &'a Path,
    pub(crate) ca_bundle: &'a Path,
    /// Parallel curl processes.
    pub(crate) workers: usize,
}

/// Responses of one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PassResult {
    pub(crate) ok: u64,
    pub(crate) other: u64,
}

impl Churn<'_> {
    /// Sends every certificate's two requests to `port`.
    pub(crate) fn pass(&self, port: u16) -> Result<PassResult> {
        let chunk = self.certs.len().div_ceil(self.workers.max(1)).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .certs
                .chunks(chunk)
                .map(|certs| scope.spawn(move || self.worker(port, certs)))
                .collect();
            let mut total = PassResult::default();
            for handle in handles {
                let part = handle
                    .join()
                    .map_err(|_| BenchError::new("a churn worker panicked"))??;
                total.ok += part.ok;
                total.other += part.other;
            }
            Ok(total)
        })
    }

    fn worker(&self, port: u16, certs: &[PathBuf]) -> Result<PassResult> {
        let authority = format!("localhost:{port}");
        let mut result = PassResult::default();
        for cert in certs {
            let output = Command::new("curl")
                .args(["--silent", "--noproxy", "*", "--max-time", "20"])
                .arg("--resolve")
                .arg(format!("{authority}:127.0.0.1"))
                .arg("--cacert")
                .arg(self.ca_bundle)
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(self.key)
                .args(["--output", "/dev/null", "--output", "/dev/null"])
                .args(["--write-out", "%{http_code}\\n"])
                .arg(format!("https://{authority}/patient-records/1"))
                .arg(format!("https://{authority}/patient-records/2"))
                .output()
                .map_err(|e| BenchError::io("running curl", e))?;
            for code in String::from_utf8_lossy(&output.stdout).lines() {
                if code.trim() == "200" {
                    result.ok += 1;
                } else {
                    result.other += 1;
                }
            }
        }
        Ok(result)
    }
}
