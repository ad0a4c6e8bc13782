//! `inspect CERT`: the identity exactly as policies see it. Values are printed as JSON string
//! literals so trailing spaces, look-alikes and control characters are visible and the value
//! can be pasted into a policy unchanged. With `--policy`, also what that policy makes of the
//! certificate: identity checks, the `issuers` entries it matches, the roles it holds.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use mtls_authz_core::hex::to_hex;
use mtls_authz_core::{ClientCert, Identity, Selector, UnixTime};
use serde::Serialize;

use crate::clock;
use crate::commands::check::describe_grant;
use crate::error::CliError;
use crate::load;
use crate::output::{self, Exit, Format, Report};

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Certificate file, PEM or DER.
    cert: PathBuf,
    /// Judge the validity window at this time (RFC 3339) instead of now.
    #[arg(long)]
    time: Option<String>,
    /// Also show the identity checks and roles this policy gives the certificate.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Every selector of the identity with its values, as the core lists them
/// ([`Selector::for_identity`]: one list, so a new selector shows up here by itself).
pub(crate) fn selector_values(identity: &Identity) -> Vec<(String, Vec<String>)> {
    Selector::for_identity(identity)
        .into_iter()
        .map(|(selector, values)| {
            (
                selector.name(),
                values.into_iter().map(String::from).collect(),
            )
        })
        .collect()
}

/// Where `now` falls in the validity window.
fn validity_status(identity: &Identity, now: UnixTime) -> &'static str {
    if now < identity.not_before {
        "not yet valid"
    } else if now > identity.not_after {
        "expired"
    } else {
        "valid"
    }
}

/// Serialises selector -> values as a JSON object in our order.
struct SelectorMap<'a>(&'a [(String, Vec<String>)]);

impl Serialize for SelectorMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (selector, values) in self.0 {
            map.serialize_entry(selector, values)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct JsonInspect<'a> {
    file: String,
    selectors: SelectorMap<'a>,
    validity: JsonValidity,
    is_ca: bool,
    eku_present: bool,
    /// Fingerprint of the certificate's ECDSA signature twin, `None` for other signatures.
    fingerprint_sha256_signature_twin: Option<String>,
    authority_key_id: Option<&'a str>,
    /// The certificates that followed the leaf in the file (absent for a single certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<JsonChain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<JsonPolicyView>,
}

/// What a file with a chain adds: how many certificates followed and who issued the leaf.
#[derive(Serialize)]
struct JsonChain {
    certificates: usize,
    /// Subjects of the chain certificates, in file order.
    subjects: Vec<String>,
    leaf_issuer: String,
    /// Position (1 = first after the leaf) of the leaf's issuer in the chain, if present.
    leaf_issuer_position: Option<usize>,
}

/// What `--policy` adds: the identity check verdict and the roles held, with evidence.
#[derive(Serialize)]
struct JsonPolicyView {
    file: String,
    identity_rejection: Option<&'static str>,
    /// Names of the `issuers` entries the certificate matches.
    issuer_pin: Vec<String>,
    /// Number of `issuers` entries, so "none matched" can say of how many.
    #[serde(skip)]
    issuers_defined: usize,
    roles: Vec<String>,
    explanations: Vec<String>,
}

#[derive(Serialize)]
struct JsonValidity {
    not_before: String,
    not_after: String,
    at: String,
    status: &'static str,
}

pub(crate) fn run(args: &InspectArgs) -> Result<Report, CliError> {
    let now = clock::now_or(args.time.as_deref())?;
    let file = load::certificate(&args.cert)?;
    let chain = load::chain_summary(&file);
    let identity = &file.leaf;
    let policy_view = match &args.policy {
        Some(file) => {
            let loaded = load::policy(file)?;
            let rejection = loaded
                .policy
                .check_identity(ClientCert::Present(identity), now)
                .err()
                .map(|r| r.code());
            let grants = loaded.policy.role_grants(identity);
            let issuer_pin = loaded
                .policy
                .issuer_pins(identity)
                .into_iter()
                .map(String::from)
                .collect();
            Some(JsonPolicyView {
                file: file.display().to_string(),
                identity_rejection: rejection,
                issuer_pin,
                issuers_defined: loaded.doc.issuers.len(),
                roles: grants.iter().map(|g| g.role.clone()).collect(),
                explanations: grants.iter().map(describe_grant).collect(),
            })
        }
        None => None,
    };
    let selectors = selector_values(identity);
    let status = validity_status(identity, now);
    let stdout = match args.format {
        Format::Json => output::json(&JsonInspect {
            file: args.cert.display().to_string(),
            selectors: SelectorMap(&selectors),
            validity: JsonValidity {
                not_before: clock::format_rfc3339(identity.not_before),
                not_after: clock::format_rfc3339(identity.not_after),
                at: clock::format_rfc3339(now),
                status,
            },
            is_ca: identity.is_ca,
            eku_present: identity.eku_present,
            fingerprint_sha256_signature_twin: signature_twin(identity),
            authority_key_id: identity.authority_key_id.as_deref(),
            chain: (!file.chain.is_empty()).then(|| JsonChain {
                certificates: file.chain.len(),
                subjects: file
                    .chain
                    .iter()
                    .map(|ca| ca.subject.rfc4514.clone())
                    .collect(),
                leaf_issuer: identity.issuer.rfc4514.clone(),
                leaf_issuer_position: file.issuer_position(),
            }),
            policy: policy_view,
        }),
        Format::Text => {
            let mut out = render_text(args, chain.as_deref(), identity, &selectors, now, status);
            if let Some(view) = &policy_view {
                render_policy_view(&mut out, view);
            }
            out
        }
    };
    Ok(Report {
        stdout,
        exit: Exit::Ok,
    })
}

