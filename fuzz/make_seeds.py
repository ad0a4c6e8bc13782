#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the shared fixtures (tests/fixtures) and the CLI's test
policies: every certificate (PEM and DER), every CRL and token, every request-target and XFCC
header of the case tables, every policy, plus hand-written DN and header-value seeds for the
injection classes.

The seeds are committed; `--check` (run by tests/properties) fails when they are stale.
Deterministic: same fixtures, same files."""
import base64
import hashlib
import json
import re
import sys
import urllib.parse
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
FIXTURES = ROOT / "tests" / "fixtures"


def cert_files():
    for path in sorted((FIXTURES / "certs").rglob("*")):
        if path.suffix in (".pem", ".der") and path.name != "bundle.pem":
            yield path


def pem_to_der(text):
    match = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    if not match:
        return None
    try:
        return base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except ValueError:
        return None


def cases():
    for table in sorted((FIXTURES / "cases").glob("*.json")):
        yield from json.loads(table.read_text())["cases"]


def url_encode(data):
    return urllib.parse.quote(data, safe="-._~").encode()


def expand_xfcc(template):
    def cert(match):
        name = match.group(1)
        path = FIXTURES / "certs" / name
        if path.suffix not in (".pem", ".der"):
            path = path.with_suffix(".pem") if path.with_suffix(".pem").exists() else path.with_suffix(".der")
        data = path.read_bytes()
        if path.suffix == ".der":
            body = base64.encodebytes(data)
            data = b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"
        return url_encode(data).decode()

    return re.sub(r"\{cert:([^}]+)\}", cert, template).encode()


def dn_record(kind, value, same_rdn=False, non_string=False):
    value = value.encode() if isinstance(value, str) else value
    flags = (1 if same_rdn else 0) | (2 if non_string else 0)
    return bytes([kind, flags, len(value)]) + value


# Attribute indexes in tests/properties/src/dn.rs TYPES: 0 CN, 1 OU, 2 O, 3 C, 4 DC, 5 email, 6 OID.
DN_SEEDS = {
    "cn-comma-ou-admins": dn_record(2, "Example Health") + dn_record(1, "Billing") + dn_record(0, "x,OU=Admins"),
    "cn-equals": dn_record(0, "role=admin"),
    "plus-and-multi-valued": dn_record(1, "Clinicians") + dn_record(0, "a+OU=Admins", same_rdn=True),
    "specials": dn_record(0, '"<>;\\#') + dn_record(1, "#leading hash"),
    "edge-spaces": dn_record(0, " padded ") + dn_record(1, "  "),
    "controls-and-nul": dn_record(0, "a\x00b\r\nc\x7f"),
    "non-ascii": dn_record(0, "zoë ＯＵ＝Admins") + dn_record(1, "\u2028"),
    "non-string": dn_record(6, b"\x02\x01\x05", non_string=True) + dn_record(0, "plain"),
    "empty-value": dn_record(0, "") + dn_record(4, "example"),
}

FORWARD_SEEDS = {
    "plain": b"\x00CN=alice,OU=Clinicians,O=Example Health",
    "multi-comma": b"\x01a,b",
    "crlf": b"\x00x\r\nx-client-role: admin",
    "percent": b"\x01100%25 and %",
    "edge-space": b"\x00 padded ",
    "non-ascii": b"\x01zo\xc3\xab \xe2\x80\xa8",
}

XFCC_EXTRA = {
    "quoted-separators": b'By="spiffe://a/b,c;d=e";Hash=abc;Cert="x"',
    "escaped-quote": b'Subject="CN=a\\"b";URI=spiffe://a/b',
    "no-cert": b"By=spiffe://edge;Hash=abc",
    "two-elements": b"Hash=a;URI=spiffe://a/b,Hash=b;URI=spiffe://c/d",
}


def seeds():
    out = {name: {} for name in ("cert_der", "cert_pem", "crl", "dn", "xfcc", "path", "policy", "token", "forward")}
    for path in cert_files():
        rel = path.relative_to(FIXTURES / "certs").with_suffix("")
        name = str(rel).replace("/", "-")
        data = path.read_bytes()
        if path.suffix == ".der":
            out["cert_der"][name] = data
        else:
            out["cert_pem"][name] = data
            der = pem_to_der(data)
            if der is not None:
                out["cert_der"][name] = der
    for path in sorted((FIXTURES / "crls").glob("*")):
        if path.suffix in (".crl", ".pem"):
            out["crl"][path.name] = path.read_bytes()
    for path in sorted((FIXTURES / "tokens").glob("*.jwt")):
        out["token"][path.stem] = path.read_bytes()
    for case in cases():
        out["path"][case["id"]] = case["path"].encode()
        if "xfcc" in case:
            out["xfcc"][case["id"]] = expand_xfcc(case["xfcc"])
    for path in sorted((FIXTURES / "policies").glob("*.json")):
        out["policy"][path.stem] = path.read_bytes()
    for path in sorted((ROOT / "crates" / "cli" / "testdata").glob("*/*.json")):
        if path.parent.name in ("invalid", "lint"):
            out["policy"][f"cli-{path.parent.name}-{path.stem}"] = path.read_bytes()
    out["dn"].update(DN_SEEDS)
    out["forward"].update(FORWARD_SEEDS)
    out["xfcc"].update(XFCC_EXTRA)
    # One file per distinct content: identical inputs add nothing to a corpus.
    for target, files in out.items():
        seen = set()
        for name in sorted(files):
            digest = hashlib.sha256(files[name]).digest()
            if digest in seen:
                del files[name]
            seen.add(digest)
    return out


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for target, files in seeds().items():
        directory = FUZZ / "seeds" / target
        wanted = {name: data for name, data in files.items()}
        present = {p.name: p.read_bytes() for p in directory.glob("*")} if directory.exists() else {}
        if present != wanted:
            stale.append(target)
            if not check:
                directory.mkdir(parents=True, exist_ok=True)
                for name in set(present) - set(wanted):
                    (directory / name).unlink()
                for name, data in wanted.items():
                    (directory / name).write_bytes(data)
    if check and stale:
        sys.exit(f"fuzz seeds are stale for {', '.join(stale)}: run fuzz/make_seeds.py")
    total = sum(len(f) for f in seeds().values())
    print(f"fuzz seeds: {total} files {'checked' if check else 'written'}")


if __name__ == "__main__":
    main()
