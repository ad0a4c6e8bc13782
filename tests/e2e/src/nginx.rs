//! NGINX with ngx_wasm_module as a child process: find (or build) the binary, render
//! `examples/nginx/nginx.conf.j2` — the template of the committed example, the demo and the
//! benchmark — start NGINX on it, wait until its worker configured the filter, keep the error
//! log (where the filter's lines go) for assertions and failure reports.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::{paths, E2eError};

/// How long NGINX may take to be serving: the worker compiles the module with Wasmtime at
/// startup (2-4 s on a busy 2-core machine, more when several start at once).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// What the filter logs once its configuration is accepted (filters/proxy-wasm/src/filter.rs).
pub const CONFIGURED_LINE: &str = "mtls-authz: configured:";

/// The NGINX binary: `NGINX_BIN`, else `.tools/nginx-wasm/sbin/nginx`, else what
/// `scripts/ensure-nginx.sh` builds (and links there). Never "skip": no NGINX is an error.
pub fn binary() -> Result<PathBuf, E2eError> {
    paths::tool(
        "NGINX_BIN",
        ".tools/nginx-wasm/sbin/nginx",
        "scripts/ensure-nginx.sh",
        "building NGINX + ngx_wasm_module",
    )
}

/// `examples/nginx/nginx.conf.j2`.
pub fn template_path() -> PathBuf {
    paths::repo_root().join("examples/nginx/nginx.conf.j2")
}

/// An NGINX single-quoted string: `\` and `'` escaped, as the NGINX config parser unescapes them.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Every value of the template. Paths are written as given: relative ones resolve against
/// NGINX's `-p` prefix.
#[derive(Clone, Debug, Serialize)]
pub struct NginxConfig {
    /// Fixture policy name, for the header comment.
    pub policy_name: String,
    /// The policy JSON on one line (see [`crate::examples::minify_json`]), not yet quoted; `None`
    /// = no filter.
    pub policy: Option<String>,
    /// The `.wasm` loaded as module `mtls_authz`.
    pub wasm: PathBuf,
    /// `listen` address (`127.0.0.1:10443`).
    pub listen: SocketAddr,
    /// The upstream's address; `None` = `return 200` after the filter.
    pub upstream: Option<SocketAddr>,
    /// `tests/fixtures/certs`.
    pub certs: PathBuf,
    /// Directory of the error and access logs, pid file and temp directories.
    pub logs: PathBuf,
    /// `ssl_verify_client`: `on`, `optional` or `optional_no_ca`.
    pub verify_client: String,
    /// `underscores_in_headers on` (NGINX's default drops names with `_`).
    pub underscores_in_headers: bool,
    /// `keepalive_requests` (NGINX's default: 1000 per connection); the benchmark raises it.
    pub keepalive_requests: Option<u32>,
    /// `client_body_buffer_size` (NGINX's default: 16k): a policy with `form_body_check` needs
    /// it at least `max_bytes`, or larger bodies go to a file the filter cannot read.
    pub client_body_buffer_size: Option<String>,
}

#[derive(Serialize)]
struct TemplateVars<'a> {
    policy_name: &'a str,
    policy: Option<String>,
    wasm: String,
    listen: String,
    upstream: Option<String>,
    certs: String,
    logs: String,
    verify_client: &'a str,
    underscores_in_headers: bool,
    keepalive_requests: Option<u32>,
    client_body_buffer_size: Option<&'a str>,
}

impl NginxConfig {
    /// The fixture PKI (absolute paths), `ssl_verify_client on`, logs in `logs`.
    pub fn with_fixture_certs(
        policy_name: &str,
        policy: Option<String>,
        wasm: PathBuf,
        listen: SocketAddr,
        upstream: Option<SocketAddr>,
        logs: PathBuf,
    ) -> Self {
        Self {
            policy_name: policy_name.to_owned(),
            policy,
            wasm,
            listen,
            upstream,
            certs: mtls_authz_fixtures::fixtures_dir().join("certs"),
            logs,
            verify_client: String::from("on"),
            underscores_in_headers: false,
            keepalive_requests: None,
            client_body_buffer_size: None,
        }
    }

