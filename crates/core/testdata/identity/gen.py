#!/usr/bin/env python3
"""Generates the certificates the core's identity unit tests parse (include_bytes!).

Run: /work/main/.venv/bin/python crates/core/testdata/identity/gen.py
Deterministic: Ed25519 keys come from fixed seeds and Ed25519 signatures are deterministic,
so re-running rewrites byte-identical files (`git diff --exit-code` stays clean).

`full.pem` and the `real-*` certificates are built with `cryptography` (what real tooling
emits). The `crafted-*` certificates are assembled with the tiny DER encoder below, because
they need encodings `cryptography` will not produce (every string type, negative serials,
duplicate extensions, bad IP lengths, x400Address SANs...). Expected values live in the
Rust tests, written by hand: they are the spec.
"""
import datetime
import hashlib
import ipaddress
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = pathlib.Path(__file__).resolve().parent
UTC = datetime.timezone.utc
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime.datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


def key(name: str) -> ed25519.Ed25519PrivateKey:
    seed = hashlib.sha256(b"mtls-authz identity test key " + name.encode()).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


ISSUER_KEY = key("issuer")
ISSUER = x509.Name([
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health"),
    x509.NameAttribute(NameOID.COMMON_NAME, "Test Issuing CA"),
])


# ---------------------------------------------------------------- certificates via cryptography
def builder(subject: x509.Name, serial: int = 0x01AB) -> x509.CertificateBuilder:
    subject_key = key("subject")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ISSUER)
        .public_key(subject_key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ISSUER_KEY.public_key()),
            critical=False,
        )
    )


def client_auth(b: x509.CertificateBuilder) -> x509.CertificateBuilder:
    return b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)


def write_cert(name: str, b: x509.CertificateBuilder, pem: bool = False) -> None:
    cert = b.sign(ISSUER_KEY, None)
    if pem:
        (OUT / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        (OUT / f"{name}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))


def cn(value: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health"),
        x509.NameAttribute(NameOID.COMMON_NAME, value),
    ])


def real_certs() -> None:
    full_subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "US")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "org")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Clinicians")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Research")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, "Dr")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.SERIAL_NUMBER, "E-1001")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.USER_ID, "alice01")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "alice@example.org")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "alice")]),
    ])
    b = (
        builder(full_subject)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("a.example.org"),
            x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03upn"),
            x509.UniformResourceIdentifier("spiffe://example.org/ns/billing/sa/api"),
            x509.RFC822Name("alice@example.org"),
            x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dir")])),
            x509.IPAddress(ipaddress.ip_address("192.0.2.10")),
            x509.DNSName("b.example.org"),
            x509.IPAddress(ipaddress.ip_address("2001:db8:0:0:1:0:0:1")),
            x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4")),
        ]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([
            ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.SERVER_AUTH,
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.9"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key("subject").public_key()), critical=False)
        # Custom extensions: a UTF8String, an IA5String, a BMPString, an INTEGER (-> hex) and
        # a critical unknown one (fine: we do not validate).
        .add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x0c\x14api-client-service-a"), critical=False)
        .add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x16\x05tier1"), critical=False)
        .add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.3"), b"\x1e\x04\x00h\x00i"), critical=False)
        .add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.4"), b"\x02\x02\x01\x00"), critical=True)
    )
    write_cert("full", b, pem=True)

    write_cert("real-multi-valued-rdn", client_auth(builder(x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Health")]),
        x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Clinicians"),
            x509.NameAttribute(NameOID.COMMON_NAME, "x"),
        ]),
    ]))))
    write_cert("real-cn-comma-ou-admins", client_auth(builder(cn("x,OU=Admins"))))
    write_cert("real-cn-nul", client_auth(builder(cn("admin\x00.evil"))))
    write_cert("real-ou-bmpstring", client_auth(builder(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Admins", _type=_ASN1Type.BMPString),
        x509.NameAttribute(NameOID.COMMON_NAME, "bmp"),
    ]))))
    write_cert("real-several-uri-sans", client_auth(builder(cn("uris")).add_extension(
        x509.SubjectAlternativeName([
            x509.UniformResourceIdentifier("spiffe://example.org/ns/a/sa/one"),
            x509.UniformResourceIdentifier("spiffe://example.org/ns/b/sa/two"),
        ]), critical=False)))
    write_cert("real-non-spiffe-uri", client_auth(builder(cn("https")).add_extension(
        x509.SubjectAlternativeName([
            x509.UniformResourceIdentifier("https://example.org/ns/a"),
        ]), critical=False)))
    write_cert("real-invalid-spiffe-uri", client_auth(builder(cn("bad-spiffe")).add_extension(
        x509.SubjectAlternativeName([
            x509.UniformResourceIdentifier("spiffe://Example.org/ns/a"),
        ]), critical=False)))
    # 0xff00aa encodes as 00 ff 00 aa: the leading 00 octet is dropped, the inner one kept.
    write_cert("real-leading-zero-serial", client_auth(builder(cn("serial"), serial=0xFF00AA)))
    write_cert("real-ca", client_auth(builder(cn("ca")).add_extension(
        x509.BasicConstraints(ca=True, path_length=0), critical=True)))
    write_cert("real-no-eku", builder(cn("no-eku")))


