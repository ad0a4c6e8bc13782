#!/usr/bin/env bash
# The main job: build the mtls-authz filter, make sure the proxy is installed, and run an example
# scenario on this machine — an mTLS listener on https://localhost:$DEMO_PORT with the filter in
# front of an echo upstream — then print curl commands to try. Stays in the foreground (the
# proxy's log streams here) until Ctrl-C.
#
#   scripts/demo.sh [--proxy envoy|nginx] [healthcare|multitenant]
#       (defaults: envoy, healthcare)
#
# Envoy 1.40 comes from PyPI (./.venv); NGINX 1.27.4 + ngx_wasm_module is built once from the
# source archives (scripts/ensure-nginx.sh: NGX_VENDOR_DIR, cached outside the checkout).
# Ports (all on 127.0.0.1): DEMO_PORT=10443, ADMIN_PORT=9901 (Envoy), UPSTREAM_PORT=18080.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

proxy=envoy
if [[ "${1:-}" == "--proxy" ]]; then
    proxy="${2:-}"
    shift 2 || die "--proxy needs a value (envoy or nginx)"
fi
case "$proxy" in
    envoy | nginx) ;;
    *) die "unknown proxy '$proxy' (envoy or nginx)" ;;
esac
scenario="${1:-healthcare}"
case "$scenario" in
    healthcare | multitenant) ;;
    *) die "unknown scenario '$scenario' (healthcare or multitenant)" ;;
esac
demo_port="${DEMO_PORT:-10443}"
admin_port="${ADMIN_PORT:-9901}"
upstream_port="${UPSTREAM_PORT:-18080}"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
run_dir="$target_dir/demo/$proxy-$scenario"

section "Tools"
ensure_rust_targets
ensure_curl
if [[ "$proxy" == envoy ]]; then
    proxy_bin="$(ensure_envoy)"
else
    proxy_bin="$(ensure_nginx)"
fi
note "$proxy: $proxy_bin"

section "Building the filter (wasm32-wasip1, release)"
wasm="$(build_wasm)"
note "$wasm ($(wc -c <"$wasm") bytes)"

(cd "$ROOT" && cargo build -q -p mtls-authz-e2e --bins)
mkdir -p "$run_dir"
if [[ "$proxy" == envoy ]]; then
    section "Rendering examples/envoy/envoy.yaml.j2 for '$scenario'"
    "$target_dir/debug/mtls-authz-envoy-config" --policy "$scenario" --wasm "$wasm" \
        --listen-port "$demo_port" --admin-port "$admin_port" --upstream-port "$upstream_port" \
        --out "$run_dir/envoy.yaml"
    note "$run_dir/envoy.yaml (policy: tests/fixtures/policies/$scenario.json)"
else
    section "Rendering examples/nginx/nginx.conf.j2 for '$scenario'"
    "$target_dir/debug/mtls-authz-nginx-config" --policy "$scenario" --wasm "$wasm" \
        --listen-port "$demo_port" --upstream-port "$upstream_port" --logs "$run_dir" \
        --out "$run_dir/nginx.conf"
    note "$run_dir/nginx.conf (policy: tests/fixtures/policies/$scenario.json + \"host\": \"nginx\")"
fi

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "Starting the echo upstream and $proxy"
"$target_dir/debug/mtls-authz-echo" "$upstream_port" &
pids+=($!)

if [[ "$proxy" == envoy ]]; then
    log="$run_dir/envoy.log"
    "$proxy_bin" --config-path "$run_dir/envoy.yaml" --disable-hot-restart --concurrency 1 \
        --log-level warn --component-log-level wasm:info >"$log" 2>&1 &
    proxy_pid=$!
    ready() { [[ "$(curl -s --noproxy '*' "http://127.0.0.1:$admin_port/ready" || true)" == LIVE ]]; }
else
    log="$run_dir/error.log"
    : >"$log"
    # Foreground master (its worker configures the filter); SIGTERM from cleanup stops both.
    "$proxy_bin" -p "$run_dir" -c "$run_dir/nginx.conf" -e "$log" -g 'daemon off;' &
    proxy_pid=$!
    ready() {
        grep -q 'mtls-authz: configured' "$log" 2>/dev/null &&
            (exec 3<>"/dev/tcp/127.0.0.1/$demo_port") 2>/dev/null
    }
fi
pids+=("$proxy_pid")

for _ in $(seq 1 1200); do
    if ! kill -0 "$proxy_pid" 2>/dev/null || grep -q 'cannot be respawned' "$log" 2>/dev/null; then
        cat "$log" >&2
        die "$proxy did not start (log above; is port $demo_port or $admin_port in use?)"
    fi
    ready && break
    sleep 0.1
done
ready || { cat "$log" >&2; die "$proxy did not become ready in 120 s"; }

section "Ready: https://localhost:$demo_port ('$scenario' in $proxy); try these from $ROOT"
cd "$ROOT"
"$target_dir/debug/mtls-authz-demo-requests" --proxy "$proxy" "$scenario" "$demo_port"
if [[ "$proxy" == envoy ]]; then
    printf '\nAdmin and stats: http://127.0.0.1:%s/stats?filter=wasmcustom   Stop: Ctrl-C\n' "$admin_port"
    section "Envoy log (access log lines start with [access])"
else
    printf '\nStop: Ctrl-C\n'
    section "NGINX error log ($log: the filter's decisions are the [proxy-wasm] lines)"
fi
tail -n +1 -f "$log" &
pids+=($!)
wait "$proxy_pid"
