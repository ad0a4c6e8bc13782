//! One request: read the certificate and request line, ask the core, act on the decision.
//!
//! Generic over [`Host`]: the wasm build runs it on the proxy, native tests on
//! [`crate::host::mock::MockHost`]. No policy logic lives here — only I/O around
//! `Policy::evaluate`.
//!
//! - Deny (enforce): local 400/401/403 JSON response, one structured log line, counters.
//! - Allow, and every request in shadow mode: strip spoofable headers (method and path
//!   overrides, `forward_headers`, `x-mtls-authz-shadow`, and `x-forwarded-client-cert` unless
//!   it is a source) with their underscore spellings, set identity headers, rewrite `:path`
//!   to the normalised one where the host forwards it (Envoy; see [`crate::target`] for
//!   NGINX); in shadow mode add `x-mtls-authz-shadow: <reason>`.
//! - Where removed headers still reach the upstream (NGINX, see [`crate::target`]), a request
//!   that would be forwarded while carrying a spoofable header — or more headers than the
//!   host shows the filter — is answered 400 instead, in shadow mode too.
//! - A host failure that leaves no safe way to forward (headers unreadable or not writable)
//!   answers 500 `internal_error`: fail closed.

use mtls_authz_core::{ClientCert, Decision, Identity, Mode, Reason, Request, Status, UnixTime};

use crate::authority::{self, SentAuthority};
use crate::cache::Certificate;
use crate::filter::{Filter, PendingBody, Verdict, SHADOW_HEADER};
use crate::headers::RequestHeaders;
use crate::host::{Host, HostError, LogLevel};
use crate::metrics::Outcome;
use crate::response::{self, Exposed};
use crate::source::{self, Caches, ClientCertificate};
use crate::target::{self, Proxy, RequestTarget};
use crate::token::CachedToken;

/// Handles the request headers of one request.
pub fn handle<H: Host>(filter: &Filter, host: &mut H) -> Verdict {
    let headers = match host.request_headers() {
        Ok(entries) => RequestHeaders::new(entries),
        Err(err) => {
            filter.record(host, Outcome::HostError, None);
            return internal_error(
                host,
                &RequestHeaders::default(),
                0,
                filter.next_sequence(),
                &err,
            );
        }
    };
    let policy = &filter.config().policy;
    let host_kind = filter.host_kind();
    // What the client asked for, as the upstream will receive it (see `crate::target`).
    let target = match target::request_target(host, &headers, host_kind) {
        Ok(target) => target,
        Err(err) => {
            filter.record(host, Outcome::HostError, None);
            let now = host.now_nanos().unwrap_or(0);
            return internal_error(host, &headers, now, filter.next_sequence(), &err);
        }
    };

    // v1.1 `hosts`: the authority, only when some rule is scoped by host (see
    // `crate::authority`): a policy without `hosts` makes no extra host call.
    let authority = if policy.uses_hosts() {
        match authority::sent_authority(host, &headers, target.proxy) {
            Ok(authority) => authority,
            Err(err) => {
                filter.record(host, Outcome::HostError, None);
                let now = host.now_nanos().unwrap_or(0);
                return internal_error(host, &headers, now, filter.next_sequence(), &err);
            }
        }
    } else {
        SentAuthority::default()
    };

    // Validity is checked against the host clock on every request; without a clock no
    // certificate can be trusted. Read first: NGINX's connection cache ages its entries by it.
    let clock = host.now_nanos();
    let mut envoy_digest_seen = false;
    let certificate = {
        let (mut identities, mut connections) = filter.caches();
        source::client_certificate(
            host,
            &headers,
            policy,
            target.proxy,
            Caches {
                identities: &mut identities,
                connections: &mut connections,
                now: clock.as_ref().ok().copied(),
            },
            &mut envoy_digest_seen,
        )
    };
    filter.learn_host(target.proxy == Proxy::Nginx, envoy_digest_seen);
    if let ClientCertificate::HostFailed(err) = &certificate {
        host.log(
            LogLevel::Warn,
            &format!("mtls-authz: {err}; the certificate counts as unverified"),
        );
        filter.record(host, Outcome::HostError, None);
    }

    let (now_nanos, clock_ok) = match clock {
        Ok(nanos) => (nanos, true),
        Err(err) => {
            host.log(
                LogLevel::Warn,
                &format!("mtls-authz: {err}; the certificate counts as unverified"),
            );
            (0, false)
        }
    };
    let client = match &certificate {
        _ if !clock_ok => ClientCert::Unverified,
        ClientCertificate::Absent => ClientCert::Absent,
        ClientCertificate::Unverified | ClientCertificate::HostFailed(_) => ClientCert::Unverified,
        ClientCertificate::Parsed(certificate) => match certificate.parsed() {
            Ok(identity) => ClientCert::Present(identity),
            Err(err) => ClientCert::Invalid(err),
        },
    };

    let method = headers.text(":method");
    let request = Request {
        method: &method,
        path: &target.raw,
    };
    let now = UnixTime::from_nanos(now_nanos);
    // Roles and the time-independent identity checks come with the cached certificate.
    let prepared = match &certificate {
        ClientCertificate::Parsed(certificate) if clock_ok => certificate.prepared(),
        _ => None,
    };
    let crls = filter.crls().store();
    // v1.1 `tokens`: read and verified only if a matching rule requires a token.
    let jwks = filter.jwks().source();
    let keys = jwks
        .as_ref()
        .map_or((None, 0), |source| (source.current(), source.generation()));
    let mut token = CachedToken::new(policy.tokens(), keys, &headers, filter.token_cache(), now);
    let decision = policy.evaluate_with(
        &request,
        authority.as_request(),
        client,
        now,
        prepared,
        !target.proxy.rewrites_path(),
        Some(&crls),
        &mut token,
    );
    let identity = match client {
        ClientCert::Present(identity) => Some(identity),
        _ => None,
    };
    let forwards = decision.is_allowed() || policy.mode() == Mode::Shadow;
    // Identity headers come only from an identity that passed every check (a `public` rule
    // can allow a request whose certificate is expired or revoked); the core says which. A
    // role was only granted to one that did.
    let usable_identity = match (&decision.reason, forwards) {
        (_, false) => None,
        (Reason::AllowedByRole { .. }, true) => identity,
        (_, true) => policy.check_identity_with_crls(client, now, &crls).ok(),
    };
    drop(crls);
    drop(token);
    drop(jwks);
    // Every spoofable header instance, once: what Envoy removes and NGINX must refuse.
    let spoofable = headers.names_to_remove(policy.stripped_headers());
    let context = Context {
        filter,
        headers: &headers,
        now_nanos,
        target: &target,
        certificate: match &certificate {
            ClientCertificate::Parsed(certificate) => Some(certificate.as_ref()),
            _ => None,
        },
        spoofable: &spoofable,
    };

    if forwards && !target.proxy.removes_headers() {
        let refusal = target::unforwardable(&headers, &spoofable, policy.stripped_headers());
        if let Some(reason) = refusal {
            return context.deny(host, &Decision::bad_request(reason), identity);
        }
    }
    match (decision.is_allowed(), policy.mode()) {
        (false, Mode::Enforce) => context.deny(host, &decision, identity),
        (allowed, mode) => {
            context.forward(host, &decision, identity, usable_identity, allowed, mode)
        }
    }
}

