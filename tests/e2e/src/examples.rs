//! Renders the NGINX and Istio examples (`examples/nginx/nginx.conf`,
//! `examples/istio/mtls-authz.yaml`) from their templates and the fixture policies; a test
//! checks the committed copies against a fresh render, so they cannot drift. The NGINX
//! template is the one the NGINX e2e test, the demo and the benchmark run
//! ([`crate::nginx`]); Istio cannot run in CI.

use std::path::PathBuf;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::nginx::NginxConfig;
use crate::{paths, E2eError};

/// One rendered example: where it is committed and what it must contain.
#[derive(Debug)]
pub struct RenderedExample {
    /// Path of the committed file.
    pub path: PathBuf,
    /// Its expected content.
    pub content: String,
}

/// Removes the whitespace between JSON tokens, keeping key order and string contents as written.
pub fn minify_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Adds `"host": <host>` as the first member of a pretty-printed policy object, refusing a
/// document that already names a host (a duplicate key would make the policy invalid).
pub fn with_host(policy: &str, host: &str) -> Result<String, E2eError> {
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|e| E2eError::Template(format!("policy is not JSON: {e}")))?;
    if doc.get("host").is_some() {
        return Err(E2eError::Template(String::from(
            "the policy already sets `host`",
        )));
    }
    let body = policy
        .trim_start()
        .strip_prefix('{')
        .ok_or_else(|| E2eError::Template(String::from("policy is not a JSON object")))?;
    Ok(format!("{{\n  \"host\": \"{host}\",{body}"))
}

/// [`with_host`], or the policy unchanged when it already names a host.
pub fn with_host_unless_set(policy: &str, host: &str) -> Result<String, E2eError> {
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|e| E2eError::Template(format!("policy is not JSON: {e}")))?;
    if doc.get("host").is_some() {
        return Ok(policy.to_owned());
    }
    with_host(policy, host)
}

/// Indents every line but the first by `spaces` (for a YAML block under a key).
fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.trim_end()
        .lines()
        .map(|line| format!("{pad}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Serialize)]
struct ExampleVars {
    policy_name: &'static str,
    policy: String,
}

fn render(template_rel: &str, vars: &ExampleVars) -> Result<String, E2eError> {
    let path = paths::repo_root().join(template_rel);
    let template = std::fs::read_to_string(&path)
        .map_err(|e| E2eError::io(format!("reading {}", path.display()), e))?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.add_template("example", &template)
        .map_err(|e| E2eError::Template(e.to_string()))?;
    env.get_template("example")
        .and_then(|t| t.render(vars))
        .map_err(|e| E2eError::Template(format!("{template_rel}: {e}")))
}

fn fixture_policy(name: &str) -> Result<String, E2eError> {
    let path = mtls_authz_fixtures::policy_path(name);
    std::fs::read_to_string(&path)
        .map_err(|e| E2eError::io(format!("reading {}", path.display()), e))
}

/// The NGINX example's listener (`https://localhost:10443`, like the Envoy demo's).
pub const NGINX_LISTEN: &str = "127.0.0.1:10443";
/// The NGINX example's upstream (the echo server, like the Envoy demo's).
pub const NGINX_UPSTREAM: &str = "127.0.0.1:18080";

/// The NGINX example's settings for fixture policy `policy_name` (with `"host": "nginx"`):
/// every path relative to the repository root, which is NGINX's `-p` prefix; logs in `logs`.
pub fn nginx_example_config(policy_name: &str, logs: &str) -> Result<NginxConfig, E2eError> {
    let policy = with_host(&fixture_policy(policy_name)?, "nginx")?;
    let address = |text: &str| {
        text.parse()
            .map_err(|e| E2eError::Template(format!("{text}: {e}")))
    };
    Ok(NginxConfig {
        policy_name: policy_name.to_owned(),
        policy: Some(minify_json(&policy)),
        wasm: PathBuf::from("target/dist/mtls_authz_filter.wasm"),
        listen: address(NGINX_LISTEN)?,
        upstream: Some(address(NGINX_UPSTREAM)?),
        certs: PathBuf::from("tests/fixtures/certs"),
        logs: PathBuf::from(logs),
        verify_client: String::from("on"),
        underscores_in_headers: false,
        keepalive_requests: None,
        client_body_buffer_size: None,
    })
}

/// `examples/nginx/nginx.conf`: the healthcare policy, `host: nginx`, logs in `target/nginx`.
pub fn nginx() -> Result<RenderedExample, E2eError> {
    Ok(RenderedExample {
        path: paths::repo_root().join("examples/nginx/nginx.conf"),
        content: nginx_example_config("healthcare", "target/nginx")?.render()?,
    })
}

/// Sets `identity.peer_verification` as the first member of a pretty-printed policy's
/// `identity` object, refusing a document without one or that already sets it.
pub fn with_peer_verification(policy: &str, value: &str) -> Result<String, E2eError> {
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|e| E2eError::Template(format!("policy is not JSON: {e}")))?;
    let identity = doc
        .get("identity")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| E2eError::Template(String::from("the policy has no `identity` object")))?;
    if identity.contains_key("peer_verification") {
        return Err(E2eError::Template(String::from(
            "the policy already sets identity.peer_verification",
        )));
    }
    let (head, tail) = policy
        .split_once("\"identity\": {")
        .ok_or_else(|| E2eError::Template(String::from("no `\"identity\": {` in the policy")))?;
    let out = format!("{head}\"identity\": {{\n    \"peer_verification\": \"{value}\",{tail}");
    let check: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
        E2eError::Template(format!("inserting peer_verification broke the JSON: {e}"))
    })?;
    if check.pointer("/identity/peer_verification") != Some(&serde_json::Value::from(value)) {
        return Err(E2eError::Template(String::from(
            "peer_verification not where expected",
        )));
    }
    Ok(out)
}

