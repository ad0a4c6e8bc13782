#!/usr/bin/env bash
# Runs the cargo-fuzz targets under fuzz/ (libFuzzer, nightly Rust), each for a bounded time,
# on a working corpus seeded from the committed fuzz/seeds, and prints one line per target:
# executions, edges covered (libFuzzer `cov`), features (`ft`), corpus size, findings.
#
#   scripts/fuzz.sh                       every target, 60 s each (what CI runs)
#   scripts/fuzz.sh --seconds 3600 path   one target for an hour (the documented long run)
#   scripts/fuzz.sh --jobs 2 ...          two libFuzzer workers per target
#
# Installs what is missing: the nightly toolchain (rustup) and cargo-fuzz (into .tools). The
# working corpus lives in target/fuzz-corpus/<target> and grows from run to run on one
# machine. A finding (crash or broken property) fails the run; libFuzzer leaves the input in
# fuzz/artifacts/<target>/. Add it to fuzz/regressions/<target>/ under a name that says what
# it is (tests/properties replays that directory in every test run) and, where it is a
# request or a certificate, to the fixture case tables, before fixing it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=60
jobs=1
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) targets+=("$1"); shift ;;
    esac
done

cargo_fuzz_version=0.13.2
ensure_fuzz_tools() {
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        note "installing the nightly toolchain (libFuzzer's sanitizer flags need it)"
        rustup toolchain install nightly --profile minimal >&2
    fi
    local bin="$ROOT/.tools/bin/cargo-fuzz"
    if ! { [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q " $cargo_fuzz_version$"; }; then
        note "installing cargo-fuzz $cargo_fuzz_version into .tools (a minute or two, once)"
        cargo install --locked --root "$ROOT/.tools" cargo-fuzz --version "$cargo_fuzz_version" >&2
    fi
    export PATH="$ROOT/.tools/bin:$PATH"
}

ensure_fuzz_tools
python3 fuzz/make_seeds.py --check
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
note "building ${#targets[@]} fuzz target(s) with cargo +nightly fuzz build -O"
cargo +nightly fuzz build -O --fuzz-dir fuzz >&2

log_dir="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz-logs"
mkdir -p "$log_dir"
summary=()
failed=()
for target in "${targets[@]}"; do
    corpus="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz-corpus/$target"
    mkdir -p "$corpus"
    cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    log="$log_dir/$target.log"
    note "fuzzing $target for ${seconds}s (log: $log)"
    set +e
    parallel=()
    [[ "$jobs" -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs")
    cargo +nightly fuzz run -O --fuzz-dir fuzz "$target" "$corpus" -- \
        -max_total_time="$seconds" -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1
    status=$?
    set -e
    # With -jobs, libFuzzer writes each worker's output to fuzz-<n>.log in the current dir.
    if [[ "$jobs" -gt 1 ]]; then cat fuzz-*.log >>"$log" 2>/dev/null && rm -f fuzz-*.log; fi
    execs=$({ grep -o 'stat::number_of_executed_units: [0-9]*' "$log" || true; } \
        | awk '{s += $2} END {print s + 0}')
    last=$({ grep -E '^#[0-9]+' "$log" || true; } \
        | { grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' || true; } | tail -n 1)
    if [[ $status -eq 0 ]]; then
        summary+=("$(printf '%-9s ok       %10s execs  %s' "$target" "$execs" "${last:-?}")")
    else
        summary+=("$(printf '%-9s FINDING  %10s execs  %s' "$target" "$execs" "${last:-?}")")
        failed+=("$target")
        grep -E 'panicked at|Test unit written|ERROR: libFuzzer' -A 3 "$log" | head -n 30 >&2 || true
    fi
done

printf '\n%s\n' "fuzz: ${#targets[@]} target(s), ${seconds}s each, $jobs job(s)"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    die "fuzz findings in: ${failed[*]} (inputs in fuzz/artifacts/; logs in $log_dir)"
fi
