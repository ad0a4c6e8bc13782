//! Deciding one request, in the order docs/DECISIONS.md "Evaluation order" fixes:
//! method, path, query, authority (v1.1, only under a policy with `hosts`), identity checks,
//! then the rules that match method, path and host.
//!
//! The hot path allocates little: the normalised path and the strings the [`Decision`] must
//! own. Segment borrows, matched routes and the held-role flags live on the stack unless a
//! request or policy is unusually large. Roles are computed once.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use smallvec::SmallVec;

use super::revocation::CrlStore;
use super::router::{Route, Routes};
use super::tokens::{NoToken, RequestToken};
use super::{Allow, AllowedRole, Bind, Condition, Policy, Request, Role, Rule};
use crate::authority::{Authority, RequestAuthority};
use crate::decision::{Decision, IdentityRejection, Outcome, Reason, Status};
use crate::forward::{is_token, push_joined};
use crate::identity::{ClientCert, Identity};
use crate::method_override::{BodyError, FormBody};
use crate::path::{normalize_target, PathError};
use crate::selector::Selector;
use crate::time::UnixTime;
use crate::token::{Claims, TokenError};

/// `clientAuth` as the identity lists it, by name and by OID (RFC 5280 §4.2.1.12).
const CLIENT_AUTH: [&str; 2] = ["clientAuth", "1.3.6.1.5.5.7.3.2"];

/// Decoded request segments (borrowed from the normalised path).
type Segments<'a> = SmallVec<[&'a str; 16]>;
/// For every role in policy order: is it held?
type HeldRoles = SmallVec<[bool; 32]>;

/// What a policy derives from one certificate alone: the roles it holds and the outcome of
/// the identity checks that do not depend on the time (revocation, clientAuth EKU, not a CA).
/// Both are the same on every request the certificate makes, so a host may work them out
/// once per certificate — the filter keeps them with its cached certificate — and hand them
/// to [`Policy::evaluate_prepared`]. Only the validity window is checked again, against each
/// request's `now`. Belongs to the policy that prepared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedIdentity {
    /// The certificate it was prepared for: a mismatch is ignored (worked out again).
    fingerprint: [u8; 32],
    /// The first failing time-independent check.
    checks: Result<(), IdentityRejection>,
    held: HeldRoles,
}

impl PreparedIdentity {
    /// The memory it holds: its own size, plus the role flags when a policy with more than
    /// 32 roles moved them to the heap (the filter's identity cache budgets its bytes).
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>()
            + if self.held.spilled() {
                self.held.capacity()
            } else {
                0
            }
    }
}

/// What the rules decided, before the decision's owned strings are built.
struct Verdict {
    status: Status,
    reason: Reason,
    rule: Option<usize>,
}

impl Policy {
    /// Decides one request. Never panics; every failure is a deny with a reason.
    /// The caller forwards [`Decision::upstream_path`] (the normalised path) upstream.
    pub fn evaluate(
        &self,
        request: &Request<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
    ) -> Decision {
        self.decide_request(request, client, now, false)
    }

    /// [`Policy::evaluate`] for hosts that forward the request-target exactly as the client
    /// sent it and cannot be made to forward another (NGINX `proxy_pass` without a URI part):
    /// a path that normalisation would restructure — resolve `.`/`..`, merge `//`, drop a
    /// fragment — is refused with `bad_request:path_not_normalized`, because the upstream
    /// would route it differently from what was authorised. A path it only re-spells (escape
    /// case, unreserved escapes) decodes to the same segments and is decided as usual.
    pub fn evaluate_as_sent(
        &self,
        request: &Request<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
    ) -> Decision {
        self.decide_request(request, client, now, true)
    }

    /// What `identity` holds and passes under this policy whatever the time: see
    /// [`PreparedIdentity`].
    pub fn prepare(&self, identity: &Identity) -> PreparedIdentity {
        PreparedIdentity {
            fingerprint: identity.fingerprint_sha256,
            checks: self.check_time_independent(identity),
            held: self.held_roles(identity),
        }
    }

