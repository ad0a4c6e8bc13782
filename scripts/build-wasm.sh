#!/usr/bin/env bash
# Builds the filter for wasm32-wasip1 (release profile), then shrinks it with binaryen's
# wasm-opt, and prints the path of the optimised .wasm on stdout (everything else on stderr).
#
#   scripts/build-wasm.sh            → $CARGO_TARGET_DIR/dist/mtls_authz_filter.wasm
#
# Why a post-pass: LLVM optimises the Rust code, wasm-opt then optimises the module as a whole
# (merges duplicate functions, shortens locals, drops dead code across what LLVM saw as
# separate units). At -Oz it removes ~17% of the bytes with no measurable cost per request
# (docs/wasm-size.md has the measurements; scripts/wasm-hot-path.sh re-measures).
#
# wasm-opt comes from the npm package `binaryen` (pinned below), installed once into
# ./.tools/binaryen; node and npm are the only requirements. The raw cargo artifact
# (target/wasm32-wasip1/release/mtls_authz_filter.wasm) stays untouched and still works.
#
# Environment: WASM_OPT=/path/to/wasm-opt uses that binary instead (any version that accepts
# the feature flags below); WASM_OPT_LEVEL (default -Oz) picks another binaryen level.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

BINARYEN_VERSION=132.0.0
binaryen_dir="$ROOT/.tools/binaryen"
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
raw="$target_dir/wasm32-wasip1/release/mtls_authz_filter.wasm"
out="$target_dir/dist/mtls_authz_filter.wasm"
level="${WASM_OPT_LEVEL:--Oz}"

# The WebAssembly features rustc enables for wasm32-wasip1 (Rust 1.95; its target_features
# section lists them, and the stripped release artifact no longer carries it). wasm-opt may
# use exactly these and nothing newer, so the optimised module runs wherever the raw one does.
# If a newer rustc emits another feature, wasm-opt stops with a validation error naming it:
# add it here.
features=(
    --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong
    --enable-extended-const --enable-multivalue --enable-mutable-globals
    --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext
)

note() { printf '  %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints the path of a wasm-opt, installing the pinned binaryen into .tools when needed.
ensure_wasm_opt() {
    if [[ -n "${WASM_OPT:-}" ]]; then
        [[ -x "$WASM_OPT" ]] || die "WASM_OPT=$WASM_OPT is not executable"
        printf '%s\n' "$WASM_OPT"
        return
    fi
    local bin="$binaryen_dir/node_modules/.bin/wasm-opt"
    local installed="$binaryen_dir/node_modules/binaryen/package.json"
    if [[ -x "$bin" && -f "$installed" ]] &&
        grep -q "\"version\": \"$BINARYEN_VERSION\"" "$installed"; then
        printf '%s\n' "$bin"
        return
    fi
    command -v npm >/dev/null ||
        die "npm is required to install wasm-opt (binaryen $BINARYEN_VERSION); or set WASM_OPT"
    note "installing binaryen $BINARYEN_VERSION (wasm-opt) into .tools/binaryen"
    mkdir -p "$binaryen_dir"
    npm install --prefix "$binaryen_dir" --no-save --no-audit --no-fund --loglevel=error \
        "binaryen@$BINARYEN_VERSION" >&2
    [[ -x "$bin" ]] || die "npm installed binaryen but $bin is missing"
    printf '%s\n' "$bin"
}

(cd "$ROOT" && cargo build -p mtls-authz-filter --target wasm32-wasip1 --release) >&2
[[ -f "$raw" ]] || die "cargo built the filter but $raw is missing"

wasm_opt="$(ensure_wasm_opt)"
mkdir -p "$(dirname "$out")"
# Into a temporary file first: a failed run must not leave a stale or partial artifact.
"$wasm_opt" "${features[@]}" "$level" "$raw" -o "$out.tmp" >&2
mv "$out.tmp" "$out"
note "$(basename "$raw"): $(wc -c <"$raw") bytes from cargo, $(wc -c <"$out") after wasm-opt $level"
printf '%s\n' "$out"
