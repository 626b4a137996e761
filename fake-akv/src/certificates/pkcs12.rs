//! PKCS#12 (PFX, RFC 7292) as Key Vault hands out a certificate's backing secret: one
//! unencrypted key bag and the certificate bags, protected only by a SHA-1 HMAC under the empty
//! password. Key Vault's exported PFX has no password either (MicrosoftDocs
//! `key-vault/certificates/how-to-export-certificate.md`: "the exported PFX has no password").
//!
//! Decoding reads what clients import: unencrypted bags (what `cryptography`'s
//! `NoEncryption()` and ESO's PushSecret of a plain PFX produce). Password-encrypted bags are
//! refused with [`Pkcs12Error::Encrypted`]: the fake carries no PBES1/PBES2 ciphers.

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use yasna::models::ObjectIdentifier;
use yasna::{ASN1Error, BERReader, DERWriter, Tag};

const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
const ENCRYPTED_DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 6];
const KEY_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 1];
const SHROUDED_KEY_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 2];
const CERT_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 3];
const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113_549, 1, 9, 22, 1];
const LOCAL_KEY_ID: &[u64] = &[1, 2, 840, 113_549, 1, 9, 21];
const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
/// OpenSSL's and Windows' default MAC iteration count.
const MAC_ITERATIONS: u32 = 2048;

/// What a PFX holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pfx {
    /// DER certificates, leaf first when the file says which one the key belongs to.
    pub certs: Vec<Vec<u8>>,
    /// The PKCS#8 private key, if any.
    pub key: Option<Vec<u8>>,
}

/// Why a PFX could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Pkcs12Error {
    /// Not DER/BER of a PFX.
    #[error("the PFX is malformed")]
    Malformed,
    /// Bags are password-encrypted.
    #[error("password-encrypted PFX content is not supported by this emulator")]
    Encrypted,
}

impl From<ASN1Error> for Pkcs12Error {
    fn from(_: ASN1Error) -> Self {
        Pkcs12Error::Malformed
    }
}

fn oid(arcs: &[u64]) -> ObjectIdentifier {
    ObjectIdentifier::from_slice(arcs)
}

/// Encodes `certs` (leaf first) and the PKCS#8 `key` as a PFX with an empty-password MAC.
#[must_use]
pub fn encode(certs: &[Vec<u8>], key: Option<&[u8]>) -> Vec<u8> {
    let local_key_id = certs.first().map(|leaf| Sha1::digest(leaf).to_vec());
    let bag = |w: DERWriter<'_>, kind: &[u64], value: &dyn Fn(DERWriter<'_>), id: bool| {
        w.write_sequence(|w| {
            w.next().write_oid(&oid(kind));
            w.next().write_tagged(Tag::context(0), value);
            if let (true, Some(lkid)) = (id, &local_key_id) {
                w.next().write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(LOCAL_KEY_ID));
                        w.next().write_set(|w| w.next().write_bytes(lkid));
                    });
                });
            }
        });
    };
    let safe_contents = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            if let Some(key) = key {
                bag(w.next(), KEY_BAG, &|w| w.write_der(key), true);
            }
            for (i, cert) in certs.iter().enumerate() {
                let value = |w: DERWriter<'_>| {
                    w.write_sequence(|w| {
                        w.next().write_oid(&oid(X509_CERTIFICATE));
                        w.next()
                            .write_tagged(Tag::context(0), |w| w.write_bytes(cert));
                    });
                };
                bag(w.next(), CERT_BAG, &value, i == 0 && key.is_some());
            }
        });
    });
    let auth_safe = yasna::construct_der(|w| {
        w.write_sequence(|w| data_content_info(w.next(), &safe_contents));
    });
    let salt: [u8; 8] = rand::random();
    let mac = mac(&auth_safe, &salt, MAC_ITERATIONS);
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(3);
            data_content_info(w.next(), &auth_safe);
            w.next().write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(SHA1));
                        w.next().write_null();
                    });
                    w.next().write_bytes(&mac);
                });
                w.next().write_bytes(&salt);
                w.next().write_u32(MAC_ITERATIONS);
            });
        });
    })
}

fn data_content_info(w: DERWriter<'_>, content: &[u8]) {
    w.write_sequence(|w| {
        w.next().write_oid(&oid(DATA));
        w.next()
            .write_tagged(Tag::context(0), |w| w.write_bytes(content));
    });
}

