//! RFC 3339 <-> [`UnixTime`]. The core never reads a clock; the CLI reads it here, once.

use mtls_authz_core::UnixTime;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::CliError;

/// Parses `--time` (RFC 3339, any offset) into seconds since the epoch.
pub(crate) fn parse_rfc3339(value: &str) -> Result<UnixTime, CliError> {
    let parsed = OffsetDateTime::parse(value, &Rfc3339).map_err(|e| {
        CliError::argument(
            "--time",
            format!("`{value}` is not an RFC 3339 timestamp such as 2026-11-23T00:00:00Z ({e})"),
        )
    })?;
    let secs = u64::try_from(parsed.unix_timestamp()).map_err(|_| {
        CliError::argument(
            "--time",
            format!("`{value}` is before 1970-01-01T00:00:00Z"),
        )
    })?;
    Ok(UnixTime::from_secs(secs))
}

/// The current time, or the `--time` override.
pub(crate) fn now_or(value: Option<&str>) -> Result<UnixTime, CliError> {
    match value {
        Some(v) => parse_rfc3339(v),
        None => {
            let secs = OffsetDateTime::now_utc().unix_timestamp();
            u64::try_from(secs)
                .map(UnixTime::from_secs)
                .map_err(|_| CliError::argument("clock", "system clock is before 1970"))
        }
    }
}

/// Renders a time as RFC 3339 UTC (`2026-11-23T00:00:00Z`); out-of-range values (certificates
/// may say year 9999) fall back to the raw seconds so nothing is hidden.
pub(crate) fn format_rfc3339(time: UnixTime) -> String {
    i64::try_from(time.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("@{}", time.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        assert_eq!(
            parse_rfc3339("2026-11-23T00:00:00Z").unwrap().as_secs(),
            1_795_392_000
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T01:00:00+01:00")
                .unwrap()
                .as_secs(),
            1_795_392_000
        );
    }

    #[test]
    fn rejects_garbage_and_pre_epoch() {
        let e = parse_rfc3339("yesterday").unwrap_err().to_string();
        assert!(
            e.starts_with("invalid --time: `yesterday` is not an RFC 3339 timestamp"),
            "{e}"
        );
        let e = parse_rfc3339("1969-12-31T23:59:59Z")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid --time: `1969-12-31T23:59:59Z` is before 1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn formats_utc() {
        assert_eq!(
            format_rfc3339(UnixTime::from_secs(1_795_392_000)),
            "2026-11-23T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(UnixTime::from_secs(u64::MAX)),
            format!("@{}", u64::MAX)
        );
    }
}