    /// Renders the repository's template.
    pub fn render(&self) -> Result<String, E2eError> {
        let path = template_path();
        let template = std::fs::read_to_string(&path)
            .map_err(|e| E2eError::io(format!("reading {}", path.display()), e))?;
        self.render_template(&template)
    }

    /// Renders a given template text (strict: an undefined variable is an error).
    pub fn render_template(&self, template: &str) -> Result<String, E2eError> {
        if !matches!(
            self.verify_client.as_str(),
            "on" | "optional" | "optional_no_ca"
        ) {
            return Err(E2eError::Template(format!(
                "ssl_verify_client {:?} is none of on, optional, optional_no_ca",
                self.verify_client
            )));
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_keep_trailing_newline(true);
        env.add_template("nginx.conf", template)
            .map_err(|e| E2eError::Template(e.to_string()))?;
        let text = |path: &Path| path.display().to_string();
        let vars = TemplateVars {
            policy_name: &self.policy_name,
            policy: self.policy.as_deref().map(quote),
            wasm: text(&self.wasm),
            listen: self.listen.to_string(),
            upstream: self.upstream.map(|a| a.to_string()),
            certs: text(&self.certs),
            logs: text(&self.logs),
            verify_client: &self.verify_client,
            underscores_in_headers: self.underscores_in_headers,
            keepalive_requests: self.keepalive_requests,
            client_body_buffer_size: self.client_body_buffer_size.as_deref(),
        };
        env.get_template("nginx.conf")
            .and_then(|t| t.render(vars))
            .map_err(|e| E2eError::Template(format!("nginx.conf.j2: {e}")))
    }
}

/// A port on 127.0.0.1 that was free a moment ago (NGINX cannot report a kernel-chosen one);
/// [`Nginx::start_on_free_port`] retries when another process took it meanwhile.
pub fn free_port() -> Result<SocketAddr, E2eError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| E2eError::io("finding a free port", e))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A running NGINX (master + one worker), in its own process group. Stopped (the group is
/// sent SIGTERM, then SIGKILL) when dropped; its directory (config, error log) stays for
/// inspection under `tests/e2e/.run`.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    listen: SocketAddr,
}

impl Nginx {
    /// Renders `config` with a free listen port (and its logs in a fresh run directory named
    /// after `name`), starts NGINX, and waits until it serves. A port another process took
    /// in between is retried with another.
    pub fn start_on_free_port(
        nginx: &Path,
        name: &str,
        config: &NginxConfig,
    ) -> Result<Self, E2eError> {
        Self::start_on_free_port_edited(nginx, name, config, &Ok)
    }