/// Decodes a PFX (BER or DER). The MAC is not checked: the fake trusts its client.
// The closures clippy would replace by method paths are needed: a method path is not general
// over the reader's lifetimes, so it does not type-check.
#[allow(clippy::redundant_closure_for_method_calls)]
pub fn decode(bytes: &[u8]) -> Result<Pfx, Pkcs12Error> {
    let auth_safe = yasna::parse_ber(bytes, |r| {
        r.read_sequence(|r| {
            let _version = r.next().read_u8()?;
            let content = read_content_info(r.next())?;
            // MacData is optional and ignored.
            r.read_optional(|r| r.read_der())?;
            Ok(content)
        })
    })?;
    let (kind, content) = auth_safe;
    if kind != oid(DATA) {
        return Err(Pkcs12Error::Malformed);
    }
    let content = content.ok_or(Pkcs12Error::Malformed)?;
    let infos = yasna::parse_ber(&content, |r| {
        r.collect_sequence_of(|r| read_content_info(r))
    })?;
    let mut pfx = Pfx::default();
    for (kind, content) in infos {
        if kind == oid(ENCRYPTED_DATA) {
            return Err(Pkcs12Error::Encrypted);
        }
        let content = content.ok_or(Pkcs12Error::Malformed)?;
        let bags = yasna::parse_ber(&content, |r| {
            r.collect_sequence_of(|r| {
                r.read_sequence(|r| {
                    let kind = r.next().read_oid()?;
                    let value = r.next().read_tagged(Tag::context(0), |r| r.read_der())?;
                    r.read_optional(|r| r.read_der())?;
                    Ok((kind, value))
                })
            })
        })?;
        for (kind, value) in bags {
            if kind == oid(KEY_BAG) {
                pfx.key = Some(value);
            } else if kind == oid(SHROUDED_KEY_BAG) {
                return Err(Pkcs12Error::Encrypted);
            } else if kind == oid(CERT_BAG) {
                let cert = yasna::parse_ber(&value, |r| {
                    r.read_sequence(|r| {
                        let kind = r.next().read_oid()?;
                        let der = r.next().read_tagged(Tag::context(0), |r| r.read_bytes())?;
                        Ok((kind, der))
                    })
                })?;
                if cert.0 == oid(X509_CERTIFICATE) {
                    pfx.certs.push(cert.1);
                }
            }
        }
    }
    Ok(pfx)
}

/// A ContentInfo: its type and, for `data`, the octets it wraps.
#[allow(clippy::redundant_closure_for_method_calls)] // As in `decode`.
fn read_content_info(
    r: BERReader<'_, '_>,
) -> Result<(ObjectIdentifier, Option<Vec<u8>>), ASN1Error> {
    r.read_sequence(|r| {
        let kind = r.next().read_oid()?;
        let content = if kind == oid(DATA) {
            Some(r.next().read_tagged(Tag::context(0), |r| r.read_bytes())?)
        } else {
            r.next().read_der()?;
            None
        };
        Ok((kind, content))
    })
}

/// HMAC-SHA1 of `data` under the empty password, keyed by RFC 7292 appendix B.2 (ID 3).
fn mac(data: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    // The empty password as a NUL-terminated BMPString: what Go's pkcs12 and OpenSSL use.
    let key = derive_key(&[0, 0], salt, iterations, 3, 20);
    let mut hmac = Hmac::<Sha1>::new_from_slice(&key).expect("HMAC takes any key length");
    hmac.update(data);
    hmac.finalize().into_bytes().to_vec()
}

/// RFC 7292 appendix B.2 with SHA-1 (u = 20, v = 64).
fn derive_key(password: &[u8], salt: &[u8], iterations: u32, id: u8, len: usize) -> Vec<u8> {
    const V: usize = 64;
    let fill = |s: &[u8]| -> Vec<u8> {
        if s.is_empty() {
            return Vec::new();
        }
        let n = V * s.len().div_ceil(V);
        s.iter().copied().cycle().take(n).collect()
    };
    let d = [id; V];
    let mut i: Vec<u8> = fill(salt);
    i.extend(fill(password));
    let mut out = Vec::with_capacity(len);
    loop {
        let mut a = Sha1::new().chain_update(d).chain_update(&i).finalize();
        for _ in 1..iterations {
            a = Sha1::digest(a);
        }
        out.extend_from_slice(&a);
        if out.len() >= len {
            out.truncate(len);
            return out;
        }
        let b: Vec<u8> = a.iter().copied().cycle().take(V).collect();
        for block in i.chunks_mut(V) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(&b).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_pfx_decodes_to_its_parts() {
        let certs = vec![vec![0x30, 0x03, 0x02, 0x01, 0x01]];
        let key = [0x30, 0x03, 0x02, 0x01, 0x00];
        let pfx = decode(&encode(&certs, Some(&key))).unwrap();
        assert_eq!(pfx.certs, certs);
        assert_eq!(pfx.key.as_deref(), Some(&key[..]));
        assert_eq!(decode(b"garbage"), Err(Pkcs12Error::Malformed));
    }

    #[test]
    fn key_derivation_matches_the_rfc_7292_construction() {
        // Two iterations equal hashing the one-iteration output again.
        let once = derive_key(&[0, 0], b"saltsalt", 1, 3, 20);
        let twice = derive_key(&[0, 0], b"saltsalt", 2, 3, 20);
        assert_eq!(Sha1::digest(&once).to_vec(), twice);
        assert_eq!(derive_key(&[0, 0], b"s", 1, 3, 45).len(), 45);
    }
}