/// `examples/istio/mtls-authz.yaml`: the multitenant policy, `host: envoy`, and
/// `identity.peer_verification: listener` (sidecars resume TLS sessions, and STRICT mTLS
/// verifies every handshake against the mesh CA), as the WasmPlugin's `pluginConfig` (JSON is
/// YAML; indented under the key).
pub fn istio() -> Result<RenderedExample, E2eError> {
    let policy = with_peer_verification(
        &with_host(&fixture_policy("multitenant")?, "envoy")?,
        "listener",
    )?;
    let vars = ExampleVars {
        policy_name: "multitenant",
        policy: indent(&policy, 4),
    };
    Ok(RenderedExample {
        path: paths::repo_root().join("examples/istio/mtls-authz.yaml"),
        content: render("examples/istio/mtls-authz.yaml.j2", &vars)?,
    })
}

/// Every rendered example.
pub fn all() -> Result<Vec<RenderedExample>, E2eError> {
    Ok(vec![nginx()?, istio()?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_order_and_strings() {
        assert_eq!(
            minify_json("{ \"z\": [1, 2],\n  \"a b\": \"x \\\" y\" }"),
            "{\"z\":[1,2],\"a b\":\"x \\\" y\"}"
        );
    }

    #[test]
    fn host_becomes_the_first_member_and_is_never_duplicated() {
        let policy = with_host("{\n  \"rules\": []\n}", "nginx").unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&policy).unwrap(),
            serde_json::json!({"host": "nginx", "rules": []})
        );
        assert!(policy.starts_with("{\n  \"host\": \"nginx\","));
        assert!(with_host("{\"host\": \"envoy\"}", "nginx").is_err());
        assert!(with_host("[]", "nginx").is_err());
    }

    #[test]
    fn the_committed_examples_are_the_rendered_ones() {
        for example in all().unwrap() {
            let committed = std::fs::read_to_string(&example.path).unwrap_or_default();
            assert!(
                committed == example.content,
                "{} is stale: run `cargo run -p mtls-authz-e2e --bin mtls-authz-example-configs`",
                example.path.display()
            );
        }
    }
}
