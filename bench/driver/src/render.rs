//! Renders the five variants from the ONE Envoy template.
//!
//! `bench/envoy-bench.yaml.j2` extends `examples/envoy/envoy.yaml.j2` and replaces only its
//! `http_filters` block, so every variant has the demo's and the e2e test's listener, TLS
//! settings, connection manager and upstream cluster. The variables are the base template's
//! (see `mtls_authz_e2e::config`) plus `variant` and `lua_code`; undefined variables are
//! errors, so the two templates cannot drift apart silently.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use mtls_authz_e2e::config::{EnvoyConfig, XfccHandling};
use serde_json::{json, Value};

use crate::error::{BenchError, Result};
use crate::variant::Variant;

/// Name the base template is registered under (what `{% extends %}` names).
const BASE_NAME: &str = "envoy.yaml.j2";
const BENCH_NAME: &str = "envoy-bench.yaml.j2";
const UPSTREAM_NAME: &str = "upstream.yaml.j2";

/// The template texts, read once.
pub(crate) struct Templates {
    env: Environment<'static>,
}

/// What differs between the variants' configs.
#[derive(Clone, Copy)]
pub(crate) struct VariantFiles<'a> {
    /// The mtls-authz `.wasm`.
    pub(crate) mtls_authz_wasm: &'a Path,
    /// The empty filter's `.wasm`.
    pub(crate) empty_wasm: &'a Path,
    /// Its plugin configuration: `{}` for variant (d), a host-call list for `--probe`.
    pub(crate) empty_config: &'a str,
    /// The policy mtls-authz runs with.
    pub(crate) policy: &'a str,
    /// Source of the Lua filter.
    pub(crate) lua_code: &'a str,
}

impl Templates {
    /// Reads the base template (examples/envoy), the bench template and the upstream's.
    pub(crate) fn load(repo_root: &Path) -> Result<Self> {
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path)
                .map_err(|e| BenchError::io(format!("reading {}", path.display()), e))
        };
        Self::from_texts(
            read(mtls_authz_e2e::paths::envoy_template())?,
            read(repo_root.join("bench").join(BENCH_NAME))?,
            read(repo_root.join("bench").join(UPSTREAM_NAME))?,
        )
    }

    fn from_texts(base: String, bench: String, upstream: String) -> Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Every value is quoted by the templates themselves with `tojson`.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        for (name, text) in [
            (BASE_NAME, base),
            (BENCH_NAME, bench),
            (UPSTREAM_NAME, upstream),
        ] {
            env.add_template_owned(name, text)
                .map_err(|e| BenchError::new(format!("template {name}: {e}")))?;
        }
        Ok(Self { env })
    }

    /// The config of one variant. `base` carries ports and TLS files; its `filter` is ignored
    /// (the variant decides).
    pub(crate) fn variant(
        &self,
        base: &EnvoyConfig,
        variant: Variant,
        files: &VariantFiles<'_>,
    ) -> Result<String> {
        let (wasm, policy) = match variant {
            Variant::EmptyWasm => (Some(files.empty_wasm), Some(files.empty_config)),
            Variant::MtlsAuthz => (Some(files.mtls_authz_wasm), Some(files.policy)),
            Variant::NoFilter | Variant::Rbac | Variant::Lua => (None, None),
        };
        let mut vars = base_vars(base);
        if let Value::Object(map) = &mut vars {
            map.insert("wasm".into(), json!(wasm));
            map.insert("policy".into(), json!(policy));
            map.insert("variant".into(), json!(variant.key()));
            map.insert("lua_code".into(), json!(files.lua_code));
        }
        self.render(BENCH_NAME, vars)
    }

    /// The upstream's config (direct_response, plain HTTP).
    pub(crate) fn upstream(&self) -> Result<String> {
        self.render(UPSTREAM_NAME, json!({ "admin_port": 0, "listen_port": 0 }))
    }

    fn render(&self, name: &str, vars: Value) -> Result<String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(vars))
            .map_err(|e| BenchError::new(format!("rendering {name}: {e:#}")))
    }
}

/// The base template's variables, from the e2e crate's config (same names, same meaning).
fn base_vars(config: &EnvoyConfig) -> Value {
    json!({
        "admin_port": config.admin_port,
        "listen_port": config.listen_port,
        "upstream_port": config.upstream_port,
        "server_cert": config.server_cert,
        "server_key": config.server_key,
        "ca_bundle": config.ca_bundle,
        "require_client_certificate": config.require_client_certificate,
        "forward_client_cert_details": match config.xfcc {
            XfccHandling::Sanitize => "SANITIZE",
            XfccHandling::ForwardOnly => "FORWARD_ONLY",
        },
        "access_log": config.access_log,
        "extra_listeners": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtls_authz_e2e::config::FilterSetup;

    fn templates() -> Templates {
        Templates::load(&mtls_authz_e2e::paths::repo_root()).unwrap()
    }

    fn base() -> EnvoyConfig {
        let mut config = EnvoyConfig::with_fixture_certs(18080, None);
        config.access_log = false;
        config
    }

    fn files() -> VariantFiles<'static> {
        VariantFiles {
            mtls_authz_wasm: Path::new("/w/mtls_authz_filter.wasm"),
            empty_wasm: Path::new("/w/empty.wasm"),
            empty_config: "{}",
            policy: "{\"rules\": []}",
            lua_code: "function envoy_on_request(h) end",
        }
    }

    #[test]
    fn wasm_variants_and_no_filter_are_exactly_what_the_e2e_renderer_produces() {
        let templates = templates();
        let mut config = base();
        assert_eq!(
            templates
                .variant(&config, Variant::NoFilter, &files())
                .unwrap(),
            config.render().unwrap()
        );
        config.filter = Some(FilterSetup {
            wasm: PathBuf::from("/w/mtls_authz_filter.wasm"),
            policy: "{\"rules\": []}".into(),
        });
        assert_eq!(
            templates
                .variant(&config, Variant::MtlsAuthz, &files())
                .unwrap(),
            config.render().unwrap()
        );
        config.filter = Some(FilterSetup {
            wasm: PathBuf::from("/w/empty.wasm"),
            policy: "{}".into(),
        });
        assert_eq!(
            templates
                .variant(&config, Variant::EmptyWasm, &files())
                .unwrap(),
            config.render().unwrap()
        );
    }

    #[test]
    fn rbac_and_lua_replace_only_the_filter_block() {
        let templates = templates();
        let plain = templates
            .variant(&base(), Variant::NoFilter, &files())
            .unwrap();
        let rbac = templates.variant(&base(), Variant::Rbac, &files()).unwrap();
        let lua = templates.variant(&base(), Variant::Lua, &files()).unwrap();
        assert!(rbac.contains("envoy.filters.http.rbac"));
        assert!(rbac.contains("principal_name: { contains: \"OU=Clinicians\" }"));
        assert!(lua.contains("envoy.filters.http.lua"));
        assert!(lua.contains("inline_string: \"function envoy_on_request(h) end\""));
        for rendered in [&rbac, &lua] {
            assert!(!rendered.contains("envoy.filters.http.wasm"));
            // Everything before the filter list is the same listener and TLS setup.
            let head = |text: &str| text.split("http_filters:").next().unwrap().to_owned();
            assert_eq!(head(rendered), head(&plain));
            assert!(rendered.ends_with(plain.split("envoy.filters.http.router").nth(1).unwrap()));
        }
    }

    #[test]
    fn upstream_is_a_direct_response_listener() {
        let upstream = templates().upstream().unwrap();
        assert!(upstream.contains("direct_response"));
        assert!(upstream.contains("port_value: 0"));
    }
}
