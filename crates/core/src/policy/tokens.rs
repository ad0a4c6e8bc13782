//! v1.1 `tokens`: the compiled token section, and how a request's token is found, verified
//! and tied to the client certificate (docs/DECISIONS.md "Tokens (RFC 8705)").
//!
//! The token is looked at only when a rule that matches the request has `require_token`
//! ([`RequestToken`] is asked lazily), so a request to any other rule ignores the header
//! entirely: a garbage token there costs nothing and refuses nothing.

use alloc::string::String;
use alloc::vec::Vec;

use super::fetch::FetchSpec;
use super::json_path::JsonPath;
use super::raw::RawTokens;
use super::PolicyError;
use crate::identity::Identity;
use crate::selector::Selector;
use crate::time::UnixTime;
use crate::token::{
    self, bearer_token, binding_matches, ClaimConsistency, ClaimPath, JwksLimits, JwksSource,
    KeySet, TokenConfig, TokenError, VerifiedToken,
};

/// The default token header (RFC 6750 §2.1), read as `Bearer <token>`.
pub const DEFAULT_TOKEN_HEADER: &str = "authorization";

/// URL query parameters that carry a bearer token, in the canonical form of
/// [`crate::method_override::any_param_named`]: RFC 6750 §2.3's `access_token`, Laravel's
/// token guard's `api_token` (read from the query before the header), Doorkeeper's
/// `bearer_token`.
const QUERY_TOKEN_PARAMS: [&str; 3] = ["access_token", "api_token", "bearer_token"];

/// Whether a URL query (without its `?`) carries a token parameter, its name read any way a
/// framework reads it (`access_token`, `Access-Token`, `access%5Ftoken`, `[access_token]`...):
/// the application could act on that token, which nobody verified
/// ([`TokenPolicy::check_query`]).
fn query_carries_token(query: &[u8]) -> bool {
    crate::method_override::any_param_named(query, |name| {
        QUERY_TOKEN_PARAMS
            .iter()
            .any(|param| name == param.as_bytes())
    })
}

/// The compiled `tokens` section.
#[derive(Debug)]
pub struct TokenPolicy {
    config: TokenConfig,
    /// The inline `jwks`; `None` with only `jwks_fetch`.
    keys: Option<KeySet>,
    /// `jwks_fetch`: where newer key sets come from.
    fetch: Option<FetchSpec>,
    /// Lower-case header name.
    header: String,
    require_binding: bool,
    consistency: Vec<ClaimConsistency>,
}

impl TokenPolicy {
    /// The lower-case name of the header that carries the token.
    pub fn header_name(&self) -> &str {
        &self.header
    }

    /// What a verified token must satisfy.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// The inline key set (`jwks`), if any: the keys in force until a fetch installs others.
    pub fn keys(&self) -> Option<&KeySet> {
        self.keys.as_ref()
    }

    /// `jwks_fetch`, if any.
    pub fn jwks_fetch(&self) -> Option<&FetchSpec> {
        self.fetch.as_ref()
    }

    /// A fresh key source: the inline set in force, nothing fetched yet.
    pub fn jwks_source(&self) -> JwksSource {
        JwksSource::new(
            self.keys.clone(),
            self.fetch.as_ref().map(FetchSpec::plan),
            JwksLimits::default(),
        )
    }

    /// The request's query as a rule with `require_token` sees it: one carrying a token (an
    /// `access_token` parameter, read leniently) is [`TokenError::InQuery`], before the
    /// header's token is looked at. Also what `check` shows.
    pub fn check_query(&self, query: Option<&str>) -> Result<(), TokenError> {
        match query {
            Some(query) if query_carries_token(query.as_bytes()) => Err(TokenError::InQuery),
            _ => Ok(()),
        }
    }

    /// `require_certificate_binding`.
    pub fn require_binding(&self) -> bool {
        self.require_binding
    }

