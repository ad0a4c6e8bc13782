//! Deny responses: the JSON body and the request id that ties it to the log line.
//!
//! Body (docs/DECISIONS.md): `{"error":"<kind>","request_id":"<id>"}`, plus `"rule"` (the
//! deciding rule, omitted when there is none) and `"reason"` only with `expose_reason`. The rule and reason
//! always go to the log.

use mtls_authz_core::Status;

use crate::headers::RequestHeaders;

/// Longest inbound `x-request-id` reused as is; longer or odd ones are replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The `error` field for a deny status.
pub fn error_kind(status: Status) -> &'static str {
    match status {
        Status::BadRequest => "bad_request",
        Status::Unauthenticated => "unauthenticated",
        Status::Forbidden => "forbidden",
        // An allow never produces a body; kept total so a future status cannot panic.
        Status::Ok => "ok",
    }
}

#[derive(serde::Serialize)]
struct DenyBody<'a> {
    error: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// What the client is told about why, when the policy says `expose_reason`.
pub struct Exposed<'a> {
    /// Deciding rule, if any.
    pub rule: Option<&'a str>,
    /// The reason string.
    pub reason: &'a str,
}

/// The JSON deny body.
pub fn deny_body(error: &str, request_id: &str, exposed: Option<Exposed<'_>>) -> Vec<u8> {
    let body = DenyBody {
        error,
        request_id,
        rule: exposed.as_ref().and_then(|e| e.rule),
        reason: exposed.as_ref().map(|e| e.reason),
    };
    // Serialising strings into a Vec cannot fail; the fallback keeps this panic-free.
    serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"error":"internal_error"}"#.to_vec())
}

/// The inbound `x-request-id` when it is a sane token (1–128 visible ASCII characters), else
/// a fresh id from the host clock and a per-VM counter.
pub fn request_id(headers: &RequestHeaders, now_nanos: u64, sequence: u64) -> String {
    if let Some(id) = headers.first("x-request-id") {
        if !id.is_empty()
            && id.len() <= MAX_REQUEST_ID_LEN
            && id.iter().all(|b| b.is_ascii_graphic())
        {
            return String::from_utf8_lossy(id).into_owned();
        }
    }
    format!("mtls-authz-{now_nanos:x}-{sequence:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds() {
        assert_eq!(error_kind(Status::BadRequest), "bad_request");
        assert_eq!(error_kind(Status::Unauthenticated), "unauthenticated");
        assert_eq!(error_kind(Status::Forbidden), "forbidden");
    }

    #[test]
    fn body_without_reason() {
        assert_eq!(
            String::from_utf8(deny_body("forbidden", "abc", None)).unwrap(),
            r#"{"error":"forbidden","request_id":"abc"}"#
        );
    }

    #[test]
    fn body_with_reason_and_escaping() {
        let body = deny_body(
            "forbidden",
            "a\"b",
            Some(Exposed {
                rule: Some("records-write"),
                reason: "forbidden:rule[records-write]:role_not_held",
            }),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"error":"forbidden","request_id":"a\"b","rule":"records-write","reason":"forbidden:rule[records-write]:role_not_held"}"#
        );
        let body = deny_body(
            "unauthenticated",
            "x",
            Some(Exposed {
                rule: None,
                reason: "unauthenticated:no_certificate",
            }),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"error":"unauthenticated","request_id":"x","reason":"unauthenticated:no_certificate"}"#
        );
    }

    #[test]
    fn request_id_reuses_sane_inbound_ids() {
        let h = RequestHeaders::new(vec![("X-Request-Id".into(), b"req-42".to_vec())]);
        assert_eq!(request_id(&h, 1, 2), "req-42");
    }

    #[test]
    fn request_id_replaces_missing_or_odd_ids() {
        let none = RequestHeaders::default();
        assert_eq!(request_id(&none, 0xabc, 7), "mtls-authz-abc-7");
        for bad in [&b""[..], b"has space", b"new\nline", &[0xc3, 0xa9]] {
            let h = RequestHeaders::new(vec![("x-request-id".into(), bad.to_vec())]);
            assert_eq!(request_id(&h, 1, 1), "mtls-authz-1-1", "{bad:?}");
        }
        let long = RequestHeaders::new(vec![("x-request-id".into(), vec![b'a'; 129])]);
        assert_eq!(request_id(&long, 1, 1), "mtls-authz-1-1");
    }
}
