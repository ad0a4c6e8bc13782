//! Knobs and readings of the long-running tests (soak, path differential, reload): run sizes
//! from the environment, and a proxy's memory and CPU time from `/proc`.

use crate::E2eError;

/// A whole number from the environment variable `name`, else `default` (unset or not a
/// number): how the long runs are chosen without changing the tests.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn proc_file(pid: u32, name: &str) -> Result<String, E2eError> {
    let path = format!("/proc/{pid}/{name}");
    std::fs::read_to_string(&path).map_err(|e| E2eError::io(format!("reading {path}"), e))
}

/// The resident set of process `pid`, KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Result<u64, E2eError> {
    let status = proc_file(pid, "status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| E2eError::Protocol(format!("no VmRSS in /proc/{pid}/status")))
}

/// CPU time process `pid` has used so far (user + system, all threads), in clock ticks
/// (`sysconf(_SC_CLK_TCK)`, 100 per second on Linux): over a run, ticks / (100 × seconds)
/// is how many cores it kept busy.
pub fn cpu_ticks(pid: u32) -> Result<u64, E2eError> {
    let stat = proc_file(pid, "stat")?;
    // The command name is in parentheses and may contain spaces: count fields after it.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| E2eError::Protocol(format!("/proc/{pid}/stat has no command name")))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); the first field after the name is 3.
    let field = |n: usize| -> Result<u64, E2eError> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| E2eError::Protocol(format!("/proc/{pid}/stat field {n}")))
    };
    Ok(field(14)? + field(15)?)
}

/// The machine's CPU time so far, all cores, in clock ticks: (idle, total), from the first
/// line of `/proc/stat` (idle includes iowait). Over a run, the idle share says whether the
/// load left any CPU unused: a saturated run leaves next to none, whatever else shares the
/// machine.
pub fn machine_cpu_ticks() -> Result<(u64, u64), E2eError> {
    let stat =
        std::fs::read_to_string("/proc/stat").map_err(|e| E2eError::io("reading /proc/stat", e))?;
    let times: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("cpu "))
        .ok_or_else(|| E2eError::Protocol(String::from("/proc/stat has no `cpu` line")))?
        .split_whitespace()
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user and nice).
    let idle = times.get(3).copied().unwrap_or(0) + times.get(4).copied().unwrap_or(0);
    let total = times.iter().take(8).sum();
    Ok((idle, total))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        let before = cpu_ticks(me).unwrap();
        let mut x = 0u64;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(100) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(
            cpu_ticks(me).unwrap() > before,
            "100 ms of spinning adds ticks"
        );
    }

    #[test]
    fn env_number_falls_back_on_unset_or_odd_values() {
        assert_eq!(env_number("MTLS_AUTHZ_E2E_SURELY_UNSET", 7), 7);
    }
}
