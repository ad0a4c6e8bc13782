//! The one list of lints: id, the severities it can report, and what it finds. The lint
//! tables (this crate's module doc, crates/cli/README.md) are checked against it by the tests
//! below, and so is every id the checks in `lint/mod.rs` emit.
//!
//! Adding a lint: an entry here, its check in `lint/mod.rs` (a function per lint where it
//! needs more than a few lines), a row in both tables, and tests with its exact finding.

use super::Severity;

/// One lint as documented.
#[derive(Debug)]
pub(crate) struct LintInfo {
    pub(crate) id: &'static str,
    /// Every severity the lint can report (one for most; MA002 and MA009 depend on the case).
    pub(crate) severities: &'static [Severity],
    /// What it finds, as the module doc's table says it (read by the table tests only).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "documentation the tests compare")
    )]
    pub(crate) finding: &'static str,
}

use Severity::{Error, Info, Warning};

pub(crate) const LINTS: &[LintInfo] = &[
    LintInfo { id: "MA001", severities: &[Error], finding: "write methods (or every method) open to `authenticated`" },
    LintInfo { id: "MA002", severities: &[Warning, Error], finding: "`public` beyond health/readiness paths (error with write methods)" },
    LintInfo { id: "MA003", severities: &[Warning], finding: "matcher that grants a role from CA-chosen values without `issuer_pin` or `fingerprint_sha256`" },
    LintInfo { id: "MA004", severities: &[Error], finding: "`prefix`/`suffix`/`glob` on a whole `subject`/`issuer` DN" },
    LintInfo { id: "MA005", severities: &[Warning], finding: "rule shadowed by an earlier one (duplicate or broader)" },
    LintInfo { id: "MA006", severities: &[Warning], finding: "rule without `methods` (matches every method)" },
    LintInfo { id: "MA007", severities: &[Info], finding: "role defined but never allowed by any rule" },
    LintInfo { id: "MA008", severities: &[Warning], finding: "`{param}` route with no `bind` and no `forward_headers`" },
    LintInfo { id: "MA009", severities: &[Error, Warning], finding: "`xfcc` source: error next to `peer_certificate`, warning alone" },
    LintInfo { id: "MA010", severities: &[Warning], finding: "`issuers` entry without `key_id` (any CA with that name matches)" },
    LintInfo { id: "MA011", severities: &[Warning], finding: "`host` left to `auto` (Envoy would also read NGINX's `ngx.*` properties)" },
    LintInfo { id: "MA012", severities: &[Info], finding: "`identity.peer_verification: listener` on Envoy (sound only if the listener verifies every handshake; no effect in NGINX)" },
    LintInfo { id: "MA013", severities: &[Warning], finding: "rule without v1.1 `hosts` in a policy where other rules have them (it matches every host)" },
    LintInfo { id: "MA014", severities: &[Warning], finding: "`issuers` entry without v1.1 `revocation` where other issuers have it (never checked against a CRL)" },
    LintInfo { id: "MA015", severities: &[Warning], finding: "v1.1 `revocation.when_unavailable: allow` (a stale or missing CRL lets revoked certificates through)" },
    LintInfo { id: "MA016", severities: &[Warning], finding: "v1.1 `tokens.require_certificate_binding: false` (a token works over any client's certificate)" },
];

/// Whether lint `id` is registered and may report `severity`.
pub(crate) fn reports(id: &str, severity: Severity) -> bool {
    LINTS
        .iter()
        .any(|lint| lint.id == id && lint.severities.contains(&severity))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test code")]
    use super::*;

    const SEVERITY_WORDS: [(&str, Severity); 3] =
        [("error", Error), ("warning", Warning), ("info", Info)];

    /// The `| MA0.. | severity | text |` rows of a markdown table, as cells.
    fn rows(text: &str, prefix: &str) -> Vec<Vec<String>> {
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
            .filter(|line| line.starts_with("| MA"))
            .map(|line| {
                line.trim_matches('|')
                    .split(" | ")
                    .map(|cell| cell.trim().to_owned())
                    .collect()
            })
            .collect()
    }

    /// The severities a table cell names (`warning; error for writes` → warning, error).
    fn severities_named(cell: &str) -> Vec<Severity> {
        let mut out: Vec<(usize, Severity)> = SEVERITY_WORDS
            .iter()
            .filter_map(|(word, severity)| cell.find(word).map(|at| (at, *severity)))
            .collect();
        out.sort_by_key(|(at, _)| *at);
        out.into_iter().map(|(_, s)| s).collect()
    }

    fn check_table(name: &str, table: &[Vec<String>], exact_finding: bool) {
        let ids: Vec<&str> = table.iter().map(|row| row[0].as_str()).collect();
        let registered: Vec<&str> = LINTS.iter().map(|l| l.id).collect();
        assert_eq!(ids, registered, "{name}: lint ids differ from the registry");
        for (row, lint) in table.iter().zip(LINTS) {
            assert_eq!(
                severities_named(&row[1]),
                lint.severities,
                "{name}: severities of {}",
                lint.id
            );
            if exact_finding {
                assert_eq!(row[2], lint.finding, "{name}: finding of {}", lint.id);
            }
        }
    }

    #[test]
    fn module_doc_table_is_the_registry() {
        check_table("lint/mod.rs", &rows(include_str!("mod.rs"), "//!"), true);
    }

    #[test]
    fn cli_readme_table_is_the_registry() {
        check_table(
            "crates/cli/README.md",
            &rows(include_str!("../../../README.md"), ""),
            false,
        );
    }

    /// Every id the checks emit is registered, and every registered id is emitted somewhere.
    #[test]
    fn every_emitted_id_is_registered() {
        let source = include_str!("mod.rs");
        let code: String = source
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .take_while(|line| !line.starts_with("#[cfg(test)]"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut emitted: Vec<&str> = code
            .match_indices("\"MA0")
            .filter_map(|(at, _)| code.get(at + 1..at + 6))
            .collect();
        emitted.sort_unstable();
        emitted.dedup();
        let registered: Vec<&str> = LINTS.iter().map(|l| l.id).collect();
        assert_eq!(emitted, registered);
    }
}
