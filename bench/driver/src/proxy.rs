//! One proxy process — Envoy, or NGINX with ngx_wasm_module — started on a rendered config
//! (optionally pinned to a CPU), ready-checked, and observed from outside: CPU time and
//! resident memory from `/proc`; for Envoy also heap and stats from the admin API.
//!
//! The e2e crate has its own runners; these differ where a benchmark needs it: CPU pinning
//! (`taskset`), one process to account for (Envoy with one worker thread; NGINX with
//! `master_process off`, its one process serving), and a quiet log level.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mtls_authz_e2e::envoy::percent_encode_query;
use mtls_authz_e2e::http;

use crate::error::{BenchError, Result};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which proxy runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Envoy, observed through its admin API.
    Envoy,
    /// NGINX with ngx_wasm_module (no admin API: `/proc` only).
    Nginx,
}

/// A running, ready proxy; killed when dropped. Its config and log stay in `dir`.
pub(crate) struct Proxy {
    name: String,
    kind: Kind,
    child: Child,
    dir: PathBuf,
    admin: SocketAddr,
    port: u16,
}

impl Proxy {
    /// Writes `yaml` to `dir/envoy.yaml`, starts Envoy with one worker thread (pinned to
    /// `cpu` when given) and waits until `/ready`.
    pub(crate) fn start(
        envoy: &Path,
        name: &str,
        dir: &Path,
        yaml: &str,
        cpu: Option<usize>,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
        let config = dir.join("envoy.yaml");
        std::fs::write(&config, yaml)
            .map_err(|e| BenchError::io(format!("writing {}", config.display()), e))?;
        let admin_file = dir.join("admin-address");
        // A stale address from an earlier run would point at a dead Envoy.
        let _ = std::fs::remove_file(&admin_file);
        let log_path = dir.join("envoy.log");
        let log = File::create(&log_path)
            .map_err(|e| BenchError::io(format!("creating {}", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| BenchError::io("duplicating a log handle", e))?;
        let mut command = pinned(envoy, cpu);
        command
            .arg("--config-path")
            .arg(&config)
            .arg("--admin-address-path")
            .arg(&admin_file)
            .args(["--disable-hot-restart", "--concurrency", "1"])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = command
            .spawn()
            .map_err(|e| BenchError::io(format!("starting Envoy ({name})"), e))?;
        let mut proxy = Self {
            name: name.to_owned(),
            kind: Kind::Envoy,
            child,
            dir: dir.to_owned(),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            port: 0,
        };
        proxy.wait_ready(&admin_file)?;
        proxy.port = proxy.listener_port()?;
        Ok(proxy)
    }

    /// Writes `conf` (rendered with its logs in `dir` and listening on `port`) to
    /// `dir/nginx.conf` and starts NGINX as one process (`master_process off`, pinned to
    /// `cpu` when given); waits until the port accepts connections and the error log holds
    /// `ready_line` (e.g. that the module loaded), when given.
    pub(crate) fn start_nginx(
        nginx: &Path,
        name: &str,
        dir: &Path,
        conf: &str,
        port: u16,
        ready_line: Option<&str>,
        cpu: Option<usize>,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
        let config = dir.join("nginx.conf");
        std::fs::write(&config, conf)
            .map_err(|e| BenchError::io(format!("writing {}", config.display()), e))?;
        let error_log = dir.join("error.log");
        let _ = std::fs::remove_file(&error_log);
        let mut command = pinned(nginx, cpu);
        command
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&config)
            .arg("-e")
            .arg(&error_log)
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .map_err(|e| BenchError::io(format!("starting NGINX ({name})"), e))?;
        let mut proxy = Self {
            name: name.to_owned(),
            kind: Kind::Nginx,
            child,
            dir: dir.to_owned(),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            port,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let listener = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                return Err(BenchError::new(format!(
                    "NGINX ({name}) exited during startup with {status}; log:\n{}",
                    proxy.log()
                )));
            }
            let logged = ready_line.is_none_or(|line| proxy.log().contains(line));
            if logged
                && std::net::TcpStream::connect_timeout(&listener, Duration::from_secs(1)).is_ok()
            {
                return Ok(proxy);
            }
            if Instant::now() > deadline {
                return Err(BenchError::new(format!(
                    "NGINX ({name}) not serving after {STARTUP_TIMEOUT:?}; log:\n{}",
                    proxy.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Which proxy this is.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    fn wait_ready(&mut self, admin_file: &Path) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::new(format!(
                    "Envoy ({}) exited during startup with {status}; log:\n{}",
                    self.name,
                    self.log()
                )));
            }
            if self.admin.port() == 0 {
                if let Some(addr) = std::fs::read_to_string(admin_file)
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                {
                    self.admin = addr;
                }
            }
            if self.admin.port() != 0
                && matches!(http::get(self.admin, "/ready", ADMIN_TIMEOUT), Ok((200, _)))
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(BenchError::new(format!(
                    "Envoy ({}) not ready after {STARTUP_TIMEOUT:?}; log:\n{}",
                    self.name,
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// GET on the admin API; the body of a 200.
    pub(crate) fn admin_get(&self, path: &str) -> Result<String> {
        match http::get(self.admin, path, ADMIN_TIMEOUT)? {
            (200, body) => Ok(body),
            (status, body) => Err(BenchError::new(format!(
                "Envoy ({}) admin {path} answered {status}: {body}",
                self.name
            ))),
        }
    }

    fn listener_port(&self) -> Result<u16> {
        let body = self.admin_get("/listeners?format=json")?;
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| {
                json.pointer("/listener_statuses/0/local_address/socket_address/port_value")
                    .and_then(serde_json::Value::as_u64)
            })
            .and_then(|port| u16::try_from(port).ok())
            .ok_or_else(|| {
                BenchError::new(format!(
                    "Envoy ({}): no listener port in /listeners: {body}",
                    self.name
                ))
            })
    }

    /// The port of its (single) listener.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// User + system CPU time of the whole process (every thread), in clock ticks.
    pub(crate) fn cpu_ticks(&self) -> Result<u64> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).map_err(|e| BenchError::io(&path, e))?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let tick = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
        match (tick(11), tick(12)) {
            (Some(user), Some(system)) => Ok(user + system),
            _ => Err(BenchError::new(format!(
                "{path}: unexpected format: {stat}"
            ))),
        }
    }

    /// Resident set size, KiB (`VmRSS`): Envoy's heap plus the wasm VMs' linear memory.
    pub(crate) fn rss_kib(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).map_err(|e| BenchError::io(&path, e))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| BenchError::new(format!("{path}: no VmRSS")))
    }

    /// Bytes allocated by Envoy's own allocator (admin `/memory` `allocated`). V8's wasm
    /// linear memory is mapped outside it, so RSS is reported too.
    pub(crate) fn heap_allocated(&self) -> Result<u64> {
        let body = self.admin_get("/memory")?;
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json.get("allocated")?.as_str()?.parse().ok())
            .ok_or_else(|| BenchError::new(format!("Envoy ({}): /memory: {body}", self.name)))
    }

    /// The counters and gauges whose names match `filter` (a regular expression).
    pub(crate) fn stats(&self, filter: &str) -> Result<Vec<(String, String)>> {
        let body = self.admin_get(&format!("/stats?filter={}", percent_encode_query(filter)))?;
        Ok(body
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            .collect())
    }

    /// Its log so far.
    pub(crate) fn log(&self) -> String {
        let file = match self.kind {
            Kind::Envoy => "envoy.log",
            Kind::Nginx => "error.log",
        };
        let path = self.dir.join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program` under `taskset -c <cpu>` (which execs it: same process id), or as is.
pub(crate) fn pinned(program: &Path, cpu: Option<usize>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpu.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
pub(crate) fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_filters_are_percent_encoded() {
        assert_eq!(percent_encode_query("^wasm\\.vm$"), "%5Ewasm%5C.vm%24");
        assert_eq!(percent_encode_query("a_b-c~d"), "a_b-c~d");
    }
}
