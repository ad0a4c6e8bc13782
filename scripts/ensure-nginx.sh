#!/usr/bin/env bash
# Makes sure an NGINX 1.27.4 with ngx_wasm_module 3bed2783 (Wasmtime 26.0.0, linked statically)
# is built, and prints the path of its `nginx` binary. Safe to run repeatedly: the build is
# cached OUTSIDE the checkout (CI clones afresh every run), keyed by everything it is made
# from, and a second run on the same machine only checks the cache.
#
#   NGINX_BIN=/path/to/nginx    use that binary instead (it must have ngx_wasm_module)
#   NGX_VENDOR_DIR=dir          where the two source archives are
#                               (default: ../shared/vendor next to the checkout, when present)
#   MTLS_AUTHZ_CACHE=dir        cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/mtls-authz)
#   JOBS=n                      parallel build jobs (default: nproc)
#
# Neither NGINX nor ngx_wasm_module is in a package registry, so the build needs their source
# archives (README "Running it in your proxy" gives the upstream URLs):
#   nginx-1.27.4.tar.gz               github.com/nginx/nginx, tag release-1.27.4
#                                     (or https://nginx.org/download/nginx-1.27.4.tar.gz)
#   ngx_wasm_module-3bed2783.tar.gz   github.com/Kong/ngx_wasm_module, commit 3bed2783
# Wasmtime's C API comes from crates.io (scripts/nginx-wasm/wasmtime-capi, every dependency
# pinned by its Cargo.lock) and is built with Rust 1.82 (installed with rustup), the release
# it was made with. Build packages come from apt when missing.
#
# Layout of the cache (each entry appears atomically, complete or not at all):
#   <cache>/wasmtime-26.0.0-<key>/{include,lib/libwasmtime.a}    ~85 MB, ~9 min on 2 cores
#   <cache>/nginx-1.27.4-wasmx-3bed2783-<key>/sbin/nginx         ~40 MB, ~2 min
# and ./.tools/nginx-wasm links to the NGINX entry in use.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NGINX_VERSION=1.27.4
WASMX_COMMIT=3bed2783
WASMTIME_VERSION=26.0.0
RUST_VERSION=1.82.0
# The archives this project is tested with (git archive of the upstream tag / commit).
NGINX_TGZ_SHA256=2f44649749fc82202a17756f76c8c537571fd889d947f04b0a95f87022d39068
WASMX_TGZ_SHA256=45176e19fbdf16a98d54ed72923f6bf25d639dfa38f2aca9ee5429133e29a812
NGINX_URL="https://github.com/nginx/nginx/archive/refs/tags/release-$NGINX_VERSION.tar.gz"
WASMX_URL="https://github.com/Kong/ngx_wasm_module/archive/$WASMX_COMMIT.tar.gz"
APT_PACKAGES=(build-essential cmake pkg-config libpcre2-dev zlib1g-dev libssl-dev)

if [[ -n "${NGINX_BIN:-}" ]]; then
    [[ -x "$NGINX_BIN" ]] || die "NGINX_BIN=$NGINX_BIN is not executable"
    "$NGINX_BIN" -V 2>&1 | grep -q ngx_wasm_module \
        || die "NGINX_BIN=$NGINX_BIN was not built with ngx_wasm_module"
    printf '%s\n' "$NGINX_BIN"
    exit 0
fi

cache="${MTLS_AUTHZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtls-authz}"
capi_src="$ROOT/scripts/nginx-wasm/wasmtime-capi"
jobs="${JOBS:-$(nproc)}"
self="$ROOT/scripts/ensure-nginx.sh"

sha256() { sha256sum "$@" | awk '{print $1}'; }
key_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }

vendor="${NGX_VENDOR_DIR:-}"
if [[ -z "$vendor" && -d "$ROOT/../shared/vendor" ]]; then
    vendor="$(cd "$ROOT/../shared/vendor" && pwd)"
fi
nginx_tgz="${vendor:+$vendor/nginx-$NGINX_VERSION.tar.gz}"
wasmx_tgz="${vendor:+$vendor/ngx_wasm_module-$WASMX_COMMIT.tar.gz}"

