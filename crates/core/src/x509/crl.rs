//! DER adapter for [`crate::crl`]: `CertificateList` → [`Crl`], and a CA certificate →
//! [`CaCertificate`].
//!
//! ```text
//! CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
//! TBSCertList ::= SEQUENCE {
//!     version Version OPTIONAL (v2), signature AlgorithmIdentifier, issuer Name,
//!     thisUpdate Time, nextUpdate Time OPTIONAL,
//!     revokedCertificates SEQUENCE OF SEQUENCE {
//!         userCertificate CertificateSerialNumber, revocationDate Time,
//!         crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
//!     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
//! ```
//! The list is walked in place rather than decoded into `x509_cert::crl::CertificateList`:
//! that type would allocate an owned entry (and an extension vector) per revoked certificate,
//! while a 100,000-entry CRL only needs its serials. Entries are counted first (headers only),
//! so the limit applies before anything is allocated and the set is sized once. Leaf types
//! (`Time`, `IntRef`, extensions) still come from `der`/`x509-cert`, with their strict DER.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use der::asn1::{AnyRef, BitStringRef, IntRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Header, Reader, Sequence, SliceReader, Tag, TagMode, TagNumber, Tagged};
use smallvec::SmallVec;
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::time::Time;

use super::extensions::{AuthorityKeyIdentifierRef, ExtensionRef};
use super::{name, oid, pem, serial_octets};
use crate::crl::{
    CaCertificate, Crl, CrlEntry, CrlError, CrlLimits, CrlNumber, RevocationReason, RevokedSerials,
    SerialKey, MAX_PROBLEMS, MAX_SERIAL_OCTETS,
};
use crate::crypto::{PublicKey, SignatureAlgorithm};
use crate::hex;
use crate::identity::CertError;
use crate::time::UnixTime;

const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const ISSUER_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const AUTHORITY_INFO_ACCESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// Longest CRL number (RFC 5280 §5.2.3: "MUST NOT use CRLNumber values longer than 20 octets").
const MAX_CRL_NUMBER_OCTETS: usize = 20;

fn der_error(field: &str) -> impl Fn(der::Error) -> CrlError + '_ {
    move |error| CrlError::Der(format!("{field}: {error}"))
}

/// The content octets of the next element, which must be a SEQUENCE.
fn read_sequence<'a>(reader: &mut SliceReader<'a>, field: &str) -> Result<&'a [u8], CrlError> {
    let element = AnyRef::decode(reader).map_err(der_error(field))?;
    if element.tag() != Tag::Sequence {
        return Err(CrlError::Der(format!(
            "{field}: expected a SEQUENCE, found {}",
            element.tag()
        )));
    }
    Ok(element.value())
}

fn read_time(reader: &mut SliceReader<'_>, field: &str) -> Result<UnixTime, CrlError> {
    let time = Time::decode(reader).map_err(der_error(field))?;
    Ok(UnixTime::from_secs(time.to_unix_duration().as_secs()))
}

/// A revocationDate: its value never matters (revoked is revoked), so instead of converting it
/// (a tenth of the parse time of a large CRL) only its DER shape is checked: a UTCTime
/// `YYMMDDHHMMSSZ` or a GeneralizedTime `YYYYMMDDHHMMSSZ` (RFC 5280 §5.1.2.6 forms).
fn skip_revocation_date(reader: &mut SliceReader<'_>, number: usize) -> Result<(), CrlError> {
    let time = AnyRef::decode(reader).map_err(|e| {
        CrlError::Der(format!(
            "revokedCertificates entry #{number}: revocationDate: {e}"
        ))
    })?;
    let digits = match time.tag() {
        Tag::UtcTime => 12,
        Tag::GeneralizedTime => 14,
        other => {
            return Err(CrlError::Der(format!(
                "revokedCertificates entry #{number}: revocationDate is a {other}, not a Time"
            )))
        }
    };
    match time.value().split_at_checked(digits) {
        Some((digits, b"Z")) if digits.iter().all(u8::is_ascii_digit) => Ok(()),
        _ => Err(CrlError::Der(format!(
            "revokedCertificates entry #{number}: revocationDate is not a DER {}",
            time.tag()
        ))),
    }
}

