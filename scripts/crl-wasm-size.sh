#!/usr/bin/env bash
# What CRL validation and each signature family cost in the shipped .wasm (after wasm-opt -Oz,
# exactly as scripts/build-wasm.sh ships it). The filter does not call the CRL code yet (issue
# 13, phase 2), so a copy of the tree gets a probe in the root context's on_configure that makes
# `CaCertificate::parse` + `RevocationList::from_crl` + `is_revoked` reachable; variants keep
# one signature family reachable by turning the others' arms in crypto/key.rs into refusals.
#
#   scripts/crl-wasm-size.sh      # prints one line per variant: bytes after wasm-opt, delta
#
# Takes a few release builds (LTO) in its own target directory under target/crl-wasm-size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$ROOT/target/crl-wasm-size"
tree="$work/tree"
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$work"

fresh_tree() {
    rm -rf "$tree"
    mkdir -p "$tree"
    (cd "$ROOT" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$tree"
    # Same toolchain files (.tools: wasm-opt) as the checkout.
    ln -sfn "$ROOT/.tools" "$tree/.tools"
}

build() {
    (cd "$tree" && bash scripts/build-wasm.sh 2>/dev/null)
}

# The probe: CA certificate + CRL from the plugin configuration (never sent in practice).
add_probe() {
    python3 - "$tree/filters/proxy-wasm/src/wasm.rs" <<'EOF'
import sys
path = sys.argv[1]
s = open(path).read()
probe = '''
/// Measurement probe (scripts/crl-wasm-size.sh): keeps the CRL path reachable.
fn crl_probe(bytes: &[u8]) -> usize {
    let (ca, crl) = bytes.split_at(bytes.len() / 2);
    let Ok(ca) = mtls_authz_core::crl::CaCertificate::parse(ca) else {
        return 0;
    };
    let now = mtls_authz_core::UnixTime::from_secs(u64::from(bytes.len() as u32));
    match mtls_authz_core::crl::RevocationList::from_crl(crl, &ca, now, &Default::default()) {
        Ok(list) => match mtls_authz_core::Identity::parse(ca_bytes(bytes)) {
            Ok(identity) => usize::from(list.is_revoked(&identity)) + list.len(),
            Err(_) => list.len(),
        },
        Err(error) => error.code().len(),
    }
}

fn ca_bytes(bytes: &[u8]) -> &[u8] {
    bytes.get(1..).unwrap_or_default()
}
'''
s = s.replace("impl RootContext for MtlsAuthzRoot {", probe + "\nimpl RootContext for MtlsAuthzRoot {", 1)
s = s.replace("        self.flush();\n        match Filter::configure(",
              "        self.flush();\n        if let Some(b) = bytes.as_deref().filter(|b| b.first() == Some(&0xff)) {\n            core::hint::black_box(crl_probe(b));\n        }\n        match Filter::configure(", 1)
open(path, "w").write(s)
EOF
}

# Keeps one family's verify arm and key constructor; the others refuse.
keep_family() {
    python3 - "$tree/crates/core/src/crypto/key.rs" "$1" <<'EOF'
import re, sys
path, keep = sys.argv[1], sys.argv[2]
s = open(path).read()
arms = {"rsa": "(Key::Rsa { key, bits }, _) => {", "p256": "(Key::P256(key), _) => {",
        "p384": "(Key::P384(key), _) => {", "ed25519": "(Key::Ed25519(key), _) => {"}
for family, head in arms.items():
    if family == keep:
        continue
    start = s.index(head)
    depth, i = 0, start + len(head) - 1
    while True:
        if s[i] == "{": depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0: break
        i += 1
    pattern = {"rsa": "(Key::Rsa { .. }, _)", "p256": "(Key::P256(_), _)",
               "p384": "(Key::P384(_), _)", "ed25519": "(Key::Ed25519(_), _)"}[family]
    s = s[:start] + pattern + " => return Err(bad())," + s[i + 1:]
refuse = 'return Err(CryptoError::MalformedKey(String::new()));'
constructors = {"rsa": "pub fn rsa_from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, CryptoError> {",
                "ed25519": "pub fn ed25519_from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {"}
for family, head in constructors.items():
    if family != keep:
        s = s.replace(head, head + "\n        " + refuse, 1)
ec_head = "pub fn ec_from_sec1(curve: EcCurve, point: &[u8]) -> Result<Self, CryptoError> {"
if keep not in ("p256", "p384"):
    s = s.replace(ec_head, ec_head + "\n        " + refuse, 1)
else:
    other = "P384" if keep == "p256" else "P256"
    s = s.replace(f"EcCurve::{other} => Key::{other}(", f"EcCurve::{other} => return Err(bad_point()), EcCurve::{other} => Key::{other}(", 1)
open(path, "w").write(s)
EOF
}

size() { wc -c <"$1"; }

fresh_tree
baseline="$(size "$(build)")"
printf '%-28s %8s bytes\n' "filter as shipped (no CRL)" "$baseline"

add_probe
all="$(size "$(build)")"
printf '%-28s %8s bytes  (+%s)\n' "+ CRL, every family" "$all" "$((all - baseline))"

for family in none rsa p256 p384 ed25519; do
    fresh_tree
    add_probe
    keep_family "$family"
    bytes="$(size "$(build)")"
    printf '%-28s %8s bytes  (+%s)\n' "+ CRL, only $family" "$bytes" "$((bytes - baseline))"
done
