//! Side-by-side benchmark for mtls-authz in Envoy and, with `--proxy nginx`, in NGINX + ngx_wasm_module
//! (see bench/README.md; run it with `bench/run.sh`, which builds the two `.wasm` files and
//! finds `oha`).
//!
//! The same mTLS listener and upstream, five ways: (a) no authorization filter, (b) Envoy
//! RBAC, (c) a Lua filter doing what hand-written middleware does, (d) an empty proxy-wasm
//! filter, (e) mtls-authz. Each is its own Envoy (one worker thread, pinned to CPU 1; the
//! load generator and the upstream share CPU 0), all rendered from one template. The client
//! load (HTTP/1.1 keep-alive, HTTP/2, a new TLS connection per request) alternates between
//! the variants round after round; the report gives medians. Then memory: each proxy's RSS
//! and heap, and mtls-authz (with the empty filter as control) under many distinct client
//! certificates, pass after pass, to show the identity cache keeps memory bounded.

mod churn;
mod error;
mod load;
mod nginx_bench;
mod proxy;
mod render;
mod report;
mod variant;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mtls_authz_e2e::client::{self, ClientIdentity, Outcome, Protocol};
use mtls_authz_e2e::config::EnvoyConfig;

use crate::churn::Churn;
use crate::error::{BenchError, Result};
use crate::load::{ClientTls, Run};
use crate::proxy::{Kind, Proxy};
use crate::render::{Templates, VariantFiles};
use crate::report::{mib, mode_table, Results, Sample};
use crate::variant::{LoadMode, Variant};

const USAGE: &str = "\
usage: mtls-authz-bench [options]
  --proxy envoy|nginx the proxy under test (default envoy). nginx: (a), (d) and (e) in NGINX
                      1.27.4 + ngx_wasm_module (scripts/ensure-nginx.sh), one process each
  --wasm FILE         mtls-authz .wasm (default target/wasm32-wasip1/release/mtls_authz_filter.wasm)
  --empty-wasm FILE   empty filter .wasm (default target/wasm32-wasip1/release/mtls_authz_bench_empty_filter.wasm)
  --oha FILE          load generator (default $OHA, else `oha` on PATH)
  --rounds N          rounds per load mode, variants alternate within each (default 5)
  --duration SECS     measured seconds per run (default 5)
  --warmup SECS       unmeasured seconds before each run (default 1)
  --connections N     concurrent requests (default 32; HTTP/2 uses N/4 connections x 4 streams)
  --modes LIST        h1,h2,conn (default all)
  --variants LIST     a,b,c,d,e or none,rbac,lua,empty-wasm,mtls-authz (default all)
  --clients N         distinct client certificates for the churn phase (default 384)
  --cache-size N      mtls-authz identity_cache_size during the whole run (default 128)
  --churn-passes N    passes over the distinct certificates (default 3; 0 skips churn)
  --no-pin            do not pin processes to CPUs
  --probe             instead of the comparison, price the host calls mtls-authz makes per
                      request (the empty filter making them one by one; see bench/README.md)
  --against FILE      instead of the comparison, (d) and (e) next to (e) built from FILE: an
                      A/B of two mtls-authz builds in one run (CPU per request is the number)
  --against-policy FILE  instead of the comparison, (d) and (e) next to (e) with the policy in
                      FILE (e.g. from bench/gen_policy_variants.py): the price of a policy
                      feature in one run (identity_cache_size is set as for the healthcare one)
  --header 'NAME: VALUE'  send this header with every load request (repeatable), e.g. a bearer
                      token for --against-policy with `tokens`
  --quick             smoke run: 1 round of 1 s, 0.5 s warm-up, 160 clients, 2 passes
  --out FILE          also write the report there (default bench/.run/report-<time>.md)";

/// The request every variant serves: allowed for a clinician by all of them.
const PATH: &str = "/patient-records/42";
/// CPU of the proxy under test; the client and the upstream get the other one.
const PROXY_CPU: usize = 1;
const CLIENT_CPU: usize = 0;