/// Checks the buffered body of a request held by [`Verdict::WaitForBody`]. `body_size` is what
/// the host buffered so far; the body is read once it is complete (or once it is over the cap,
/// which refuses it without reading).
pub fn body<H: Host>(
    filter: &Filter,
    host: &mut H,
    pending: PendingBody,
    body_size: usize,
    end_of_stream: bool,
) -> Verdict {
    let policy = &filter.config().policy;
    let max = policy.form_body_check_max_bytes().unwrap_or(0);
    if body_size <= max && !end_of_stream {
        return Verdict::WaitForBody(pending);
    }
    let verdict = if body_size > max {
        Some(Decision::bad_request(Reason::FormBodyTooLarge))
    } else {
        // A body the host cannot hand over whole cannot be checked: fail closed, as for a
        // host failure. NGINX writes a body larger than `client_body_buffer_size` to a temp
        // file, which ngx_wasm_module does not read for filters (it reports the size, then
        // no body at all).
        let read = host.request_body(0, body_size).and_then(|body| {
            let body = body.unwrap_or_default();
            if body.len() < body_size {
                return Err(HostError::new(
                    "get_request_body",
                    format!(
                        "{} of {body_size} bytes handed over (NGINX: a body over \
                         client_body_buffer_size is buffered to a file filters cannot read; \
                         set client_body_buffer_size to at least form_body_check.max_bytes)",
                        body.len()
                    ),
                ));
            }
            Ok(body)
        });
        match read {
            Ok(body) => policy.check_form_body(&pending.kind, &body),
            Err(err) => {
                filter.record(host, Outcome::HostError, None);
                let headers = host
                    .request_headers()
                    .map(RequestHeaders::new)
                    .unwrap_or_default();
                let now = host.now_nanos().unwrap_or(0);
                return internal_error(host, &headers, now, filter.next_sequence(), &err);
            }
        }
    };
    match verdict {
        None => {
            filter.record(host, Outcome::Allowed, pending.rule_index);
            Verdict::Continue
        }
        Some(refused) => {
            let headers = host
                .request_headers()
                .map(RequestHeaders::new)
                .unwrap_or_default();
            let now_nanos = host.now_nanos().unwrap_or(0);
            deny(filter, host, &headers, now_nanos, &refused, None)
        }
    }
}