fn next_is_time(reader: &SliceReader<'_>) -> bool {
    // UTCTime (0x17) or GeneralizedTime (0x18).
    matches!(reader.peek_byte(), Some(0x17 | 0x18))
}

/// Problems collected while reading, capped at [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    list: Vec<CrlError>,
    more: usize,
}

impl Problems {
    fn push(&mut self, problem: CrlError) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(problem);
        } else {
            self.more += 1;
        }
    }
}

/// What the CRL-level extensions say.
#[derive(Default)]
struct CrlExtensions {
    number: Option<CrlNumber>,
    authority_key_id: Option<Vec<u8>>,
    distribution_points: Vec<String>,
    only_user_certs: bool,
    has_freshest_crl: bool,
}

/// The whole list: [`parse_crl_header`], then [`read_crl_entries`].
pub(crate) fn parse_crl<'a>(der: &'a [u8], limits: &CrlLimits) -> Result<Crl<'a>, CrlError> {
    let mut crl = parse_crl_header(der, limits)?;
    read_crl_entries(&mut crl, limits)?;
    Ok(crl)
}

/// Everything but the entries: the structure, the signature's bytes, the issuer, the times and
/// the CRL extensions, with their problems. The entries are located, not read (no entries, no
/// serials yet), so a list can be checked against its CA before the walk over them that costs
/// most for a long list.
pub(crate) fn parse_crl_header<'a>(der: &'a [u8], limits: &CrlLimits) -> Result<Crl<'a>, CrlError> {
    if der.is_empty() {
        return Err(CrlError::Empty);
    }
    if der.len() > limits.max_der_bytes {
        return Err(CrlError::TooLarge {
            len: der.len(),
            max: limits.max_der_bytes,
        });
    }
    let mut outer = SliceReader::new(der).map_err(der_error("CertificateList"))?;
    let list = read_sequence(&mut outer, "CertificateList")?;
    if !outer.is_finished() {
        return Err(CrlError::Der(String::from(
            "data after the CertificateList",
        )));
    }
    let mut reader = SliceReader::new(list).map_err(der_error("CertificateList"))?;
    let signed = reader.tlv_bytes().map_err(der_error("tbsCertList"))?;
    let outer_algorithm = reader
        .tlv_bytes()
        .map_err(der_error("signatureAlgorithm"))?;
    let signature_bits = BitStringRef::decode(&mut reader).map_err(der_error("signatureValue"))?;
    if !reader.is_finished() {
        return Err(CrlError::Der(String::from(
            "CertificateList: data after signatureValue",
        )));
    }

    let mut problems = Problems::default();
    // `None` (unused bits): no RSA, ECDSA or Ed25519 signature; reported by the signature check.
    let signature = signature_bits.as_bytes();

    let mut tbs_outer = SliceReader::new(signed).map_err(der_error("tbsCertList"))?;
    let tbs = read_sequence(&mut tbs_outer, "tbsCertList")?;
    let mut tbs = SliceReader::new(tbs).map_err(der_error("tbsCertList"))?;
    let version = if tbs.peek_byte() == Some(0x02) {
        let version = u8::decode(&mut tbs).map_err(der_error("tbsCertList.version"))?;
        match version {
            1 => 2,
            0 => {
                return Err(CrlError::Version(String::from(
                    "an explicit v1 is not DER (v1 omits the version)",
                )))
            }
            other => {
                return Err(CrlError::Version(format!(
                    "version value {other} (v2 is 1)"
                )))
            }
        }
    } else {
        1
    };
    let inner_algorithm = tbs
        .tlv_bytes()
        .map_err(der_error("tbsCertList.signature"))?;
    let issuer = read_sequence(&mut tbs, "tbsCertList.issuer")?;
    let issuer = name::parse_name(issuer, "tbsCertList.issuer").map_err(cert_error)?;
    let this_update = read_time(&mut tbs, "tbsCertList.thisUpdate")?;
    let next_update = if next_is_time(&tbs) {
        Some(read_time(&mut tbs, "tbsCertList.nextUpdate")?)
    } else {
        None
    };
    let entries_der = if tbs.peek_byte() == Some(0x30) {
        read_sequence(&mut tbs, "tbsCertList.revokedCertificates")?
    } else {
        &[]
    };
    let extensions = tbs
        .context_specific::<Vec<ExtensionRef<'_>>>(TagNumber(0), TagMode::Explicit)
        .map_err(der_error("tbsCertList.crlExtensions"))?;
    if !tbs.is_finished() {
        return Err(CrlError::Der(String::from(
            "tbsCertList: unexpected data after the last field",
        )));
    }

    // Algorithms: the two must be the same identifier (RFC 5280 §5.1.1.2), and one we verify.
    if inner_algorithm != outer_algorithm {
        problems.push(CrlError::AlgorithmMismatch {
            inner: algorithm_name(inner_algorithm),
            outer: algorithm_name(outer_algorithm),
        });
    }
    if let Err(error) = SignatureAlgorithm::from_x509_der(outer_algorithm) {
        problems.push(CrlError::Algorithm(error));
    }

    if version == 1 && extensions.is_some() {
        problems.push(CrlError::Version(String::from(
            "a v1 CRL carries crlExtensions (they need v2)",
        )));
    }
    let found = read_crl_extensions(extensions.as_deref().unwrap_or_default(), &mut problems);
    match next_update {
        None => problems.push(CrlError::MissingNextUpdate),
        Some(next_update) if next_update < this_update => {
            problems.push(CrlError::NextUpdateBeforeThisUpdate {
                this_update,
                next_update,
            })
        }
        Some(_) => {}
    }
    if found.number.is_none() {
        problems.push(CrlError::MissingNumber);
    }

    Ok(Crl {
        signed,
        outer_algorithm,
        signature,
        issuer,
        this_update,
        next_update,
        version,
        entries_der,
        entry_count: 0,
        serials: RevokedSerials::default(),
        number: found.number,
        authority_key_id: found.authority_key_id,
        distribution_points: found.distribution_points,
        only_user_certs: found.only_user_certs,
        has_freshest_crl: found.has_freshest_crl,
        problems: problems.list,
        more_problems: problems.more,
    })
}