struct Args {
    proxy: Kind,
    wasm: PathBuf,
    empty_wasm: PathBuf,
    oha: PathBuf,
    rounds: u32,
    duration: Duration,
    warmup: Duration,
    connections: u32,
    modes: Vec<LoadMode>,
    variants: Vec<Variant>,
    clients: usize,
    cache_size: u32,
    churn_passes: u32,
    pin: bool,
    probe: bool,
    against: Option<PathBuf>,
    against_policy: Option<PathBuf>,
    headers: Vec<String>,
    out: Option<PathBuf>,
}

fn parse_args(root: &Path) -> std::result::Result<Args, String> {
    let release = root.join("target/wasm32-wasip1/release");
    let mut variants_given = false;
    let mut args = Args {
        proxy: Kind::Envoy,
        wasm: release.join("mtls_authz_filter.wasm"),
        empty_wasm: release.join("mtls_authz_bench_empty_filter.wasm"),
        oha: std::env::var_os("OHA").map_or_else(|| PathBuf::from("oha"), PathBuf::from),
        rounds: 5,
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        connections: 32,
        modes: LoadMode::ALL.to_vec(),
        variants: Variant::ALL.to_vec(),
        clients: 384,
        cache_size: 128,
        churn_passes: 3,
        pin: true,
        probe: false,
        against: None,
        against_policy: None,
        headers: Vec::new(),
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        fn number<T: std::str::FromStr>(flag: &str, text: &str) -> std::result::Result<T, String> {
            text.parse()
                .map_err(|_| format!("{flag}: {text:?} is not a number"))
        }
        let seconds = |text: String| {
            number::<f64>(&flag, &text).and_then(|s| {
                Duration::try_from_secs_f64(s).map_err(|_| format!("{flag}: {text:?}"))
            })
        };
        match flag.as_str() {
            "--proxy" => {
                args.proxy = match value()?.as_str() {
                    "envoy" => Kind::Envoy,
                    "nginx" => Kind::Nginx,
                    other => return Err(format!("--proxy: unknown {other:?} (envoy or nginx)")),
                }
            }
            "--wasm" => args.wasm = value()?.into(),
            "--empty-wasm" => args.empty_wasm = value()?.into(),
            "--oha" => args.oha = value()?.into(),
            "--rounds" => args.rounds = number(&flag, &value()?)?,
            "--duration" => args.duration = seconds(value()?)?,
            "--warmup" => args.warmup = seconds(value()?)?,
            "--connections" => args.connections = number(&flag, &value()?)?,
            "--modes" => {
                args.modes = value()?
                    .split(',')
                    .map(|m| LoadMode::parse(m).ok_or_else(|| format!("--modes: unknown {m:?}")))
                    .collect::<std::result::Result<_, _>>()?;
            }
            "--variants" => {
                args.variants = value()?
                    .split(',')
                    .map(|v| Variant::parse(v).ok_or_else(|| format!("--variants: unknown {v:?}")))
                    .collect::<std::result::Result<_, _>>()?;
                args.variants.sort();
                args.variants.dedup();
                variants_given = true;
            }
            "--clients" => args.clients = number(&flag, &value()?)?,
            "--cache-size" => args.cache_size = number(&flag, &value()?)?,
            "--churn-passes" => args.churn_passes = number(&flag, &value()?)?,
            "--no-pin" => args.pin = false,
            "--probe" => args.probe = true,
            "--against" => args.against = Some(value()?.into()),
            "--against-policy" => args.against_policy = Some(value()?.into()),
            "--header" => args.headers.push(value()?),
            "--quick" => {
                args.rounds = 1;
                args.duration = Duration::from_secs(1);
                args.warmup = Duration::from_millis(500);
                args.clients = 160;
                args.churn_passes = 2;
                args.cache_size = 64;
            }
            "--out" => args.out = Some(value()?.into()),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.proxy == Kind::Nginx {
        // Envoy's RBAC and Lua filters have no NGINX counterpart here.
        if !variants_given {
            args.variants = nginx_bench::VARIANTS.to_vec();
        }
        if let Some(v) = args
            .variants
            .iter()
            .find(|v| !nginx_bench::VARIANTS.contains(v))
        {
            return Err(format!("--proxy nginx: variant {v} runs in Envoy only"));
        }
    }
    if args.rounds == 0 || args.variants.is_empty() || args.modes.is_empty() {
        return Err("nothing to measure: rounds, modes and variants must not be empty".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let root = mtls_authz_e2e::paths::repo_root();
    let args = match parse_args(&root) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&root, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mtls-authz-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path, args: &Args) -> Result<()> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let run_dir = root.join("bench/.run").join(format!("run-{stamp}"));
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| BenchError::io(format!("creating {}", run_dir.display()), e))?;
    for file in [&args.wasm, &args.empty_wasm] {
        if !file.is_file() {
            return Err(BenchError::new(format!(
                "{} does not exist (bench/run.sh builds it)",
                file.display()
            )));
        }
    }
    let envoy = mtls_authz_e2e::envoy::binary()?;
    let nginx = match args.proxy {
        Kind::Nginx => Some(mtls_authz_e2e::nginx::binary()?),
        Kind::Envoy => None,
    };
    let pin = |cpu: usize| args.pin.then_some(cpu);

    let mut report = String::new();
    machine_section(&mut report, &envoy, nginx.as_deref(), args)?;
    print_progress(&report);

    // Everything the variants need, rendered from the one template.
    let templates = Templates::load(root)?;
    let policy = bench_policy(
        &mtls_authz_fixtures::policy_path("healthcare"),
        args.cache_size,
    )?;
    let lua_path = root.join("bench/lua/middleware.lua");
    let lua_code = std::fs::read_to_string(&lua_path)
        .map_err(|e| BenchError::io(format!("reading {}", lua_path.display()), e))?;
    let files = VariantFiles {
        mtls_authz_wasm: &args.wasm,
        empty_wasm: &args.empty_wasm,
        empty_config: "{}",
        policy: &policy,
        lua_code: &lua_code,
    };

    let upstream = Proxy::start(
        &envoy,
        "upstream",
        &run_dir.join("upstream"),
        &templates.upstream()?,
        pin(CLIENT_CPU),
    )?;
    let mut base = EnvoyConfig::with_fixture_certs(upstream.port(), None);
    base.access_log = false;
    let tls = ClientTls {
        ca_bundle: base.ca_bundle.clone(),
        cert: mtls_authz_fixtures::cert_pem_path("healthcare/clinician-alice"),
        key: mtls_authz_fixtures::key_path("healthcare/clinician-alice"),
        headers: args.headers.clone(),
    };
    // One way to start a variant, whichever the proxy.
    let starter = Starter {
        envoy: &envoy,
        nginx: nginx.as_deref(),
        run_dir: &run_dir,
        templates: &templates,
        base: &base,
        cpu: pin(PROXY_CPU),
    };
    if args.probe || args.against.is_some() || args.against_policy.is_some() {
        let rows = match (&args.against, &args.against_policy, args.proxy) {
            (Some(other), _, _) => against_rows(other),
            (None, Some(path), _) => {
                against_policy_rows(path, bench_policy(path, args.cache_size)?)
            }
            (None, None, Kind::Envoy) => ladder_rows(),
            (None, None, Kind::Nginx) => nginx_bench::ladder_rows(),
        };
        let section = probe(args, &rows, &starter, &files, &tls)?;
        print_progress(&section);
        report.push_str(&section);
        return write_report(root, args, stamp, &report);
    }
    let mut proxies = Vec::new();
    for &variant in &args.variants {
        let proxy = starter.start(variant.key(), variant, &files)?;
        proxies.push((variant, proxy));
    }
    sanity_check(&proxies, &base.ca_bundle)?;

    // The upstream alone, with the client on the other CPU: its capacity must be well above
    // what any proxy achieves, or the proxies would all measure the upstream.
    let capacity = Run {
        oha: &args.oha,
        cpu: pin(PROXY_CPU),
        mode: LoadMode::Http1KeepAlive,
        connections: args.connections,
        duration: args.duration,
        tls: None,
        port: upstream.port(),
        path: PATH,
    }
    .execute()?;
    let mut section = String::new();
    let _ = writeln!(
        section,
        "Upstream alone (direct_response, plain HTTP/1.1, {} connections): {} req/s{}.",
        args.connections,
        report::thousands(capacity.ok_per_second),
        match args.proxy {
            Kind::Envoy => "",
            Kind::Nginx => " (not in NGINX's path: its variants answer `return 200` themselves)",
        }
    );
    print_progress(&section);
    report.push_str(&section);

    let measured: Vec<(Variant, &Proxy)> = proxies.iter().map(|(v, p)| (*v, p)).collect();
    let results: Results = measure(args, &measured, &tls, pin(CLIENT_CPU))?;
    let mut section = String::new();
    for (index, &mode) in args.modes.iter().enumerate() {
        let heading = format!(
            "{} concurrent requests, median of {} round(s) × {:.1} s",
            args.connections,
            args.rounds,
            args.duration.as_secs_f64()
        );
        let empty_goal = match args.proxy {
            Kind::Envoy => 0.95,
            Kind::Nginx => 0.80,
        };
        mode_table(&mut section, mode, index, &results, &heading, empty_goal);
    }
    print_progress(&section);
    report.push_str(&section);

    let mut section = String::new();
    memory_section(&mut section, &proxies, args)?;
    print_progress(&section);
    report.push_str(&section);

    if args.churn_passes > 0 {
        let mut section = String::new();
        churn_section(
            &mut section,
            root,
            &run_dir,
            &proxies,
            &base.ca_bundle,
            args,
        )?;
        print_progress(&section);
        report.push_str(&section);
    }

    drop(upstream);
    write_report(root, args, stamp, &report)
}

fn write_report(root: &Path, args: &Args, stamp: u64, report: &str) -> Result<()> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join(format!("bench/.run/report-{stamp}.md")));
    std::fs::write(&out, report)
        .map_err(|e| BenchError::io(format!("writing {}", out.display()), e))?;
    eprintln!("\nreport written to {}", out.display());
    Ok(())
}

