//! `mtls-authz`: inspect certificates and check, lint and audit policies offline, with the
//! same core (and the same v1 documents) the proxy-wasm filter runs.
//!
//! Exit codes: 0 = allowed / valid / clean, 1 = denied / error-level finding / audit gap /
//! refused or stale CRL / refused token, 2 = bad input (unreadable file, invalid JSON, invalid
//! certificate, not a CRL, not a key set, bad flag).

mod clock;
mod commands;
mod document;
mod error;
mod load;
mod openapi;
mod output;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::output::Report;

/// Offline tools for mtls-authz policies and client certificates.
#[derive(Debug, Parser)]
#[command(name = "mtls-authz", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a certificate's identity exactly as policies see it (every selector and its values).
    Inspect(commands::inspect::InspectArgs),
    /// Compile a policy; report the first error with its JSON path.
    Validate(commands::validate::ValidateArgs),
    /// Decide one request like the filter would, and explain the decision.
    Check(commands::check::CheckArgs),
    /// Find risky or dead constructs in a policy.
    Lint(commands::lint::LintArgs),
    /// Map every OpenAPI operation to the rules and roles that cover it.
    Audit(commands::audit::AuditArgs),
    /// Certificate revocation lists: `crl inspect FILE [--issuer CA.pem]`.
    Crl(commands::crl::CrlArgs),
    /// Access tokens: `token inspect TOKEN|FILE [--jwks FILE] [--cert CERT] [--iss ISS] [--aud AUD]`.
    Token(commands::token::TokenArgs),
}

fn run(cli: Cli) -> Result<Report, CliError> {
    match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::Lint(args) => commands::lint::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
        Command::Crl(args) => commands::crl::run(&args),
        Command::Token(args) => commands::token::run(&args),
    }
}

/// Exit code for bad input; clap uses the same code for usage errors.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = run(cli).and_then(|report| {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(report.stdout.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(CliError::Write)?;
        Ok(report.exit)
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            // stderr may be closed too; the exit code still tells the caller.
            let _ = writeln!(std::io::stderr(), "mtls-authz: error: {error}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
