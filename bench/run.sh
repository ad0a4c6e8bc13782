#!/usr/bin/env bash
# One command for the side-by-side benchmark in Envoy or NGINX (see bench/README.md):
#
#   bench/run.sh            full run (~10 min): 3 load modes x 5 rounds x 5 variants, then churn
#   bench/run.sh --quick    smoke run (~1 min)
#   bench/run.sh --proxy nginx   the same in NGINX + ngx_wasm_module: (a), (d), (e)
#   bench/run.sh --help     every option of the driver
#
# It finds (or installs) oha (scripts/ensure-oha.sh), builds the mtls-authz filter as shipped
# (scripts/build-wasm.sh) and the empty filter for wasm32-wasip1, and runs the driver
# (bench/driver), which finds (or installs) Envoy through the e2e crate (scripts/ensure-envoy.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

oha="$(bash "$root/scripts/ensure-oha.sh")"
target="${CARGO_TARGET_DIR:-$root/target}"
echo "building the filters (wasm32-wasip1, release; mtls-authz as shipped, after wasm-opt)" >&2
wasm="$(bash "$root/scripts/build-wasm.sh")"
# Not a workspace member: its own lock file, the workspace's target directory.
CARGO_TARGET_DIR="$target" cargo build --quiet \
  --manifest-path bench/empty-filter/Cargo.toml --target wasm32-wasip1 --release
exec cargo run --quiet --release -p mtls-authz-bench -- --oha "$oha" \
  --wasm "$wasm" \
  --empty-wasm "$target/wasm32-wasip1/release/mtls_authz_bench_empty_filter.wasm" "$@"
