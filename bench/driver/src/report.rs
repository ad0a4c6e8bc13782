//! Medians over rounds and the Markdown tables the driver prints (and bench/README.md keeps).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::load::Outcome;
use crate::variant::{LoadMode, Variant};

/// One measured run of one variant under one load mode.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) outcome: Outcome,
    /// CPU time the proxy under test used during the run, seconds.
    pub(crate) proxy_cpu_seconds: f64,
}

impl Sample {
    /// Proxy CPU per successful request, microseconds.
    pub(crate) fn cpu_us_per_request(&self) -> f64 {
        if self.outcome.ok == 0 {
            f64::NAN
        } else {
            self.proxy_cpu_seconds * 1e6 / self.outcome.ok as f64
        }
    }

    /// Share of one core the proxy used (1.0 = its core was saturated).
    pub(crate) fn proxy_busy(&self) -> f64 {
        if self.outcome.seconds > 0.0 {
            self.proxy_cpu_seconds / self.outcome.seconds
        } else {
            f64::NAN
        }
    }
}

/// Median of the finite values (NaN when there are none).
pub(crate) fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match (
        values.get(n / 2),
        n.checked_sub(1).and_then(|i| values.get(i / 2)),
    ) {
        (Some(high), Some(low)) if n % 2 == 0 => (high + low) / 2.0,
        (Some(middle), _) => *middle,
        _ => f64::NAN,
    }
}

/// The medians of one variant under one mode.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Summary {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) cpu_us: f64,
    pub(crate) busy: f64,
}

pub(crate) fn summarize(samples: &[Sample]) -> Summary {
    Summary {
        rps: median(samples.iter().map(|s| s.outcome.ok_per_second)),
        p50_ms: median(samples.iter().map(|s| s.outcome.p50_ms)),
        p99_ms: median(samples.iter().map(|s| s.outcome.p99_ms)),
        cpu_us: median(samples.iter().map(Sample::cpu_us_per_request)),
        busy: median(samples.iter().map(Sample::proxy_busy)),
    }
}

/// Every sample, by mode then variant.
pub(crate) type Results = BTreeMap<(usize, Variant), Vec<Sample>>;

/// The throughput table of one load mode, then its goal checks.
pub(crate) fn mode_table(
    out: &mut String,
    mode: LoadMode,
    mode_index: usize,
    results: &Results,
    heading: &str,
    empty_goal: f64,
) {
    let summaries: BTreeMap<Variant, Summary> = Variant::ALL
        .into_iter()
        .filter_map(|v| Some((v, summarize(results.get(&(mode_index, v))?))))
        .collect();
    let baseline = summaries.get(&Variant::NoFilter).copied();
    let _ = writeln!(out, "\n#### {mode} — {heading}\n");
    let _ = writeln!(
        out,
        "| variant | req/s | vs (a) | p50 ms | p99 ms | proxy CPU µs/req | vs (a) | proxy core busy |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (variant, s) in &summaries {
        let ratio = |value: f64, base: Option<f64>| match base {
            Some(base) if base > 0.0 => format!("{:.2}", value / base),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {variant} | {} | {} | {:.2} | {:.2} | {:.1} | {} | {:.0}% |",
            thousands(s.rps),
            ratio(s.rps, baseline.map(|b| b.rps)),
            s.p50_ms,
            s.p99_ms,
            s.cpu_us,
            ratio(s.cpu_us, baseline.map(|b| b.cpu_us)),
            s.busy * 100.0,
        );
    }
    goal_lines(out, &summaries, empty_goal);
}

/// The issues' goals for (e): ≥ `empty_goal`× the requests/s of (d) (Envoy 0.95, NGINX 0.80),
/// ≥ 0.95× those of (b), ahead of (c).
fn goal_lines(out: &mut String, summaries: &BTreeMap<Variant, Summary>, empty_goal: f64) {
    let Some(e) = summaries.get(&Variant::MtlsAuthz) else {
        return;
    };
    let mut checks = Vec::new();
    for (other, minimum) in [(Variant::EmptyWasm, empty_goal), (Variant::Rbac, 0.95)] {
        if let Some(o) = summaries.get(&other) {
            let ratio = e.rps / o.rps;
            let verdict = if ratio >= minimum { "met" } else { "MISSED" };
            checks.push(format!(
                "(e)/({}) = {ratio:.2} (goal ≥ {minimum}: {verdict})",
                other.letter()
            ));
        }
    }
    if let Some(c) = summaries.get(&Variant::Lua) {
        let ratio = e.rps / c.rps;
        let verdict = if ratio > 1.0 { "met" } else { "MISSED" };
        checks.push(format!("(e)/(c) = {ratio:.2} (goal > 1: {verdict})"));
    }
    if !checks.is_empty() {
        let _ = writeln!(out, "\nGoals, requests/s: {}.", checks.join("; "));
    }
}

/// `12345.6` → `12,346`.
pub(crate) fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// KiB → `12.3 MiB`.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_even_and_empty_inputs() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median([f64::NAN, 5.0]), 5.0);
        assert!(median([]).is_nan());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(12345.6), "12,346");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(f64::NAN), "–");
    }

    fn sample(rps: f64, cpu_seconds: f64) -> Sample {
        Sample {
            outcome: Outcome {
                ok_per_second: rps,
                p50_ms: 1.0,
                p99_ms: 2.0,
                ok: (rps * 2.0) as u64,
                other_statuses: Vec::new(),
                errors: 0,
                seconds: 2.0,
            },
            proxy_cpu_seconds: cpu_seconds,
        }
    }

    #[test]
    fn table_has_ratios_to_no_filter_and_goal_verdicts() {
        let mut results = Results::new();
        results.insert((0, Variant::NoFilter), vec![sample(1000.0, 2.0)]);
        results.insert((0, Variant::Rbac), vec![sample(900.0, 2.0)]);
        results.insert((0, Variant::Lua), vec![sample(500.0, 2.0)]);
        results.insert((0, Variant::EmptyWasm), vec![sample(800.0, 2.0)]);
        results.insert((0, Variant::MtlsAuthz), vec![sample(780.0, 2.0)]);
        let mut out = String::new();
        mode_table(
            &mut out,
            LoadMode::Http1KeepAlive,
            0,
            &results,
            "test",
            0.95,
        );
        assert!(
            out.contains("| (a) no filter | 1,000 | 1.00 | 1.00 | 2.00 | 1000.0 | 1.00 | 100% |"),
            "{out}"
        );
        assert!(out.contains("| (e) mtls-authz | 780 | 0.78 |"), "{out}");
        assert!(out.contains("(e)/(d) = 0.97 (goal ≥ 0.95: met)"), "{out}");
        assert!(
            out.contains("(e)/(b) = 0.87 (goal ≥ 0.95: MISSED)"),
            "{out}"
        );
        assert!(out.contains("(e)/(c) = 1.56 (goal > 1: met)"), "{out}");
    }
}