    /// [`Policy::evaluate`] (or, with `forwarded_as_sent`, [`Policy::evaluate_as_sent`]) with
    /// the certificate's [`PreparedIdentity`]: the same decision, without working out the
    /// roles and the time-independent checks again. A `prepared` made for another certificate
    /// is ignored.
    pub fn evaluate_prepared(
        &self,
        request: &Request<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
        prepared: Option<&PreparedIdentity>,
        forwarded_as_sent: bool,
    ) -> Decision {
        self.evaluate_with_authority(
            request,
            RequestAuthority::default(),
            client,
            now,
            prepared,
            forwarded_as_sent,
        )
    }

    /// [`Policy::evaluate_prepared`] with the request's authority (v1.1 `rules[].hosts`):
    /// what hosts call. The authority is looked at only when [`Policy::uses_hosts`]; the
    /// other entry points pass none, which a policy with `hosts` refuses
    /// (`bad_request:authority_missing`).
    pub fn evaluate_with_authority(
        &self,
        request: &Request<'_>,
        authority: RequestAuthority<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
        prepared: Option<&PreparedIdentity>,
        forwarded_as_sent: bool,
    ) -> Decision {
        self.evaluate_with(
            request,
            authority,
            client,
            now,
            prepared,
            forwarded_as_sent,
            None,
            &mut NoToken,
        )
    }

