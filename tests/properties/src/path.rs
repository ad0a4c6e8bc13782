//! `path`: request-target normalisation and routing ([`normalize_path`],
//! [`Policy::evaluate`], [`Policy::evaluate_as_sent`]) against the fixture `routing` policy.

use std::sync::OnceLock;

use mtls_authz_core::{normalize_path, ClientCert, Decision, Policy, Request, Status, UnixTime};

use crate::identities;

/// Methods every target is decided for.
const METHODS: &[&str] = &["GET", "POST"];

fn routing() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::from_json(&mtls_authz_fixtures::load_policy("routing"))
            .expect("the routing fixture policy compiles")
    })
}

fn now() -> UnixTime {
    let text = mtls_authz_fixtures::DEFAULT_TIME;
    UnixTime(mtls_authz_fixtures::time::parse_rfc3339_utc(text).expect("default time"))
}

/// Checks one request-target: see the crate table.
pub fn check(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let normalized = normalize_path(raw);
    if let Ok(path) = &normalized {
        let upstream = path.upstream();
        assert!(path.path.starts_with('/'), "{raw:?} -> {upstream:?}");
        assert!(
            !path.path.contains("//"),
            "{raw:?} -> {upstream:?} keeps `//`"
        );
        let upper = path.path.to_ascii_uppercase();
        for encoded in ["%2F", "%5C", "%00", "%3B"] {
            assert!(
                !upper.contains(encoded),
                "{raw:?} -> {upstream:?} keeps {encoded}"
            );
        }
        assert!(
            !path
                .path
                .bytes()
                .any(|b| b == b'\\' || b == b';' || !(0x21..0x7f).contains(&b)),
            "{raw:?} -> {upstream:?} keeps a byte a request-target cannot hold"
        );
        for segment in &path.segments {
            assert!(
                !segment.is_empty() && segment != "." && segment != "..",
                "{raw:?}: segment {segment:?}"
            );
            assert!(
                !segment.contains('/'),
                "{raw:?}: segment {segment:?} holds `/`"
            );
        }
        let again = normalize_path(&upstream);
        assert_eq!(
            again.as_ref(),
            Ok(path),
            "normalising {upstream:?} again changes it"
        );
    }

    let policy = routing();
    let identity = identities::member();
    for method in METHODS {
        let request = Request { method, path: raw };
        let decision = policy.evaluate(&request, ClientCert::Present(identity), now());
        match &normalized {
            Err(error) => {
                assert_eq!(decision.status, Status::BadRequest, "{raw:?}");
                assert_eq!(decision.reason.to_string(), format!("bad_request:{error}"));
            }
            Ok(path) => {
                let upstream = path.upstream();
                // A request refused for its query (a method override) has no upstream path.
                if decision.upstream_path.is_some() {
                    assert_eq!(decision.upstream_path.as_deref(), Some(upstream.as_str()));
                }
                // The path served (the upstream one) decides exactly like the path authorised.
                let served = Request {
                    method,
                    path: &upstream,
                };
                let again = policy.evaluate(&served, ClientCert::Present(identity), now());
                assert_same(&decision, &again, raw, &upstream);
            }
        }
        let as_sent = policy.evaluate_as_sent(&request, ClientCert::Present(identity), now());
        if as_sent.status == Status::BadRequest {
            continue;
        }
        // Accepted as sent: decided like the normalised path, and an upstream that only
        // splits and percent-decodes the target sees the segments that were authorised.
        assert_same(&decision, &as_sent, raw, raw);
        let path = normalized
            .as_ref()
            .expect("as_sent accepted a path evaluate refused");
        assert_eq!(
            decoded_segments(raw),
            path.segments,
            "{raw:?} accepted as sent, but an upstream decoding it sees other segments"
        );
    }
}

fn assert_same(authorised: &Decision, served: &Decision, raw: &str, served_path: &str) {
    assert_eq!(
        (
            authorised.status,
            authorised.reason.to_string(),
            &authorised.rule
        ),
        (served.status, served.reason.to_string(), &served.rule),
        "{raw:?} and {served_path:?} are decided differently"
    );
}

/// What a plain upstream routes on: the path before `?`, split at `/`, each segment
/// percent-decoded, without the empty segment a trailing `/` leaves.
fn decoded_segments(raw: &str) -> Vec<String> {
    let path = raw.split(['?', '#']).next().unwrap_or_default();
    let mut segments: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|segment| {
            String::from_utf8_lossy(&crate::forward::percent_decode_lenient(segment)).into_owned()
        })
        .collect();
    if segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    segments
}