/// Reads the entries of a list from [`parse_crl_header`]: counts them (the limit applies
/// before anything is allocated), collects the serials, and adds the entries' problems after
/// the header's (document order: the CRL extensions' problems were found first).
pub(crate) fn read_crl_entries(crl: &mut Crl<'_>, limits: &CrlLimits) -> Result<(), CrlError> {
    let entry_count = count_entries(crl.entries_der, limits)?;
    let mut problems = Problems {
        list: core::mem::take(&mut crl.problems),
        more: crl.more_problems,
    };
    crl.serials = read_entries(crl.entries_der, entry_count, crl.version, &mut problems)?;
    crl.entry_count = entry_count;
    crl.problems = problems.list;
    crl.more_problems = problems.more;
    Ok(())
}

fn cert_error(error: CertError) -> CrlError {
    CrlError::Der(match error {
        CertError::Der(detail) => detail,
        other => other.to_string(),
    })
}

/// The algorithm's name, or hex of its DER when it is not one we know.
fn algorithm_name(der: &[u8]) -> String {
    match SignatureAlgorithm::from_x509_der(der) {
        Ok(algorithm) => String::from(algorithm.name()),
        Err(_) => hex::to_hex(der),
    }
}

/// `IssuingDistributionPoint` (RFC 5280 §5.2.5) with the distribution point left undecoded
/// (its URIs are read by [`uris`]); x509-cert's type decodes every GeneralName form.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuingDistributionPointRef<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    distribution_point: Option<AnyRef<'a>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        default = "Default::default"
    )]
    only_contains_user_certs: bool,
    #[asn1(
        context_specific = "2",
        tag_mode = "IMPLICIT",
        default = "Default::default"
    )]
    only_contains_ca_certs: bool,
    #[asn1(context_specific = "3", tag_mode = "IMPLICIT", optional = "true")]
    only_some_reasons: Option<BitStringRef<'a>>,
    #[asn1(
        context_specific = "4",
        tag_mode = "IMPLICIT",
        default = "Default::default"
    )]
    indirect_crl: bool,
    #[asn1(
        context_specific = "5",
        tag_mode = "IMPLICIT",
        default = "Default::default"
    )]
    only_contains_attribute_certs: bool,
}