fn render_policy_view(out: &mut String, view: &JsonPolicyView) {
    let _ = writeln!(out, "policy {}:", view.file);
    match view.identity_rejection {
        None => {
            let _ = writeln!(out, "  identity usable");
        }
        Some(code) => {
            let _ = writeln!(
                out,
                "  identity rejected ({code}): every request is 401 except public rules"
            );
        }
    }
    let issuers = match (view.issuer_pin.is_empty(), view.issuers_defined) {
        (false, _) => view.issuer_pin.join(", "),
        (true, 0) => String::from("none (no issuers defined)"),
        (true, defined) => format!("none of the {defined} issuers matches"),
    };
    let _ = writeln!(out, "  issuer_pin: {issuers}");
    if view.explanations.is_empty() {
        let _ = writeln!(out, "  roles: none (only `authenticated`)");
    }
    for line in &view.explanations {
        let _ = writeln!(out, "  {line}");
    }
}

/// Lowercase hex of the ECDSA signature twin's fingerprint, when the signature has one.
fn signature_twin(identity: &Identity) -> Option<String> {
    identity
        .fingerprint_sha256_signature_twin
        .map(|twin| to_hex(&twin))
}

fn render_text(
    args: &InspectArgs,
    chain: Option<&str>,
    identity: &Identity,
    selectors: &[(String, Vec<String>)],
    now: UnixTime,
    status: &str,
) -> String {
    let width = selectors
        .iter()
        .map(|(s, _)| s.len())
        .chain([16])
        .max()
        .unwrap_or(16);
    let mut out = String::new();
    let _ = writeln!(out, "certificate: {}", args.cert.display());
    if let Some(chain) = chain {
        let _ = writeln!(out, "chain: {chain}");
    }
    let _ = writeln!(
        out,
        "selectors (values as JSON strings, as a policy must write them):"
    );
    for (selector, values) in selectors {
        if values.is_empty() {
            let _ = writeln!(out, "  {selector:<width$}  (none)");
        }
        for (i, value) in values.iter().enumerate() {
            let label = if i == 0 { selector.as_str() } else { "" };
            let _ = writeln!(out, "  {label:<width$}  {}", output::quote(value));
        }
    }
    let _ = writeln!(out, "identity checks:");
    let _ = writeln!(
        out,
        "  {:<width$}  {} .. {} ({status} at {})",
        "validity",
        clock::format_rfc3339(identity.not_before),
        clock::format_rfc3339(identity.not_after),
        clock::format_rfc3339(now),
    );
    let eku = if !identity.eku_present {
        "extension absent (fails require_client_auth_eku)"
    } else if identity.eku.iter().any(|e| e == "clientAuth") {
        "clientAuth present"
    } else {
        "clientAuth missing (fails require_client_auth_eku)"
    };
    let _ = writeln!(out, "  {:<width$}  {eku}", "client_auth_eku");
    let ca = if identity.is_ca {
        "true (CA certificates are rejected as clients)"
    } else {
        "false"
    };
    let _ = writeln!(out, "  {:<width$}  {ca}", "ca");
    if let Some(twin) = signature_twin(identity) {
        let _ = writeln!(
            out,
            "  {:<width$}  {twin}  (same certificate with ECDSA signature (r, n-s), which verifies too: revoked.fingerprints_sha256 refuses both)",
            "fingerprint_twin"
        );
    }
    let aki = identity.authority_key_id.as_deref().unwrap_or("(none)");
    let _ = writeln!(
        out,
        "  {:<width$}  {aki}  (compared with issuers.*.key_id)",
        "authority_key_id"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtls_authz_core::Policy;

    fn fixture_identity(name: &str) -> Identity {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/certs")
            .join(format!("{name}.pem"));
        Identity::parse(&std::fs::read(file).unwrap()).unwrap()
    }

    fn issuer_pins(policy: &Policy, identity: &Identity) -> Vec<String> {
        policy
            .issuer_pins(identity)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn matching_issuers_needs_the_dn_and_a_configured_key_id() {
        // partner-a-client: issuer "CN=Example Partner CA,O=Example Partners",
        // AKI 7b8a93d87e8cfa39743924e794eaa5afc54ebae7.
        let identity = fixture_identity("services/partner-a-client");
        let doc = Policy::from_json(
            r#"{
            "issuers": {
                "services-ca": {"subject": "CN=Example Services CA,O=Example Corp"},
                "public": {"subject": "cn=Example Partner CA, o=Example Partners"},
                "wrong-key": {"subject": "CN=Example Partner CA,O=Example Partners", "key_id": "00"},
                "right-key": {"subject": "CN=Example Partner CA,O=Example Partners", "key_id": "7B:8A:93:D8:7E:8C:FA:39:74:39:24:E7:94:EA:A5:AF:C5:4E:BA:E7"}
            },
            "rules": [{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["authenticated"]}]
        }"#,
        )
        .unwrap();
        assert_eq!(
            issuer_pins(&doc, &identity),
            vec!["public".to_string(), "right-key".to_string()]
        );
    }

    #[test]
    fn matching_issuers_without_issuers_is_empty() {
        let identity = fixture_identity("services/partner-a-client");
        let doc = Policy::from_json(
            r#"{"rules": [{"name": "r", "methods": ["GET"], "paths": ["/"], "allow": ["authenticated"]}]}"#,
        )
        .unwrap();
        assert_eq!(issuer_pins(&doc, &identity), Vec::<String>::new());
    }
}