/// Handles the request trailers of a request that is being forwarded: every protected name
/// goes, as from the headers (see [`mtls_authz_core::strip::StrippedHeaders::must_remove_trailer`]),
/// because some upstreams merge trailers into headers. A host failure answers 500: the
/// trailers cannot be forwarded safely.
pub fn trailers<H: Host>(filter: &Filter, host: &mut H) -> Verdict {
    let stripped = filter.config().policy.stripped_headers();
    let result = host.request_trailers().and_then(|entries| {
        let trailers = RequestHeaders::new(entries);
        let names = trailers.trailer_names_to_remove(stripped);
        for name in &names {
            host.remove_request_trailer(name)?;
        }
        Ok(names.join(","))
    });
    match result {
        Ok(names) => {
            // A protected name in the trailers is someone trying: say so once.
            if !names.is_empty() {
                host.log(
                    LogLevel::Info,
                    &format!("mtls-authz: request trailers removed: {names}"),
                );
            }
            Verdict::Continue
        }
        Err(err) => {
            filter.record(host, Outcome::HostError, None);
            let now = host.now_nanos().unwrap_or(0);
            internal_error(
                host,
                &RequestHeaders::default(),
                now,
                filter.next_sequence(),
                &err,
            )
        }
    }
}

/// Answers every request of a VM whose configuration was refused: nothing is forwarded.
pub fn not_configured<H: Host>(host: &mut H) -> Verdict {
    let headers = host
        .request_headers()
        .map(RequestHeaders::new)
        .unwrap_or_default();
    let now = host.now_nanos().unwrap_or(0);
    let err = HostError::new("on_configure", "the plugin has no valid configuration");
    internal_error(host, &headers, now, 0, &err)
}

/// Everything a decision is acted on with.
struct Context<'a> {
    filter: &'a Filter,
    headers: &'a RequestHeaders,
    now_nanos: u64,
    target: &'a RequestTarget<'a>,
    /// The certificate the identity came from (it holds the forward header values).
    certificate: Option<&'a Certificate>,
    /// The spoofable header names present, as received (one per case-insensitive name).
    spoofable: &'a [&'a str],
}

impl Context<'_> {
    fn request_id(&self) -> String {
        response::request_id(self.headers, self.now_nanos, self.filter.next_sequence())
    }

    fn deny<H: Host>(
        &self,
        host: &mut H,
        decision: &Decision,
        identity: Option<&Identity>,
    ) -> Verdict {
        deny(
            self.filter,
            host,
            self.headers,
            self.now_nanos,
            decision,
            identity,
        )
    }

    /// `identity` is what the certificate parsed into (for the log line); `usable_identity`
    /// the same only when it passed the identity checks (for the identity headers).
    fn forward<H: Host>(
        &self,
        host: &mut H,
        decision: &Decision,
        identity: Option<&Identity>,
        usable_identity: Option<&Identity>,
        allowed: bool,
        mode: Mode,
    ) -> Verdict {
        if let Err(err) = self.rewrite_headers(host, decision, usable_identity, mode) {
            self.filter.record(host, Outcome::HostError, None);
            return internal_error(
                host,
                self.headers,
                self.now_nanos,
                self.filter.next_sequence(),
                &err,
            );
        }
        if allowed {
            // Shadow mode never blocks, so it never holds a request for its body; without
            // `form_body_check` nothing is looked up (this is the allowed hot path).
            let policy = &self.filter.config().policy;
            let checks_bodies =
                mode == Mode::Enforce && policy.form_body_check_max_bytes().is_some();
            let body_kind = checks_bodies
                .then(|| {
                    self.headers.first("content-type").and_then(|content_type| {
                        self.filter.config().policy.form_body_to_check(content_type)
                    })
                })
                .flatten();
            if let Some(kind) = body_kind {
                return Verdict::WaitForBody(PendingBody {
                    kind,
                    rule_index: decision.rule_index,
                });
            }
            self.filter
                .record(host, Outcome::Allowed, decision.rule_index);
        } else {
            let request_id = self.request_id();
            let reason = decision.reason.to_string();
            host.log(
                LogLevel::Info,
                &decision_log_line("shadow-deny", decision, &reason, identity, &request_id),
            );
            self.filter
                .record(host, Outcome::ShadowDenied, decision.rule_index);
        }
        Verdict::Continue
    }

    fn rewrite_headers<H: Host>(
        &self,
        host: &mut H,
        decision: &Decision,
        usable_identity: Option<&Identity>,
        mode: Mode,
    ) -> Result<(), HostError> {
        // Every instance of every spoofable header goes, whatever the verdict, and so does
        // every underscore spelling of a protected one.
        for name in self.spoofable {
            host.remove_request_header(name)?;
        }
        let policy = &self.filter.config().policy;
        match (usable_identity, self.certificate, decision.is_allowed()) {
            // An allowed decision holds exactly the identity's roles: the values are the
            // certificate's own, worked out when it was first seen.
            (Some(_), Some(certificate), true) => {
                for (name, value) in certificate.forward_values() {
                    host.set_request_header(name, value)?;
                }
            }
            (Some(identity), _, _) => {
                for (name, value) in policy.forward_header_values(identity, decision) {
                    host.set_request_header(name, &value)?;
                }
            }
            (None, _, _) => {}
        }
        // The path that was authorised is the path that is served: rewritten where the
        // host forwards `:path`; where it forwards the request-target as sent, the core
        // refused every path that normalisation would restructure.
        if let (true, Some(upstream)) = (
            self.target.proxy.rewrites_path(),
            decision.upstream_path.as_deref(),
        ) {
            if let Some(path) = self.target.rewritten(upstream) {
                host.set_request_header_bytes(":path", &path)?;
            }
        }
        if mode == Mode::Shadow {
            host.set_request_header(SHADOW_HEADER, &decision.reason.to_string())?;
        }
        Ok(())
    }
}

