//! `audit --policy P --openapi SPEC`: every API operation against the compiled policy.
//!
//! Approach (probe paths): each OpenAPI template becomes a concrete path, every `{param}`
//! replaced by `__param__`, normalised by the core and routed by the core's compiled rules
//! (`Policy::matching_rules`), so the audit uses exactly the filter's matching. A rule covers an
//! operation when it matches the probe: rules that accept only some literal values of a
//! parameter (`/tenants/acme/orders` for `/tenants/{tenant}/orders`) do not count as covering it.
//! The roles that may call an operation are the allow lists of every matching rule (the filter
//! allows when any of them is satisfied); `bind`s narrow them further and are listed.
//!
//! v1.1 `hosts`: under a policy whose rules have `hosts`, every operation is probed on every
//! host the API is served on (`--host`, else the authorities of the spec's absolute
//! `servers[].url`s, a `{variable}` label probed as `__variable__`): its rules are those that
//! match on some host, and it is uncovered when some host leaves it without a rule (named in
//! a note). A policy without `hosts` is audited exactly as before.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use mtls_authz_core::normalize_path;
use serde::Serialize;

use crate::document::{is_write_method, AUTHENTICATED, PUBLIC};
use crate::error::CliError;
use crate::load;
use crate::openapi::{self, probe_path};
use crate::output::{self, Exit, Format, Report, Table};

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Policy document (v1 JSON).
    #[arg(long)]
    policy: PathBuf,
    /// OpenAPI 3.x document, YAML or JSON.
    #[arg(long)]
    openapi: PathBuf,
    /// Prefix every OpenAPI path with this (when the proxy sees e.g. /v1/... for a server URL
    /// ending in /v1).
    #[arg(long, value_name = "PATH")]
    base_path: Option<String>,
    /// v1.1: a host the API is served on (repeatable); default: the authorities of the
    /// spec's absolute `servers[].url`s. Only read when the policy's rules have `hosts`.
    #[arg(long = "host", value_name = "AUTHORITY")]
    hosts: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What is wrong with an operation. `uncovered` and `write_open` make the audit fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Issue {
    /// No rule matches: every call is denied (403), a broken deploy.
    Uncovered,
    /// A write method any authenticated (or anonymous) client may call.
    WriteOpen,
    /// A read any authenticated (or anonymous) client may call; listed, not failing.
    ReadOpen,
}

#[derive(Debug, Serialize)]
struct OperationAudit {
    method: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_id: Option<String>,
    probe: String,
    rules: Vec<String>,
    roles: Vec<String>,
    binds: Vec<String>,
    issues: Vec<Issue>,
}

#[derive(Debug, Serialize)]
struct JsonAudit<'a> {
    policy: String,
    openapi: String,
    title: Option<&'a str>,
    operations: &'a [OperationAudit],
    uncovered: usize,
    write_open: usize,
    read_open: usize,
    rules_matching_no_operation: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

