//! `xfcc`: `x-forwarded-client-cert` parsing ([`last_element_cert`]).

use std::sync::OnceLock;

use mtls_authz_core::xfcc::{last_element_cert, MAX_XFCC_LEN};

/// The element appended to every header that parsed: a `By` with separators inside quotes,
/// then the `Cert` that must come back.
fn appended() -> &'static (String, Vec<u8>) {
    static APPENDED: OnceLock<(String, Vec<u8>)> = OnceLock::new();
    APPENDED.get_or_init(|| {
        let pem = mtls_authz_fixtures::cert_bytes("healthcare/clinician-alice")
            .expect("fixture certificate");
        let element = format!(
            r#"By="spiffe://edge/a,b;c=d";Cert="{}""#,
            mtls_authz_fixtures::xfcc::url_encode(&pem)
        );
        (element, pem)
    })
}

/// Checks one header value: see the crate table.
pub fn check(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    // An empty `Cert` comes back as an empty certificate (which then fails to parse: 401).
    if last_element_cert(header).is_err() {
        return;
    }
    let (element, pem) = appended();
    if header.trim().is_empty() || header.len() + 1 + element.len() > MAX_XFCC_LEN {
        return;
    }
    let longer = format!("{header},{element}");
    match last_element_cert(&longer) {
        Ok(Some(got)) => assert!(
            got == *pem,
            "{header:?} + one element: another Cert came back"
        ),
        other => panic!("{header:?} parsed, but not with one more element: {other:?}"),
    }
}
