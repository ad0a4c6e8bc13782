//! `token inspect TOKEN|FILE [--jwks FILE] [--cert CERT] [--iss ISS] [--aud AUD]... [--time T]`:
//! a JWS access token's header and claims, and every reason the filter would refuse it — the
//! core's `Jws::check_with` and `binding_matches`, nothing decided here. What a flag does not
//! give is not checked, and the output says so.
//!
//! Exit: 0 when nothing checked found a problem; 1 when the token would be refused (its
//! structure, header, key, signature, claims or binding); 2 when the argument is neither a
//! file nor a token, or the key set, certificate or a flag cannot be used.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use mtls_authz_core::json_value::{JsonNumber, JsonObject, JsonValue};
use mtls_authz_core::token::{
    algorithm_from_jose, binding_matches, certificate_thumbprint, Checks, JwksLimits, Jws, KeySet,
    TokenError, TokenLimits, DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW_SECS, MAX_CLOCK_SKEW_SECS,
};
use mtls_authz_core::{Identity, UnixTime};
use serde::Serialize;

use crate::clock;
use crate::error::CliError;
use crate::output::{self, Exit, Format, Report};

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Show a JWS token and every reason it would be refused.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The token, or a file holding it (trailing whitespace, such as a final line break, is
    /// removed).
    token: String,
    /// The JWK set (JSON) to verify the signature with.
    #[arg(long)]
    jwks: Option<PathBuf>,
    /// The client certificate (PEM or DER) the token must be bound to (RFC 8705 cnf x5t#S256).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// The required issuer (`iss`).
    #[arg(long)]
    iss: Option<String>,
    /// An accepted audience (`aud`); repeat for several.
    #[arg(long)]
    aud: Vec<String>,
    /// An allowed algorithm; repeat for several [default: ES256 ES384 RS256 PS256 EdDSA].
    #[arg(long)]
    alg: Vec<String>,
    /// An accepted `typ` (e.g. at+jwt); repeat for several [default: any].
    #[arg(long)]
    typ: Vec<String>,
    /// Clock skew in seconds for exp, nbf and iat.
    #[arg(long, default_value_t = DEFAULT_CLOCK_SKEW_SECS)]
    skew: u64,
    /// Judge exp, nbf and iat at this time (RFC 3339) instead of now.
    #[arg(long)]
    time: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(args: &TokenArgs) -> Result<Report, CliError> {
    match &args.command {
        TokenCommand::Inspect(inspect) => run_inspect(inspect),
    }
}

#[derive(Serialize)]
struct JsonProblem {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonKeySet {
    file: String,
    keys: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct JsonCertificate {
    file: String,
    #[serde(rename = "x5t#S256")]
    thumbprint: String,
}

#[derive(Serialize)]
struct JsonToken {
    token: String,
    /// The header and claims, members in token order, when they could be read.
    header: Option<Members>,
    claims: Option<Members>,
    at: String,
    key_set: Option<JsonKeySet>,
    issuer: Option<String>,
    audiences: Vec<String>,
    algorithms: Vec<&'static str>,
    types: Vec<String>,
    clock_skew_secs: u64,
    /// `verified with kid "k" (EC P-256)`, `not verified`, or `not checked (...)`.
    signature: String,
    certificate: Option<JsonCertificate>,
    /// `matches`, `does not match`, `not bound`, or `not checked (...)`.
    binding: String,
    /// No problem among what was checked.
    accepted: bool,
    problems: Vec<JsonProblem>,
    /// What was not checked, and which flag would check it.
    not_checked: Vec<&'static str>,
}

/// The members of a JSON object in their order (serialised as a JSON object).
struct Members(Vec<(String, serde_json::Value)>);

impl Serialize for Members {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn read(file: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(file).map_err(|source| CliError::Read {
        file: file.to_path_buf(),
        source,
    })
}

/// The token bytes and how to name them: a file's contents (trailing whitespace removed), or
/// the argument itself when it is not a file but has the `.` of a compact serialization.
pub(crate) fn token_bytes(argument: &str) -> Result<(Vec<u8>, String), CliError> {
    let path = std::path::Path::new(argument);
    if path.is_file() {
        let mut bytes = read(path)?;
        let end = bytes.trim_ascii_end().len();
        bytes.truncate(end);
        return Ok((bytes, argument.to_string()));
    }
    if argument.contains('.') && !argument.contains('/') {
        return Ok((argument.as_bytes().to_vec(), String::from("(argument)")));
    }
    Err(CliError::argument(
        "TOKEN",
        format!("`{argument}` is neither a file nor a JWS token (header.claims.signature)"),
    ))
}

fn run_inspect(args: &InspectArgs) -> Result<Report, CliError> {
    let now = clock::now_or(args.time.as_deref())?;
    let (bytes, name) = token_bytes(&args.token)?;
    let algorithms = if args.alg.is_empty() {
        DEFAULT_ALGORITHMS.to_vec()
    } else {
        args.alg
            .iter()
            .map(|alg| {
                algorithm_from_jose(alg).map_err(|e| CliError::argument("--alg", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if args.skew > MAX_CLOCK_SKEW_SECS {
        return Err(CliError::argument(
            "--skew",
            format!("{} is above {MAX_CLOCK_SKEW_SECS} seconds", args.skew),
        ));
    }
    let keys = match &args.jwks {
        Some(file) => Some(
            KeySet::from_jwks(&read(file)?, &JwksLimits::DEFAULT).map_err(|source| {
                CliError::Jwks {
                    file: file.clone(),
                    source,
                }
            })?,
        ),
        None => None,
    };
    let identity = match &args.cert {
        Some(file) => {
            Some(
                Identity::parse(&read(file)?).map_err(|source| CliError::Certificate {
                    file: file.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };

    let mut not_checked = Vec::new();
    if keys.is_none() {
        not_checked.push("key and signature (no --jwks)");
    }
    if args.iss.is_none() {
        not_checked.push("issuer (no --iss)");
    }
    if args.aud.is_empty() {
        not_checked.push("audience (no --aud)");
    }
    if identity.is_none() {
        not_checked.push("certificate binding (no --cert)");
    }

    let limits = TokenLimits::DEFAULT;
    let mut view = JsonToken {
        token: name,
        header: None,
        claims: None,
        at: clock::format_rfc3339(now),
        key_set: keys
            .as_ref()
            .zip(args.jwks.as_ref())
            .map(|(set, file)| JsonKeySet {
                file: file.display().to_string(),
                keys: set.keys().len(),
                skipped: set.skipped().len(),
            }),
        issuer: args.iss.clone(),
        audiences: args.aud.clone(),
        algorithms: algorithms.iter().map(|a| a.jose_name()).collect(),
        types: args.typ.clone(),
        clock_skew_secs: args.skew,
        signature: String::from("not checked (no --jwks)"),
        certificate: identity
            .as_ref()
            .zip(args.cert.as_ref())
            .map(|(id, file)| JsonCertificate {
                file: file.display().to_string(),
                thumbprint: certificate_thumbprint(id),
            }),
        binding: String::from("not checked (no --cert)"),
        accepted: false,
        problems: Vec::new(),
        not_checked,
    };
    let mut problems: Vec<TokenError> = Vec::new();
    let mut raw_parts = Vec::new();
    match Jws::parse(&bytes, &limits) {
        Err(error) => {
            problems.push(error);
            raw_parts = decoded_parts(&bytes);
            view.signature = String::from("not checked (the token cannot be read)");
            if identity.is_some() {
                view.binding = String::from("not checked (the token cannot be read)");
            }
        }
        Ok(jws) => {
            view.header = Some(members(jws.header().json()));
            if let Ok(claims) = jws.claims() {
                view.claims = Some(members(claims.json()));
            }
            let audiences = (!args.aud.is_empty()).then_some(args.aud.as_slice());
            let report = jws.check_with(&Checks {
                keys: keys.as_ref(),
                algorithms: &algorithms,
                types: &args.typ,
                issuer: args.iss.as_deref(),
                audiences,
                clock_skew_secs: args.skew,
                now,
            });
            if keys.is_some() {
                view.signature = match &report.verified_by {
                    Some((Some(kid), key)) => {
                        format!("verified with kid {} ({key})", output::quote(kid))
                    }
                    Some((None, key)) => format!("verified with the key without kid ({key})"),
                    None => String::from("not verified"),
                };
            }
            problems.extend(report.problems);
            if let Some(identity) = &identity {
                match jws.claims() {
                    Ok(claims) => {
                        let binding = binding_matches(claims, identity);
                        view.binding = match &binding {
                            Ok(()) => String::from("matches"),
                            Err(TokenError::NotBound) => {
                                String::from("not bound (no cnf x5t#S256)")
                            }
                            Err(_) => String::from("does not match"),
                        };
                        problems.extend(binding.err());
                    }
                    Err(_) => {
                        view.binding = String::from("not checked (the claims cannot be read)");
                    }
                }
            }
        }
    }
    view.accepted = problems.is_empty();
    view.problems = problems
        .iter()
        .map(|problem| JsonProblem {
            code: problem.code(),
            message: problem.to_string(),
        })
        .collect();
    let exit = if view.accepted {
        Exit::Ok
    } else {
        Exit::Finding
    };
    let stdout = match args.format {
        Format::Json => output::json(&view),
        Format::Text => render_text(&view, &raw_parts),
    };
    Ok(Report { stdout, exit })
}

/// The members of a header or claims object, values as JSON.
fn members(object: &JsonObject) -> Members {
    Members(
        object
            .iter()
            .map(|(name, value)| (name.to_string(), to_json(value)))
            .collect(),
    )
}

fn to_json(value: &JsonValue) -> serde_json::Value {
    match value {
        JsonValue::Null => serde_json::Value::Null,
        JsonValue::Bool(b) => serde_json::Value::Bool(*b),
        JsonValue::Number(JsonNumber::Unsigned(n)) => serde_json::Value::from(*n),
        JsonValue::Number(JsonNumber::Negative(n)) => serde_json::Value::from(*n),
        JsonValue::Number(JsonNumber::Float(f)) => serde_json::Value::from(*f),
        JsonValue::String(s) => serde_json::Value::String(s.clone()),
        JsonValue::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        JsonValue::Object(object) => serde_json::Value::Object(
            object
                .iter()
                .map(|(name, value)| (name.to_string(), to_json(value)))
                .collect(),
        ),
    }
}

/// For a token that cannot be read: each of its first two parts decoded, when it is base64url
/// of UTF-8 text (so a repeated member or a bad type can be seen).
fn decoded_parts(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut parts = bytes.split(|b| *b == b'.');
    for label in ["header", "claims"] {
        let Some(part) = parts.next() else { break };
        if let Some(text) = base64_decode(part) {
            out.push((label, text));
        }
    }
    out
}

/// Lenient base64url (padding tolerated) to UTF-8 text, for display only.
fn base64_decode(part: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(part).ok()?.trim_end_matches('=');
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out)
        .ok()
        .filter(|s| s.starts_with('{') || s.starts_with('['))
}

/// A member's value for the text view: compact JSON, with NumericDates also as RFC 3339.
fn shown(name: &str, value: &serde_json::Value) -> String {
    let json = value.to_string();
    match (name, value.as_u64()) {
        ("exp" | "nbf" | "iat" | "auth_time", Some(secs)) => {
            format!(
                "{json} ({})",
                clock::format_rfc3339(UnixTime::from_secs(secs))
            )
        }
        _ => json,
    }
}

fn render_members(out: &mut String, title: &str, members: &Members) {
    let members = &members.0;
    let _ = writeln!(out, "{title}:");
    let width = members
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0)
        .min(16);
    for (name, value) in members {
        let _ = writeln!(out, "  {name:<width$}  {}", shown(name, value));
    }
}

fn render_text(view: &JsonToken, raw_parts: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "token: {}", view.token);
    if let Some(header) = &view.header {
        render_members(&mut out, "header", header);
    }
    if let Some(claims) = &view.claims {
        render_members(&mut out, "claims", claims);
    }
    for (label, text) in raw_parts {
        let _ = writeln!(out, "{label} (decoded, not accepted): {text}");
    }
    let row = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<11}{value}");
    };
    let _ = writeln!(out, "checked at {}:", view.at);
    if let Some(set) = &view.key_set {
        row(
            &mut out,
            "key set",
            &format!("{} ({} keys, {} skipped)", set.file, set.keys, set.skipped),
        );
    }
    if let Some(issuer) = &view.issuer {
        row(&mut out, "issuer", issuer);
    }
    if !view.audiences.is_empty() {
        row(&mut out, "audiences", &view.audiences.join(", "));
    }
    row(&mut out, "algorithms", &view.algorithms.join(", "));
    if !view.types.is_empty() {
        row(&mut out, "types", &view.types.join(", "));
    }
    row(&mut out, "signature", &view.signature);
    if let Some(certificate) = &view.certificate {
        row(
            &mut out,
            "binding",
            &format!(
                "{} (certificate {}, x5t#S256 {})",
                view.binding, certificate.file, certificate.thumbprint
            ),
        );
    }
    if view.accepted {
        let _ = writeln!(out, "  accepted");
    } else {
        let _ = writeln!(out, "  refused:");
        for problem in &view.problems {
            let _ = writeln!(out, "    - {} ({})", problem.message, problem.code);
        }
    }
    if !view.not_checked.is_empty() {
        let _ = writeln!(out, "not checked: {}", view.not_checked.join(", "));
    }
    out
}
