//! `validate POLICY`: compile exactly as the filter's `on_configure` does.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::load;
use crate::output::{self, Exit, Format, Report};

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Policy document (v1 JSON).
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct JsonValidate {
    file: String,
    valid: bool,
    rules: usize,
    roles: usize,
}

pub(crate) fn run(args: &ValidateArgs) -> Result<Report, CliError> {
    let loaded = load::policy(&args.policy)?;
    let rules = loaded.policy.rule_names().len();
    let roles = loaded.policy.role_names().len();
    let stdout = match args.format {
        Format::Text => format!("policy OK: {rules} rules, {roles} roles\n"),
        Format::Json => output::json(&JsonValidate {
            file: args.policy.display().to_string(),
            valid: true,
            rules,
            roles,
        }),
    };
    Ok(Report {
        stdout,
        exit: Exit::Ok,
    })
}
