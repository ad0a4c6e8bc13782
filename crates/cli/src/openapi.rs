//! Loads the operations (path template + method) of an OpenAPI 3.x document, YAML or JSON.
//!
//! Only what `audit` needs is read (`openapi`, `info.title`, `servers[].url`, `paths` and their
//! operations); everything else is ignored, so vendor extensions and schemas never get in the
//! way. Errors name the file, the field (as a path such as `paths./a.get`) and the position.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::error::CliError;

/// One API operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Operation {
    /// The path template as written (`/patients/{id}`).
    pub(crate) template: String,
    /// Upper-case HTTP method.
    pub(crate) method: String,
    /// `operationId`, when given.
    pub(crate) operation_id: Option<String>,
}

/// The parts of an OpenAPI document that `audit` uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiSpec {
    /// `info.title`.
    pub(crate) title: Option<String>,
    /// Path parts of `servers[].url` other than `/` (operations are served below them).
    pub(crate) server_base_paths: Vec<String>,
    /// v1.1 `hosts`: the authorities of absolute `servers[].url`s, in document order without
    /// repeats; a `{variable}` becomes `__variable__` (like probe paths: any one label).
    pub(crate) server_hosts: Vec<String>,
    /// Operations sorted by template, then in the method order of [`METHODS`].
    pub(crate) operations: Vec<Operation>,
}

/// Methods an OpenAPI 3.x path item can hold, as (field name, HTTP method).
const METHODS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("trace", "TRACE"),
    ("post", "POST"),
    ("put", "PUT"),
    ("patch", "PATCH"),
    ("delete", "DELETE"),
];

#[derive(Deserialize)]
struct RawDocument {
    openapi: Option<VersionField>,
    swagger: Option<VersionField>,
    info: Option<RawInfo>,
    #[serde(default)]
    servers: Vec<RawServer>,
    #[serde(default)]
    paths: BTreeMap<String, RawPathItem>,
}

#[derive(Deserialize)]
struct RawInfo {
    title: Option<String>,
}

#[derive(Deserialize)]
struct RawServer {
    url: String,
}

#[derive(Deserialize)]
struct RawPathItem {
    #[serde(rename = "$ref")]
    reference: Option<String>,
    get: Option<RawOperation>,
    head: Option<RawOperation>,
    options: Option<RawOperation>,
    trace: Option<RawOperation>,
    post: Option<RawOperation>,
    put: Option<RawOperation>,
    patch: Option<RawOperation>,
    delete: Option<RawOperation>,
}

impl RawPathItem {
    fn operation(&self, field: &str) -> Option<&RawOperation> {
        match field {
            "get" => self.get.as_ref(),
            "head" => self.head.as_ref(),
            "options" => self.options.as_ref(),
            "trace" => self.trace.as_ref(),
            "post" => self.post.as_ref(),
            "put" => self.put.as_ref(),
            "patch" => self.patch.as_ref(),
            "delete" => self.delete.as_ref(),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(rename = "operationId")]
    operation_id: Option<String>,
}

/// `openapi: 3.1` in YAML is a number, `openapi: "3.1.0"` a string: accept both as text.
struct VersionField(String);

impl<'de> Deserialize<'de> for VersionField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VersionVisitor;
        impl Visitor<'_> for VersionVisitor {
            type Value = VersionField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version such as \"3.1.0\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VersionField, E> {
                Ok(VersionField(v.to_owned()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<VersionField, E> {
                Ok(VersionField(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VersionField, E> {
                Ok(VersionField(v.to_string()))
            }
        }
        deserializer.deserialize_any(VersionVisitor)
    }
}

/// Reads and parses an OpenAPI document. JSON when the file name ends in `.json` or the text
/// starts with `{`, YAML otherwise.
pub(crate) fn load(file: &Path) -> Result<ApiSpec, CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    parse(&text, is_json).map_err(|detail| CliError::OpenApi {
        file: file.to_path_buf(),
        detail,
    })
}

/// Parses OpenAPI text; the error is a one-line description naming the field.
pub(crate) fn parse(text: &str, is_json: bool) -> Result<ApiSpec, String> {
    let raw: RawDocument = if is_json {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| located(e.path(), e.inner()))?
    } else {
        let de = yaml_serde::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| located(e.path(), e.inner()))?
    };
    compile(raw)
}

fn located(path: &serde_path_to_error::Path, inner: &dyn fmt::Display) -> String {
    let path = path.to_string();
    if path.is_empty() || path == "." {
        format!("{inner}")
    } else {
        format!("at {path}: {inner}")
    }
}