# Archives other than the tested ones (e.g. nginx.org's release tarball) build their own cache
# entry; the tested ones need not be present once their entry exists.
nginx_sum=$NGINX_TGZ_SHA256
wasmx_sum=$WASMX_TGZ_SHA256
if [[ -n "$vendor" && -f "$nginx_tgz" && -f "$wasmx_tgz" ]]; then
    nginx_sum="$(sha256 "$nginx_tgz")"
    wasmx_sum="$(sha256 "$wasmx_tgz")"
    [[ "$nginx_sum" == "$NGINX_TGZ_SHA256" ]] \
        || note "$nginx_tgz is not the tested archive (sha256 $nginx_sum); building it anyway"
    [[ "$wasmx_sum" == "$WASMX_TGZ_SHA256" ]] \
        || note "$wasmx_tgz is not the tested archive (sha256 $wasmx_sum); building it anyway"
fi

# Keys: everything an entry is built from. The recipe is this script (for NGINX) and the
# wrapper crate + toolchain (for Wasmtime), so editing either rebuilds what it affects.
capi_key="$(key_of "$WASMTIME_VERSION" "$RUST_VERSION" "$(sha256 "$capi_src/Cargo.toml" \
    "$capi_src/Cargo.lock" "$capi_src/src/lib.rs")" "recipe 1: conf.h WASMTIME_FEATURE_WAT")"
capi_dir="$cache/wasmtime-$WASMTIME_VERSION-$capi_key"
nginx_key="$(key_of "$capi_key" "$nginx_sum" "$wasmx_sum" "$(sha256 "$self")")"
nginx_dir="$cache/nginx-$NGINX_VERSION-wasmx-$WASMX_COMMIT-$nginx_key"
nginx="$nginx_dir/sbin/nginx"

link_tools() {
    mkdir -p "$ROOT/.tools"
    ln -sfn "$nginx_dir" "$ROOT/.tools/nginx-wasm"
}

usable() { [[ -f "$nginx_dir/.complete" && -x "$nginx" ]] && "$nginx" -V 2>&1 | grep -q ngx_wasm_module; }

if usable; then
    link_tools
    printf '%s\n' "$nginx"
    exit 0
fi

[[ -n "$vendor" ]] || die "NGINX + ngx_wasm_module are not built yet and no sources were found:
  set NGX_VENDOR_DIR to a directory holding
    nginx-$NGINX_VERSION.tar.gz               ($NGINX_URL)
    ngx_wasm_module-$WASMX_COMMIT.tar.gz   ($WASMX_URL)
  (default: ../shared/vendor next to the checkout), or NGINX_BIN to an NGINX built with
  ngx_wasm_module."
for archive in "$nginx_tgz" "$wasmx_tgz"; do
    [[ -f "$archive" ]] || die "missing $archive (upstream: $NGINX_URL and $WASMX_URL)"
done

mkdir -p "$cache"
# One build per machine at a time: two checkouts testing at once wait for the first build.
exec 9>"$cache/.lock"
if command -v flock >/dev/null && ! flock -n 9; then
    note "another build holds $cache/.lock: waiting for it"
    flock 9
fi
if usable; then
    link_tools
    printf '%s\n' "$nginx"
    exit 0
fi

step() { # step DESCRIPTION COMMAND...: a timed step, progress on stderr
    local t0=$SECONDS
    note "$1"
    shift
    "$@" >&2
    note "  done in $((SECONDS - t0))s"
}