/// The URIs of a `DistributionPointName` `fullName [0] GeneralNames` (other forms: none).
fn uris(name: &AnyRef<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if name.tag()
        != (Tag::ContextSpecific {
            constructed: true,
            number: TagNumber(0),
        })
    {
        return out;
    }
    let Ok(mut reader) = SliceReader::new(name.value()) else {
        return out;
    };
    while let Ok(general_name) = AnyRef::decode(&mut reader) {
        let uri_tag = Tag::ContextSpecific {
            constructed: false,
            number: TagNumber(6),
        };
        if general_name.tag() == uri_tag && general_name.value().is_ascii() {
            if let Ok(text) = core::str::from_utf8(general_name.value()) {
                out.push(String::from(text));
            }
        }
    }
    out
}

/// A non-negative INTEGER of at most 20 octets (cRLNumber, BaseCRLNumber).
fn crl_number(value: &[u8], extension: &'static str) -> Result<CrlNumber, CrlError> {
    let bad = |detail: String| CrlError::BadExtension { extension, detail };
    let integer = IntRef::from_der(value).map_err(|e| bad(e.to_string()))?;
    let octets = integer.as_bytes();
    if octets.first().is_some_and(|first| first & 0x80 != 0) {
        return Err(bad(String::from("the number is negative")));
    }
    let significant = serial_octets(octets);
    if significant.len() > MAX_CRL_NUMBER_OCTETS {
        return Err(bad(format!(
            "{} octets long; RFC 5280 allows at most 20",
            significant.len()
        )));
    }
    Ok(CrlNumber::from_be_bytes(significant))
}

/// Appends an error for the first OID that appears twice among `oids`.
/// `entry` names the entry (its serial); only called when there is a duplicate.
fn check_duplicates(
    oids: &[ObjectIdentifier],
    entry: impl FnOnce() -> Option<String>,
    problems: &mut Problems,
) {
    for (index, oid) in oids.iter().enumerate() {
        if oids.get(..index).is_some_and(|before| before.contains(oid)) {
            problems.push(CrlError::DuplicateExtension {
                oid: oid::dotted(oid),
                entry: entry(),
            });
            return;
        }
    }
}

