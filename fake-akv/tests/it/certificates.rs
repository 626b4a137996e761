//! Certificates: create (202 + operation), import (PFX, PEM), get, list, versions, policy,
//! soft delete, and the managed key and secret each certificate brings.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fake_akv::pkcs12;
use reqwest::Method;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::support::{Env, OFFICER, POLICY_ADMIN, READER, Reply, within};

struct Officer<'a> {
    env: &'a Env,
    token: String,
    base: String,
}

impl<'a> Officer<'a> {
    async fn new(env: &'a Env) -> Self {
        Self {
            token: env.token(OFFICER).await,
            base: env.vault("kv-rbac"),
            env,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let url = format!("{}{path}", self.base);
        self.env
            .call_with_token(Some(&self.token), method, &url, body)
            .await
    }
}

/// Redactions for what differs on every run: key material, thumbprints, validity.
macro_rules! assert_cert_snapshot {
    ($name:expr, $env:expr, $body:expr) => {
        insta::assert_json_snapshot!($name, $env.normalize(&$body), {
            ".cer" => "[der]",
            ".csr" => "[der]",
            ".x5t" => "[thumbprint]",
            ".attributes.nbf" => "[timestamp]",
            ".attributes.exp" => "[timestamp]",
        })
    };
}

fn self_signed(subject: &str) -> (String, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![format!("{subject}.example")]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, subject);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

#[tokio::test]
async fn create_certificate_completes_on_the_first_poll() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        let policy = json!({
            "key_props": {"kty": "RSA", "key_size": 2048, "exportable": true, "reuse_key": false},
            "secret_props": {"contentType": "application/x-pkcs12"},
            "x509_props": {"subject": "CN=web", "sans": {"dns_names": ["web.example"]}, "validity_months": 6},
            "issuer": {"name": "Self"}
        });
        let created = kv
            .call(
                Method::POST,
                "/certificates/web/create?api-version=7.6",
                Some(json!({"policy": policy, "tags": {"team": "a"}})),
            )
            .await
            .expect(202);
        assert_cert_snapshot!("create_certificate", env, created.body);
        let location = created.header("location").unwrap();
        assert!(location.ends_with(&format!(
            "/certificates/web/pending?api-version=7.6&request_id={}",
            created.body["request_id"].as_str().unwrap()
        )));
        assert_eq!(created.header("retry-after"), Some("10"));

        let pending = kv
            .call(Method::GET, "/certificates/web/pending?api-version=7.6", None)
            .await
            .expect(200);
        assert_cert_snapshot!("certificate_operation_completed", env, pending.body);

        let got = kv
            .call(Method::GET, "/certificates/web/?api-version=7.6", None)
            .await
            .expect(200);
        assert_cert_snapshot!("get_certificate", env, got.body);
        let der = STANDARD.decode(got.body["cer"].as_str().unwrap()).unwrap();
        assert_eq!(
            got.body["x5t"].as_str().unwrap(),
            URL_SAFE_NO_PAD.encode(Sha1::digest(&der))
        );
        let (nbf, exp) = (
            got.body["attributes"]["nbf"].as_i64().unwrap(),
            got.body["attributes"]["exp"].as_i64().unwrap(),
        );
        let created_at = got.body["attributes"]["created"].as_i64().unwrap();
        assert_eq!(nbf, created_at - 600);
        assert!((180..=184).contains(&((exp - created_at) / 86_400)));