/// Answers a denied request locally (status and JSON body), logs one line, counts it.
fn deny<H: Host>(
    filter: &Filter,
    host: &mut H,
    headers: &RequestHeaders,
    now_nanos: u64,
    decision: &Decision,
    identity: Option<&Identity>,
) -> Verdict {
    let request_id = response::request_id(headers, now_nanos, filter.next_sequence());
    let reason = decision.reason.to_string();
    let exposed = filter.config().policy.expose_reason().then(|| Exposed {
        rule: decision.rule.as_deref(),
        reason: &reason,
    });
    let body = response::deny_body(response::error_kind(decision.status), &request_id, exposed);
    if let Err(err) = host.send_local_response(
        decision.status.code(),
        &[("content-type", "application/json")],
        &body,
    ) {
        host.log(LogLevel::Error, &format!("mtls-authz: {err}"));
    }
    host.log(
        LogLevel::Info,
        &decision_log_line("deny", decision, &reason, identity, &request_id),
    );
    let outcome = match decision.status {
        Status::BadRequest => Outcome::BadRequest,
        Status::Unauthenticated => Outcome::Unauthenticated,
        Status::Forbidden | Status::Ok => Outcome::Denied,
    };
    filter.record(host, outcome, decision.rule_index);
    Verdict::Respond
}

/// 500 with `{"error":"internal_error","request_id":...}`, after a host failure that left no
/// safe way to forward the request.
fn internal_error<H: Host>(
    host: &mut H,
    headers: &RequestHeaders,
    now_nanos: u64,
    sequence: u64,
    err: &HostError,
) -> Verdict {
    let request_id = response::request_id(headers, now_nanos, sequence);
    let body = response::deny_body("internal_error", &request_id, None);
    host.log(
        LogLevel::Error,
        &format!(
            "mtls-authz: deny status=500 reason=host_error error={:?} request_id={request_id}",
            err.to_string()
        ),
    );
    if let Err(send_err) =
        host.send_local_response(500, &[("content-type", "application/json")], &body)
    {
        host.log(LogLevel::Error, &format!("mtls-authz: {send_err}"));
    }
    Verdict::Respond
}

/// Hex digits of the fingerprint printed in logs: enough to find the certificate, short
/// enough to read.
const FINGERPRINT_PREFIX_LEN: usize = 16;

/// `mtls-authz: <event> status=.. reason=.. rule=.. subject=".." fingerprint=.. request_id=..`
fn decision_log_line(
    event: &str,
    decision: &Decision,
    reason: &str,
    identity: Option<&Identity>,
    request_id: &str,
) -> String {
    let rule = decision.rule.as_deref().unwrap_or("-");
    let (subject, fingerprint) = match identity {
        Some(identity) => (
            format!("{:?}", identity.subject.rfc4514),
            identity
                .fingerprint_sha256_hex
                .get(..FINGERPRINT_PREFIX_LEN)
                .unwrap_or(&identity.fingerprint_sha256_hex)
                .to_string(),
        ),
        None => ("-".to_string(), "-".to_string()),
    };
    format!(
        "mtls-authz: {event} status={} reason={reason} rule={rule} subject={subject} fingerprint={fingerprint} request_id={request_id}",
        decision.status.code()
    )
}
