#!/usr/bin/env bash
# Instructions per request in NGINX + ngx_wasm_module, counted by valgrind (callgrind): the
# one measure of the filter's cost that a shared, busy machine does not disturb. Requests/s
# and CPU time (bench/run.sh --proxy nginx) move with every other process on the machine;
# executed instructions do not.
#
#   bench/nginx-instructions.sh [REQUESTS]        (default 1000 requests per variant)
#
# Variants, each one NGINX process (master_process off) under valgrind, rendered from the
# NGINX template with `return 200` (like bench/run.sh --proxy nginx), loaded by oha over
# HTTP/1.1 keep-alive with the clinician's certificate (4 connections):
#   (a) no filter; (d) the empty filter; (d) + the host calls mtls-authz makes on an allowed
#   request of a known connection (headers, ngx.request_uri, ngx.connection, clock, 2 sets):
#   the floor any filter doing that work pays; (e) mtls-authz; and, when given as
#   MTLS_AUTHZ_BEFORE=FILE, (e) built from FILE.
# Counters are zeroed after a warm-up and dumped after the measured requests. Needs valgrind
# (apt) and oha (bench/run.sh installs it). Startup under valgrind takes minutes (Wasmtime
# compiles the module at 1/50 speed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"
cd "$root"

requests="${1:-1000}"
command -v valgrind >/dev/null || {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
oha="${OHA:-}"
for candidate in "$oha" "$(command -v oha || true)" "$root/.tools/bin/oha"; do
    [[ -n "$candidate" && -x "$candidate" ]] && { oha="$candidate"; break; }
done
[[ -x "$oha" ]] || die "oha not found (bench/run.sh installs it into .tools)"
nginx="$(ensure_nginx)"
wasm="$(build_wasm)"
target="${CARGO_TARGET_DIR:-$root/target}"
CARGO_TARGET_DIR="$target" cargo build --quiet \
    --manifest-path bench/empty-filter/Cargo.toml --target wasm32-wasip1 --release
empty="$target/wasm32-wasip1/release/mtls_authz_bench_empty_filter.wasm"
cargo build -q -p mtls-authz-e2e --bins
render="$target/debug/mtls-authz-nginx-config"

run_dir="$root/bench/.run/instructions-$(date +%s)"
mkdir -p "$run_dir"
keys=() labels=() pids=() ports=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start KEY LABEL WASM FILTER-CONFIG   (FILTER-CONFIG: `none`, `policy` = the healthcare policy
# with "host": "nginx" as the example runs it, or the empty filter's call list)
start() {
    local key=$1 label=$2 module=$3 config=$4 dir="$run_dir/$1" port
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local args=(--wasm "$module" --logs "$dir" --listen-port "$port" --no-upstream)
    case "$config" in
        none) args+=(--no-filter --policy healthcare) ;;
        policy) args+=(--policy healthcare) ;;
        *) printf '%s' "$config" >"$dir/filter.conf"; args+=(--policy "$dir/filter.conf") ;;
    esac
    "$render" "${args[@]}" --out "$dir/nginx.conf"
    valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$dir/cg.out" \
        "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        -g 'daemon off; master_process off;' >"$dir/valgrind.log" 2>&1 &
    pids+=($!) keys+=("$key") labels+=("$label") ports+=("$port")
}

start none "(a) no filter" "$empty" none
start empty "(d) empty wasm" "$empty" "{}"
start floor "(d) + the 6 host calls of an allowed request" "$empty" \
    "headers,request_uri,connection,clock,set,set"
start mtls-authz "(e) mtls-authz" "$wasm" policy
if [[ -n "${MTLS_AUTHZ_BEFORE:-}" ]]; then
    start before "(e) mtls-authz ($MTLS_AUTHZ_BEFORE)" "$MTLS_AUTHZ_BEFORE" policy
fi

C="$root/tests/fixtures/certs"
load() { # PORT N
    "$oha" --no-tui --output-format json --ipv4 -n "$2" -c 4 --cacert "$C/ca/bundle.pem" \
        --cert "$C/healthcare/clinician-alice.pem" --key "$C/healthcare/clinician-alice.key" \
        "https://localhost:$1/patient-records/42"
}
note "waiting for the variants to start under valgrind (minutes)"
for i in "${!keys[@]}"; do
    until grep -q 'successfully loaded' "$run_dir/${keys[$i]}/error.log" 2>/dev/null &&
        curl -s -o /dev/null --cacert "$C/ca/bundle.pem" --cert "$C/healthcare/clinician-alice.pem" \
            --key "$C/healthcare/clinician-alice.key" "https://localhost:${ports[$i]}/healthz"; do
        kill -0 "${pids[$i]}" 2>/dev/null ||
            die "${labels[$i]} exited: $(tail -5 "$run_dir/${keys[$i]}/valgrind.log")"
        sleep 5
    done
done

printf '\n| variant | instructions/request | vs (d) |\n|---|---:|---:|\n'
empty_ir=
for i in "${!keys[@]}"; do
    dir="$run_dir/${keys[$i]}"
    load "${ports[$i]}" 200 >/dev/null
    callgrind_control -z "${pids[$i]}" >/dev/null
    ok=$(load "${ports[$i]}" "$requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)["statusCodeDistribution"].get("200",0))')
    callgrind_control -d "${pids[$i]}" >/dev/null
    sleep 1
    ir=$(grep -h -E '^(summary|totals):' "$(ls -t "$dir"/cg.out.* | head -n1)" | head -n1 | awk '{print $2}')
    per=$((ir / ok))
    [[ "${keys[$i]}" == empty ]] && empty_ir=$per
    ratio=-
    [[ -n "$empty_ir" ]] && ratio=$(python3 -c "print(f'{$empty_ir/$per:.3f}')")
    printf '| %s | %s | %s |\n' "${labels[$i]}" "$per" "$ratio"
done