fn compile(raw: RawDocument) -> Result<ApiSpec, String> {
    match (&raw.openapi, &raw.swagger) {
        (Some(VersionField(v)), _) if v.starts_with("3.") || v == "3" => {}
        (Some(VersionField(v)), _) => {
            return Err(format!(
                "at openapi: version `{v}` is not supported, expected 3.x"
            ))
        }
        (None, Some(VersionField(v))) => {
            return Err(format!(
            "at swagger: Swagger/OpenAPI {v} is not supported; convert the document to OpenAPI 3.x"
        ))
        }
        (None, None) => return Err(String::from("missing field `openapi` (expected 3.x)")),
    }
    let mut operations = Vec::new();
    for (template, item) in &raw.paths {
        if !template.starts_with('/') {
            return Err(format!(
                "at paths.{template}: a path template must start with `/`"
            ));
        }
        if item.reference.is_some() {
            return Err(format!(
                "at paths.{template}.$ref: path item references are not supported; inline the path item"
            ));
        }
        for (field, method) in METHODS {
            if let Some(op) = item.operation(field) {
                operations.push(Operation {
                    template: template.clone(),
                    method: String::from(*method),
                    operation_id: op.operation_id.clone(),
                });
            }
        }
    }
    let server_base_paths = raw
        .servers
        .iter()
        .filter_map(|s| server_path(&s.url))
        .collect();
    let mut server_hosts: Vec<String> = Vec::new();
    for host in raw.servers.iter().filter_map(|s| server_host(&s.url)) {
        if !server_hosts.contains(&host) {
            server_hosts.push(host);
        }
    }
    Ok(ApiSpec {
        title: raw.info.and_then(|i| i.title),
        server_base_paths,
        server_hosts,
        operations,
    })
}

/// The path part of a server URL (`https://h/v1` -> `/v1`, `/api` -> `/api`), `None` for `/`
/// or none.
fn server_path(url: &str) -> Option<String> {
    let after_scheme = match url.find("://") {
        Some(i) => url.get(i + 3..).unwrap_or(""),
        None => url,
    };
    let path = if url.contains("://") {
        after_scheme.find('/').and_then(|i| after_scheme.get(i..))?
    } else {
        after_scheme
    };
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() || !trimmed.starts_with('/') {
        None
    } else {
        Some(trimmed.to_owned())
    }
}

/// The authority of an absolute server URL (`https://{tenant}.example.org:8443/v1` ->
/// `__tenant__.example.org:8443`), `None` for a relative one. Lower-cased (hosts compare
/// ignoring case).
fn server_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = probe_path(rest.get(..end)?).to_ascii_lowercase();
    (!authority.is_empty()).then_some(authority)
}

/// A concrete request path for a template: each `{param}` becomes `__param__` (characters
/// outside `[A-Za-z0-9_-]` dropped), a value that no literal path segment of a sane policy
/// equals, so a rule covers the operation only if it accepts any value there.
pub(crate) fn probe_path(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close_rel) = rest.get(open..).and_then(|r| r.find('}')) else {
            break;
        };
        let close = open + close_rel;
        out.push_str(rest.get(..open).unwrap_or(""));
        let name: String = rest
            .get(open + 1..close)
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        out.push_str("__");
        out.push_str(&name);
        out.push_str("__");
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
openapi: 3.0.3
info: { title: Demo }
servers: [ { url: "https://api.example.com/v1/" } ]
paths:
  /items/{id}:
    get: { operationId: getItem, responses: { 200: { description: ok } } }
    delete: { responses: { 204: { description: gone } } }
  /health:
    get: { operationId: health }
"#;

    #[test]
    fn reads_yaml_operations_sorted_with_ids() {
        let spec = parse(YAML, false).unwrap();
        assert_eq!(spec.title.as_deref(), Some("Demo"));
        assert_eq!(spec.server_base_paths, vec!["/v1".to_string()]);
        let ops: Vec<(&str, &str, Option<&str>)> = spec
            .operations
            .iter()
            .map(|o| {
                (
                    o.template.as_str(),
                    o.method.as_str(),
                    o.operation_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            ops,
            vec![
                ("/health", "GET", Some("health")),
                ("/items/{id}", "GET", Some("getItem")),
                ("/items/{id}", "DELETE", None),
            ]
        );
    }

    #[test]
    fn numeric_yaml_version_is_accepted() {
        assert!(parse("openapi: 3.1\npaths: {}\n", false).is_ok());
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(
            r#"{"openapi":"3.0.0","paths":{"/a":{"get":{"operationId":7}}}}"#,
            true,
        )
        .unwrap_err();
        assert!(
            e.starts_with("at paths./a.get.operationId: invalid type: integer `7`"),
            "{e}"
        );
        assert_eq!(
            parse("swagger: '2.0'\n", false).unwrap_err(),
            "at swagger: Swagger/OpenAPI 2.0 is not supported; convert the document to OpenAPI 3.x"
        );
        assert_eq!(
            parse("openapi: 3.0.0\npaths: { a: {} }\n", false).unwrap_err(),
            "at paths.a: a path template must start with `/`"
        );
    }

    #[test]
    fn probe_paths_replace_every_parameter() {
        assert_eq!(
            probe_path("/t/{tenant}/orders/{order id}"),
            "/t/__tenant__/orders/__orderid__"
        );
        assert_eq!(probe_path("/files/{name}.{ext}"), "/files/__name__.__ext__");
        assert_eq!(probe_path("/plain"), "/plain");
    }

    #[test]
    fn server_hosts() {
        assert_eq!(
            server_host("https://Records.example.org:8443/v1").as_deref(),
            Some("records.example.org:8443")
        );
        assert_eq!(
            server_host("https://{tenant}.example.org").as_deref(),
            Some("__tenant__.example.org")
        );
        assert_eq!(server_host("/v1"), None);
    }

    #[test]
    fn server_paths() {
        assert_eq!(server_path("https://h.example/v1"), Some("/v1".into()));
        assert_eq!(server_path("https://h.example"), None);
        assert_eq!(server_path("https://h.example/"), None);
        assert_eq!(server_path("/api/"), Some("/api".into()));
    }
}