apt_packages() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [[ ${#missing[@]} -eq 0 ]] && return
    command -v apt-get >/dev/null || die "missing build packages (${missing[*]}) and no apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

rust_toolchain() {
    rustup toolchain list | grep -q "^$RUST_VERSION-" \
        || rustup toolchain install "$RUST_VERSION" --profile minimal
}

# Wasmtime's C API as a static library plus its headers (conf.h generated by the build).
build_wasmtime() {
    local work="$capi_dir.tmp.$$"
    rm -rf "$work" && mkdir -p "$work/crate"
    cp -R "$capi_src/." "$work/crate/"
    (
        cd "$work/crate"
        CARGO_TARGET_DIR="$work/target" cargo "+$RUST_VERSION" build --release --locked -j "$jobs"
    )
    local include
    include="$(ls -td "$work"/target/release/build/wasmtime-c-api-impl-*/out/include | head -n1)"
    [[ -d "$include" ]] || die "the Wasmtime C API build left no include directory"
    mkdir -p "$work/out/lib"
    cp -R "$include" "$work/out/include"
    cp "$work/target/release/libwasmtime.a" "$work/out/lib/"
    # wasmtime-c-api-impl 26.0.0's build script never defines WASMTIME_FEATURE_WAT although the
    # `wat` feature is on; without it ngx_wasm_module finds no wasmtime_wat2wasm().
    sed -i 's|^/\* #undef WASMTIME_FEATURE_WAT \*/|#define WASMTIME_FEATURE_WAT|' \
        "$work/out/include/wasmtime/conf.h"
    grep -q '^#define WASMTIME_FEATURE_WAT' "$work/out/include/wasmtime/conf.h" \
        || die "could not enable WASMTIME_FEATURE_WAT in conf.h"
    touch "$work/out/.complete"
    rm -rf "$capi_dir"
    mv -T "$work/out" "$capi_dir"
    rm -rf "$work"
}

build_nginx() {
    local work="$nginx_dir.tmp.$$"
    rm -rf "$work" && mkdir -p "$work/nginx" "$work/ngx_wasm_module"
    tar -xzf "$nginx_tgz" -C "$work/nginx" --strip-components=1
    tar -xzf "$wasmx_tgz" -C "$work/ngx_wasm_module" --strip-components=1
    (
        cd "$work/nginx"
        # A git archive has auto/configure; nginx.org's release tarball a top-level configure.
        local configure=./configure
        [[ -x "$configure" ]] || configure=./auto/configure
        NGX_IPC=0 \
        NGX_WASM_RUNTIME=wasmtime \
        NGX_WASM_RUNTIME_INC="$capi_dir/include" \
        NGX_WASM_RUNTIME_LIB="$capi_dir/lib" \
        NGX_WASM_RUNTIME_LD_OPT="$capi_dir/lib/libwasmtime.a" \
            "$configure" --prefix="$nginx_dir" \
            --with-http_ssl_module --with-http_v2_module \
            --add-module="$work/ngx_wasm_module"
        make -j "$jobs"
    )
    mkdir -p "$work/out/sbin"
    cp "$work/nginx/objs/nginx" "$work/out/sbin/nginx"
    "$work/out/sbin/nginx" -V >"$work/out/nginx-V.txt" 2>&1
    grep -q ngx_wasm_module "$work/out/nginx-V.txt" || die "the built NGINX lacks ngx_wasm_module"
    printf 'nginx %s (sha256 %s)\nngx_wasm_module %s (sha256 %s)\nwasmtime-c-api-impl %s (Rust %s)\n' \
        "$NGINX_VERSION" "$nginx_sum" "$WASMX_COMMIT" "$wasmx_sum" "$WASMTIME_VERSION" \
        "$RUST_VERSION" >"$work/out/sources.txt"
    touch "$work/out/.complete"
    rm -rf "$nginx_dir"
    mv -T "$work/out" "$nginx_dir"
    rm -rf "$work"
}

t0=$SECONDS
note "building NGINX $NGINX_VERSION + ngx_wasm_module $WASMX_COMMIT (Wasmtime $WASMTIME_VERSION) into $nginx_dir"
step "apt packages (${APT_PACKAGES[*]})" apt_packages
step "Rust $RUST_VERSION (rustup)" rust_toolchain
if [[ -f "$capi_dir/.complete" ]]; then
    note "Wasmtime C API: cached in $capi_dir"
else
    step "Wasmtime C API $WASMTIME_VERSION from crates.io -> $capi_dir (the slow part)" build_wasmtime
fi
step "NGINX $NGINX_VERSION + ngx_wasm_module (configure, make -j$jobs)" build_nginx
usable || die "the build finished but $nginx is not usable"
note "built $nginx in $((SECONDS - t0))s"
link_tools
printf '%s\n' "$nginx"
