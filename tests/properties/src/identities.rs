//! A few fixture identities (parsed once) that policy and path properties decide requests for.

use std::sync::OnceLock;

use mtls_authz_core::Identity;

/// Certificates chosen to hold different roles in the fixture policies: issuers, OUs, SPIFFE
/// IDs, tenants, a private extension, a foreign CA.
const NAMES: &[&str] = &[
    "healthcare/clinician-alice",
    "healthcare/admin-bob",
    "healthcare/billing-carol",
    "healthcare/clinician-other-ca",
    "services/orders-api",
    "services/partner-a-client",
    "services/svc-a-extension",
    "tenants/acme-user",
    "tenants/multi-org-user",
    "attack/cn-comma-ou-admins",
    "attack/multi-valued-rdn",
];

/// The parsed identities of [`NAMES`], in that order.
pub(crate) fn all() -> &'static [Identity] {
    static IDENTITIES: OnceLock<Vec<Identity>> = OnceLock::new();
    IDENTITIES.get_or_init(|| {
        NAMES
            .iter()
            .map(|name| {
                let bytes = mtls_authz_fixtures::cert_bytes(name)
                    .unwrap_or_else(|| panic!("fixture certificate {name} is missing"));
                Identity::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
            })
            .collect()
    })
}

/// One identity that the fixture `routing` policy grants `member`: paths are decided past
/// the identity checks.
pub(crate) fn member() -> &'static Identity {
    &all()[0]
}