    /// The token in the request's values of [`TokenPolicy::header_name`] (all of them, in
    /// order). None is [`TokenError::Missing`]; several, or one with a `,` (a proxy joins
    /// repeated headers with `,`, which base64url never contains), are
    /// [`TokenError::Repeated`]: which one the application reads is not ours to guess. In
    /// `authorization` the value must be `Bearer <token>` (another scheme is no token);
    /// any other header carries the bare token.
    pub fn token_of<'v>(&self, values: &[&'v [u8]]) -> Result<&'v [u8], TokenError> {
        let value = match values {
            [] => return Err(TokenError::Missing),
            [value] if !value.contains(&b',') => *value,
            _ => return Err(TokenError::Repeated),
        };
        if self.header == DEFAULT_TOKEN_HEADER {
            bearer_token(value).ok_or(TokenError::Missing)
        } else {
            let value = value.trim_ascii();
            if value.is_empty() {
                Err(TokenError::Missing)
            } else {
                Ok(value)
            }
        }
    }

    /// Verifies `token` (signature, algorithms, issuer, audience, times) at `now` with the
    /// key set in force (`None`: no set yet, `token_keys_unavailable`): a pure function of the
    /// token and the set, so its result may be cached by the token's digest and the set's
    /// generation.
    pub fn verify(
        &self,
        token: &[u8],
        keys: Option<&KeySet>,
        now: UnixTime,
    ) -> Result<VerifiedToken, TokenError> {
        token::verify(
            token,
            keys.ok_or(TokenError::KeysUnavailable)?,
            &self.config,
            now,
        )
    }

    /// What ties a verified token to this connection, checked on every request: the
    /// certificate binding (when required), then each consistency rule in order.
    pub fn check_connection(
        &self,
        verified: &VerifiedToken,
        identity: &Identity,
    ) -> Result<(), TokenError> {
        if self.require_binding {
            binding_matches(verified.claims(), identity)?;
        }
        for rule in &self.consistency {
            rule.check(verified.claims(), identity)?;
        }
        Ok(())
    }
}

/// A request's token, as the evaluator asks for it: at most once per request, and only when a
/// matching rule has `require_token`. Hosts implement it over their header access and their
/// cache of verified tokens; [`HeaderToken`] is the plain one.
pub trait RequestToken {
    /// The request's verified token, or why there is none.
    fn verified(&mut self) -> Result<&VerifiedToken, TokenError>;
}

/// No token source: every rule with `require_token` fails with `token_missing`.
pub struct NoToken;

impl RequestToken for NoToken {
    fn verified(&mut self) -> Result<&VerifiedToken, TokenError> {
        Err(TokenError::Missing)
    }
}

/// The token in given header values, verified without a cache (tests, the CLI).
pub struct HeaderToken<'a> {
    tokens: Option<&'a TokenPolicy>,
    keys: Option<&'a KeySet>,
    values: &'a [&'a [u8]],
    now: UnixTime,
    verified: Option<Result<VerifiedToken, TokenError>>,
}

impl<'a> HeaderToken<'a> {
    /// The token of `values` (the request's values of the token header) under `tokens`,
    /// verified with the inline key set.
    pub fn new(tokens: Option<&'a TokenPolicy>, values: &'a [&'a [u8]], now: UnixTime) -> Self {
        Self {
            tokens,
            keys: tokens.and_then(TokenPolicy::keys),
            values,
            now,
            verified: None,
        }
    }
}

impl<'a> HeaderToken<'a> {
    /// Verifies with `keys` instead of the inline set (a fetched set; `None`: none yet).
    pub fn with_keys(mut self, keys: Option<&'a KeySet>) -> Self {
        self.keys = keys;
        self
    }
}

impl RequestToken for HeaderToken<'_> {
    fn verified(&mut self) -> Result<&VerifiedToken, TokenError> {
        let (tokens, keys, values, now) = (self.tokens, self.keys, self.values, self.now);
        let state = self.verified.get_or_insert_with(|| {
            let tokens = tokens.ok_or(TokenError::Missing)?;
            tokens.verify(tokens.token_of(values)?, keys, now)
        });
        match state {
            Ok(verified) => Ok(verified),
            Err(error) => Err(error.clone()),
        }
    }
}

fn invalid(path: JsonPath, detail: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        path: path.into_string(),
        detail: detail.into(),
    }
}

