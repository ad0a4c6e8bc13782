#!/usr/bin/env bash
# The main job: build the mtls-authz filter, make sure Envoy is installed, and run an example
# scenario on this machine — an mTLS listener on https://localhost:$DEMO_PORT with the filter in
# front of an echo upstream — then print curl commands to try. Stays in the foreground (Envoy's
# log and access log stream here) until Ctrl-C.
#
#   scripts/demo.sh [healthcare|multitenant]      (default: healthcare)
#
# Ports (all on 127.0.0.1): DEMO_PORT=10443, ADMIN_PORT=9901, UPSTREAM_PORT=18080.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

scenario="${1:-healthcare}"
case "$scenario" in
    healthcare | multitenant) ;;
    *) die "unknown scenario '$scenario' (healthcare or multitenant)" ;;
esac
demo_port="${DEMO_PORT:-10443}"
admin_port="${ADMIN_PORT:-9901}"
upstream_port="${UPSTREAM_PORT:-18080}"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
run_dir="$target_dir/demo/$scenario"

section "Tools"
ensure_rust_targets
ensure_curl
envoy="$(ensure_envoy)"
note "envoy: $envoy"

section "Building the filter (wasm32-wasip1, release)"
wasm="$(build_wasm)"
note "$wasm ($(wc -c <"$wasm") bytes)"

section "Rendering examples/envoy/envoy.yaml.j2 for '$scenario'"
(cd "$ROOT" && cargo build -q -p mtls-authz-e2e --bins)
mkdir -p "$run_dir"
"$target_dir/debug/mtls-authz-envoy-config" --policy "$scenario" --wasm "$wasm" \
    --listen-port "$demo_port" --admin-port "$admin_port" --upstream-port "$upstream_port" \
    --out "$run_dir/envoy.yaml"
note "$run_dir/envoy.yaml (policy: tests/fixtures/policies/$scenario.json)"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Starting the echo upstream and Envoy"
"$target_dir/debug/mtls-authz-echo" "$upstream_port" &
pids+=($!)
"$envoy" --config-path "$run_dir/envoy.yaml" --disable-hot-restart --concurrency 1 \
    --log-level warn --component-log-level wasm:info >"$run_dir/envoy.log" 2>&1 &
envoy_pid=$!
pids+=("$envoy_pid")

for _ in $(seq 1 600); do
    if ! kill -0 "$envoy_pid" 2>/dev/null; then
        cat "$run_dir/envoy.log" >&2
        die "Envoy exited during startup (log above; is port $demo_port or $admin_port in use?)"
    fi
    if [[ "$(curl -s --noproxy '*' "http://127.0.0.1:$admin_port/ready" || true)" == LIVE ]]; then
        break
    fi
    sleep 0.1
done
[[ "$(curl -s --noproxy '*' "http://127.0.0.1:$admin_port/ready" || true)" == LIVE ]] \
    || { cat "$run_dir/envoy.log" >&2; die "Envoy did not become ready in 60 s"; }

section "Ready: https://localhost:$demo_port ('$scenario'); try these from $ROOT"
cd "$ROOT"
"$target_dir/debug/mtls-authz-demo-requests" "$scenario" "$demo_port"
printf '\nAdmin and stats: http://127.0.0.1:%s/stats?filter=wasmcustom   Stop: Ctrl-C\n' "$admin_port"
section "Envoy log (access log lines start with [access])"
tail -n +1 -f "$run_dir/envoy.log" &
pids+=($!)
wait "$envoy_pid"
