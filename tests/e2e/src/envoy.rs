//! Envoy as a child process: find or install the binary, start it on a rendered config, wait for
//! the admin `/ready`, read the listener's port and stats, keep the log for failure reports.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{http, paths, E2eError};

/// How long Envoy may take to become ready (V8 compiles the module at startup; cold CI machines
/// with two busy cores are slow).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The Envoy binary: `ENVOY_BIN`, else `.venv/bin/envoy`, else what `scripts/ensure-envoy.sh`
/// installs there. Never "skip": no Envoy is an error.
pub fn binary() -> Result<PathBuf, E2eError> {
    if let Some(path) = paths::from_env("ENVOY_BIN") {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(E2eError::process(
                "ENVOY_BIN",
                format!("{} is not a file", path.display()),
            ))
        };
    }
    let root = paths::repo_root();
    let venv_envoy = root.join(".venv/bin/envoy");
    if venv_envoy.is_file() {
        return Ok(venv_envoy);
    }
    let script = root.join("scripts/ensure-envoy.sh");
    let status = Command::new("bash")
        .arg(&script)
        .current_dir(&root)
        .status()
        .map_err(|e| E2eError::io(format!("running {}", script.display()), e))?;
    if status.success() && venv_envoy.is_file() {
        Ok(venv_envoy)
    } else {
        Err(E2eError::process(
            format!("{} (installing Envoy)", script.display()),
            format!("{status}; {} still missing", venv_envoy.display()),
        ))
    }
}

pub use crate::paths::fresh_run_dir;

fn spawn(envoy: &Path, dir: &Path, yaml: &str) -> Result<Child, E2eError> {
    let config = dir.join("envoy.yaml");
    std::fs::write(&config, yaml)
        .map_err(|e| E2eError::io(format!("writing {}", config.display()), e))?;
    let log_path = dir.join("envoy.log");
    let log = File::create(&log_path)
        .map_err(|e| E2eError::io(format!("creating {}", log_path.display()), e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| E2eError::io("duplicating the log handle", e))?;
    Command::new(envoy)
        .arg("--config-path")
        .arg(&config)
        .arg("--admin-address-path")
        .arg(dir.join("admin-address"))
        // Several Envoys run side by side: no shared-memory hot-restart region.
        .args(["--disable-hot-restart", "--concurrency", "1"])
        .args(["--log-level", "info"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| E2eError::io(format!("starting {}", envoy.display()), e))
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("envoy.log")).unwrap_or_else(|e| format!("(no log: {e})"))
}

/// A running, ready Envoy. Killed when dropped; its directory (config + log) stays for
/// inspection under `tests/e2e/.run`.
pub struct Envoy {
    child: Child,
    dir: PathBuf,
    admin: SocketAddr,
}

impl Envoy {
    /// Starts Envoy on `yaml` and waits until the admin API says `/ready` (listeners up, the
    /// filter configured). `name` labels the run directory.
    pub fn start(envoy: &Path, name: &str, yaml: &str) -> Result<Self, E2eError> {
        let dir = fresh_run_dir(name)?;
        let child = spawn(envoy, &dir, yaml)?;
        let mut starting = Self {
            child,
            dir,
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = starting
                .child
                .try_wait()
                .map_err(|e| E2eError::io("polling Envoy", e))?
            {
                return Err(E2eError::process(
                    format!("Envoy ({name}) exited during startup with {status}"),
                    starting.log(),
                ));
            }
            if starting.admin.port() == 0 {
                if let Ok(text) = std::fs::read_to_string(starting.dir.join("admin-address")) {
                    if let Ok(addr) = text.trim().parse() {
                        starting.admin = addr;
                    }
                }
            }
            if starting.admin.port() != 0 {
                if let Ok((200, _)) = http::get(starting.admin, "/ready", ADMIN_TIMEOUT) {
                    return Ok(starting);
                }
            }
            if Instant::now() > deadline {
                return Err(E2eError::process(
                    format!("Envoy ({name}) not ready after {STARTUP_TIMEOUT:?}"),
                    starting.log(),
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Starts Envoy on a config it must REFUSE, and returns its exit status and log once it
    /// exits. Becoming ready is an error: a bad config must never serve traffic.
    pub fn run_expecting_exit(
        envoy: &Path,
        name: &str,
        yaml: &str,
    ) -> Result<(ExitStatus, String), E2eError> {
        let dir = fresh_run_dir(name)?;
        let mut child = spawn(envoy, &dir, yaml)?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let admin_file = dir.join("admin-address");
        loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| E2eError::io("polling Envoy", e))?
            {
                return Ok((status, read_log(&dir)));
            }
            let ready = std::fs::read_to_string(&admin_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .is_some_and(|addr| {
                    matches!(http::get(addr, "/ready", ADMIN_TIMEOUT), Ok((200, _)))
                });
            if ready || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let why = if ready {
                    "became READY"
                } else {
                    "neither exited nor became ready"
                };
                return Err(E2eError::process(
                    format!("Envoy ({name}) should have refused its config but {why}"),
                    read_log(&dir),
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The admin API address.
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// Everything Envoy logged so far (stderr and the stdout access log).
    pub fn log(&self) -> String {
        read_log(&self.dir)
    }

    /// Envoy's process id (for its resident memory in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory holding this run's config and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The port the kernel gave the (single) mTLS listener.
    pub fn listener_port(&self) -> Result<u16, E2eError> {
        self.listener_port_named("mtls_authz_listener")
    }

    /// The port of the listener named `name` (Envoy's `/listeners`).
    pub fn listener_port_named(&self, name: &str) -> Result<u16, E2eError> {
        let (status, body) = http::get(self.admin, "/listeners?format=json", ADMIN_TIMEOUT)?;
        if status != 200 {
            return Err(E2eError::Protocol(format!(
                "/listeners answered {status}: {body}"
            )));
        }
        let json: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| E2eError::Protocol(format!("/listeners is not JSON ({e}): {body}")))?;
        json.pointer("/listener_statuses")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .find(|status| status.get("name").and_then(serde_json::Value::as_str) == Some(name))
            .and_then(|status| status.pointer("/local_address/socket_address/port_value"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .ok_or_else(|| {
                E2eError::Protocol(format!("no port of listener {name} in /listeners: {body}"))
            })
    }

    /// Counter values whose names match the regular expression (Envoy's `/stats?filter=`).
    pub fn counters(&self, filter: &str) -> Result<Vec<(String, u64)>, E2eError> {
        let path = format!("/stats?usedonly&filter={}", percent_encode_query(filter));
        let (status, body) = http::get(self.admin, &path, ADMIN_TIMEOUT)?;
        if status != 200 {
            return Err(E2eError::Protocol(format!(
                "{path} answered {status}: {body}"
            )));
        }
        Ok(body
            .lines()
            .filter_map(|line| line.split_once(": "))
            .filter_map(|(name, value)| Some((name.to_owned(), value.trim().parse().ok()?)))
            .collect())
    }

    /// One counter's value (0 when Envoy has not created it yet).
    pub fn counter(&self, name: &str) -> Result<u64, E2eError> {
        let exact = format!("^{}$", name.replace('.', "\\."));
        Ok(self
            .counters(&exact)?
            .into_iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| v))
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes everything but unreserved characters, for admin query parameters (stats
/// filters are regexes full of `^$\\|()`).
pub fn percent_encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_filters_are_query_encoded() {
        assert_eq!(percent_encode_query("^a\\.b$"), "%5Ea%5C.b%24");
    }
}
