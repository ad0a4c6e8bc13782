#!/usr/bin/env python3
"""Policy variants for `bench/run.sh --against-policy` (issues 13 and 14), written to OUT_DIR:

- crl-100k.json: the healthcare fixture policy with `issuers.health-ca.certificate` and an inline
  `revocation.crl` of 100,000 entries (8-octet serials, none of them the bench client's), signed
  by the fixture health CA (its committed key), `grace_seconds` large so it is never stale.
- token.json: the healthcare fixture policy with the `tokens` section of
  tests/fixtures/policies/tokens.json and `require_token` on `records-read` (the benchmarked
  route). tests/fixtures/tokens/valid-es256.jwt is bound (cnf x5t#S256) to
  healthcare/clinician-alice, the certificate oha presents; pass it with
  `--header "authorization: Bearer $(cat tests/fixtures/tokens/valid-es256.jwt)"`.

Usage: gen_policy_variants.py OUT_DIR  (run with the repository's .venv python: `cryptography`)
"""
import base64
import datetime
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ENTRIES = 100_000


def crl_100k() -> str:
    ca_pem = (FIXTURES / "certs/ca/health-issuing.pem").read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    key = serialization.load_pem_private_key((FIXTURES / "certs/ca/health-issuing.key").read_bytes(), None)
    this_update = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca.subject)
               .last_update(this_update)
               .next_update(this_update + datetime.timedelta(days=7))
               .add_extension(x509.CRLNumber(1), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),
                              critical=False))
    for i in range(ENTRIES):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(0x7B00_0000_0000_0000 + i)
            .revocation_date(this_update)
            .build())
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return ca_pem.decode(), base64.b64encode(der).decode()


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    healthcare = json.loads((FIXTURES / "policies/healthcare.json").read_text())

    token = json.loads(json.dumps(healthcare))
    token["tokens"] = json.loads((FIXTURES / "policies/tokens.json").read_text())["tokens"]
    for rule in token["rules"]:
        if rule["name"] == "records-read":
            rule["require_token"] = True
    (out_dir / "token.json").write_text(json.dumps(token, indent=2))

    certificate, crl = crl_100k()
    revocation = json.loads(json.dumps(healthcare))
    issuer = revocation["issuers"]["health-ca"]
    issuer["certificate"] = certificate
    issuer["revocation"] = {"crl": crl, "grace_seconds": 4_000_000_000}
    (out_dir / "crl-100k.json").write_text(json.dumps(revocation, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
