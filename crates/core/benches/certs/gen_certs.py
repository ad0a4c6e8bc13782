#!/usr/bin/env python3
"""Generates the two leaf certificates the core benchmarks parse.

Both leaves carry what a typical service client certificate carries (O/OU/CN subject, a
SPIFFE URI SAN and a DNS SAN, clientAuth EKU, key usage, basic constraints, AKI/SKI), so the
only difference the benchmark sees is the key type: an RSA-2048 leaf signed by an RSA-2048 CA
(larger SPKI and signature, the common enterprise PKI) or a P-256 leaf signed by a P-256 CA. Validity is pinned (2025-01-01 .. 2099-12-31); keys are fresh on every run, so
the PEM changes but its shape and size class do not.

Run: /work/main/.venv/bin/python crates/core/benches/certs/gen_certs.py
"""
import datetime
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = pathlib.Path(__file__).resolve().parent
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2099, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)


def name(cn, ou=None):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health")]
    if ou:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def main():
    ca_name = name("Example Health Issuing CA")
    for stem, new_key in [
        ("rsa2048-leaf", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("p256-leaf", lambda: ec.generate_private_key(ec.SECP256R1())),
    ]:
        ca_key = new_key()
        leaf_key = new_key()
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name("orders-api", "Clinicians"))
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOT_BEFORE)
            .not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=True,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([
                    x509.UniformResourceIdentifier("spiffe://example.org/ns/orders/sa/api"),
                    x509.DNSName("orders-api.example.org"),
                ]),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        (OUT / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main()
