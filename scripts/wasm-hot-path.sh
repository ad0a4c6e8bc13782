#!/usr/bin/env bash
# Per-request cost of the filter compiled to wasm, under node's V8: builds
# filters/proxy-wasm/examples/wasm_hot_path.rs for wasm32-wasip1 at each opt-level given
# (default: the release profile as configured), runs it as cargo built it and after the same
# wasm-opt pass scripts/build-wasm.sh applies, and prints ns/iter side by side.
#
#   scripts/wasm-hot-path.sh            # release profile as configured
#   scripts/wasm-hot-path.sh s z 3      # compare opt-levels (one target dir per level)
#
# The numbers are medians of 15 batches, but the machine is shared: compare columns of one
# run, and run twice before believing a difference under ~15%.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || die "node is required (it runs the wasm under WASI)"

target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
features=(
    --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong
    --enable-extended-const --enable-multivalue --enable-mutable-globals
    --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext
)
# build-wasm.sh installs wasm-opt into .tools on first use; make sure it is there.
wasm_opt="${WASM_OPT:-$ROOT/.tools/binaryen/node_modules/.bin/wasm-opt}"
[[ -x "$wasm_opt" ]] || bash "$ROOT/scripts/build-wasm.sh" >/dev/null
levels=("$@")
[[ ${#levels[@]} -gt 0 ]] || levels=(release)

results=()
for level in "${levels[@]}"; do
    if [[ "$level" == release ]]; then
        dir="$target_dir"
        env_level=()
    else
        # Another opt-level is another build: its own target dir, not to disturb the shared one.
        dir="$target_dir/wasm-hot-path/opt-$level"
        env_level=(env "CARGO_PROFILE_RELEASE_OPT_LEVEL=$level")
    fi
    section "opt-level: $level"
    (cd "$ROOT" && CARGO_TARGET_DIR="$dir" "${env_level[@]}" cargo build -p mtls-authz-filter \
        --features mock --example wasm_hot_path --target wasm32-wasip1 --release) >&2
    raw="$dir/wasm32-wasip1/release/examples/wasm_hot_path.wasm"
    "$wasm_opt" "${features[@]}" -Oz "$raw" -o "$raw.opt.wasm"
    results+=("$level:raw:$(node --no-warnings "$ROOT/scripts/run-wasi.mjs" "$raw" | paste -sd ' ')")
    results+=("$level:wasm-opt:$(node --no-warnings "$ROOT/scripts/run-wasi.mjs" "$raw.opt.wasm" | paste -sd ' ')")
done

section "ns/iter (median)"
# One row per measurement, one column per build.
printf '%s\n' "${results[@]}" | awk '
    {
        split($0, head, ":"); col = head[1] "/" head[2]; cols[++ncols] = col
        sub(/^[^:]*:[^:]*:/, "")
        for (i = 1; i < NF; i += 2) {
            if (!($i in seen)) { seen[$i] = 1; rows[++nrows] = $i }
            value[$i, col] = $(i + 1)
        }
    }
    END {
        printf "%-22s", "measurement"; for (c = 1; c <= ncols; c++) printf " %14s", cols[c]; print ""
        for (r = 1; r <= nrows; r++) {
            printf "%-22s", rows[r]
            for (c = 1; c <= ncols; c++) printf " %14s", value[rows[r], cols[c]]
            print ""
        }
    }'