        // The versioned get omits the policy.
        let id = got.body["id"].as_str().unwrap();
        let version = id.rsplit('/').next().unwrap();
        let versioned = kv
            .call(
                Method::GET,
                &format!("/certificates/web/{version}?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        assert!(versioned.body.get("policy").is_none());
        assert_eq!(versioned.body["cer"], got.body["cer"]);

        // The managed secret: an unprotected PFX holding the key and the same certificate.
        let secret = kv
            .call(Method::GET, "/secrets/web/?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(secret.body["managed"], true);
        assert_eq!(secret.body["contentType"], "application/x-pkcs12");
        assert_eq!(secret.body["id"], got.body["sid"]);
        assert_eq!(secret.body["kid"], got.body["kid"]);
        let pfx = STANDARD
            .decode(secret.body["value"].as_str().unwrap())
            .unwrap();
        let parts = pkcs12::decode(&pfx, "").unwrap();
        assert_eq!(parts.certs, vec![der]);
        assert!(parts.key.is_some());

        // The managed key: public RSA parts only.
        let key = kv
            .call(Method::GET, "/keys/web?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(key.body["managed"], true);
        assert_eq!(key.body["key"]["kid"], got.body["kid"]);
        assert_eq!(key.body["key"]["kty"], "RSA");
        assert!(key.body["key"].get("d").is_none());

        let secrets = kv
            .call(Method::GET, "/secrets?api-version=7.6", None)
            .await
            .expect(200);
        let web = secrets.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"].as_str().unwrap().ends_with("/secrets/web"))
            .unwrap();
        assert_eq!(web["managed"], true);
        let seeded = secrets.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"].as_str().unwrap().ends_with("/secrets/seeded"))
            .unwrap();
        assert!(seeded.get("managed").is_none());
    })
    .await;
}

#[tokio::test]
async fn managed_secret_and_key_refuse_direct_writes() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        kv.call(
            Method::POST,
            "/certificates/tls/create?api-version=7.6",
            Some(json!({"policy": {"x509_props": {"subject": "CN=tls"}, "key_props": {"kty": "EC", "crv": "P-256"}, "issuer": {"name": "Self"}}})),
        )
        .await
        .expect(202);
        let set = kv
            .call(
                Method::PUT,
                "/secrets/tls?api-version=7.6",
                Some(json!({"value": "x"})),
            )
            .await
            .expect(403);
        insta::assert_json_snapshot!("set_managed_secret", set.body);
        kv.call(Method::DELETE, "/secrets/tls?api-version=7.6", None)
            .await
            .expect(403);
        let delete_key = kv
            .call(Method::DELETE, "/keys/tls?api-version=7.6", None)
            .await
            .expect(403);
        insta::assert_json_snapshot!("delete_managed_key", delete_key.body);
        let key = kv
            .call(Method::GET, "/keys/tls?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(key.body["key"]["kty"], "EC");
        assert_eq!(key.body["key"]["crv"], "P-256");
    })
    .await;
}

#[tokio::test]
async fn import_pem_and_pfx_certificates() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        let (cert_pem, key_pem, der) = self_signed("pem-one");
        let imported = kv
            .call(
                Method::POST,
                "/certificates/pem-one/import?api-version=7.6",
                Some(json!({
                    "value": format!("{key_pem}{cert_pem}"),
                    "policy": {"secret_props": {"contentType": "application/x-pem-file"}},
                })),
            )
            .await
            .expect(200);
        assert_cert_snapshot!("import_pem_certificate", env, imported.body);
        assert_eq!(imported.body["cer"], STANDARD.encode(&der));
        let secret = kv
            .call(Method::GET, "/secrets/pem-one?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(secret.body["contentType"], "application/x-pem-file");
        let pem = secret.body["value"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.contains("-----BEGIN CERTIFICATE-----\n"));

        // ESO's PushSecret: only `value` (base64 PFX) and `tags`, trailing-slash GET first.
        kv.call(Method::GET, "/certificates/pfx-one/?api-version=7.0", None)
            .await
            .expect(404);
        let (_, key_pem, der) = self_signed("pfx-one");
        let key_der = rustls_pemfile::private_key(&mut key_pem.as_bytes())
            .unwrap()
            .unwrap();
        let pfx = pkcs12::encode(std::slice::from_ref(&der), Some(key_der.secret_der()));
        let imported = kv
            .call(
                Method::POST,
                "/certificates/pfx-one/import?api-version=7.0",
                Some(json!({"value": STANDARD.encode(pfx), "tags": {"managed-by": "external-secrets"}})),
            )
            .await
            .expect(200);
        assert_eq!(imported.body["cer"], STANDARD.encode(&der));
        assert_eq!(imported.body["policy"]["issuer"]["name"], "Unknown");
        assert_eq!(
            imported.body["policy"]["secret_props"]["contentType"],
            "application/x-pkcs12"
        );

        let no_operation = kv
            .call(Method::GET, "/certificates/pfx-one/pending?api-version=7.6", None)
            .await
            .expect(404);
        insta::assert_json_snapshot!("pending_of_an_imported_certificate", no_operation.body);

        let (cert_pem, _, _) = self_signed("no-key");
        let refused = kv
            .call(
                Method::POST,
                "/certificates/no-key/import?api-version=7.6",
                Some(json!({"value": cert_pem})),
            )
            .await
            .expect(400);
        assert_eq!(refused.body["error"]["code"], "BadParameter");

        let list = kv
            .call(Method::GET, "/certificates?api-version=7.6&maxresults=1", None)
            .await
            .expect(200);
        assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
        assert!(list.body["nextLink"].as_str().is_some());
        insta::assert_json_snapshot!("list_certificates_page", env.normalize(&list.body), {
            ".value[].x5t" => "[thumbprint]",
            ".value[].attributes.nbf" => "[timestamp]",
            ".value[].attributes.exp" => "[timestamp]",
            ".nextLink" => "[link]",
        });
    })
    .await;
}

