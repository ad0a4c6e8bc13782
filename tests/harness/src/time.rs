//! RFC 3339 UTC timestamps (`2026-11-23T00:00:00Z`) to Unix seconds, without a date crate:
//! the tables only need whole seconds in UTC.

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (a `t`/`z` or space separator is refused: one spelling
/// keeps the tables uniform). Years 1970..=9999.
pub fn parse_rfc3339_utc(text: &str) -> Result<u64, String> {
    let bad = |what: &str| format!("invalid time `{text}`: {what} (expected YYYY-MM-DDTHH:MM:SSZ)");
    let b = text.as_bytes();
    if b.len() != 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.get(19) != Some(&b'Z')
    {
        return Err(bad("layout"));
    }
    let num = |range: std::ops::Range<usize>| -> Result<u64, String> {
        let digits = text.get(range).ok_or_else(|| bad("layout"))?;
        if !digits.bytes().all(|d| d.is_ascii_digit()) {
            return Err(bad("non-digit"));
        }
        digits.parse::<u64>().map_err(|_| bad("number"))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if year < 1970 {
        return Err(bad("year before 1970"));
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad("no such date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("no such time of day"));
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn is_leap(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's `days_from_civil`, restricted to years >= 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339_utc;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339_utc("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(parse_rfc3339_utc("2025-01-01T00:00:00Z"), Ok(1_735_689_600));
        assert_eq!(parse_rfc3339_utc("2026-11-23T00:00:00Z"), Ok(1_795_392_000));
        assert_eq!(parse_rfc3339_utc("2099-12-31T23:59:59Z"), Ok(4_102_444_799));
        assert_eq!(parse_rfc3339_utc("2024-02-29T12:34:56Z"), Ok(1_709_210_096));
    }

    #[test]
    fn rejects_other_spellings_and_impossible_dates() {
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23 00:00:00Z",
            "2026-11-23T00:00:00z",
            "2026-11-23T00:00:00+00:00",
            "2026-11-23T00:00:00.5Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-1a-23T00:00:00Z",
            "+026-11-23T00:00:00Z",
        ] {
            assert!(parse_rfc3339_utc(bad).is_err(), "{bad:?} must be rejected");
        }
    }
}