/// `tokens` → [`TokenPolicy`], every error naming its field.
pub(super) fn compile_tokens(raw: &RawTokens, path: &JsonPath) -> Result<TokenPolicy, PolicyError> {
    let audiences: Vec<&str> = raw.audiences.iter().map(String::as_str).collect();
    let config_error = |e: token::TokenConfigError| {
        invalid(path.key(config_field(e.field)), alloc::format!("{e}"))
    };
    let mut config = TokenConfig::new(&raw.issuer, &audiences).map_err(config_error)?;
    if let Some(algorithms) = &raw.algorithms {
        let names: Vec<&str> = algorithms.iter().map(String::as_str).collect();
        config = config.with_algorithm_names(&names).map_err(config_error)?;
    }
    let types: Vec<&str> = raw.types.iter().map(String::as_str).collect();
    config = config.with_types(&types);
    if let Some(skew) = raw.clock_skew_seconds {
        config = config
            .with_clock_skew_secs(u64::from(skew))
            .map_err(config_error)?;
    }
    let keys = match &raw.jwks {
        Some(value) => {
            let mut jwks = String::new();
            value.render(&mut jwks);
            let keys = KeySet::from_jwks(jwks.as_bytes(), &JwksLimits::default())
                .map_err(|e| invalid(path.key("jwks"), alloc::format!("{e}")))?;
            Some(keys)
        }
        None => None,
    };
    let fetch = raw
        .jwks_fetch
        .as_ref()
        .map(|fetch| FetchSpec::compile(fetch, &path.key("jwks_fetch")))
        .transpose()?;
    if keys.is_none() && fetch.is_none() {
        return Err(invalid(
            path.clone(),
            "needs `jwks` (inline keys), `jwks_fetch` (keys fetched at runtime), or both",
        ));
    }
    let header = match &raw.header {
        None => String::from(DEFAULT_TOKEN_HEADER),
        Some(name) => {
            let lower = name.to_ascii_lowercase();
            if lower.is_empty() || !crate::forward::is_token(&lower) {
                return Err(invalid(
                    path.key("header"),
                    alloc::format!("{name:?} is not a valid header name"),
                ));
            }
            lower
        }
    };
    let mut consistency = Vec::with_capacity(raw.consistency.len());
    for (i, entry) in raw.consistency.iter().enumerate() {
        let entry_path = path.key("consistency").index(i);
        let claim = ClaimPath::parse(&entry.claim)
            .map_err(|e| invalid(entry_path.key("claim"), alloc::format!("{e}")))?;
        let selector = Selector::parse(&entry.selector)
            .map_err(|e| invalid(entry_path.key("selector"), alloc::format!("{e}")))?;
        if matches!(selector, Selector::Roles | Selector::IssuerPin) {
            return Err(invalid(
                entry_path.key("selector"),
                "a claim can only be compared with a certificate attribute, not `roles` or `issuer_pin`",
            ));
        }
        consistency.push(ClaimConsistency::new(claim, selector));
    }
    Ok(TokenPolicy {
        config,
        keys,
        fetch,
        header,
        require_binding: raw.require_certificate_binding.unwrap_or(true),
        consistency,
    })
}