/// One row of the host-call ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Step<'a> {
    index: usize,
    label: &'a str,
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label)
    }
}

/// What a ladder row runs.
#[derive(Clone)]
pub(crate) enum Setup {
    Variant(Variant),
    /// The empty filter making these host calls per request.
    Calls(&'static str),
    /// (e) with another build of the filter.
    OtherBuild(PathBuf),
    /// (e) with another policy (its text).
    OtherPolicy(String),
}

/// A row: label, what runs, index of the row its Δ is taken against.
pub(crate) type Row = (String, Setup, Option<usize>);

/// Starts a variant in the proxy under test, rendered from that proxy's one template.
struct Starter<'a> {
    envoy: &'a Path,
    nginx: Option<&'a Path>,
    run_dir: &'a Path,
    templates: &'a Templates,
    base: &'a EnvoyConfig,
    cpu: Option<usize>,
}

impl Starter<'_> {
    fn start(&self, name: &str, variant: Variant, files: &VariantFiles<'_>) -> Result<Proxy> {
        let dir = self.run_dir.join(name);
        match self.nginx {
            None => Proxy::start(
                self.envoy,
                name,
                &dir,
                &self.templates.variant(self.base, variant, files)?,
                self.cpu,
            ),
            Some(nginx) => nginx_bench::start(nginx, name, &dir, variant, files, self.cpu),
        }
    }
}