fn read_crl_extensions(extensions: &[ExtensionRef<'_>], problems: &mut Problems) -> CrlExtensions {
    let mut found = CrlExtensions::default();
    let oids: SmallVec<[ObjectIdentifier; 8]> = extensions.iter().map(|e| e.extn_id).collect();
    check_duplicates(&oids, || None, problems);
    for extension in extensions {
        let oid = extension.extn_id;
        let value = extension.extn_value.as_bytes();
        if oid == CRL_NUMBER {
            match crl_number(value, "cRLNumber") {
                Ok(number) => found.number = Some(number),
                Err(error) => problems.push(error),
            }
        } else if oid == AUTHORITY_KEY_ID {
            match AuthorityKeyIdentifierRef::from_der(value) {
                Ok(aki) => {
                    found.authority_key_id = aki.key_identifier.map(|id| Vec::from(id.as_bytes()))
                }
                Err(error) => problems.push(CrlError::BadExtension {
                    extension: "authorityKeyIdentifier",
                    detail: error.to_string(),
                }),
            }
        } else if oid == DELTA_CRL_INDICATOR {
            let base = crl_number(value, "deltaCRLIndicator")
                .map(|n| format!("deltaCRLIndicator, base CRL number {n}"))
                .unwrap_or_else(|_| String::from("deltaCRLIndicator"));
            problems.push(CrlError::Delta(base));
        } else if oid == ISSUING_DISTRIBUTION_POINT {
            read_issuing_distribution_point(value, &mut found, problems);
        } else if oid == FRESHEST_CRL {
            if extension.critical {
                problems.push(CrlError::Delta(String::from(
                    "a critical freshestCRL requires applying delta CRLs",
                )));
            } else {
                found.has_freshest_crl = true;
            }
        } else if oid == ISSUER_ALT_NAME || oid == AUTHORITY_INFO_ACCESS {
            // Informational; the issuer is matched by its name and key.
        } else if extension.critical {
            problems.push(CrlError::UnknownCriticalExtension {
                oid: oid::dotted(&oid),
                entry: None,
            });
        }
    }
    found
}

fn read_issuing_distribution_point(
    value: &[u8],
    found: &mut CrlExtensions,
    problems: &mut Problems,
) {
    let idp = match IssuingDistributionPointRef::from_der(value) {
        Ok(idp) => idp,
        Err(error) => {
            problems.push(CrlError::BadExtension {
                extension: "issuingDistributionPoint",
                detail: error.to_string(),
            });
            return;
        }
    };
    if idp.indirect_crl {
        problems.push(CrlError::Indirect(String::from(
            "issuingDistributionPoint indirectCRL is TRUE",
        )));
    }
    if idp.only_contains_ca_certs {
        problems.push(CrlError::PartialScope(String::from(
            "onlyContainsCACerts: it covers no client certificate",
        )));
    }
    if idp.only_contains_attribute_certs {
        problems.push(CrlError::PartialScope(String::from(
            "onlyContainsAttributeCerts",
        )));
    }
    if idp.only_some_reasons.is_some() {
        problems.push(CrlError::PartialScope(String::from(
            "onlySomeReasons: other reasons are in another CRL",
        )));
    }
    found.only_user_certs = idp.only_contains_user_certs;
    if let Some(point) = &idp.distribution_point {
        found.distribution_points = uris(point);
    }
}

/// Counts the entries (headers only) and enforces the entry limit before anything is
/// allocated for them.
fn count_entries(content: &[u8], limits: &CrlLimits) -> Result<usize, CrlError> {
    let field = "tbsCertList.revokedCertificates";
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    let mut count = 0usize;
    while !reader.is_finished() {
        let header = Header::decode(&mut reader).map_err(der_error(field))?;
        if header.tag() != Tag::Sequence {
            return Err(CrlError::Der(format!(
                "{field}: entry #{} is a {}, not a SEQUENCE",
                count + 1,
                header.tag()
            )));
        }
        reader
            .read_slice(header.length())
            .map_err(der_error(field))?;
        count += 1;
        if count > limits.max_entries {
            return Err(CrlError::TooManyEntries {
                max: limits.max_entries,
            });
        }
    }
    Ok(count)
}

/// One entry's serial (identity-form octets) and the rest of its content.
fn read_serial<'a>(reader: &mut SliceReader<'a>, number: usize) -> Result<&'a [u8], CrlError> {
    let serial = IntRef::decode(reader)
        .map_err(|e| CrlError::Der(format!("revokedCertificates entry #{number}: serial: {e}")))?;
    let octets = serial.as_bytes();
    if octets.len() > MAX_SERIAL_OCTETS {
        return Err(CrlError::Der(format!(
            "revokedCertificates entry #{number}: serial of {} octets (at most {MAX_SERIAL_OCTETS})",
            octets.len()
        )));
    }
    Ok(serial_octets(octets))
}

