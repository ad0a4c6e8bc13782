#!/usr/bin/env python3
"""Signs a CRL now, for e2e tests that need one expiring within seconds (issue 13: a fetch
failure keeps the last good CRL until it is stale, then denies).

    sign_crl.py CA.pem CA.key NUMBER NEXT_UPDATE_IN_SECONDS > crl.der

No entries; thisUpdate one minute ago (a clock slightly behind still accepts it).
"""

from __future__ import annotations

import datetime as dt
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


def main() -> int:
    ca_pem, key_pem, number, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(ca_pem, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(key_pem, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = dt.datetime.now(dt.timezone.utc)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(minutes=1))
        .next_update(now + dt.timedelta(seconds=seconds))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    sys.stdout.buffer.write(crl.public_bytes(serialization.Encoding.DER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