/// The policy field a [`TokenConfig`] error is about.
fn config_field(field: &str) -> &str {
    match field {
        "clock_skew_secs" => "clock_skew_seconds",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use mtls_authz_fixtures::{cert_bytes, load_policy, tokens as fixtures};
    use serde_json::{json, Value};

    use super::*;
    use crate::decision::Status;
    use crate::identity::ClientCert;
    use crate::policy::{Policy, Request};

    /// The fixtures' time (tests/fixtures/tokens/manifest.json).
    const NOW: UnixTime = UnixTime(1_795_392_000);

    fn tokens_policy() -> Value {
        serde_json::from_str(&load_policy("tokens")).unwrap()
    }

    fn compile(doc: &Value) -> Result<Policy, PolicyError> {
        Policy::from_json(&doc.to_string())
    }

    fn compile_error(doc: &Value) -> (String, String) {
        match compile(doc) {
            Ok(_) => panic!("compiled"),
            Err(PolicyError::Invalid { path, detail })
            | Err(PolicyError::Syntax { path, detail }) => (path, detail),
        }
    }

    fn alice() -> Identity {
        Identity::parse(&cert_bytes("healthcare/clinician-alice").unwrap()).unwrap()
    }

    fn token(name: &str) -> String {
        String::from_utf8(fixtures::token(name)).unwrap()
    }

    /// The decision on GET `path` by clinician-alice with these token header values.
    fn decide(policy: &Policy, path: &str, values: &[&[u8]]) -> String {
        let identity = alice();
        let request = Request {
            method: "GET",
            path,
        };
        policy
            .evaluate_with(
                &request,
                crate::authority::RequestAuthority::default(),
                ClientCert::Present(&identity),
                NOW,
                None,
                false,
                None,
                &mut HeaderToken::new(policy.tokens(), values, NOW),
            )
            .reason
            .to_string()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn token_of_finds_one_bearer_token() {
        let policy = compile(&tokens_policy()).unwrap();
        let tokens = policy.tokens().unwrap();
        assert_eq!(tokens.header_name(), "authorization");
        assert_eq!(tokens.token_of(&[b"Bearer abc"]), Ok(&b"abc"[..]));
        assert_eq!(tokens.token_of(&[b"bearer   abc "]), Ok(&b"abc"[..]));
        assert_eq!(tokens.token_of(&[]), Err(TokenError::Missing));
        assert_eq!(tokens.token_of(&[b"Basic abc"]), Err(TokenError::Missing));
        assert_eq!(tokens.token_of(&[b"Bearer "]), Err(TokenError::Missing));
        assert_eq!(
            tokens.token_of(&[b"Bearer a", b"Bearer a"]),
            Err(TokenError::Repeated)
        );
        assert_eq!(
            tokens.token_of(&[b"Bearer a, Bearer b"]),
            Err(TokenError::Repeated)
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_query_token_is_found_in_any_lenient_spelling() {
        for query in [
            "access_token=x",
            "a=1&access_token",
            "a=1;ACCESS_TOKEN=x",
            "Access-Token=x",
            "access.token=x",
            "access%5Ftoken=x",
            "%61ccess_token=x",
            "access+token=x",
            "access_token[]=x",
            "+access_token+=x",
            "[access_token]=x",
            "%5Baccess_token%5D=x",
            "]access_token=x",
            "access_token]=x",
            "access[token=x",
            "api_token=x",
            "Bearer-Token=x",
        ] {
            assert!(query_carries_token(query.as_bytes()), "{query}");
        }
        for query in [
            "",
            "a=access_token",
            "access_tokens=x",
            "my_access_token=x",
            "token=x",
            "access__token=x",
            "access[x]_token=x",
            "[]=access_token",
            "token[access_token]=x",
        ] {
            assert!(!query_carries_token(query.as_bytes()), "{query}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn another_header_carries_the_bare_token() {
        let mut doc = tokens_policy();
        doc["tokens"]["header"] = json!("X-Access-Token");
        let policy = compile(&doc).unwrap();
        let tokens = policy.tokens().unwrap();
        assert_eq!(tokens.header_name(), "x-access-token");
        assert_eq!(tokens.token_of(&[b" abc "]), Ok(&b"abc"[..]));
        assert_eq!(tokens.token_of(&[b""]), Err(TokenError::Missing));
        let valid = token("valid-es256");
        assert_eq!(
            decide(&policy, "/patient-records/1", &[valid.as_bytes()]),
            "allow:rule[records-read]:role[records-reader]"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_first_matching_rule_that_requires_a_token_gives_the_reason() {
        let policy = compile(&tokens_policy()).unwrap();
        let expired = alloc::format!("Bearer {}", token("expired"));
        assert_eq!(
            decide(&policy, "/patient-records/1", &[expired.as_bytes()]),
            "unauthenticated:token_expired"
        );
        // A later rule without require_token that allows wins, whatever the token.
        let mut doc = tokens_policy();
        doc["rules"].as_array_mut().unwrap().push(json!({
            "name": "records-fallback", "methods": ["GET"], "paths": ["/patient-records/**"],
            "allow": ["clinician"]
        }));
        let policy = compile(&doc).unwrap();
        assert_eq!(
            decide(&policy, "/patient-records/1", &[expired.as_bytes()]),
            "allow:rule[records-fallback]:role[clinician]"
        );
        assert_eq!(
            decide(&policy, "/patient-records/1", &[]),
            "allow:rule[records-fallback]:role[clinician]"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn without_binding_an_unbound_token_passes() {
        let mut doc = tokens_policy();
        doc["tokens"]["require_certificate_binding"] = json!(false);
        let policy = compile(&doc).unwrap();
        let no_cnf = alloc::format!("Bearer {}", token("no-cnf"));
        assert_eq!(
            decide(&policy, "/patient-records/1", &[no_cnf.as_bytes()]),
            "allow:rule[records-read]:role[records-reader]"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_token_is_asked_for_at_most_once_and_only_when_required() {
        struct Counting(usize);
        impl RequestToken for Counting {
            fn verified(&mut self) -> Result<&VerifiedToken, TokenError> {
                self.0 += 1;
                Err(TokenError::Missing)
            }
        }
        let mut doc = tokens_policy();
        // Two matching rules that require a token: one verification.
        doc["rules"].as_array_mut().unwrap().push(json!({
            "name": "records-again", "methods": ["GET"], "paths": ["/patient-records/**"],
            "allow": ["authenticated"], "require_token": true
        }));
        let policy = compile(&doc).unwrap();
        let identity = alice();
        for (path, asked, status) in [
            ("/patient-records/1", 1, Status::Unauthenticated),
            ("/profile", 0, Status::Ok),
            ("/healthz", 0, Status::Ok),
        ] {
            let mut counting = Counting(0);
            let decision = policy.evaluate_with(
                &Request {
                    method: "GET",
                    path,
                },
                crate::authority::RequestAuthority::default(),
                ClientCert::Present(&identity),
                NOW,
                None,
                false,
                None,
                &mut counting,
            );
            assert_eq!((path, counting.0, decision.status), (path, asked, status));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn compile_errors_name_the_field() {
        /// A change to the policy, the error's path and its message.
        type Case = (fn(&mut Value), &'static str, &'static str);
        let cases: Vec<Case> = alloc::vec![
            (
                |d| {
                    d.as_object_mut().unwrap().remove("tokens");
                },
                "roles.records-reader[0][\"token.scope\"]",
                "a `token.` selector needs a `tokens` section (issuer, audiences, jwks)",
            ),
            (
                |d| d["rules"][2]["allow"] = json!(["records-reader"]),
                "rules[2].allow[0]",
                "role \"records-reader\" matches token claims, so this rule needs \"require_token\": true (without a verified token it is never held)",
            ),
            (
                |d| d["rules"][0]["require_token"] = json!(true),
                "rules[0].require_token",
                "a rule that allows `public` needs no identity, and a token is bound to one",
            ),
            (
                |d| d["tokens"]["header"] = json!("bad header"),
                "tokens.header",
                "\"bad header\" is not a valid header name",
            ),
            (
                |d| d["tokens"]["consistency"][0]["selector"] = json!("roles"),
                "tokens.consistency[0].selector",
                "a claim can only be compared with a certificate attribute, not `roles` or `issuer_pin`",
            ),
        ];
        for (change, path, detail) in cases {
            let mut doc = tokens_policy();
            change(&mut doc);
            assert_eq!(
                compile_error(&doc),
                (String::from(path), String::from(detail))
            );
        }
        let mut doc = tokens_policy();
        doc["tokens"]["algorithms"] = json!(["ES256", "HS256"]);
        assert_eq!(compile_error(&doc).0, "tokens.algorithms");
        let mut doc = tokens_policy();
        doc["tokens"]["jwks"] =
            serde_json::from_slice(&fixtures::read("jwks-symmetric.json")).unwrap();
        assert_eq!(compile_error(&doc).0, "tokens.jwks");
        let mut doc = tokens_policy();
        doc["tokens"]["clock_skew_seconds"] = json!(601);
        assert_eq!(compile_error(&doc).0, "tokens.clock_skew_seconds");
        let mut doc = tokens_policy();
        doc["tokens"]["audiences"] = json!([]);
        assert_eq!(compile_error(&doc).0, "tokens.audiences");
        // Without a tokens section, require_token is an error too.
        let mut doc = tokens_policy();
        doc.as_object_mut().unwrap().remove("tokens");
        doc["roles"]
            .as_object_mut()
            .unwrap()
            .remove("records-reader");
        doc["rules"][1]["allow"] = json!(["clinician"]);
        assert_eq!(compile_error(&doc).0, "rules[1].require_token");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_duplicate_member_in_the_inline_jwks_is_refused_where_it_is() {
        let text = load_policy("tokens").replacen("\"keys\"", "\"keys\": [], \"keys\"", 1);
        match Policy::from_json(&text) {
            Err(PolicyError::Syntax { path, detail }) => {
                assert_eq!(path, "tokens.jwks");
                assert!(detail.starts_with("duplicate member \"keys\""), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn role_grants_explain_token_conditions() {
        let policy = compile(&tokens_policy()).unwrap();
        let tokens = policy.tokens().unwrap();
        let verified = tokens
            .verify(token("valid-es256").as_bytes(), tokens.keys(), NOW)
            .unwrap();
        let grants = policy.role_grants_with_token(&alice(), Some(verified.claims()));
        let names: Vec<&str> = grants.iter().map(|g| g.role.as_str()).collect();
        assert_eq!(names, ["clinician", "records-reader"]);
        let evidence = &grants[1].evidence[2];
        assert_eq!(
            (
                evidence.selector.as_str(),
                evidence.value.as_str(),
                evidence.pattern.as_str()
            ),
            ("token.scope", "records:read", "\"records:read\"")
        );
        let without: Vec<String> = policy
            .role_grants(&alice())
            .into_iter()
            .map(|g| g.role)
            .collect();
        assert_eq!(without, ["clinician"]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_inline_jwks_renders_back_to_the_same_key_set() {
        let policy = compile(&tokens_policy()).unwrap();
        let file = fixtures::read("jwks.json");
        let file = KeySet::from_jwks(file.trim_ascii_end(), &JwksLimits::default()).unwrap();
        let describe = |set: &KeySet| -> Vec<(Option<String>, String)> {
            set.keys()
                .iter()
                .map(|k| (k.kid().map(String::from), k.key().describe()))
                .collect()
        };
        let inline = policy.tokens().unwrap().keys().unwrap();
        assert_eq!(describe(inline), describe(&file));
        assert_eq!(inline.skipped(), file.skipped());
    }

    /// `tokens` with only `jwks_fetch` (upstream `idp`, every 60 s).
    fn fetch_only_policy() -> Value {
        let mut doc = tokens_policy();
        let tokens = doc["tokens"].as_object_mut().unwrap();
        tokens.remove("jwks");
        tokens.insert(
            String::from("jwks_fetch"),
            json!({"upstream": "idp", "authority": "idp.health.example", "path": "/jwks.json",
                   "refresh_seconds": 60, "timeout_seconds": 5}),
        );
        doc
    }

    /// The fixture JWKS without the keys whose kid is in `without`.
    fn jwks_without(without: &[&str]) -> Vec<u8> {
        let mut set: Value = serde_json::from_slice(&fixtures::read("jwks.json")).unwrap();
        set["keys"]
            .as_array_mut()
            .unwrap()
            .retain(|key| !without.contains(&key["kid"].as_str().unwrap_or_default()));
        set.to_string().into_bytes()
    }

    fn ok(body: &[u8]) -> crate::refresh::FetchResponse<'_> {
        crate::refresh::FetchResponse::Http { status: 200, body }
    }

    fn ticket(source: &mut JwksSource, now: UnixTime) -> crate::refresh::FetchTicket {
        match source.poll(now) {
            crate::refresh::Poll::Fetch(ticket) => ticket,
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn jwks_fetch_compiles_and_one_key_source_is_required() {
        let policy = compile(&fetch_only_policy()).unwrap();
        let tokens = policy.tokens().unwrap();
        assert!(tokens.keys().is_none());
        let fetch = tokens.jwks_fetch().unwrap();
        assert_eq!(
            (fetch.upstream(), fetch.authority(), fetch.path()),
            ("idp", "idp.health.example", "/jwks.json")
        );
        assert_eq!(
            (fetch.plan().interval_secs(), fetch.plan().timeout_secs()),
            (60, 5)
        );

        let mut doc = fetch_only_policy();
        doc["tokens"].as_object_mut().unwrap().remove("jwks_fetch");
        assert_eq!(
            compile_error(&doc),
            (
                String::from("tokens"),
                String::from(
                    "needs `jwks` (inline keys), `jwks_fetch` (keys fetched at runtime), or both"
                )
            )
        );
        let mut doc = fetch_only_policy();
        doc["tokens"]["jwks_fetch"]["path"] = json!("jwks.json");
        assert_eq!(
            compile_error(&doc),
            (
                String::from("tokens.jwks_fetch.path"),
                String::from("must start with `/`")
            )
        );
        let mut doc = fetch_only_policy();
        doc["tokens"]["jwks"] = Value::Null;
        assert_eq!(compile_error(&doc).0, "tokens.jwks");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn without_a_key_set_tokens_fail_closed_with_their_own_reason() {
        let policy = compile(&fetch_only_policy()).unwrap();
        let valid = alloc::format!("Bearer {}", token("valid-es256"));
        assert_eq!(
            decide(&policy, "/patient-records/1", &[valid.as_bytes()]),
            "unauthenticated:token_keys_unavailable"
        );
        // No token at all is still `token_missing`: the keys are asked for only to verify.
        assert_eq!(
            decide(&policy, "/patient-records/1", &[]),
            "unauthenticated:token_missing"
        );
        assert_eq!(
            TokenError::KeysUnavailable.to_string(),
            "no key set yet: the issuer's JWKS has not been fetched"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_fetched_key_set_is_installed_and_a_bad_one_never_replaces_it() {
        let policy = compile(&fetch_only_policy()).unwrap();
        let tokens = policy.tokens().unwrap();
        let mut source = tokens.jwks_source();
        assert!(source.current().is_none());
        assert_eq!(source.generation(), 0);

        let first = ticket(&mut source, NOW);
        let update = source.on_response(first, NOW, ok(&jwks_without(&["es256-1"])));
        assert_eq!(
            update.to_string(),
            "JWKS installed: 4 keys (kid \"es256-2\", \"es384-1\", \"rsa-1\", \"ed25519-1\"); first key set"
        );
        assert_eq!(source.generation(), 1);
        let verify = |source: &JwksSource| {
            tokens
                .verify(token("valid-es256").as_bytes(), source.current(), NOW)
                .map(|_| ())
                .map_err(|e| e.code())
        };
        assert_eq!(verify(&source), Err("token_unknown_kid"));

        // Refused sets and failed fetches leave it in force; each retry is scheduled.
        let no_usable = fixtures::read("jwks-no-usable-key.json");
        let mut now;
        let refusals: [(crate::refresh::FetchResponse<'_>, &str); 4] = [
            (ok(b"{\"keys\": ["), "JWKS refused (jwks_bad_json): "),
            (
                ok(&no_usable),
                "JWKS refused (jwks_no_usable_key): ",
            ),
            (
                crate::refresh::FetchResponse::Http {
                    status: 503,
                    body: b"",
                },
                "JWKS fetch failed: HTTP status 503; the last good key set stays",
            ),
            (
                crate::refresh::FetchResponse::Transport,
                "JWKS fetch failed: no response (connection or timeout); the last good key set stays",
            ),
        ];
        for (response, starts) in refusals {
            now = source.schedule().unwrap().next_due().unwrap();
            let next = ticket(&mut source, now);
            let update = source.on_response(next, now, response);
            assert!(update.to_string().starts_with(starts), "{update}");
            assert_eq!(source.generation(), 1);
            assert_eq!(source.current().unwrap().keys().len(), 4);
        }
        now = source.schedule().unwrap().next_due().unwrap();
        let oversized = ticket(&mut source, now);
        assert_eq!(
            source.on_oversized(oversized, now, 300_000).to_string(),
            "JWKS refused (jwks_too_large): the JWKS is 300000 bytes, more than the 262144-byte limit; the last good key set stays"
        );

        // The same bytes again: unchanged, the generation (and so cached tokens) kept.
        now = source.schedule().unwrap().next_due().unwrap();
        let same = ticket(&mut source, now);
        assert_eq!(
            source.on_response(same, now, ok(&jwks_without(&["es256-1"]))),
            token::JwksUpdate::Unchanged { keys: 4 }
        );
        assert_eq!(source.generation(), 1);

        // The rotated set with es256-1: a new generation, the token verifies.
        now = source.schedule().unwrap().next_due().unwrap();
        let rotated = ticket(&mut source, now);
        let update = source.on_response(rotated, now, ok(&fixtures::read("jwks.json")));
        assert!(
            update.to_string().ends_with("; replaced the previous set"),
            "{update}"
        );
        assert_eq!(source.generation(), 2);
        assert_eq!(verify(&source), Ok(()));
        // A late answer to an earlier fetch changes nothing.
        assert_eq!(
            source.on_response(first, now, ok(&jwks_without(&["es256-1"]))),
            token::JwksUpdate::Ignored
        );
        assert_eq!(source.generation(), 2);
        assert_eq!(
            source.counts(),
            token::JwksCounts {
                installed: 2,
                unchanged: 1,
                refused: 3,
                fetch_failed: 2
            }
        );
    }
}