/// The empty filter configured to make the host calls of an allowed request with a cached
/// identity, one more call per rung, bracketed by (a) and (e). Each row's Δ is against the
/// row named in the table; (e) minus the last rung is what mtls-authz spends inside the VM.
fn ladder_rows() -> Vec<Row> {
    let row = |label: &str, setup, against| (label.to_owned(), setup, against);
    vec![
        row("(a) no filter", Setup::Variant(Variant::NoFilter), None),
        row("(d) empty wasm", Setup::Calls(""), Some(0)),
        row("+ read request headers", Setup::Calls("headers"), Some(1)),
        row(
            "+ read property connection.sha256_peer_certificate_digest",
            Setup::Calls("headers,digest"),
            Some(2),
        ),
        row(
            "+ read clock",
            Setup::Calls("headers,digest,clock"),
            Some(3),
        ),
        row(
            "+ set 2 request headers",
            Setup::Calls("headers,digest,clock,set,set"),
            Some(4),
        ),
        row(
            "(e) mtls-authz",
            Setup::Variant(Variant::MtlsAuthz),
            Some(5),
        ),
        // The cheapest property, to tell the property machinery from the digest itself.
        row(
            "(d) + read property connection.id only",
            Setup::Calls("connection_id"),
            Some(1),
        ),
    ]
}

