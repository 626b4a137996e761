//! PKCS#12 (PFX, RFC 7292) as Key Vault hands out a certificate's backing secret: one
//! unencrypted key bag and the certificate bags, protected only by a SHA-1 HMAC under the empty
//! password. Key Vault's exported PFX has no password either (MicrosoftDocs
//! `key-vault/certificates/how-to-export-certificate.md`: "the exported PFX has no password").
//!
//! Decoding is `p12-keystore`'s ([`decode`]); encoding stays here because that crate's writer
//! always encrypts under a password, and the backing secret must be the plain PFX Key Vault
//! hands out, which Go's `pkcs12` (ESO) and `cryptography` read.

use hmac::{Hmac, Mac};
use p12_keystore::Pkcs12Archive;
use pkcs12::kdf;
use sha1::{Digest, Sha1};
use sha1_kdf::Sha1 as Sha1Kdf;
use yasna::models::ObjectIdentifier;
use yasna::{DERWriter, Tag};

const DATA: &[u64] = &[1, 2, 840, 113_549, 1, 7, 1];
const KEY_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 1];
const CERT_BAG: &[u64] = &[1, 2, 840, 113_549, 1, 12, 10, 1, 3];
const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113_549, 1, 9, 22, 1];
const LOCAL_KEY_ID: &[u64] = &[1, 2, 840, 113_549, 1, 9, 21];
const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
/// OpenSSL's and Windows' default MAC iteration count.
const MAC_ITERATIONS: i32 = 2048;

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
    /// Not DER of a PFX.
    #[error("the PFX is malformed")]
    Malformed,
    /// The MAC does not verify or the bags do not decrypt under the given password (or under
    /// the empty one, when the client sent none).
    #[error("the password is wrong")]
    BadPassword,
    /// An encryption, KDF or MAC algorithm outside what the decoder reads.
    #[error("the PFX uses an algorithm this emulator does not read")]
    Unsupported,
}

