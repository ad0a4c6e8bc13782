//! serde mirror of the v1 JSON document (`deny_unknown_fields` everywhere).

/// The v1 document as parsed, before compilation.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {}