/// `openssl pkcs12 -export` of `pem` (key and certificate) under `password`, with `extra` flags.
fn openssl_pfx(pem: &str, password: &str, extra: &[&str]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", &format!("pass:{password}")])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl on PATH");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(pem.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl pkcs12 -export {extra:?} failed"
    );
    out.stdout
}

#[tokio::test]
async fn import_certificate_opens_a_password_protected_pfx_with_its_pwd() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        // OpenSSL 3's default (PBES2, AES-256-CBC) and `-legacy` (3DES key, RC2-40 certificates).
        for (name, extra) in [("pfx-aes", &[][..]), ("pfx-legacy", &["-legacy"][..])] {
            let (cert_pem, key_pem, der) = self_signed(name);
            let pfx = STANDARD.encode(openssl_pfx(
                &format!("{key_pem}{cert_pem}"),
                "s3cret",
                extra,
            ));
            let import = format!("/certificates/{name}/import?api-version=7.6");

            let wrong = kv
                .call(
                    Method::POST,
                    &import,
                    Some(json!({"value": pfx, "pwd": "wrong"})),
                )
                .await
                .expect(400);
            // Key Vault's body as `az` printed it, in ronaldbosma/mtls-with-apim `README.md`
            // (Troubleshooting); an absent `pwd` is the empty password, just as wrong.
            insta::assert_json_snapshot!("import_certificate_with_a_wrong_password", wrong.body);
            let missing = kv
                .call(Method::POST, &import, Some(json!({"value": pfx})))
                .await
                .expect(400);
            assert_eq!(missing.body, wrong.body);

            let imported = kv
                .call(
                    Method::POST,
                    &import,
                    Some(json!({"value": pfx, "pwd": "s3cret"})),
                )
                .await
                .expect(200);
            assert_eq!(imported.body["cer"], STANDARD.encode(&der));
            assert_eq!(
                imported.body["policy"]["secret_props"]["contentType"],
                "application/x-pkcs12"
            );

            // The backing secret is the PFX as Key Vault hands it out: no password.
            let secret = kv
                .call(
                    Method::GET,
                    &format!("/secrets/{name}?api-version=7.6"),
                    None,
                )
                .await
                .expect(200);
            assert_eq!(secret.body["contentType"], "application/x-pkcs12");
            let pfx = STANDARD
                .decode(secret.body["value"].as_str().unwrap())
                .unwrap();
            let parts = pkcs12::decode(&pfx, "").unwrap();
            assert_eq!(parts.certs, [der]);
            assert!(parts.key.is_some());
        }
    })
    .await;
}