    /// Everything a host knows about the request: the CRLs in force (v1.1
    /// `issuers.<name>.revocation`; `None`: the policy's inline CRLs installed at `now`) and
    /// the request's token (v1.1 `tokens`; [`NoToken`] without one). `token` is asked at most
    /// once, and only when a rule matching the request has `require_token`. What the filter
    /// calls.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_with(
        &self,
        request: &Request<'_>,
        authority: RequestAuthority<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
        prepared: Option<&PreparedIdentity>,
        forwarded_as_sent: bool,
        crls: Option<&CrlStore>,
        token: &mut dyn RequestToken,
    ) -> Decision {
        let prepared = match (client, prepared) {
            (ClientCert::Present(identity), Some(p))
                if p.fingerprint == identity.fingerprint_sha256 =>
            {
                Some(p)
            }
            _ => None,
        };
        self.decide_request_with(
            request,
            authority,
            client,
            now,
            forwarded_as_sent,
            prepared,
            crls,
            token,
        )
    }

    fn decide_request(
        &self,
        request: &Request<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
        forwarded_as_sent: bool,
    ) -> Decision {
        self.decide_request_with(
            request,
            RequestAuthority::default(),
            client,
            now,
            forwarded_as_sent,
            None,
            None,
            &mut NoToken,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_request_with(
        &self,
        request: &Request<'_>,
        authority: RequestAuthority<'_>,
        client: ClientCert<'_>,
        now: UnixTime,
        forwarded_as_sent: bool,
        prepared: Option<&PreparedIdentity>,
        crls: Option<&CrlStore>,
        token: &mut dyn RequestToken,
    ) -> Decision {
        if !is_token(request.method) {
            return rejected(Reason::InvalidMethod);
        }
        let normalized = match normalize_target(request.path, self.strict_paths) {
            Ok(normalized) => normalized,
            Err(e) => return rejected(Reason::BadPath(e)),
        };
        if forwarded_as_sent && !normalized.forwardable_as_sent() {
            return rejected(Reason::BadPath(PathError::NotNormalized));
        }
        if normalized
            .query()
            .is_some_and(|query| self.override_params.in_urlencoded(query.as_bytes()))
        {
            return rejected(Reason::MethodOverride);
        }
        // v1.1: read only when some rule is scoped by host, so a v1 policy decides as before.
        let authority = if self.uses_hosts {
            match authority.resolve() {
                Ok(authority) => Some(authority),
                Err(error) => return rejected(Reason::BadAuthority(error)),
            }
        } else {
            None
        };
        let identity = match prepared {
            Some(prepared) => self
                .check_time(client, now)
                .and_then(|identity| prepared.checks.map(|()| identity)),
            None => self.check_identity_before_crls(client, now),
        };
        // v1.1 CRLs: after every other check, against the store in force (tools: the inline
        // CRLs at `now`).
        let identity = identity.and_then(|identity| {
            if self.revocations.is_empty() {
                return Ok(identity);
            }
            let check = |crls: &CrlStore| self.check_revocation(identity, crls, now);
            match crls {
                Some(crls) => check(crls),
                None => check(&self.crl_store(now)),
            }
            .map(|()| identity)
        });
        let held = identity.ok().map(|identity| match prepared {
            Some(prepared) => prepared.held.clone(),
            None => self.held_roles(identity),
        });

        let verdict = {
            let segments: Segments<'_> = normalized.segments().collect();
            let routes = self.matching_routes(request.method, &segments, authority.as_ref());
            let request = Matched {
                segments: &segments,
                authority: authority.as_ref(),
                query: normalized.query(),
            };
            self.decide(&routes, &request, identity, held.as_deref(), token)
        };

        let rule = verdict.rule.and_then(|i| self.rules.get(i));
        Decision {
            outcome: if verdict.status == Status::Ok {
                Outcome::Allow
            } else {
                Outcome::Deny
            },
            status: verdict.status,
            reason: verdict.reason,
            rule: rule.map(|r| Arc::clone(&r.name)),
            rule_index: verdict.rule,
            roles: held
                .as_deref()
                .map(|h| self.role_names_held(h))
                .unwrap_or_default(),
            upstream_path: Some(normalized.into_upstream()),
        }
    }

    /// The names of the roles `identity` holds, in policy `roles` order (identity checks such
    /// as validity are not applied here: this is for tools explaining a decision).
    pub fn roles_of(&self, identity: &Identity) -> Vec<&str> {
        let held = self.held_roles(identity);
        self.roles
            .iter()
            .zip(held)
            .filter(|(_, held)| *held)
            .map(|(role, _)| &*role.name)
            .collect()
    }

    /// The `forward_headers` to set on an allowed request: (header name, value), values made
    /// header-safe (see [`crate::forward`]). Headers whose selector has no value are omitted.
    /// `roles` comes from `decision.roles`. Names are borrowed from the policy: the filter
    /// calls this on every allowed request.
    pub fn forward_header_values(
        &self,
        identity: &Identity,
        decision: &Decision,
    ) -> Vec<(&str, String)> {
        self.forward_values(identity, decision.roles.iter().map(|r| &**r))
    }

    /// [`Policy::forward_header_values`] for a usable identity (one that passed
    /// [`Policy::check_identity`]), whose decision's `roles` are exactly the roles it holds:
    /// the values depend on the policy and the certificate alone, so a host may compute them
    /// once per certificate and reuse them on every request the certificate makes.
    pub fn forward_header_values_of(&self, identity: &Identity) -> Vec<(&str, String)> {
        let held = self.held_roles(identity);
        let roles = self
            .roles
            .iter()
            .zip(held)
            .filter(|(_, held)| *held)
            .map(|(role, _)| &*role.name);
        self.forward_values(identity, roles)
    }

    fn forward_values<'r>(
        &self,
        identity: &Identity,
        roles: impl Iterator<Item = &'r str> + Clone,
    ) -> Vec<(&str, String)> {
        let mut out = Vec::with_capacity(self.forward_headers.len());
        for (name, selector) in &self.forward_headers {
            let multi_valued = selector.is_multi_valued();
            let mut value = None;
            if *selector == Selector::Roles {
                for role in roles.clone() {
                    push_joined(&mut value, role, multi_valued);
                }
            } else {
                self.any_selector_value(selector, identity, |v| {
                    push_joined(&mut value, v, multi_valued);
                    false
                });
            }
            if let Some(value) = value {
                out.push((name.as_str(), value));
            }
        }
        out
    }

    /// v1.1 `form_body_check`: the kind of body to buffer and check for this `content-type`,
    /// or `None` (the check is off, or no framework reads parameters from such a body).
    pub fn form_body_to_check(&self, content_type: &[u8]) -> Option<FormBody> {
        self.form_body_check_max_bytes?;
        FormBody::of_content_type(content_type)
    }

    /// v1.1 `form_body_check`: the 400 for a body of `kind` (the whole of it, or its first
    /// `max_bytes + 1` bytes), or `None` when it may be forwarded.
    pub fn check_form_body(&self, kind: &FormBody, body: &[u8]) -> Option<Decision> {
        let max = self.form_body_check_max_bytes?;
        let reason = if body.len() > max {
            Reason::FormBodyTooLarge
        } else {
            match self.override_params.in_body(kind, body) {
                Ok(false) => return None,
                Ok(true) => Reason::MethodOverride,
                Err(BodyError::Malformed) => Reason::FormBodyMalformed,
            }
        };
        Some(Decision::bad_request(reason))
    }

    /// The identity checks (certificate present and parsed, validity against `now`, a positive
    /// serial, revoked serial, revoked fingerprint, clientAuth EKU, not a CA) in that order;
    /// the first failure is the rejection. With v1.1 `revocation`, then the CRL check against
    /// the policy's inline CRLs at `now` (hosts that fetch CRLs call
    /// [`Policy::check_identity_with_crls`]).
    pub fn check_identity<'a>(
        &self,
        client: ClientCert<'a>,
        now: UnixTime,
    ) -> Result<&'a Identity, IdentityRejection> {
        if self.revocations.is_empty() {
            return self.check_identity_before_crls(client, now);
        }
        self.check_identity_with_crls(client, now, &self.crl_store(now))
    }

    /// [`Policy::check_identity`] without the CRL check.
    fn check_identity_before_crls<'a>(
        &self,
        client: ClientCert<'a>,
        now: UnixTime,
    ) -> Result<&'a Identity, IdentityRejection> {
        let identity = self.check_time(client, now)?;
        self.check_time_independent(identity)?;
        Ok(identity)
    }

    /// [`Policy::check_identity`] and then, for a policy with v1.1 `revocation`, the CRL check
    /// against `crls`: whether the identity is usable at all (a `public` rule may allow a
    /// request whose certificate is not; its identity must then not be forwarded).
    pub fn check_identity_with_crls<'a>(
        &self,
        client: ClientCert<'a>,
        now: UnixTime,
        crls: &CrlStore,
    ) -> Result<&'a Identity, IdentityRejection> {
        let identity = self.check_identity_before_crls(client, now)?;
        if !self.revocations.is_empty() {
            self.check_revocation(identity, crls, now)?;
        }
        Ok(identity)
    }

    /// The first half of [`Policy::check_identity`]: a certificate present and parsed, within
    /// its validity window at `now`.
    fn check_time<'a>(
        &self,
        client: ClientCert<'a>,
        now: UnixTime,
    ) -> Result<&'a Identity, IdentityRejection> {
        let identity = match client {
            ClientCert::Absent => return Err(IdentityRejection::NoCertificate),
            ClientCert::Unverified => return Err(IdentityRejection::CertificateUnverified),
            ClientCert::Invalid(error) => {
                // Mapped by code so new CertError variants fall back to "parse error".
                return Err(match error.reason_code() {
                    "no_certificate" => IdentityRejection::NoCertificate,
                    "certificate_too_large" => IdentityRejection::CertificateTooLarge,
                    _ => IdentityRejection::CertificateParseError,
                });
            }
            ClientCert::Present(identity) => identity,
        };
        if now < identity.not_before {
            return Err(IdentityRejection::CertificateNotYetValid);
        }
        if now > identity.not_after {
            return Err(IdentityRejection::CertificateExpired);
        }
        Ok(identity)
    }

    /// The second half of [`Policy::check_identity`], the same at any time: a positive
    /// serial, revoked serial, revoked fingerprint, clientAuth EKU, not a CA.
    fn check_time_independent(&self, identity: &Identity) -> Result<(), IdentityRejection> {
        if !identity.serial_is_positive() {
            return Err(IdentityRejection::SerialNotPositive);
        }
        if self.revoked_serials.contains(identity.serial.as_str()) {
            return Err(IdentityRejection::RevokedSerial);
        }
        // The ECDSA twin is the same certificate with a re-encoded signature: revoked too.
        let revoked_fingerprint =
            |fingerprint: &[u8; 32]| self.revoked_fingerprints.contains(fingerprint);
        if revoked_fingerprint(&identity.fingerprint_sha256)
            || identity
                .fingerprint_sha256_signature_twin
                .as_ref()
                .is_some_and(revoked_fingerprint)
        {
            return Err(IdentityRejection::RevokedFingerprint);
        }
        if self.require_client_auth_eku
            && !(identity.eku_present
                && identity
                    .eku
                    .iter()
                    .any(|e| CLIENT_AUTH.contains(&e.as_str())))
        {
            return Err(IdentityRejection::MissingClientAuthEku);
        }
        if identity.is_ca {
            return Err(IdentityRejection::CaCertificate);
        }
        Ok(())
    }

    /// Rules matching method, path and (v1.1) host, in policy order, each with the first of
    /// its paths (in `paths` order) that matched: that path's captures feed the binds. A rule
    /// with `hosts` never matches without an `authority`.
    pub(super) fn matching_routes(
        &self,
        method: &str,
        segments: &[&str],
        authority: Option<&Authority<'_>>,
    ) -> Routes {
        let mut routes = Routes::new();
        self.router.matches(segments, &mut routes);
        crate::sort::sort_unstable(&mut routes);
        routes.dedup_by_key(|route| route.rule);
        routes.retain(|route| {
            self.rules
                .get(route.rule)
                .is_some_and(|rule| rule.accepts_method(method) && rule.accepts_host(authority))
        });
        routes
    }

    fn decide(
        &self,
        routes: &[Route],
        request: &Matched<'_, '_>,
        identity: Result<&Identity, IdentityRejection>,
        held: Option<&[bool]>,
        token: &mut dyn RequestToken,
    ) -> Verdict {
        let rule_of = |route: &Route| self.rules.get(route.rule);

        if let Some(route) = routes
            .iter()
            .find(|route| rule_of(route).is_some_and(|rule| matches!(rule.allow, Allow::Public)))
        {
            return Verdict {
                status: Status::Ok,
                reason: Reason::AllowedPublic {
                    rule: self.rule_name(route.rule),
                },
                rule: Some(route.rule),
            };
        }

        let (identity, held) = match (identity, held) {
            (Ok(identity), Some(held)) => (identity, held),
            (Err(rejection), _) => return unauthenticated(rejection),
            // Unreachable: `held` is computed whenever the identity is usable. Fail closed.
            (Ok(_), None) => return unauthenticated(IdentityRejection::CertificateParseError),
        };

        // v1.1: the roles held with the request's token, worked out when the first rule with
        // `require_token` is reached (the token is verified then, at most once).
        let mut with_token: Option<Result<HeldRoles, TokenError>> = None;
        for route in routes {
            let Some(rule) = rule_of(route) else { continue };
            let held = if rule.require_token {
                match with_token
                    .get_or_insert_with(|| self.held_with_token(identity, request, &mut *token))
                {
                    Ok(roles) => &roles[..],
                    Err(_) => continue,
                }
            } else {
                held
            };
            if let Some(role) = self.first_allowed_role(rule, held) {
                if self
                    .first_failed_bind(rule, *route, request, identity)
                    .is_none()
                {
                    return Verdict {
                        status: Status::Ok,
                        reason: Reason::AllowedByRole {
                            rule: Arc::clone(&rule.name),
                            role,
                        },
                        rule: Some(route.rule),
                    };
                }
            }
        }

        let Some((route, rule)) = routes
            .first()
            .and_then(|route| Some((route, rule_of(route)?)))
        else {
            return Verdict {
                status: Status::Forbidden,
                reason: Reason::NoRuleMatched,
                rule: None,
            };
        };
        let held = if rule.require_token {
            match with_token
                .get_or_insert_with(|| self.held_with_token(identity, request, &mut *token))
            {
                Ok(roles) => &roles[..],
                Err(error) => {
                    return Verdict {
                        status: Status::Unauthenticated,
                        reason: Reason::TokenRejected(error.clone()),
                        rule: Some(route.rule),
                    }
                }
            }
        } else {
            held
        };
        let reason = if self.first_allowed_role(rule, held).is_none() {
            Reason::RoleNotHeld {
                rule: Arc::clone(&rule.name),
            }
        } else {
            Reason::BindFailed {
                rule: Arc::clone(&rule.name),
                param: self
                    .first_failed_bind(rule, *route, request, identity)
                    .map(String::from)
                    .unwrap_or_default(),
            }
        };
        Verdict {
            status: Status::Forbidden,
            reason,
            rule: Some(route.rule),
        }
    }

    fn rule_name(&self, index: usize) -> Arc<str> {
        self.rules
            .get(index)
            .map(|r| Arc::clone(&r.name))
            .unwrap_or_else(|| Arc::from(""))
    }

    /// The first role of the rule's `allow` list that is held (a policy role's name is shared,
    /// not copied).
    fn first_allowed_role(&self, rule: &Rule, held: &[bool]) -> Option<Arc<str>> {
        let Allow::Roles(allowed) = &rule.allow else {
            return None;
        };
        allowed.iter().find_map(|entry| match entry {
            AllowedRole::Authenticated => Some(Arc::from("authenticated")),
            AllowedRole::Role(index) => match (held.get(*index), self.roles.get(*index)) {
                (Some(true), Some(role)) => Some(Arc::clone(&role.name)),
                _ => None,
            },
        })
    }

    /// The first bind (sorted by parameter) that does not hold ([`Policy::bind_holds`]).
    fn first_failed_bind<'p>(
        &self,
        rule: &'p Rule,
        route: Route,
        request: &Matched<'_, '_>,
        identity: &Identity,
    ) -> Option<&'p str> {
        rule.binds
            .iter()
            .find(|bind| !self.bind_holds(rule, route, bind, request, identity))
            .map(|bind| bind.param.as_str())
    }

    /// Whether `bind`'s captured value is among the identity's values of its selector. A
    /// capture that cannot be found fails (closed).
    pub(super) fn bind_holds(
        &self,
        rule: &Rule,
        route: Route,
        bind: &Bind,
        request: &Matched<'_, '_>,
        identity: &Identity,
    ) -> bool {
        bind_capture(rule, route, bind, request).is_some_and(|captured| {
            self.any_selector_value(&bind.selector, identity, |v| v == captured)
        })
    }

    /// For every role in policy order: is it held (without a token: `token.` conditions
    /// fail)?
    fn held_roles(&self, identity: &Identity) -> HeldRoles {
        self.held_roles_with(identity, None)
    }

    /// [`Policy::held_roles`] with the claims of a verified token.
    fn held_roles_with(&self, identity: &Identity, claims: Option<&Claims>) -> HeldRoles {
        let mut pins = PinCache::new(self.issuers.len());
        self.roles
            .iter()
            .map(|role| self.holds(role, identity, claims, &mut pins))
            .collect()
    }

    /// The roles held with the request's token: verified, then tied to this connection
    /// (binding, consistency), then its claims matched.
    fn held_with_token(
        &self,
        identity: &Identity,
        request: &Matched<'_, '_>,
        token: &mut dyn RequestToken,
    ) -> Result<HeldRoles, TokenError> {
        let tokens = self.tokens.as_ref().ok_or(TokenError::Missing)?;
        tokens.check_query(request.query)?;
        let verified = token.verified()?;
        tokens.check_connection(verified, identity)?;
        Ok(self.held_roles_with(identity, Some(verified.claims())))
    }

    fn role_names_held(&self, held: &[bool]) -> Vec<Arc<str>> {
        self.roles
            .iter()
            .zip(held)
            .filter(|(_, held)| **held)
            .map(|(role, _)| Arc::clone(&role.name))
            .collect()
    }

    fn holds(
        &self,
        role: &Role,
        identity: &Identity,
        claims: Option<&Claims>,
        pins: &mut PinCache,
    ) -> bool {
        role.matchers.iter().any(|matcher| {
            matcher.conditions.iter().all(|condition| match condition {
                Condition::Attribute {
                    selector,
                    patterns,
                    scoped,
                    ..
                } => {
                    selector.any_value(identity, |value| patterns.matches(value))
                        || scoped.iter().any(|(issuer, serial)| {
                            identity.serial == *serial
                                && pins.get_or_compute(*issuer, || {
                                    self.issuers
                                        .get(*issuer)
                                        .is_some_and(|pin| pin.matches(identity))
                                })
                        })
                }
                Condition::IssuerPin(indexes) => indexes.iter().any(|&i| {
                    pins.get_or_compute(i, || {
                        self.issuers.get(i).is_some_and(|pin| pin.matches(identity))
                    })
                }),
                Condition::Token {
                    claim, patterns, ..
                } => claims
                    .is_some_and(|claims| claims.any_value(claim, |value| patterns.matches(value))),
            })
        })
    }

    /// [`Selector::any_value`], plus the policy-dependent `issuer_pin` (names of the issuers
    /// the certificate matches, in `issuers` order). `roles` yields nothing here.
    pub(super) fn any_selector_value<'a>(
        &'a self,
        selector: &Selector,
        identity: &'a Identity,
        mut f: impl FnMut(&'a str) -> bool,
    ) -> bool {
        match selector {
            Selector::IssuerPin => self
                .issuers
                .iter()
                .filter(|pin| pin.matches(identity))
                .any(|pin| f(pin.name.as_str())),
            Selector::Roles => false,
            selector => selector.any_value(identity, f),
        }
    }
}

