#!/usr/bin/env python3
"""Distinct client certificates for the benchmark's identity-cache churn phase.

Every certificate is a valid clinician of the healthcare policy (OU=Clinicians, issued by the
fixture "Example Health Issuing CA", clientAuth EKU), so each request is parsed, authorised
and allowed, and each certificate is a new identity-cache entry. They share one key pair:
only the certificates need to differ, and signing is what takes time.

usage: gen_clients.py OUT_DIR COUNT
writes OUT_DIR/client-<i>.pem for i in 0..COUNT and OUT_DIR/client.key
"""
import datetime
import pathlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/certs/ca"
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2099, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)


def main(out_dir, count):
    ca_cert = x509.load_pem_x509_certificate((FIXTURES / "health-issuing.pem").read_bytes())
    ca_key = serialization.load_pem_private_key(
        (FIXTURES / "health-issuing.key").read_bytes(), password=None
    )
    key = ec.generate_private_key(ec.SECP256R1())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "client.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for i in range(count):
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Clinicians"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"bench-client-{i}"),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOT_BEFORE)
            .not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        (out_dir / f"client-{i}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(pathlib.Path(sys.argv[1]), int(sys.argv[2]))
