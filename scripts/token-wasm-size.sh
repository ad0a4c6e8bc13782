#!/usr/bin/env bash
# What token verification costs in the shipped .wasm (after wasm-opt -Oz, exactly as
# scripts/build-wasm.sh ships it). The filter does not verify tokens yet (issue 14, phase 2),
# so a copy of the tree gets a probe in the root context's on_configure that makes the token
# path reachable: `KeySet::from_jwks`, `token::verify` (every algorithm), the verified-token
# cache, certificate binding, a consistency check and the claim accessor, with every error
# message. The signature code is shared with CRL validation (scripts/crl-wasm-size.sh), so the
# token-specific cost is measured on top of the CRL probe as well as alone.
#
#   scripts/token-wasm-size.sh      # one line per variant: bytes after wasm-opt, delta
#
# Four release builds (LTO) in its own target directory under target/token-wasm-size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$ROOT/target/token-wasm-size"
tree="$work/tree"
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$work"

fresh_tree() {
    rm -rf "$tree"
    mkdir -p "$tree"
    (cd "$ROOT" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xmf - -C "$tree"  # -m: fresh mtimes, so cargo never reuses a build of another variant
    ln -sfn "$ROOT/.tools" "$tree/.tools"
}

build() {
    (cd "$tree" && bash scripts/build-wasm.sh 2>/dev/null)
}

# add_probe NAME MARKER: inserts the probe function NAME (below) and calls it from
# on_configure when the configuration's first byte is MARKER (never the case in practice).
add_probe() {
    python3 - "$tree/filters/proxy-wasm/src/wasm.rs" "$1" "$2" <<'PY'
import sys
path, name, marker = sys.argv[1], sys.argv[2], sys.argv[3]
probes = {
"crl_probe": '''
/// Measurement probe (scripts/token-wasm-size.sh): keeps the CRL path reachable.
fn crl_probe(bytes: &[u8]) -> usize {
    let (ca, crl) = bytes.split_at(bytes.len() / 2);
    let Ok(ca) = mtls_authz_core::crl::CaCertificate::parse(ca) else {
        return 0;
    };
    let now = mtls_authz_core::UnixTime::from_secs(u64::from(bytes.len() as u32));
    match mtls_authz_core::crl::RevocationList::from_crl(crl, &ca, now, &Default::default()) {
        Ok(list) => match mtls_authz_core::Identity::parse(bytes.get(1..).unwrap_or_default()) {
            Ok(identity) => usize::from(list.is_revoked(&identity)) + list.len(),
            Err(_) => list.len(),
        },
        Err(error) => error.code().len(),
    }
}
''',
"token_probe": '''
/// Measurement probe (scripts/token-wasm-size.sh): keeps the token path reachable.
fn token_probe(bytes: &[u8]) -> usize {
    use mtls_authz_core::token::{
        binding_matches, token_digest, verify, ClaimConsistency, ClaimPath, KeySet, TokenCache,
        TokenConfig,
    };
    let (jwks, token) = bytes.split_at(bytes.len() / 2);
    let keys = match KeySet::from_jwks(jwks, &Default::default()) {
        Ok(keys) => keys,
        Err(error) => return error.code().len() + error.to_string().len(),
    };
    let Ok(config) = TokenConfig::new("issuer", &["audience"]) else {
        return 1;
    };
    let now = mtls_authz_core::UnixTime::from_secs(u64::from(bytes.len() as u32));
    let mut cache = TokenCache::new(Default::default());
    let digest = token_digest(token);
    if cache.get(&digest, now, 1).is_some() {
        return 2;
    }
    match verify(token, &keys, &config, now) {
        Ok(verified) => {
            let mut n = 0;
            if let (Ok(identity), Ok(path)) = (
                mtls_authz_core::Identity::parse(bytes.get(1..).unwrap_or_default()),
                ClaimPath::parse(core::str::from_utf8(jwks).unwrap_or_default()),
            ) {
                n += match binding_matches(verified.claims(), &identity) {
                    Ok(()) => 1,
                    Err(error) => error.to_string().len(),
                };
                let rule = ClaimConsistency::new(path.clone(), mtls_authz_core::Selector::SpiffeId);
                n += match rule.check(verified.claims(), &identity) {
                    Ok(()) => 1,
                    Err(error) => error.to_string().len(),
                };
                n += usize::from(verified.claims().any_value(&path, |v| v == "x"));
            }
            let (until, weight) = (verified.valid_until(), verified.memory_bytes());
            cache.insert(digest, verified, now, until, 1, weight);
            n + usize::from(cache.get(&digest, now, 1).is_some())
        }
        Err(error) => error.code().len() + error.to_string().len(),
    }
}
''',
}
s = open(path).read()
s = s.replace("impl RootContext for MtlsAuthzRoot {", probes[name] + "\nimpl RootContext for MtlsAuthzRoot {", 1)
# Before the configure call (a second probe goes before the first one's call).
anchor = "        match Filter::configure(&mut host, bytes.as_deref())"
assert anchor in s, "on_configure changed: update the probe anchor"
call = ("        if let Some(b) = bytes.as_deref().filter(|b| b.first() == Some(&%s)) {\n"
        "            core::hint::black_box(%s(b));\n        }\n") % (marker, name)
s = s.replace(anchor, call + anchor, 1)
open(path, "w").write(s)
PY
}

size() { wc -c <"$1"; }

fresh_tree
baseline="$(size "$(build)")"
printf '%-34s %8s bytes\n' "filter as shipped" "$baseline"

add_probe token_probe 0xfe
token="$(size "$(build)")"
printf '%-34s %8s bytes  (+%s)\n' "+ token path" "$token" "$((token - baseline))"

fresh_tree
add_probe crl_probe 0xff
crl="$(size "$(build)")"
printf '%-34s %8s bytes  (+%s)\n' "+ CRL path" "$crl" "$((crl - baseline))"

add_probe token_probe 0xfe
both="$(size "$(build)")"
printf '%-34s %8s bytes  (+%s; token-specific +%s)\n' "+ CRL path + token path" "$both" \
    "$((both - baseline))" "$((both - crl))"