pub(crate) fn run(args: &AuditArgs) -> Result<Report, CliError> {
    let loaded = load::policy(&args.policy)?;
    let spec = openapi::load(&args.openapi)?;
    let base = match &args.base_path {
        Some(b) if !b.starts_with('/') => {
            return Err(CliError::argument(
                "--base-path",
                format!("`{b}` must start with `/`"),
            ))
        }
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => String::new(),
    };
    let mut notes = Vec::new();
    if args.base_path.is_none() && !spec.server_base_paths.is_empty() {
        notes.push(format!(
            "servers declare base path(s) {}; if the proxy sees them, rerun with --base-path",
            spec.server_base_paths.join(", ")
        ));
    }
    // v1.1: the hosts to probe; `[None]` (no host: rules with `hosts` match nothing) when the
    // policy has no `hosts` or nothing names a host.
    let probe_hosts: Vec<Option<String>> = if !loaded.policy.uses_hosts() {
        vec![None]
    } else {
        let named = if args.hosts.is_empty() {
            spec.server_hosts.clone()
        } else {
            args.hosts.clone()
        };
        if named.is_empty() {
            notes.push(String::from(
                "the policy scopes rules by host but the spec declares no absolute server URL: rules with `hosts` were not matched; rerun with --host",
            ));
            vec![None]
        } else {
            named.into_iter().map(Some).collect()
        }
    };
    let mut used = vec![false; loaded.doc.rules.len()];
    let mut audits = Vec::new();
    for op in &spec.operations {
        let probe = format!("{base}{}", probe_path(&op.template));
        let normalized = normalize_path(&probe).map_err(|e| CliError::OpenApi {
            file: args.openapi.clone(),
            detail: format!(
                "at paths.{}: probe path `{probe}` is rejected by the filter ({e})",
                op.template
            ),
        })?;
        let mut matching: Vec<usize> = Vec::new();
        let mut uncovered_on = Vec::new();
        for host in &probe_hosts {
            let on_host =
                loaded
                    .policy
                    .matching_rules_on_host(&op.method, &normalized, host.as_deref());
            if on_host.is_empty() {
                if let Some(host) = host {
                    uncovered_on.push(host.clone());
                }
            }
            for index in on_host {
                if !matching.contains(&index) {
                    matching.push(index);
                }
            }
        }
        matching.sort_unstable();
        if !uncovered_on.is_empty() && !matching.is_empty() {
            notes.push(format!(
                "{} {}: no rule on {}",
                op.method,
                op.template,
                uncovered_on.join(", ")
            ));
        }
        let mut rules = Vec::new();
        let mut roles: Vec<String> = Vec::new();
        let mut binds = Vec::new();
        for index in matching {
            let Some(rule) = loaded.doc.rules.get(index) else {
                continue;
            };
            if let Some(flag) = used.get_mut(index) {
                *flag = true;
            }
            rules.push(rule.name.clone());
            for role in &rule.allow {
                if !roles.contains(role) {
                    roles.push(role.clone());
                }
            }
            for (param, selector) in rule.bind.iter() {
                let bind = format!("{{{param}}}={selector}");
                if !binds.contains(&bind) {
                    binds.push(bind);
                }
            }
        }
        let open = roles.iter().any(|r| r == AUTHENTICATED || r == PUBLIC);
        let mut issues = Vec::new();
        if rules.is_empty() || !uncovered_on.is_empty() {
            issues.push(Issue::Uncovered);
        } else if open && is_write_method(&op.method) {
            issues.push(Issue::WriteOpen);
        } else if open {
            issues.push(Issue::ReadOpen);
        }
        audits.push(OperationAudit {
            method: op.method.clone(),
            path: op.template.clone(),
            operation_id: op.operation_id.clone(),
            probe,
            rules,
            roles,
            binds,
            issues,
        });
    }
    let unused: Vec<String> = loaded
        .doc
        .rules
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(r, _)| r.name.clone())
        .collect();
    let count = |issue: Issue| audits.iter().filter(|a| a.issues.contains(&issue)).count();
    let (uncovered, write_open, read_open) = (
        count(Issue::Uncovered),
        count(Issue::WriteOpen),
        count(Issue::ReadOpen),
    );
    let stdout = match args.format {
        Format::Json => output::json(&JsonAudit {
            policy: args.policy.display().to_string(),
            openapi: args.openapi.display().to_string(),
            title: spec.title.as_deref(),
            operations: &audits,
            uncovered,
            write_open,
            read_open,
            rules_matching_no_operation: &unused,
            notes,
        }),
        Format::Text => {
            let mut table = Table::new(&["METHOD", "PATH", "RULES", "ROLES", "BINDS", "ISSUE"]);
            for a in &audits {
                let who = if a.roles.iter().any(|r| r == PUBLIC) {
                    "anyone, no certificate needed"
                } else {
                    "any authenticated client"
                };
                let issue = match a.issues.first() {
                    Some(Issue::Uncovered) => String::from("UNCOVERED: always denied (403)"),
                    Some(Issue::WriteOpen) => format!("WRITE OPEN: {who}"),
                    Some(Issue::ReadOpen) => format!("read open: {who}"),
                    None => String::new(),
                };
                let or_dash = |v: &[String]| {
                    if v.is_empty() {
                        String::from("-")
                    } else {
                        v.join(",")
                    }
                };
                table.row(vec![
                    a.method.clone(),
                    a.path.clone(),
                    or_dash(&a.rules),
                    or_dash(&a.roles),
                    or_dash(&a.binds),
                    issue,
                ]);
            }
            let mut out = table.render();
            if !unused.is_empty() {
                let _ = writeln!(out, "rules matching no operation: {}", unused.join(", "));
            }
            for note in &notes {
                let _ = writeln!(out, "note: {note}");
            }
            let _ = writeln!(
                out,
                "{} operations: {uncovered} uncovered, {write_open} write open, {read_open} read open, {} rule(s) matching no operation",
                audits.len(),
                unused.len()
            );
            out
        }
    };
    Ok(Report {
        stdout,
        exit: if uncovered + write_open > 0 {
            Exit::Finding
        } else {
            Exit::Ok
        },
    })
}