/// `--against`: the empty filter, this build and another build, in one run.
fn against_rows(other: &Path) -> Vec<Row> {
    vec![
        ("(d) empty wasm".to_owned(), Setup::Calls(""), None),
        (
            "(e) mtls-authz (--wasm)".to_owned(),
            Setup::Variant(Variant::MtlsAuthz),
            Some(0),
        ),
        (
            format!("(e) mtls-authz ({})", other.display()),
            Setup::OtherBuild(other.to_path_buf()),
            Some(1),
        ),
    ]
}

/// `--against-policy`: the empty filter, this build with the healthcare policy and with the
/// policy in `path`, in one run.
fn against_policy_rows(path: &Path, policy: String) -> Vec<Row> {
    vec![
        ("(d) empty wasm".to_owned(), Setup::Calls(""), None),
        (
            "(e) mtls-authz, healthcare policy".to_owned(),
            Setup::Variant(Variant::MtlsAuthz),
            Some(0),
        ),
        (
            format!("(e) mtls-authz, {}", path.display()),
            Setup::OtherPolicy(policy),
            Some(1),
        ),
    ]
}

/// Runs `rows` side by side and prints each row's CPU per request and its Δ.
fn probe(
    args: &Args,
    rows: &[Row],
    starter: &Starter<'_>,
    files: &VariantFiles<'_>,
    tls: &ClientTls,
) -> Result<String> {
    let mut proxies = Vec::new();
    for (index, (label, setup, _)) in rows.iter().enumerate() {
        let (variant, calls, wasm, policy) = match setup {
            Setup::Variant(variant) => (*variant, "{}", files.mtls_authz_wasm, files.policy),
            Setup::Calls(calls) => (
                Variant::EmptyWasm,
                *calls,
                files.mtls_authz_wasm,
                files.policy,
            ),
            Setup::OtherBuild(wasm) => (Variant::MtlsAuthz, "{}", wasm.as_path(), files.policy),
            Setup::OtherPolicy(policy) => (
                Variant::MtlsAuthz,
                "{}",
                files.mtls_authz_wasm,
                policy.as_str(),
            ),
        };
        let row_files = VariantFiles {
            empty_config: calls,
            mtls_authz_wasm: wasm,
            policy,
            ..*files
        };
        let name = format!("probe-{index}");
        let proxy = starter.start(&name, variant, &row_files)?;
        proxies.push((Step { index, label }, proxy));
    }
    let measured: Vec<(Step, &Proxy)> = proxies.iter().map(|(s, p)| (*s, p)).collect();
    let results = measure(args, &measured, tls, args.pin.then_some(CLIENT_CPU))?;
    let title = if args.against.is_some() {
        "Two builds"
    } else if args.against_policy.is_some() {
        "Two policies"
    } else {
        "Host-call ladder"
    };
    let mut out = String::new();
    for (mode_index, mode) in args.modes.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n#### {title}, {mode} — proxy CPU per request, median of {} round(s)\n",
            args.rounds
        );
        let _ = writeln!(out, "| step | proxy CPU µs/req | Δ µs | against | req/s |");
        let _ = writeln!(out, "|---|---:|---:|---|---:|");
        let cpu: Vec<Option<f64>> = measured
            .iter()
            .map(|(step, _)| {
                results
                    .get(&(mode_index, *step))
                    .map(|samples| report::summarize(samples).cpu_us)
            })
            .collect();
        for ((step, _), (_, _, against)) in measured.iter().zip(rows) {
            let Some(samples) = results.get(&(mode_index, *step)) else {
                continue;
            };
            let summary = report::summarize(samples);
            let (delta, name) = match against.and_then(|i| Some((cpu.get(i).copied()??, i))) {
                Some((base, i)) => (
                    format!("{:+.1}", summary.cpu_us - base),
                    rows.get(i).map_or("", |row| row.0.as_str()),
                ),
                None => ("–".to_owned(), ""),
            };
            let _ = writeln!(
                out,
                "| {step} | {:.1} | {delta} | {name} | {} |",
                summary.cpu_us,
                report::thousands(summary.rps)
            );
        }
    }
    Ok(out)
}