# ---------------------------------------------------------------- hand-built DER
def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(items))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.insert(0, 0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(chunk)
    return tlv(0x06, body)


def utf8(s: str) -> bytes:
    return tlv(0x0C, s.encode())


def utc_time(dt: datetime.datetime) -> bytes:
    return tlv(0x17, dt.strftime("%y%m%d%H%M%SZ").encode())


def generalized_time(dt: datetime.datetime) -> bytes:
    return tlv(0x18, dt.strftime("%Y%m%d%H%M%SZ").encode())


def name(*rdns) -> bytes:
    """Each RDN is a list of (dotted OID, value TLV); emitted in the given order."""
    return seq(*[set_of(*[seq(oid(o), v) for o, v in rdn]) for rdn in rdns])


def extension(dotted: str, value: bytes, critical: bool = False) -> bytes:
    return seq(oid(dotted), *([tlv(0x01, b"\xff")] if critical else []), tlv(0x04, value))


ED25519 = seq(oid("1.3.101.112"))
CN, O, OU = "2.5.4.3", "2.5.4.10", "2.5.4.11"
SAN, EKU = "2.5.29.17", "2.5.29.37"
CRAFTED_ISSUER = name([(O, utf8("Example Health"))], [(CN, utf8("Test Issuing CA"))])
CLIENT_AUTH_EKU = extension(EKU, seq(oid("1.3.6.1.5.5.7.3.2")))


def tbs(*, subject: bytes, serial: bytes = b"\x01", extensions=(CLIENT_AUTH_EKU,),
        version: bytes | None = b"\x02", not_before: bytes | None = None,
        not_after: bytes | None = None, after_spki: bytes = b"") -> bytes:
    spki = seq(ED25519, tlv(0x03, b"\x00" + key("subject").public_key().public_bytes_raw()))
    fields = []
    if version is not None:
        fields.append(tlv(0xA0, tlv(0x02, version)))
    fields += [
        tlv(0x02, serial),
        ED25519,
        CRAFTED_ISSUER,
        seq(not_before or utc_time(NOT_BEFORE), not_after or generalized_time(NOT_AFTER)),
        subject,
        spki,
    ]
    fields.append(after_spki)
    if extensions is not None:
        fields.append(tlv(0xA3, seq(*extensions)))
    return seq(*fields)


def write_crafted(file_name: str, tbs_der: bytes) -> None:
    signature = ISSUER_KEY.sign(tbs_der)
    (OUT / f"crafted-{file_name}.der").write_bytes(seq(tbs_der, ED25519, tlv(0x03, b"\x00" + signature)))


def crafted_certs() -> None:
    one_cn = name([(CN, utf8("crafted"))])
    write_crafted("encodings", tbs(subject=name(
        [("2.5.4.6", tlv(0x13, b"US"))],                                  # PrintableString
        [(O, tlv(0x14, b"Caf\xe9 T61"))],                                # TeletexString (Latin-1)
        [(OU, tlv(0x1E, "Ωmega😀".encode("utf-16-be")))],               # BMPString + surrogate pair
        [(OU, tlv(0x1C, "Uni😀".encode("utf-32-be")))],                 # UniversalString
        [(OU, tlv(0x1A, b"Visible"))],                                  # VisibleString
        [("2.5.4.5", tlv(0x12, b"0042 17"))],                           # NumericString
        [("1.2.840.113549.1.9.1", tlv(0x16, b"a@example.org"))],        # IA5String
        [("1.3.6.1.4.1.55555.7", tlv(0x02, b"\x05"))],                  # INTEGER -> #hex
        [(OU, tlv(0x13, b"Multi")), (CN, utf8("Zoë + co"))],           # multi-valued RDN
    )))
    write_crafted("negative-serial", tbs(subject=one_cn, serial=b"\xff\x7f"))
    write_crafted("zero-serial", tbs(subject=one_cn, serial=b"\x00"))
    write_crafted("twenty-octet-serial", tbs(subject=one_cn, serial=b"\x7f" + b"\x11" * 19))
    write_crafted("duplicate-extension", tbs(subject=one_cn, extensions=(
        CLIENT_AUTH_EKU,
        extension(SAN, seq(tlv(0x82, b"a.example.org"))),
        extension(SAN, seq(tlv(0x82, b"b.example.org"))),
    )))
    write_crafted("ip-san-bad-length", tbs(subject=one_cn, extensions=(
        extension(SAN, seq(tlv(0x87, b"\xc0\x00\x02\x01\x00"))),
    )))
    write_crafted("bmp-unpaired-surrogate", tbs(subject=name([(CN, tlv(0x1E, b"\xd8\x3d\x00A"))])))
    write_crafted("universal-bad-length", tbs(subject=name([(CN, tlv(0x1C, b"\x00\x00A"))])))
    write_crafted("utf8-invalid", tbs(subject=name([(CN, tlv(0x0C, b"\xc3\x28"))])))
    write_crafted("empty-rdn", tbs(subject=seq(set_of())))
    write_crafted("v1", tbs(subject=one_cn, version=None, extensions=None))
    write_crafted("v1-explicit", tbs(subject=one_cn, version=b"\x00", extensions=None))
    write_crafted("v1-with-extensions", tbs(subject=one_cn, version=None))
    write_crafted("x400-and-other-sans", tbs(subject=one_cn, extensions=(
        extension(SAN, seq(
            tlv(0xA3, seq(tlv(0x61, b""))),                  # x400Address: not modelled, skipped
            tlv(0x88, oid("1.2.3.4")[2:]),                   # registeredID: skipped
            tlv(0x82, b"kept.example.org"),
            tlv(0x86, b"spiffe://example.org/only"),
        )),
    )))
    write_crafted("san-constructed-dns", tbs(subject=one_cn, extensions=(
        extension(SAN, seq(tlv(0xA2, tlv(0x16, b"a.example.org")))),
    )))
    write_crafted("san-non-ascii-dns", tbs(subject=one_cn, extensions=(
        extension(SAN, seq(tlv(0x82, "bücher.example".encode()))),
    )))
    write_crafted("empty-subject", tbs(subject=seq(), extensions=(
        CLIENT_AUTH_EKU,
        extension(SAN, seq(tlv(0x86, b"spiffe://example.org/ns/x"))),
    )))
    write_crafted("utc-times", tbs(
        subject=one_cn,
        not_before=utc_time(datetime.datetime(2020, 2, 29, 12, 30, 15, tzinfo=UTC)),
        not_after=utc_time(datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ))
    write_crafted("eku-absent-empty-extensions", tbs(subject=one_cn, extensions=(
        extension("2.5.29.19", seq()),
    )))
    write_crafted("eku-any", tbs(subject=one_cn, extensions=(
        extension(EKU, seq(oid("2.5.29.37.0"), oid("1.3.6.1.5.5.7.3.9"))),
        extension("2.5.29.35", seq(tlv(0x80, bytes.fromhex("00112233aabbccdd")))),
    )))
    write_crafted("unique-id-in-v1", tbs(subject=one_cn, version=None, extensions=None,
                                         after_spki=tlv(0x81, b"\x00\x01")))
    write_crafted("unknown-tbs-field", tbs(subject=one_cn, extensions=None,
                                           after_spki=tlv(0xA4, tlv(0x05, b""))))


if __name__ == "__main__":
    real_certs()
    crafted_certs()