#[tokio::test]
async fn update_and_policy_and_versions() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        let body = json!({"policy": {"x509_props": {"subject": "CN=v"}, "issuer": {"name": "Self"}}});
        for _ in 0..2 {
            kv.call(
                Method::POST,
                "/certificates/v/create?api-version=7.6",
                Some(body.clone()),
            )
            .await
            .expect(202);
        }
        let versions = kv
            .call(Method::GET, "/certificates/v/versions?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(versions.body["value"].as_array().unwrap().len(), 2);

        let updated = kv
            .call(
                Method::PATCH,
                "/certificates/v/?api-version=7.6",
                Some(json!({"attributes": {"enabled": false}, "tags": {"k": "v"}})),
            )
            .await
            .expect(200);
        assert_eq!(updated.body["attributes"]["enabled"], false);
        assert_eq!(updated.body["tags"], json!({"k": "v"}));
        // The managed secret follows the certificate's enabled flag.
        let secret = kv
            .call(Method::GET, "/secrets/v?api-version=7.6", None)
            .await
            .expect(403);
        assert_eq!(secret.body["error"]["innererror"]["code"], "SecretDisabled");

        let policy = kv
            .call(
                Method::PATCH,
                "/certificates/v/policy?api-version=7.6",
                Some(json!({"x509_props": {"validity_months": 24}, "secret_props": {"contentType": "application/x-pem-file"}})),
            )
            .await
            .expect(200);
        assert_eq!(policy.body["x509_props"]["validity_months"], 24);
        let got = kv
            .call(Method::GET, "/certificates/v/policy?api-version=7.6", None)
            .await
            .expect(200);
        insta::assert_json_snapshot!("certificate_policy", env.normalize(&got.body));
    })
    .await;
}

#[tokio::test]
async fn delete_recover_and_purge_take_the_key_and_secret_along() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        let body = json!({"policy": {"x509_props": {"subject": "CN=gone"}, "key_props": {"kty": "EC", "crv": "P-384"}, "issuer": {"name": "Self"}}});
        kv.call(
            Method::POST,
            "/certificates/gone/create?api-version=7.6",
            Some(body.clone()),
        )
        .await
        .expect(202);
        let deleted = kv
            .call(Method::DELETE, "/certificates/gone?api-version=7.6", None)
            .await
            .expect(200);
        assert_cert_snapshot!("delete_certificate", env, deleted.body);
        let missing = kv
            .call(Method::GET, "/certificates/gone?api-version=7.6", None)
            .await
            .expect(404);
        insta::assert_json_snapshot!("certificate_not_found", missing.body);
        kv.call(Method::GET, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(404);
        kv.call(Method::GET, "/keys/gone?api-version=7.6", None)
            .await
            .expect(404);
        let conflict = kv
            .call(
                Method::POST,
                "/certificates/gone/create?api-version=7.6",
                Some(body.clone()),
            )
            .await
            .expect(409);
        assert_eq!(
            conflict.body["error"]["innererror"]["code"],
            "ObjectIsDeletedButRecoverable"
        );
        let listed = kv
            .call(Method::GET, "/deletedcertificates?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
        kv.call(Method::GET, "/deletedcertificates/gone?api-version=7.6", None)
            .await
            .expect(200);

        kv.call(
            Method::POST,
            "/deletedcertificates/gone/recover?api-version=7.6",
            None,
        )
        .await
        .expect(200);
        kv.call(Method::GET, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(200);
        kv.call(Method::GET, "/keys/gone?api-version=7.6", None)
            .await
            .expect(200);

        kv.call(Method::DELETE, "/certificates/gone?api-version=7.6", None)
            .await
            .expect(200);
        kv.call(Method::DELETE, "/deletedcertificates/gone?api-version=7.6", None)
            .await
            .expect(204);
        kv.call(Method::GET, "/deletedsecrets/gone?api-version=7.6", None)
            .await
            .expect(404);
        kv.call(
            Method::POST,
            "/certificates/gone/create?api-version=7.6",
            Some(body),
        )
        .await
        .expect(202);
    })
    .await;
}

