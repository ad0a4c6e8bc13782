//! `crl inspect FILE [--issuer CA.pem] [--time T]`: what a CRL says and what the core makes
//! of it — issuer, number, validity window, entries, and every reason the filter would refuse
//! it (the core's `Crl::check`, nothing decided here).
//!
//! Exit: 0 when the CRL would be accepted and is current; 1 when it would be refused (or,
//! without `--issuer`, has a problem of its own) or is stale at `--time`; 2 when the file is
//! not a CRL at all or the CA certificate cannot be read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use mtls_authz_core::crl::{crl_der, CaCertificate, Crl, CrlError, CrlLimits};
use mtls_authz_core::hex::to_hex;
use mtls_authz_core::UnixTime;
use serde::Serialize;

use crate::clock;
use crate::error::CliError;
use crate::output::{self, Exit, Format, Report};

#[derive(Debug, Args)]
pub(crate) struct CrlArgs {
    #[command(subcommand)]
    command: CrlCommand,
}

#[derive(Debug, Subcommand)]
enum CrlCommand {
    /// Show a CRL (PEM or DER) and, with --issuer, whether it verifies against that CA.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// CRL file, PEM (`X509 CRL`) or DER.
    crl: PathBuf,
    /// The CA certificate (PEM or DER) that must have issued the CRL: checks the signature,
    /// issuer name, key id and the CA's cRLSign key usage.
    #[arg(long)]
    issuer: Option<PathBuf>,
    /// Judge thisUpdate/nextUpdate at this time (RFC 3339) instead of now.
    #[arg(long)]
    time: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Entries listed in full before the rest is summarised.
const FIRST_ENTRIES: usize = 5;

pub(crate) fn run(args: &CrlArgs) -> Result<Report, CliError> {
    match &args.command {
        CrlCommand::Inspect(inspect) => run_inspect(inspect),
    }
}

#[derive(Serialize)]
struct JsonEntry {
    serial: String,
    revocation_date: String,
    reason: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonProblem {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonCrl {
    file: String,
    issuer: String,
    authority_key_id: Option<String>,
    number: Option<String>,
    signature_algorithm: String,
    this_update: String,
    next_update: Option<String>,
    at: String,
    /// `current`, `stale` (past nextUpdate), `not yet valid` (before thisUpdate) or
    /// `no nextUpdate`.
    status: &'static str,
    entries: usize,
    distinct_serials: usize,
    first_entries: Vec<JsonEntry>,
    distribution_points: Vec<String>,
    only_user_certs: bool,
    freshest_crl: bool,
    /// The CA certificate checked against (`--issuer`), if any.
    issuer_certificate: Option<String>,
    /// `verified`, `not checked (no --issuer)`, or why it failed.
    signature: String,
    /// No problem found (with `--issuer`: the filter would accept this CRL).
    accepted: bool,
    problems: Vec<JsonProblem>,
}

fn read(file: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(file).map_err(|source| CliError::Read {
        file: file.to_path_buf(),
        source,
    })
}

fn crl_error(file: &Path, source: CrlError) -> CliError {
    CliError::Crl {
        file: file.to_path_buf(),
        source,
    }
}

fn status(crl: &Crl<'_>, now: UnixTime) -> &'static str {
    match crl.next_update() {
        _ if now < crl.this_update() => "not yet valid",
        None => "no nextUpdate",
        Some(next) if now > next => "stale",
        Some(_) => "current",
    }
}

fn run_inspect(args: &InspectArgs) -> Result<Report, CliError> {
    let now = clock::now_or(args.time.as_deref())?;
    let limits = CrlLimits::DEFAULT;
    let bytes = read(&args.crl)?;
    let der = crl_der(&bytes, &limits).map_err(|e| crl_error(&args.crl, e))?;
    let crl = Crl::parse(&der, &limits).map_err(|e| crl_error(&args.crl, e))?;
    let ca = match &args.issuer {
        Some(file) => Some(
            CaCertificate::parse(&read(file)?).map_err(|source| CliError::Crl {
                file: file.clone(),
                source,
            })?,
        ),
        None => None,
    };

    let (problems, signature) = match &ca {
        Some(ca) => {
            let signature = match crl.signature_problem(ca) {
                None => String::from("verified"),
                Some(CrlError::Signature(error)) => format!("refused: {error}"),
                Some(problem) => format!("refused: {problem}"),
            };
            (crl.check(ca, now), signature)
        }
        None => (
            structural_problems(&crl, now),
            String::from("not checked (no --issuer)"),
        ),
    };
    let status = status(&crl, now);
    let view = JsonCrl {
        file: args.crl.display().to_string(),
        issuer: crl.issuer().rfc4514.clone(),
        authority_key_id: crl.authority_key_id().map(to_hex),
        number: crl.number().map(ToString::to_string),
        signature_algorithm: match crl.signature_algorithm() {
            Ok(algorithm) => algorithm.name().to_string(),
            Err(error) => error.to_string(),
        },
        this_update: clock::format_rfc3339(crl.this_update()),
        next_update: crl.next_update().map(clock::format_rfc3339),
        at: clock::format_rfc3339(now),
        status,
        entries: crl.entry_count(),
        distinct_serials: crl.distinct_serials(),
        first_entries: crl
            .entries()
            .take(FIRST_ENTRIES)
            .map(|entry| JsonEntry {
                serial: entry.serial,
                revocation_date: entry
                    .revocation_date
                    .map(clock::format_rfc3339)
                    .unwrap_or_else(|| String::from("(not a calendar date)")),
                reason: entry.reason.map(|reason| reason.name()),
            })
            .collect(),
        distribution_points: crl.distribution_points().to_vec(),
        only_user_certs: crl.only_user_certs(),
        freshest_crl: crl.has_freshest_crl(),
        issuer_certificate: args.issuer.as_ref().map(|f| f.display().to_string()),
        signature,
        accepted: problems.is_empty(),
        problems: problems
            .iter()
            .map(|problem| JsonProblem {
                code: problem.code(),
                message: problem.to_string(),
            })
            .collect(),
    };
    let exit = if view.accepted && status == "current" {
        Exit::Ok
    } else {
        Exit::Finding
    };
    let stdout = match args.format {
        Format::Json => output::json(&view),
        Format::Text => render_text(&view, ca.as_ref()),
    };
    Ok(Report { stdout, exit })
}

/// Without a CA: the problems of the CRL itself (what `check` finds minus what only a CA can
/// decide: issuer name, key id, signature, the CA's key usage).
fn structural_problems(crl: &Crl<'_>, now: UnixTime) -> Vec<CrlError> {
    let mut problems = crl.intrinsic_problems();
    if crl.this_update() > now {
        problems.push(CrlError::NotYetValid {
            this_update: crl.this_update(),
            now,
        });
    }
    problems
}

fn render_text(view: &JsonCrl, ca: Option<&CaCertificate>) -> String {
    let mut out = String::new();
    let row = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{label:<18}{value}");
    };
    let _ = writeln!(out, "crl: {}", view.file);
    row(&mut out, "issuer", &view.issuer);
    row(
        &mut out,
        "authority key id",
        view.authority_key_id.as_deref().unwrap_or("(none)"),
    );
    row(
        &mut out,
        "number",
        view.number.as_deref().unwrap_or("(none)"),
    );
    row(&mut out, "algorithm", &view.signature_algorithm);
    row(&mut out, "this update", &view.this_update);
    let next = match &view.next_update {
        Some(next) => format!("{next} ({} at {})", view.status, view.at),
        None => format!("(none) ({} at {})", view.status, view.at),
    };
    row(&mut out, "next update", &next);
    let distinct = if view.distinct_serials == view.entries {
        String::new()
    } else {
        format!(" ({} distinct serials)", view.distinct_serials)
    };
    row(&mut out, "entries", &format!("{}{distinct}", view.entries));
    for entry in &view.first_entries {
        let _ = writeln!(
            out,
            "  {}  revoked {}{}",
            entry.serial,
            entry.revocation_date,
            entry
                .reason
                .map(|reason| format!("  {reason}"))
                .unwrap_or_default()
        );
    }
    if view.entries > view.first_entries.len() {
        let _ = writeln!(
            out,
            "  ... {} more",
            view.entries - view.first_entries.len()
        );
    }
    if !view.distribution_points.is_empty() || view.only_user_certs {
        let mut idp = view.distribution_points.join(", ");
        if view.only_user_certs {
            if !idp.is_empty() {
                idp.push_str(", ");
            }
            idp.push_str("onlyContainsUserCerts");
        }
        row(&mut out, "distribution pt", &idp);
    }
    if view.freshest_crl {
        row(
            &mut out,
            "delta CRLs",
            "announced (freshestCRL); not fetched or applied",
        );
    }
    match (&view.issuer_certificate, ca) {
        (Some(file), Some(ca)) => {
            let _ = writeln!(out, "against {file} ({}):", ca.subject().rfc4514);
            let _ = writeln!(out, "  signature: {}", view.signature);
        }
        _ => {
            let _ = writeln!(
                out,
                "structure only (no --issuer: signature, issuer name and key id not checked):"
            );
        }
    }
    if view.accepted {
        let verdict = if view.issuer_certificate.is_some() {
            "accepted"
        } else {
            "no problem found"
        };
        let _ = writeln!(out, "  {verdict}");
    } else {
        let _ = writeln!(out, "  refused:");
        for problem in &view.problems {
            let _ = writeln!(out, "    - {} ({})", problem.message, problem.code);
        }
    }
    if view.status == "stale" {
        let _ = writeln!(
            out,
            "  stale: nextUpdate has passed; the CA should have published a newer CRL"
        );
    }
    out
}