impl From<p12_keystore::error::Error> for Pkcs12Error {
    fn from(e: p12_keystore::error::Error) -> Self {
        use p12_keystore::error::Error as E;
        match e {
            // A wrong password fails the MAC; in a MAC-less file it leaves bad padding or a
            // PBES2 failure behind instead.
            E::MacError(_) | E::UnpadError | E::Pkcs5Error(_) => Pkcs12Error::BadPassword,
            E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => Pkcs12Error::Unsupported,
            _ => Pkcs12Error::Malformed,
        }
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
                w.next().write_i32(MAC_ITERATIONS);
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

/// Decodes a PFX under `password` (the empty string when the client sent none), through
/// `p12-keystore`: it checks the MAC and decrypts PBES2 (PBKDF2, AES-CBC) and the legacy PKCS#12
/// schemes (3DES, RC2), so what OpenSSL 3 (default or `-legacy`) and Python `cryptography` write
/// reads. DER only: a PFX with BER indefinite lengths is [`Pkcs12Error::Malformed`].
pub fn decode(bytes: &[u8], password: &str) -> Result<Pfx, Pkcs12Error> {
    let archive = Pkcs12Archive::from_pkcs12(bytes, password)?;
    let key = archive.keys.into_iter().next();
    let mut certs = archive.certs;
    // The key's localKeyId names its certificate, and Key Vault describes that one: put it first
    // whatever order the file keeps.
    let leaf = key
        .as_ref()
        .and_then(|key| key.local_key_id.as_ref())
        .and_then(|id| {
            certs
                .iter()
                .position(|bag| bag.local_key_id.as_deref() == Some(id.as_ref()))
        });
    if let Some(leaf) = leaf {
        let bag = certs.remove(leaf);
        certs.insert(0, bag);
    }
    Ok(Pfx {
        certs: certs.iter().map(|bag| bag.cert.as_der().to_vec()).collect(),
        key: key.map(|bag| bag.key.as_der().to_vec()),
    })
}

/// HMAC-SHA1 of `data` under the empty password, keyed by RFC 7292 appendix B.2.
fn mac(data: &[u8], salt: &[u8], iterations: i32) -> Vec<u8> {
    // The empty password becomes the NUL-terminated empty BMPString, which Go's pkcs12 and
    // OpenSSL both accept for a "no password" PFX.
    let key = kdf::derive_key_utf8::<Sha1Kdf>("", salt, kdf::Pkcs12KeyType::Mac, iterations, 20)
        .expect("the empty password is a BMPString");
    let mut hmac = Hmac::<Sha1>::new_from_slice(&key).expect("HMAC takes any key length");
    hmac.update(data);
    hmac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    /// A self-signed certificate and its PKCS#8 key, both DER, plus the two as one PEM.
    fn self_signed() -> (Vec<u8>, Vec<u8>, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["pfx.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pem = format!("{}{}", key.serialize_pem(), cert.pem());
        (cert.der().to_vec(), key.serialize_der(), pem)
    }

    /// Runs `openssl pkcs12` with `args`, feeding it `input`; its output.
    fn openssl_pkcs12(args: &[&str], input: &[u8]) -> Vec<u8> {
        let mut child = Command::new("openssl")
            .arg("pkcs12")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl on PATH");
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl pkcs12 {args:?} failed");
        out.stdout
    }

    /// What `openssl pkcs12 -export` makes of `pem` under `password`, with `extra` flags.
    fn openssl_pfx(pem: &str, password: &str, extra: &[&str]) -> Vec<u8> {
        let pass = format!("pass:{password}");
        let args = [&["-export", "-passout", &pass][..], extra].concat();
        openssl_pkcs12(&args, pem.as_bytes())
    }

    #[test]
    fn encoded_pfx_decodes_to_its_parts_under_the_empty_password() {
        let (cert, key, _) = self_signed();
        let encoded = encode(std::slice::from_ref(&cert), Some(&key));
        // OpenSSL checks the MAC too: the KDF keyed it under the empty password clients use.
        openssl_pkcs12(&["-passin", "pass:", "-noout"], &encoded);
        let pfx = decode(&encoded, "").unwrap();
        assert_eq!(pfx.certs, [cert]);
        assert_eq!(pfx.key, Some(key));
        assert_eq!(decode(b"garbage", ""), Err(Pkcs12Error::Malformed));
    }

    #[test]
    fn password_protected_openssl_pfx_decodes_with_its_password_only() {
        let (cert, key, pem) = self_signed();
        // OpenSSL 3's default (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC, MAC SHA-256) and its
        // `-legacy` output (RC2-40 certificates, 3DES key, MAC SHA-1).
        for extra in [&[][..], &["-legacy"][..]] {
            let pfx = openssl_pfx(&pem, "s3cret", extra);
            let read = decode(&pfx, "s3cret").unwrap();
            assert_eq!(read.certs, std::slice::from_ref(&cert), "{extra:?}");
            assert_eq!(read.key.as_deref(), Some(&key[..]), "{extra:?}");
            assert_eq!(decode(&pfx, "wrong"), Err(Pkcs12Error::BadPassword));
            assert_eq!(decode(&pfx, ""), Err(Pkcs12Error::BadPassword));
        }
    }

    #[test]
    fn leaf_comes_first_whatever_the_file_order() {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let (leaf, key, _) = self_signed();
        let (other, _, _) = self_signed();
        // p12-keystore writes stand-alone certificates ahead of the key's chain, as Windows
        // exports of a CA bundle often do.
        let mut store = KeyStore::new();
        let chain = PrivateKeyChain::new(
            b"leaf".to_vec(),
            PrivateKey::from_der(&key).unwrap(),
            [Certificate::from_der(&leaf).unwrap()],
        );
        store.add_entry(
            "ca",
            KeyStoreEntry::Certificate(Certificate::from_der(&other).unwrap()),
        );
        store.add_entry("leaf", KeyStoreEntry::PrivateKeyChain(chain));
        let pfx = store.writer("pw").write().unwrap();
        let read = decode(&pfx, "pw").unwrap();
        assert_eq!(read.certs, [leaf, other]);
        assert_eq!(read.key, Some(key));
    }
}