fn print_progress(text: &str) {
    println!("{text}");
}

/// A policy (the healthcare fixture, or `--against-policy`'s) with the churn phase's cache size
/// (inserted as text: the document's key order is meaningful to the filter and must not be
/// rewritten).
fn bench_policy(path: &Path, cache_size: u32) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BenchError::io(format!("reading {}", path.display()), e))?;
    let body = text
        .trim_start()
        .strip_prefix('{')
        .ok_or_else(|| BenchError::new(format!("{} is not a JSON object", path.display())))?;
    Ok(format!(
        "{{\n  \"identity_cache_size\": {cache_size},{body}"
    ))
}

/// Each variant answers the clinician with 200, and the billing clerk with 403 when it
/// enforces the policy (a variant that refused everyone would look fast).
fn sanity_check(proxies: &[(Variant, Proxy)], ca_bundle: &Path) -> Result<()> {
    let identity = |name: &str| ClientIdentity {
        cert: mtls_authz_fixtures::cert_pem_path(name),
        key: mtls_authz_fixtures::key_path(name),
    };
    let clinician = identity("healthcare/clinician-alice");
    let billing = identity("healthcare/billing-carol");
    for (variant, proxy) in proxies {
        for (who, client, expected) in [
            ("clinician-alice", &clinician, 200),
            (
                "billing-carol",
                &billing,
                if variant.enforces() { 403 } else { 200 },
            ),
        ] {
            for protocol in Protocol::ALL {
                let request = client::Request {
                    port: proxy.port(),
                    ca_bundle,
                    protocol,
                    method: "GET",
                    target: PATH,
                    headers: &[],
                    client: Some(client),
                    body: None,
                    trailers: &[],
                };
                let status = match request.send()? {
                    Outcome::Response(response) => response.status,
                    Outcome::NoResponse { message, .. } => {
                        return Err(BenchError::new(format!(
                            "{variant}: {who} over {protocol} got no response: {message}\n{}",
                            proxy.log()
                        )))
                    }
                };
                // NGINX answers `return 200` whatever the filter decided: its log says.
                let (expected, decided) = match proxy.kind() {
                    Kind::Envoy => (expected, true),
                    Kind::Nginx => (
                        200,
                        expected == 200 || proxy.log().contains(nginx_bench::BILLING_DENIED),
                    ),
                };
                if status != expected || !decided {
                    return Err(BenchError::new(format!(
                        "{variant}: {who} over {protocol} got {status}, expected {expected}{}\n{}",
                        if decided {
                            ""
                        } else {
                            " with the filter's deny logged"
                        },
                        proxy.log()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Every (mode, round, variant) run; within a round the variants take turns, starting one
/// further each round, so slow drifts of the machine spread over all of them.
fn measure<K: Copy + Ord + std::fmt::Display>(
    args: &Args,
    proxies: &[(K, &Proxy)],
    tls: &ClientTls,
    client_cpu: Option<usize>,
) -> Result<BTreeMap<(usize, K), Vec<Sample>>> {
    let ticks_per_second = proxy::clock_ticks_per_second() as f64;
    let mut results = BTreeMap::new();
    for (mode_index, &mode) in args.modes.iter().enumerate() {
        for round in 0..args.rounds {
            let start = usize::try_from(round).unwrap_or(0) % proxies.len().max(1);
            for (variant, proxy) in proxies.iter().cycle().skip(start).take(proxies.len()) {
                let mut run = Run {
                    oha: &args.oha,
                    cpu: client_cpu,
                    mode,
                    connections: args.connections,
                    duration: args.warmup,
                    tls: Some(tls),
                    port: proxy.port(),
                    path: PATH,
                };
                if !args.warmup.is_zero() {
                    run.execute()?;
                }
                run.duration = args.duration;
                let before = proxy.cpu_ticks()?;
                let outcome = run.execute()?;
                let after = proxy.cpu_ticks()?;
                if !outcome.other_statuses.is_empty() || outcome.errors > outcome.ok / 1000 {
                    return Err(BenchError::new(format!(
                        "{variant} under {mode}: statuses {:?}, {} errors besides {} OK; log:\n{}",
                        outcome.other_statuses,
                        outcome.errors,
                        outcome.ok,
                        proxy.log()
                    )));
                }
                let sample = Sample {
                    proxy_cpu_seconds: after.saturating_sub(before) as f64 / ticks_per_second,
                    outcome,
                };
                eprintln!(
                    "{mode:<32} round {}/{} {variant:<28} {:>9} req/s  p50 {:.2} ms  p99 {:.2} ms  proxy {:.1} µs/req",
                    round + 1,
                    args.rounds,
                    report::thousands(sample.outcome.ok_per_second),
                    sample.outcome.p50_ms,
                    sample.outcome.p99_ms,
                    sample.cpu_us_per_request()
                );
                results
                    .entry((mode_index, *variant))
                    .or_insert_with(Vec::new)
                    .push(sample);
            }
        }
    }
    Ok(results)
}

fn machine_section(
    out: &mut String,
    envoy: &Path,
    nginx: Option<&Path>,
    args: &Args,
) -> Result<()> {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let envoy_version = Command::new(envoy)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(out, "### mtls-authz side-by-side benchmark\n");
    let _ = writeln!(out, "- machine: {cores} CPU(s), {cpu_model}");
    // `envoy  version: <sha>/<version>/<status>/<mode>/<ssl>`
    let version = envoy_version
        .split_once("version:")
        .map_or("unknown", |(_, v)| v.trim());
    let _ = writeln!(
        out,
        "- Envoy {} ({version})",
        version.split('/').nth(1).unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "- load average at start: {}{}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        if load
            .split_whitespace()
            .next()
            .and_then(|l| l.parse::<f64>().ok())
            .is_some_and(|l| l >= 0.5)
        {
            " (NOT quiet: numbers are indicative only)"
        } else {
            ""
        }
    );
    if let Some(nginx) = nginx {
        let version = Command::new(nginx)
            .arg("-v")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- {} + ngx_wasm_module 3bed2783, Wasmtime 26 ({})",
            version.trim_start_matches("nginx version: "),
            nginx.display()
        );
    }
    let _ = writeln!(
        out,
        "- layout: each proxy {}{}; oha and the upstream Envoy{}",
        match args.proxy {
            Kind::Envoy => "one Envoy worker",
            Kind::Nginx => "one NGINX process (master_process off)",
        },
        if args.pin { " pinned to CPU 1" } else { "" },
        if args.pin { " on CPU 0" } else { "" }
    );
    for (name, file) in [
        ("mtls-authz", &args.wasm),
        ("empty filter", &args.empty_wasm),
    ] {
        let size = std::fs::metadata(file)
            .map_err(|e| BenchError::io(format!("reading {}", file.display()), e))?
            .len();
        let _ = writeln!(
            out,
            "- {name} .wasm: {} bytes ({:.0} KiB)",
            report::thousands(size as f64),
            size as f64 / 1024.0
        );
    }
    Ok(())
}

fn memory_section(out: &mut String, proxies: &[(Variant, Proxy)], args: &Args) -> Result<()> {
    let _ = writeln!(
        out,
        "\n#### Memory after the load runs (one worker; mtls-authz identity_cache_size {})\n",
        args.cache_size
    );
    let _ = writeln!(out, "| variant | RSS | Envoy heap allocated | wasm VMs |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (variant, proxy) in proxies {
        // Envoy has no per-VM memory statistic: RSS (which holds the VMs' linear memory)
        // compared with (d), which runs as many VMs, is the filter's footprint.
        let (heap, vms) = match proxy.kind() {
            Kind::Envoy => (
                mib(proxy.heap_allocated()? / 1024),
                proxy
                    .stats("^wasm\\.wasm_vm_count$")?
                    .into_iter()
                    .next()
                    .map_or_else(|| "–".to_owned(), |(_, count)| count),
            ),
            // NGINX has neither an admin API nor a heap statistic; one VM per process.
            Kind::Nginx => ("–".to_owned(), "1".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {variant} | {} | {heap} | {vms} |",
            mib(proxy.rss_kib()?),
        );
    }
    Ok(())
}

fn churn_section(
    out: &mut String,
    root: &Path,
    run_dir: &Path,
    proxies: &[(Variant, Proxy)],
    ca_bundle: &Path,
    args: &Args,
) -> Result<()> {
    let clients_dir = run_dir.join("clients");
    let python = root.join(".venv/bin/python");
    let generator = root.join("bench/gen_clients.py");
    let status = Command::new(&python)
        .arg(&generator)
        .arg(&clients_dir)
        .arg(args.clients.to_string())
        .status()
        .map_err(|e| BenchError::io(format!("running {}", generator.display()), e))?;
    if !status.success() {
        return Err(BenchError::new(format!(
            "{} failed with {status}",
            generator.display()
        )));
    }
    let certs: Vec<PathBuf> = (0..args.clients)
        .map(|i| clients_dir.join(format!("client-{i}.pem")))
        .collect();
    let churn = Churn {
        certs: &certs,
        key: &clients_dir.join("client.key"),
        ca_bundle,
        workers: 4,
    };
    let _ = writeln!(
        out,
        "\n#### Identity-cache churn: {} distinct client certificates, 2 requests each per pass (cache size {})\n",
        args.clients, args.cache_size
    );
    let _ = writeln!(
        out,
        "| variant | after | allowed | RSS | Envoy heap allocated |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for (variant, proxy) in proxies {
        if !matches!(variant, Variant::EmptyWasm | Variant::MtlsAuthz) {
            continue;
        }
        let heap = || -> Result<String> {
            Ok(match proxy.kind() {
                Kind::Envoy => mib(proxy.heap_allocated()? / 1024),
                Kind::Nginx => "–".to_owned(),
            })
        };
        let _ = writeln!(
            out,
            "| {variant} | load runs | – | {} | {} |",
            mib(proxy.rss_kib()?),
            heap()?
        );
        for pass in 1..=args.churn_passes {
            let result = churn.pass(proxy.port())?;
            if result.other > 0 {
                return Err(BenchError::new(format!(
                    "{variant}: churn pass {pass}: {} responses were not 200; log:\n{}",
                    result.other,
                    proxy.log()
                )));
            }
            let _ = writeln!(
                out,
                "| {variant} | pass {pass} | {} | {} | {} |",
                result.ok,
                mib(proxy.rss_kib()?),
                heap()?
            );
        }
        if *variant == Variant::MtlsAuthz && proxy.kind() == Kind::Envoy {
            let counters =
                proxy.stats("mtls_authz\\.(allowed|denied|unauthenticated|host_error)$")?;
            let listed: Vec<String> = counters
                .iter()
                .map(|(name, value)| format!("`{name}` {value}"))
                .collect();
            let _ = writeln!(
                out,
                "\nmtls-authz counters at the end: {}.",
                listed.join(", ")
            );
        }
    }
    Ok(())
}