#[tokio::test]
async fn secrets_user_reads_the_certificate_secret_but_not_the_certificate() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        kv.call(
            Method::POST,
            "/certificates/shared/create?api-version=7.6",
            Some(json!({"policy": {"x509_props": {"subject": "CN=shared"}, "issuer": {"name": "Self"}}})),
        )
        .await
        .expect(202);
        let token = env.token(READER).await;
        let base = env.vault("kv-rbac");
        let forbidden = env
            .call_with_token(
                Some(&token),
                Method::GET,
                &format!("{base}/certificates/shared?api-version=7.6"),
                None,
            )
            .await
            .expect(403);
        assert!(
            forbidden.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Action: 'Microsoft.KeyVault/vaults/certificates/read'")
        );
        env.call_with_token(
            Some(&token),
            Method::GET,
            &format!("{base}/secrets/shared?api-version=7.6"),
            None,
        )
        .await
        .expect(200);
    })
    .await;
}

#[tokio::test]
async fn access_policy_without_certificate_permissions_is_forbidden_by_policy() {
    within(async {
        let env = Env::start().await;
        let token = env.token(POLICY_ADMIN).await;
        let url = format!(
            "{}/certificates/any?api-version=7.6",
            env.vault("kv-policy")
        );
        let refused = env
            .call_with_token(Some(&token), Method::GET, &url, None)
            .await
            .expect(403);
        insta::assert_json_snapshot!("certificate_get_forbidden_by_policy", refused.body);
    })
    .await;
}

#[tokio::test]
async fn backup_and_restore_bring_back_the_certificate_with_its_key_and_secret() {
    within(async {
        let env = Env::start().await;
        let kv = Officer::new(&env).await;
        kv.call(
            Method::POST,
            "/certificates/saved/create?api-version=7.6",
            Some(json!({"policy": {"x509_props": {"subject": "CN=saved"}, "issuer": {"name": "Self"}}})),
        )
        .await
        .expect(202);
        let original = kv
            .call(Method::GET, "/certificates/saved?api-version=7.6", None)
            .await
            .expect(200);
        let secret = kv
            .call(Method::GET, "/secrets/saved?api-version=7.6", None)
            .await
            .expect(200);
        let blob = kv
            .call(Method::POST, "/certificates/saved/backup?api-version=7.6", None)
            .await
            .expect(200);
        let conflict = kv
            .call(
                Method::POST,
                "/certificates/restore?api-version=7.6",
                Some(blob.body.clone()),
            )
            .await
            .expect(409);
        assert_eq!(conflict.body["error"]["code"], "Conflict");

        kv.call(Method::DELETE, "/certificates/saved?api-version=7.6", None)
            .await
            .expect(200);
        kv.call(Method::DELETE, "/deletedcertificates/saved?api-version=7.6", None)
            .await
            .expect(204);
        let restored = kv
            .call(
                Method::POST,
                "/certificates/restore?api-version=7.6",
                Some(blob.body.clone()),
            )
            .await
            .expect(200);
        assert_eq!(restored.body["id"], original.body["id"]);
        assert_eq!(restored.body["cer"], original.body["cer"]);
        let secret_again = kv
            .call(Method::GET, "/secrets/saved?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(secret_again.body["value"], secret.body["value"]);
        assert_eq!(secret_again.body["managed"], true);
        kv.call(Method::GET, "/keys/saved?api-version=7.6", None)
            .await
            .expect(200);

        // A secret's blob is not a certificate's.
        let secret_blob = kv
            .call(Method::POST, "/secrets/seeded/backup?api-version=7.6", None)
            .await
            .expect(200);
        let refused = kv
            .call(
                Method::POST,
                "/certificates/restore?api-version=7.6",
                Some(secret_blob.body),
            )
            .await
            .expect(400);
        assert_eq!(refused.body["error"]["code"], "Malformed backup blob");
    })
    .await;
}
