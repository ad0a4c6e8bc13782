#!/usr/bin/env bash
# Makes sure the `oha` load generator is available and prints the path of its binary: `$OHA`,
# else the first of `oha` on PATH, ./.tools/bin/oha, ~/.cargo/bin/oha that is release
# $OHA_VERSION; when none is, that release is installed into ./.tools (cargo install oha
# --locked, about 6 minutes on 2 cores, once per checkout). Used by bench/run.sh,
# scripts/test.sh (the saturated soak) and the e2e crate.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The release the bench and the soak were measured with; --locked takes its own lock file.
OHA_VERSION=1.16.0

if [[ -n "${OHA:-}" ]]; then
    [[ -x "$OHA" ]] || die "OHA=$OHA is not an executable"
    echo "$OHA"
    exit 0
fi
# Another release may read the options or report JSON differently: only this one is taken.
for candidate in "$(command -v oha || true)" "$ROOT/.tools/bin/oha" "$HOME/.cargo/bin/oha"; do
    if [[ -n "$candidate" && -x "$candidate" ]] \
        && [[ "$("$candidate" --version 2>/dev/null)" == "oha $OHA_VERSION" ]]; then
        echo "$candidate"
        exit 0
    fi
done
note "oha not found: installing oha $OHA_VERSION into $ROOT/.tools (cargo install --locked, ~6 min, once)"
cargo install oha --locked --version "$OHA_VERSION" --root "$ROOT/.tools" >&2
echo "$ROOT/.tools/bin/oha"
