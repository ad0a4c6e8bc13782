#!/usr/bin/env bash
# One command for the side-by-side benchmark in Envoy or NGINX (see bench/README.md):
#
#   bench/run.sh            full run (~10 min): 3 load modes x 5 rounds x 5 variants, then churn
#   bench/run.sh --quick    smoke run (~1 min)
#   bench/run.sh --proxy nginx   the same in NGINX + ngx_wasm_module: (a), (d), (e)
#   bench/run.sh --help     every option of the driver
#
# It finds (or installs) oha, builds the mtls-authz filter as shipped (scripts/build-wasm.sh)
# and the empty filter for wasm32-wasip1, and runs the driver (bench/driver), which finds (or
# installs) Envoy through the e2e crate (scripts/ensure-envoy.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

find_oha() {
  if [[ -n "${OHA:-}" ]]; then
    echo "$OHA"
    return
  fi
  local candidate
  for candidate in "$(command -v oha || true)" "$root/.tools/bin/oha" \
    "$HOME/.cargo/bin/oha" /work/.tools-oha/bin/oha; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return
    fi
  done
  echo "oha not found: installing it into $root/.tools (cargo install oha --locked, ~6 min)" >&2
  cargo install oha --locked --root "$root/.tools" >&2
  echo "$root/.tools/bin/oha"
}

oha="$(find_oha)"
target="${CARGO_TARGET_DIR:-$root/target}"
echo "building the filters (wasm32-wasip1, release; mtls-authz as shipped, after wasm-opt)" >&2
wasm="$(bash "$root/scripts/build-wasm.sh")"
# Not a workspace member: its own lock file, the workspace's target directory.
CARGO_TARGET_DIR="$target" cargo build --quiet \
  --manifest-path bench/empty-filter/Cargo.toml --target wasm32-wasip1 --release
exec cargo run --quiet --release -p mtls-authz-bench -- --oha "$oha" \
  --wasm "$wasm" \
  --empty-wasm "$target/wasm32-wasip1/release/mtls_authz_bench_empty_filter.wasm" "$@"