/// Issuer-pin results of one evaluation: policies usually pin the same issuer in many roles,
/// and the DN comparison need not run more than once per issuer.
struct PinCache(SmallVec<[Option<bool>; 8]>);

impl PinCache {
    fn new(issuers: usize) -> Self {
        Self(smallvec::smallvec![None; issuers])
    }

    fn get_or_compute(&mut self, index: usize, compute: impl FnOnce() -> bool) -> bool {
        match self.0.get_mut(index) {
            Some(Some(known)) => *known,
            Some(slot) => *slot.insert(compute()),
            None => compute(),
        }
    }
}

/// What binds capture from: the decoded path segments and (v1.1) the resolved authority.
pub(super) struct Matched<'r, 's> {
    pub(super) segments: &'r [&'s str],
    pub(super) authority: Option<&'r Authority<'r>>,
    /// The query as sent (v1.1 tokens: a token there is refused under `require_token`).
    pub(super) query: Option<&'r str>,
}

/// The value `bind` captures from the request: the segment of the route's path at the
/// parameter's position or, v1.1, the label of the first of the rule's `hosts` (in order, like
/// paths) that matches. `None`: nothing captured.
pub(super) fn bind_capture<'r>(
    rule: &Rule,
    route: Route,
    bind: &Bind,
    request: &Matched<'r, '_>,
) -> Option<Cow<'r, str>> {
    if bind.from_host {
        let authority = request.authority?;
        rule.hosts
            .as_deref()?
            .iter()
            .find(|h| h.matches(authority))?
            .capture(&bind.param, authority)
            .map(Cow::Owned)
    } else {
        let position = rule.paths.get(route.path)?.capture_position(&bind.param)?;
        request.segments.get(position).map(|s| Cow::Borrowed(*s))
    }
}

impl Rule {
    fn accepts_method(&self, method: &str) -> bool {
        self.methods
            .as_ref()
            .is_none_or(|methods| methods.iter().any(|m| m == method))
    }

    /// v1.1 `hosts`: a rule without them accepts every host; one with them needs an
    /// authority that one of them matches.
    fn accepts_host(&self, authority: Option<&Authority<'_>>) -> bool {
        match (&self.hosts, authority) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(hosts), Some(authority)) => hosts.iter().any(|h| h.matches(authority)),
        }
    }
}

fn unauthenticated(rejection: IdentityRejection) -> Verdict {
    Verdict {
        status: Status::Unauthenticated,
        reason: Reason::Unauthenticated(rejection),
        rule: None,
    }
}

/// A 400 before routing: nothing else is known.
fn rejected(reason: Reason) -> Decision {
    Decision::bad_request(reason)
}

#[cfg(test)]
mod tests;