fn read_entries(
    content: &[u8],
    count: usize,
    version: u8,
    problems: &mut Problems,
) -> Result<RevokedSerials, CrlError> {
    let field = "tbsCertList.revokedCertificates";
    let mut serials = RevokedSerials::with_capacity(count);
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    let mut number = 0usize;
    while !reader.is_finished() {
        number += 1;
        let entry = read_sequence(&mut reader, field)?;
        let mut entry = SliceReader::new(entry).map_err(der_error(field))?;
        let octets = read_serial(&mut entry, number)?;
        skip_revocation_date(&mut entry, number)?;
        if !entry.is_finished() {
            let extensions = read_sequence(&mut entry, "revokedCertificates.crlEntryExtensions")?;
            if !entry.is_finished() {
                return Err(CrlError::Der(format!(
                    "revokedCertificates entry #{number}: data after crlEntryExtensions"
                )));
            }
            if version == 1 {
                problems.push(CrlError::Version(String::from(
                    "a v1 CRL has entry extensions (they need v2)",
                )));
            }
            read_entry_extensions(extensions, octets, number, problems)?;
        }
        let key = SerialKey::from_octets(octets).ok_or_else(|| {
            CrlError::Der(format!(
                "revokedCertificates entry #{number}: serial too long"
            ))
        })?;
        serials.insert(key);
    }
    Ok(serials)
}

fn serial_text(octets: &[u8]) -> String {
    if octets.is_empty() {
        String::from("0")
    } else {
        hex::to_hex(octets)
    }
}

fn read_entry_extensions(
    content: &[u8],
    serial: &[u8],
    number: usize,
    problems: &mut Problems,
) -> Result<(), CrlError> {
    let field = "revokedCertificates.crlEntryExtensions";
    let mut reader = SliceReader::new(content).map_err(der_error(field))?;
    let mut oids: SmallVec<[ObjectIdentifier; 4]> = SmallVec::new();
    while !reader.is_finished() {
        let extension = ExtensionRef::decode(&mut reader)
            .map_err(|e| CrlError::Der(format!("{field} of entry #{number}: {e}")))?;
        oids.push(extension.extn_id);
        let oid = extension.extn_id;
        if oid == REASON_CODE {
            match reason_code(extension.extn_value.as_bytes()) {
                Some(RevocationReason::RemoveFromCrl) => problems.push(CrlError::RemoveFromCrl {
                    serial: serial_text(serial),
                }),
                Some(_) => {}
                None => problems.push(CrlError::BadExtension {
                    extension: "reasonCode",
                    detail: format!(
                        "entry serial {}: not a CRLReason ENUMERATED",
                        serial_text(serial)
                    ),
                }),
            }
        } else if oid == CERTIFICATE_ISSUER {
            problems.push(CrlError::Indirect(format!(
                "entry serial {} has a certificateIssuer extension",
                serial_text(serial)
            )));
        } else if oid == INVALIDITY_DATE {
            // Revocation dates do not matter: revoked is revoked.
        } else if extension.critical {
            problems.push(CrlError::UnknownCriticalExtension {
                oid: oid::dotted(&oid),
                entry: Some(serial_text(serial)),
            });
        }
    }
    check_duplicates(&oids, || Some(serial_text(serial)), problems);
    Ok(())
}

/// `CRLReason ::= ENUMERATED` with one content octet (DER: values 0..=10 fit one octet).
fn reason_code(value: &[u8]) -> Option<RevocationReason> {
    match value {
        [0x0a, 0x01, code] => RevocationReason::from_code(*code),
        _ => None,
    }
}

