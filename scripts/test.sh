#!/usr/bin/env bash
# Every test of the project, as CI runs it (.ci/run runs exactly this script):
# formatting, clippy, the no_std build, the release .wasm and its size, every cargo test of the
# workspace (core, filter on the mock host, CLI, fixtures, and the real Envoy and NGINX
# end-to-end over mTLS), the core's tests on wasm32 under node (wasm-bindgen-test), and a
# bounded run of every fuzz target (scripts/fuzz.sh).
# Installs what is missing: rust targets, curl, openssl, Envoy and h2 (./.venv), NGINX +
# ngx_wasm_module (built once from ../shared/vendor or NGX_VENDOR_DIR into
# ~/.cache/mtls-authz, scripts/ensure-nginx.sh), oha for the saturated soak, wasm-bindgen-cli and
# cargo-fuzz (./.tools), the nightly toolchain for libFuzzer.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
log_dir="$target_dir/test-logs"
mkdir -p "$log_dir"
started=$SECONDS
current="(setup)"
passed=()
failed=()

finish() {
    local status=$?
    local elapsed=$((SECONDS - started))
    printf '\n==== Summary ====\n'
    for line in "${passed[@]}"; do printf '  ok      %s\n' "$line"; done
    for line in "${failed[@]}"; do printf '  FAILED  %s\n' "$line"; done
    if [[ ${#failed[@]} -gt 0 ]]; then
        printf 'test.sh: FAILED, %s of %s sections failed (%s) in %ss\n' "${#failed[@]}" \
            "$((${#passed[@]} + ${#failed[@]}))" "$(IFS=';'; echo "${failed[*]}")" "$elapsed"
        exit 1
    elif [[ $status -ne 0 ]]; then
        printf 'test.sh: FAILED in "%s" after %ss\n' "$current" "$elapsed"
    else
        printf 'test.sh: PASSED, %s sections in %ss%s\n' "${#passed[@]}" "$elapsed" \
            "$(cat "$log_dir/totals" 2>/dev/null || true)"
    fi
    exit "$status"
}
trap finish EXIT

# run_section NAME FUNCTION: a titled, timed step in a subshell with errexit. A failing section
# is recorded and the next one still runs, so one CI run shows every failure.
run_section() {
    current="$1"
    section "$current"
    local t0=$SECONDS status
    set +e
    (set -e; "$2")
    status=$?
    set -e
    if [[ $status -eq 0 ]]; then
        passed+=("$current ($((SECONDS - t0))s)")
    else
        failed+=("$current")
    fi
}

tools() {
    ensure_rust_targets
    ensure_curl
    command -v node >/dev/null || die "node is required to run the wasm32 tests (wasm-bindgen-test)"
    ensure_openssl
    ENVOY_BIN="$(ensure_envoy)"
    export ENVOY_BIN
    ensure_e2e_python
    NGINX_BIN="$(ensure_nginx)"
    export NGINX_BIN
    OHA="$(bash "$ROOT/scripts/ensure-oha.sh")"
    export OHA
    note "rustc: $(rustc --version)"
    note "node:  $(node --version)"
    note "curl:  $(curl --version | head -n1)"
    note "envoy: $("$ENVOY_BIN" --version | grep -o 'version: [^ ]*' || true)"
    note "oha:   $("$OHA" --version)"
    note "nginx: $("$NGINX_BIN" -V 2>&1 | head -n1 | sed 's/^nginx version: //') + ngx_wasm_module ($NGINX_BIN)"
}

# The committed certificates, keys and policies must be exactly what the generator makes
# (deterministic keys and ECDSA): a hand-edited fixture or a stale generator fails here.
fixtures_reproducible() {
    local python="$ROOT/.venv/bin/python"
    [[ -x "$python" ]] || python3 -m venv "$ROOT/.venv" >&2
    if ! "$python" -c 'import cryptography' 2>/dev/null; then
        note "installing cryptography into .venv (for tests/fixtures/gen_certs.py)"
        "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check cryptography >&2
    fi
    "$python" "$ROOT/tests/fixtures/gen_certs.py" --check
}

# pyca's cryptography-vectors (every CRL in it is read by crates/core/tests/pyca_crl_vectors.rs,
# which runs with the workspace tests): installed into .venv before them.
crypto_vectors() {
    [[ -x "$ROOT/.venv/bin/python" ]] || python3 -m venv "$ROOT/.venv" >&2
    if ! "$ROOT/.venv/bin/python" -c 'import cryptography_vectors' 2>/dev/null; then
        note "installing cryptography-vectors into .venv (the pyca CRL vectors)"
        "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check cryptography-vectors >&2
    fi
    note "cryptography-vectors $("$ROOT/.venv/bin/python" -c \
        'import cryptography_vectors; print(cryptography_vectors.__version__)')"
}

# The verdicts on every pyca CRL, printed (the same test runs again, silently, with the
# workspace tests).
pyca_crl_report() {
    cargo test -p mtls-authz-core --test pyca_crl_vectors -- --nocapture
}

fmt_check() {
    cargo fmt --all -- --check
    cargo fmt --manifest-path fuzz/Cargo.toml -- --check
}

clippy_all() { cargo clippy --workspace --all-targets -- -D warnings; }

no_std_build() { cargo build -p mtls-authz-core --target riscv32imac-unknown-none-elf; }

release_wasm() {
    local wasm
    wasm="$(build_wasm)"
    note "$wasm: $(wc -c <"$wasm") bytes"
    # The shipped module under a small proxy-wasm host in node (the ABI glue, before Envoy).
    node --no-warnings "$ROOT/scripts/proxy-wasm-host.mjs" "$wasm" \
        "$ROOT/tests/fixtures/policies/healthcare.json" \
        "$ROOT/tests/fixtures/certs/healthcare/clinician-alice.pem" 3000
    printf '%s\n' "$wasm" >"$log_dir/wasm-path"
}

workspace_tests() {
    # ENVOY_BIN, NGINX_BIN and MTLS_AUTHZ_WASM are set: the e2e tests use these proxies and
    # this .wasm.
    local log="$log_dir/cargo-test.log"
    cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
    local passed_tests envoy nginx
    passed_tests=$(grep -o 'test result: ok\. [0-9]* passed' "$log" | awk '{s += $4} END {print s + 0}')
    envoy=$(grep -o 'envoy e2e: [0-9]* cases over [^ ]*' "$log" | sed 's/^envoy e2e: //' \
        | paste -sd ',' - | sed 's/,/, /g' || true)
    nginx=$(grep -o 'nginx e2e: [0-9]* cases over [^ ]*' "$log" | sed 's/^nginx e2e: //' \
        | paste -sd ',' - | sed 's/,/, /g' || true)
    printf '; %s cargo tests passed%s%s' "$passed_tests" "${envoy:+; real Envoy: $envoy}" \
        "${nginx:+; real NGINX: $nginx}" >"$log_dir/totals"
}

# The wasm-bindgen version in Cargo.lock: the test runner must match it exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

wasm_bindgen_runner() {
    local version runner="$ROOT/.tools/bin/wasm-bindgen-test-runner"
    version="$(wasm_bindgen_version)"
    [[ -n "$version" ]] || die "no wasm-bindgen in Cargo.lock (the core's wasm32 dev-dependency)"
    if [[ -x "$runner" ]] && "$runner" --version 2>/dev/null | grep -qx "wasm-bindgen-test-runner $version"; then
        note "wasm-bindgen-test-runner $version already in .tools"
        return
    fi
    note "installing wasm-bindgen-cli $version into .tools (a few minutes, once)"
    if ! cargo install --locked --root "$ROOT/.tools" wasm-bindgen-cli --version "$version"; then
        # The registry may lack a version its lockfile pins; fall back to a fresh resolution of
        # the same wasm-bindgen-cli version rather than skip the wasm32 tests.
        note "--locked install failed; retrying with a fresh dependency resolution"
        cargo install --root "$ROOT/.tools" wasm-bindgen-cli --version "$version"
    fi
}

# Core tests that may stay native-only (std-only: threads, fs, clocks), as an extended regex
# of test names: the pyca CRL vectors are read from the installed Python package.
core_native_only_tests='^every_pyca_crl_is_read_without_a_panic_and_the_verdicts_are_pinned$'

core_on_wasm32() {
    local log="$log_dir/core-wasm32.log" native="$log_dir/core-native-tests.txt"
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$ROOT/.tools/bin/wasm-bindgen-test-runner" \
        cargo test -p mtls-authz-core --target wasm32-unknown-unknown 2>&1 | tee "$log"
    # A runner that finds nothing to run would pass silently, and a plain #[test] is simply not
    # compiled in for wasm32: demand that every native core test (unit and integration) also
    # passed here, by name.
    cargo test -p mtls-authz-core --tests -q -- --list 2>/dev/null | sed -n 's/: test$//p' \
        | { grep -Ev "$core_native_only_tests" || true; } | sort >"$native"
    local ran missing
    ran=$(grep -o 'test result: ok\. [0-9]* passed' "$log" | awk '{s += $4} END {print s + 0}')
    missing=$({ grep -o '^test [^ ]* \.\.\. ok$' "$log" || true; } | awk '{print $2}' | sort \
        | comm -23 "$native" -)
    [[ "$ran" -gt 0 ]] || die "no core test ran on wasm32 (are they #[wasm_bindgen_test]?)"
    [[ -z "$missing" ]] || die "core tests that did not pass on wasm32 (give them the" \
        "wasm_bindgen_test/test cfg_attr pair, see docs/DECISIONS.md):" $missing
    note "$ran core tests passed on wasm32-unknown-unknown ($(wc -l <"$native") native core tests, all of them)"
}

# Every fuzz target for a bounded time (FUZZ_SECONDS, default 60) from the committed seeds;
# the seeds and past findings themselves are replayed by the workspace tests
# (tests/properties). The long run is documented in fuzz/README.md.
fuzz_smoke() { bash "$ROOT/scripts/fuzz.sh" --seconds "${FUZZ_SECONDS:-60}"; }

rm -f "$log_dir/wasm-path" "$log_dir/totals"
# Everything below needs the tools: a failure here stops the run.
current="Tools (rust targets, curl, openssl, node, Envoy, NGINX + ngx_wasm_module)"
section "$current"
tools
passed+=("$current")

run_section "Fixtures match their generator (gen_certs.py --check)" fixtures_reproducible
run_section "pyca cryptography-vectors in .venv" crypto_vectors
run_section "Format (cargo fmt --check)" fmt_check
run_section "Clippy (workspace, all targets, -D warnings)" clippy_all
run_section "no_std core (riscv32imac-unknown-none-elf)" no_std_build
run_section "Release filter (.wasm for wasm32-wasip1)" release_wasm
if [[ -s "$log_dir/wasm-path" ]]; then
    MTLS_AUTHZ_WASM="$(cat "$log_dir/wasm-path")"
    export MTLS_AUTHZ_WASM
fi
run_section "Tests: core, filter (mock host), CLI, fixtures, Envoy and NGINX e2e" workspace_tests
run_section "pyca CRL vectors: verdicts" pyca_crl_report
run_section "wasm-bindgen-test-runner" wasm_bindgen_runner
run_section "Core tests on wasm32-unknown-unknown (node)" core_on_wasm32
run_section "Fuzz smoke (cargo fuzz, every target)" fuzz_smoke