    /// [`Nginx::start_on_free_port`] on the rendered config passed through `edit`: a test's
    /// variant of the template (a directive added), the shipped example left as it is.
    pub fn start_on_free_port_edited(
        nginx: &Path,
        name: &str,
        config: &NginxConfig,
        edit: &dyn Fn(String) -> Result<String, E2eError>,
    ) -> Result<Self, E2eError> {
        let mut last = None;
        for _ in 0..5 {
            let dir = paths::fresh_run_dir(name)?;
            let mut config = config.clone();
            config.listen = free_port()?;
            config.logs.clone_from(&dir);
            match Self::start_rendered(nginx, name, &dir, &config, &edit(config.render()?)?) {
                Err(err) if read(&dir.join("error.log")).contains("Address already in use") => {
                    last = Some(err);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| E2eError::process(name, "no free port")))
    }

    /// Starts NGINX on `config` (whose logs must be in `dir`) and waits until the listener
    /// accepts TCP connections and, with a policy, the worker logged that the filter is
    /// configured.
    pub fn start_in(
        nginx: &Path,
        name: &str,
        dir: &Path,
        config: &NginxConfig,
    ) -> Result<Self, E2eError> {
        Self::start_rendered(nginx, name, dir, config, &config.render()?)
    }

    /// [`Nginx::start_in`] with `text` as the config file (`config` rendered, maybe edited).
    fn start_rendered(
        nginx: &Path,
        name: &str,
        dir: &Path,
        config: &NginxConfig,
        text: &str,
    ) -> Result<Self, E2eError> {
        let mut starting = Self {
            child: spawn(nginx, dir, text)?,
            dir: dir.to_path_buf(),
            listen: config.listen,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = starting
                .child
                .try_wait()
                .map_err(|e| E2eError::io("polling NGINX", e))?
            {
                return Err(E2eError::process(
                    format!("NGINX ({name}) exited during startup with {status}"),
                    starting.log(),
                ));
            }
            let log = starting.log();
            if log.contains("[emerg]") || log.contains("cannot be respawned") {
                return Err(E2eError::process(
                    format!("NGINX ({name}) failed to start"),
                    log,
                ));
            }
            let configured = config.policy.is_none() || log.contains(CONFIGURED_LINE);
            if configured
                && TcpStream::connect_timeout(&starting.listen, Duration::from_secs(1)).is_ok()
            {
                return Ok(starting);
            }
            if Instant::now() > deadline {
                return Err(E2eError::process(
                    format!("NGINX ({name}) not serving after {STARTUP_TIMEOUT:?}"),
                    log,
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Starts NGINX on a config whose filter must be REFUSED and returns its error log once
    /// the worker gave up (ngx_wasm_module: `[emerg] ... failed initializing` and the master
    /// does not respawn it). NGINX is stopped before returning.
    pub fn run_expecting_refusal(
        nginx: &Path,
        name: &str,
        config: &NginxConfig,
    ) -> Result<(Option<ExitStatus>, String), E2eError> {
        let dir = paths::fresh_run_dir(name)?;
        let mut config = config.clone();
        config.listen = free_port()?;
        config.logs.clone_from(&dir);
        let mut running = Self {
            child: spawn(nginx, &dir, &config.render()?)?,
            dir,
            listen: config.listen,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let exited = running
                .child
                .try_wait()
                .map_err(|e| E2eError::io("polling NGINX", e))?;
            let log = running.log();
            if exited.is_some() || log.contains("cannot be respawned") {
                return Ok((exited, log));
            }
            if log.contains(CONFIGURED_LINE) || Instant::now() > deadline {
                let why = if log.contains(CONFIGURED_LINE) {
                    "configured the filter"
                } else {
                    "neither gave up nor served"
                };
                return Err(E2eError::process(
                    format!("NGINX ({name}) should have refused the filter but {why}"),
                    log,
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The mTLS listener's address.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The listener's port.
    pub fn port(&self) -> u16 {
        self.listen.port()
    }

    /// The master's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything NGINX (and the filter, through ngx_wasm_module) wrote to the error log.
    pub fn log(&self) -> String {
        let mut log = read(&self.dir.join("error.log"));
        let stderr = read(&self.dir.join("stderr.log"));
        if !stderr.trim().is_empty() {
            log.push_str("---- stderr ----\n");
            log.push_str(&stderr);
        }
        log
    }

    /// The directory holding this run's config and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Asks the master to reload its configuration (SIGHUP) after `config` was written over
    /// the running one.
    pub fn reload(&self, config: &NginxConfig) -> Result<(), E2eError> {
        let mut config = config.clone();
        config.listen = self.listen;
        config.logs.clone_from(&self.dir);
        let path = self.dir.join("nginx.conf");
        std::fs::write(&path, config.render()?)
            .map_err(|e| E2eError::io(format!("writing {}", path.display()), e))?;
        signal(&self.child.id().to_string(), "HUP")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The whole group: the master and its worker (a SIGKILLed master leaves the worker
        // serving on the port).
        let group = format!("-{}", self.child.id());
        let _ = signal(&group, "TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        let _ = signal(&group, "KILL");
        let _ = self.child.wait();
    }
}

/// `kill -SIG -- target` (a pid, or `-pgid` for a process group).
fn signal(target: &str, sig: &str) -> Result<(), E2eError> {
    let status = Command::new("kill")
        .args([&format!("-{sig}"), "--", target])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| E2eError::io("running kill", e))?;
    if status.success() {
        Ok(())
    } else {
        Err(E2eError::process(
            format!("kill -{sig} {target}"),
            status.to_string(),
        ))
    }
}

fn spawn(nginx: &Path, dir: &Path, conf: &str) -> Result<Child, E2eError> {
    let config = dir.join("nginx.conf");
    std::fs::write(&config, conf)
        .map_err(|e| E2eError::io(format!("writing {}", config.display()), e))?;
    let stderr_path = dir.join("stderr.log");
    let stderr = File::create(&stderr_path)
        .map_err(|e| E2eError::io(format!("creating {}", stderr_path.display()), e))?;
    Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&config)
        // Where NGINX logs before it has read `error_log` (else <prefix>/logs/error.log).
        .arg("-e")
        .arg(dir.join("error.log"))
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        // Its own process group, so that stopping it reaches the worker too.
        .process_group(0)
        .spawn()
        .map_err(|e| E2eError::io(format!("starting {}", nginx.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NginxConfig {
        NginxConfig {
            policy_name: String::from("healthcare"),
            policy: Some(String::from(r#"{"rules":[],"note":"it's \\ here"}"#)),
            wasm: PathBuf::from("/w/f.wasm"),
            listen: "127.0.0.1:10443".parse().unwrap(),
            upstream: Some("127.0.0.1:18080".parse().unwrap()),
            certs: PathBuf::from("/c"),
            logs: PathBuf::from("/l"),
            verify_client: String::from("on"),
            underscores_in_headers: false,
            keepalive_requests: None,
            client_body_buffer_size: None,
        }
    }

    #[test]
    fn quoting_survives_nginx_unescaping() {
        assert_eq!(
            quote(r#"{"subject":"CN=x\,O=y's"}"#),
            r#"'{"subject":"CN=x\\,O=y\'s"}'"#
        );
    }

    #[test]
    fn the_filter_and_the_upstream_reach_the_config() {
        let text = sample().render().unwrap();
        assert!(
            text.contains(r#"proxy_wasm mtls_authz '{"rules":[],"note":"it\'s \\\\ here"}';"#),
            "{text}"
        );
        assert!(text.contains("module mtls_authz /w/f.wasm;"));
        assert!(text.contains("listen 127.0.0.1:10443 ssl;"));
        assert!(text.contains("server 127.0.0.1:18080;"));
        assert!(text.contains("proxy_pass         http://app;"));
        assert!(text.contains("ssl_verify_client      on;"));
        assert!(text.contains("error_log /l/error.log info;"));
        assert!(!text.contains("return 200"));
        assert!(!text.contains("underscores_in_headers on"));
    }

    #[test]
    fn the_benchmark_variants_render_without_filter_or_upstream() {
        let mut config = sample();
        config.policy = None;
        config.upstream = None;
        config.underscores_in_headers = true;
        config.keepalive_requests = Some(1_000_000);
        config.verify_client = String::from("optional_no_ca");
        let text = config.render().unwrap();
        assert!(text.contains("keepalive_requests 1000000;"));
        assert!(!text.contains("proxy_wasm"));
        assert!(!text.contains("upstream app"));
        assert!(text.contains("return 200"));
        assert!(text.contains("underscores_in_headers on;"));
        assert!(text.contains("ssl_verify_client      optional_no_ca;"));
        config.verify_client = String::from("off");
        assert!(config.render().is_err());
    }
}