/// The entries again, for display. Stops at the first entry it cannot read (parsing already
/// refused such a CRL); a revocation date that passed the shape check but is no calendar
/// date does not stop it (`revocation_date: None`), so every entry of the set is listed.
pub(crate) fn entries(content: &[u8]) -> impl Iterator<Item = CrlEntry> + '_ {
    let mut reader = SliceReader::new(content).ok();
    core::iter::from_fn(move || {
        let outer = reader.as_mut()?;
        if outer.is_finished() {
            return None;
        }
        let entry = read_sequence(outer, "entry").ok()?;
        let mut entry = SliceReader::new(entry).ok()?;
        let serial = read_serial(&mut entry, 0).ok()?;
        let revocation_date = read_time(&mut entry.clone(), "revocationDate").ok();
        AnyRef::decode(&mut entry).ok()?;
        let mut reason = None;
        if let Ok(extensions) = read_sequence(&mut entry, "extensions") {
            let mut extensions = SliceReader::new(extensions).ok()?;
            while let Ok(extension) = ExtensionRef::decode(&mut extensions) {
                if extension.extn_id == REASON_CODE {
                    reason = reason_code(extension.extn_value.as_bytes());
                }
            }
        }
        Some(CrlEntry {
            serial: serial_text(serial),
            revocation_date,
            reason,
        })
    })
}

/// A CA certificate (PEM or DER): the strict certificate reader, then the fields a CRL
/// issuer needs (SPKI, subjectKeyIdentifier, keyUsage).
pub(crate) fn parse_ca_certificate(bytes: &[u8]) -> Result<CaCertificate, CrlError> {
    let ca_error = |error: CertError| CrlError::CaCertificate(error.to_string());
    let der = match bytes.first() {
        Some(0x30) => Vec::from(bytes),
        _ => pem::certificate_der(bytes).map_err(ca_error)?,
    };
    let identity = super::parse_certificate(&der).map_err(ca_error)?;
    let (spki, extensions) = ca_fields(&der).map_err(|e| CrlError::CaCertificate(e.to_string()))?;
    let mut key_id = None;
    let mut may_sign_crls = true;
    for extension in &extensions {
        let value = extension.extn_value.as_bytes();
        if extension.extn_id == SUBJECT_KEY_ID {
            let id = <&OctetStringRef>::from_der(value)
                .map_err(|e| CrlError::CaCertificate(format!("subjectKeyIdentifier: {e}")))?;
            key_id = Some(Vec::from(id.as_bytes()));
        } else if extension.extn_id == KEY_USAGE {
            let usage = KeyUsage::from_der(value)
                .map_err(|e| CrlError::CaCertificate(format!("keyUsage: {e}")))?;
            may_sign_crls = usage.crl_sign();
        }
    }
    Ok(CaCertificate {
        subject: identity.subject,
        key_id,
        key: PublicKey::from_spki_der(spki),
        may_sign_crls,
        is_ca: identity.is_ca,
    })
}

/// The SubjectPublicKeyInfo TLV and the extensions of a certificate already parsed strictly.
fn ca_fields(der: &[u8]) -> der::Result<(&[u8], Vec<ExtensionRef<'_>>)> {
    let mut reader = SliceReader::new(der)?;
    let certificate = AnyRef::decode(&mut reader)?;
    let mut reader = SliceReader::new(certificate.value())?;
    let tbs = AnyRef::decode(&mut reader)?;
    let mut tbs = SliceReader::new(tbs.value())?;
    tbs.context_specific::<x509_cert::certificate::Version>(TagNumber(0), TagMode::Explicit)?;
    for _ in 0..5 {
        // serialNumber, signature, issuer, validity, subject
        AnyRef::decode(&mut tbs)?;
    }
    let spki = tbs.tlv_bytes()?;
    tbs.context_specific::<BitStringRef<'_>>(TagNumber(1), TagMode::Implicit)?;
    tbs.context_specific::<BitStringRef<'_>>(TagNumber(2), TagMode::Implicit)?;
    let extensions = tbs
        .context_specific::<Vec<ExtensionRef<'_>>>(TagNumber(3), TagMode::Explicit)?
        .unwrap_or_default();
    Ok((spki, extensions))
}
