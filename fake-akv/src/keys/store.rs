//! What a key version holds (its public JSON Web Key material and permitted operations), key
//! generation, and the key names of the generic [`crate::store`] types.
//!
//! The fake performs no cryptographic operations, so private material is neither kept nor
//! ever returned: `get` answers only the public parts, as Key Vault does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;

use crate::store::{Deleted, NewVersion, Object, ObjectStore, Version};

/// The public material of a key version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyMaterial {
    /// `RSA`, `RSA-HSM`, `EC` or `EC-HSM`.
    pub kty: String,
    /// Permitted operations (`key_ops`).
    pub key_ops: Vec<String>,
    /// RSA modulus, base64url.
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    pub e: Option<String>,
    /// EC curve name.
    pub crv: Option<String>,
    /// EC x coordinate, base64url.
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    pub y: Option<String>,
}

/// A vault's keys.
pub type KeyStore = ObjectStore<KeyMaterial>;
/// A key with its versions.
pub type Key = Object<KeyMaterial>;
/// One key version.
pub type KeyVersion = Version<KeyMaterial>;
/// A soft-deleted key.
pub type DeletedKey = Deleted<KeyMaterial>;
/// A create or import request.
pub type NewKeyVersion = NewVersion<KeyMaterial>;

/// Why a key could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Unsupported key type, size or curve.
    #[error("{0}")]
    Unsupported(String),
    /// Generation failed.
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// Operations Key Vault permits by default (all that apply to the key type).
#[must_use]
pub fn default_ops(kty: &str) -> Vec<String> {
    let ops: &[&str] = if kty.starts_with("EC") {
        &["sign", "verify"]
    } else {
        &[
            "encrypt",
            "decrypt",
            "sign",
            "verify",
            "wrapKey",
            "unwrapKey",
        ]
    };
    ops.iter().map(|s| (*s).to_owned()).collect()
}

/// Generates a key: RSA 2048/3072/4096, or EC P-256/P-384 (the curves the fake's crypto
/// backend offers; Key Vault also has P-521 and P-256K).
pub fn generate(
    kty: &str,
    key_size: Option<u32>,
    crv: Option<&str>,
    key_ops: Option<Vec<String>>,
) -> Result<KeyMaterial, KeyError> {
    let ops = key_ops.unwrap_or_else(|| default_ops(kty));
    match kty {
        "RSA" | "RSA-HSM" => {
            let bits = key_size.unwrap_or(2048);
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(KeyError::Unsupported(format!(
                    "Invalid key size {bits}. Supported sizes are 2048, 3072 and 4096."
                )));
            }
            let mut rng = rand::thread_rng();
            let key = RsaPrivateKey::new(&mut rng, bits as usize)
                .map_err(|e| KeyError::Generate(e.to_string()))?;
            Ok(KeyMaterial {
                kty: kty.to_owned(),
                key_ops: ops,
                n: Some(URL_SAFE_NO_PAD.encode(key.n().to_bytes_be())),
                e: Some(URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())),
                ..KeyMaterial::default()
            })
        }
        "EC" | "EC-HSM" => {
            let crv = crv.unwrap_or("P-256");
            let (alg, len) = match crv {
                "P-256" => (&rcgen::PKCS_ECDSA_P256_SHA256, 32),
                "P-384" => (&rcgen::PKCS_ECDSA_P384_SHA384, 48),
                other => {
                    return Err(KeyError::Unsupported(format!(
                        "The curve {other} is not supported by this emulator."
                    )));
                }
            };
            let pair =
                rcgen::KeyPair::generate_for(alg).map_err(|e| KeyError::Generate(e.to_string()))?;
            // Uncompressed SEC1 point: 0x04 || x || y.
            let raw = pair.public_key_raw();
            if raw.len() != 1 + 2 * len {
                return Err(KeyError::Generate("unexpected public key encoding".into()));
            }
            Ok(KeyMaterial {
                kty: kty.to_owned(),
                key_ops: ops,
                crv: Some(crv.to_owned()),
                x: Some(URL_SAFE_NO_PAD.encode(&raw[1..=len])),
                y: Some(URL_SAFE_NO_PAD.encode(&raw[1 + len..])),
                ..KeyMaterial::default()
            })
        }
        other => Err(KeyError::Unsupported(format!(
            "The key type {other} is not supported."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_keys_have_coordinates_of_the_curve_size() {
        let key = generate("EC", None, Some("P-384"), None).unwrap();
        let x = URL_SAFE_NO_PAD.decode(key.x.unwrap()).unwrap();
        assert_eq!(x.len(), 48);
        assert_eq!(key.key_ops, ["sign", "verify"]);
        assert!(generate("EC", None, Some("P-521"), None).is_err());
    }

    #[test]
    fn rsa_keys_have_a_modulus_of_the_requested_size() {
        let key = generate("RSA", Some(2048), None, None).unwrap();
        let n = URL_SAFE_NO_PAD.decode(key.n.unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(key.e.as_deref(), Some("AQAB"));
        assert!(generate("RSA", Some(1024), None, None).is_err());
        assert!(generate("oct", None, None, None).is_err());
    }
}
