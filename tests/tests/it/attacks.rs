//! The attack suite: forged, misdirected and malformed requests sent to both fakes at Azure's
//! host names through `harness serve`'s routing proxy, as code under test would send them.
//! Cases follow Microsoft's documented token rules: a Key Vault access token is an RS256 JWT
//! signed by a key in the tenant's published JWKS, for the vault resource, from the vault's
//! tenant, within its lifetime, sent as `Authorization: Bearer` (`authentication-requests-and-responses.md`,
//! `access-tokens.md` "Validate tokens"); a client assertion is signed by a certificate
//! registered on the app, addressed to the token endpoint, with `iss` = `sub` = the client id
//! (`certificate-credentials.md`). Each case gets Azure's status and body, writes nothing, and
//! the fake keeps serving the legitimate client afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, ensure};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::creds::ClientCertificate;
use fake_aad::directory::ClientCertificate as RegisteredCertificate;
use fake_akv::SecretValue;
use harness::serve::{Bench, Options};
use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use uuid::Uuid;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::within;

/// The secret every case tries to overwrite, and its one legitimate value.
const GUARDED: &str = "guarded";
const ORIGINAL: &str = "original-value";
const MISSING: &str = "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.";
const INVALID: &str = "Error validating token: 'S2S12086'.";

/// A bench with a legitimate client's credentials and token.
struct Target {
    bench: Bench,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    tenant: String,
    client_id: String,
    secret: String,
    vault: String,
    token: String,
}

/// A response, its body as JSON where it is JSON.
#[derive(Debug)]
struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Value,
    text: String,
}

impl Target {
    async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let bench = Bench::start(Options {
            state_dir: dir.path().join("state"),
            directory: None,
            vaults: None,
            proxy_listen: "127.0.0.1:0".parse()?,
        })
        .await?;
        let env = bench.env();
        let var = |key: &str| {
            env.iter()
                .find_map(|(k, v)| (*k == key).then(|| v.clone()))
                .with_context(|| format!("{key} missing from the bench environment"))
        };
        let ca = std::fs::read(bench.state_dir().join("ca.pem"))?;
        let http = test_support::trusting(&ca)
            .proxy(reqwest::Proxy::https(var("HTTPS_PROXY")?)?)
            .build()?;
        let mut target = Self {
            http,
            tenant: var("AZURE_TENANT_ID")?,
            client_id: var("AZURE_CLIENT_ID")?,
            secret: var("AZURE_CLIENT_SECRET")?,
            vault: var("AZURE_KEYVAULT_URL")?,
            token: String::new(),
            bench,
            _dir: dir,
        };
        target.token = target
            .token_with_secret("https://vault.azure.net/.default")
            .await?;
        let set = target
            .vault_request(
                Method::PUT,
                &format!("/secrets/{GUARDED}"),
                Some(&target.bearer()),
            )
            .json(&json!({ "value": ORIGINAL }))
            .send()
            .await?;
        ensure!(set.status() == 200, "seeding failed: {}", set.text().await?);
        Ok(target)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn token_url(&self) -> String {
        format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            self.tenant
        )
    }

    /// A token from the v2 endpoint with the client secret.
    async fn token_with_secret(&self, scope: &str) -> Result<String> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("scope", scope),
            ("grant_type", "client_credentials"),
        ];
        let reply = self.token_request(&form).await?;
        ensure!(reply.status == 200, "token refused: {}", reply.text);
        Ok(reply.body["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned())
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Reply> {
        read(self.http.post(self.token_url()).form(form).send().await?).await
    }

    fn vault_request(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let separator = if path.contains('?') { '&' } else { '?' };
        let request = self.http.request(
            method,
            format!("{}{path}{separator}api-version=7.6", self.vault),
        );
        match authorization {
            Some(value) => request.header(reqwest::header::AUTHORIZATION, value),
            None => request,
        }
    }

    /// `PUT /secrets/guarded` with `authorization`: the write every forged token attempts.
    async fn overwrite(&self, authorization: Option<&str>) -> Result<Reply> {
        let request = self
            .vault_request(Method::PUT, &format!("/secrets/{GUARDED}"), authorization)
            .json(&json!({ "value": "attacker-value" }));
        read(request.send().await?).await
    }

    /// The guarded secret still has its one version and value, nothing else was created
    /// (read in the store, since a scoped caller may not list), and the legitimate client is
    /// still served.
    async fn assert_untouched(&self, case: &str) -> Result<()> {
        let bearer = self.bearer();
        let secret = read(
            self.vault_request(Method::GET, &format!("/secrets/{GUARDED}/"), Some(&bearer))
                .send()
                .await?,
        )
        .await?;
        ensure!(
            secret.body["value"] == ORIGINAL,
            "{case}: the vault stopped serving: {secret:?}"
        );
        let state = self.bench.akv().state();
        let vault = state
            .vault(&state.vault_names()[0])
            .context("the bench's vault")?;
        let (live, deleted, versions) = vault.inspect::<SecretValue, _>(|secrets| {
            (
                secrets.list().count(),
                secrets.list_deleted().count(),
                secrets.versions(GUARDED).len(),
            )
        });
        ensure!(
            (live, deleted, versions) == (1, 0, 1),
            "{case}: the vault now holds {live} secrets ({versions} versions of {GUARDED}), {deleted} deleted"
        );
        Ok(())
    }

    /// Sends `head` (a request line and headers, without the blank line) and `body` as
    /// written, over TLS through the proxy's tunnel to the vault: no client library
    /// normalises the path on the way.
    async fn raw(&self, head: &str, body: &[u8]) -> Result<Reply> {
        let host = url::Url::parse(&self.vault)?
            .host_str()
            .context("vault host")?
            .to_owned();
        let mut stream = tokio::net::TcpStream::connect(self.bench.proxy().addr()).await?;
        stream
            .write_all(
                format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes(),
            )
            .await?;
        let mut established = [0_u8; 39];
        stream.read_exact(&mut established).await?;
        ensure!(established.starts_with(b"HTTP/1.1 200"), "CONNECT refused");
        let mut roots = rustls::RootCertStore::empty();
        let ca = std::fs::read(self.bench.state_dir().join("ca.pem"))?;
        for cert in rustls_pemfile::certs(&mut ca.as_slice()) {
            roots.add(cert?)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(
                rustls::pki_types::ServerName::try_from(host.clone())?,
                stream,
            )
            .await?;
        tls.write_all(
            format!(
                "{head}\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await?;
        tls.write_all(body).await?;
        let mut response = Vec::new();
        // A peer that closes without TLS's close_notify still sent its whole answer.
        let _ = tls.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").context("a response head")?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("a status")?;
        let challenge = head
            .lines()
            .find_map(|l| l.strip_prefix("www-authenticate: "))
            .map(str::to_owned);
        Ok(Reply {
            status,
            challenge,
            body: serde_json::from_str(body).unwrap_or(Value::Null),
            text: body.to_owned(),
        })
    }

    /// The legitimate token's header and claims, and the JWKS key that signed it.
    async fn genuine(&self) -> Result<(Value, Value, Value)> {
        let (header, claims) = decode(&self.token)?;
        let jwks = read(
            self.http
                .get(format!(
                    "https://login.microsoftonline.com/{}/discovery/v2.0/keys",
                    self.tenant
                ))
                .send()
                .await?,
        )
        .await?;
        let key = jwks.body["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == header["kid"]))
            .cloned()
            .context("the token's kid is not in the JWKS")?;
        Ok((header, claims, key))
    }
}

async fn read(response: reqwest::Response) -> Result<Reply> {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        challenge,
        body,
        text,
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(token: &str) -> Result<(Value, Value)> {
    let mut parts = token.split('.');
    let mut part = || -> Result<Value> {
        let text = URL_SAFE_NO_PAD.decode(parts.next().context("a JWT part")?)?;
        Ok(serde_json::from_slice(&text)?)
    };
    Ok((part()?, part()?))
}

/// `header.claims.signature` with the signature as given.
fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// Signs `claims` under `header` (whose `alg` picks RS256 or HS256) with `key`.
fn sign(header: &Value, claims: &Value, key: &EncodingKey) -> Result<String> {
    let header: Header = serde_json::from_value(header.clone())?;
    Ok(jsonwebtoken::encode(&header, claims, key)?)
}

fn rsa_key(certificate: &ClientCertificate) -> Result<EncodingKey> {
    let der = rsa::RsaPrivateKey::from_pkcs8_pem(&certificate.key_pem)?.to_pkcs1_der()?;
    Ok(EncodingKey::from_rsa_der(der.as_bytes()))
}

/// Asserts a Key Vault 401: the challenge naming the vault's tenant, and `message`.
fn assert_unauthorized(target: &Target, case: &str, reply: &Reply, message: &str) {
    assert_eq!(reply.status, 401, "{case}: {}", reply.text);
    assert_eq!(
        reply.body,
        json!({"error": {"code": "Unauthorized", "message": message}}),
        "{case}"
    );
    let challenge = reply.challenge.as_deref().unwrap_or_default();
    assert_eq!(
        challenge,
        format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"https://vault.azure.net\"",
            target.tenant
        ),
        "{case}"
    );
}

#[tokio::test]
async fn forged_and_altered_tokens_are_refused() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let (header, claims, _) = target.genuine().await?;
        let genuine_signature =
            URL_SAFE_NO_PAD.decode(target.token.rsplit('.').next().unwrap_or_default())?;
        let attacker = ClientCertificate::generate("attacker")?;
        let mut other_caller = claims.clone();
        other_caller["oid"] = json!(Uuid::new_v4().to_string());
        other_caller["exp"] = json!(claims["exp"].as_i64().unwrap_or_default() + 86_400);
        let mut cases: Vec<(&str, String)> = Vec::new();
        for alg in ["none", "None", "NONE"] {
            let mut unsigned = header.clone();
            unsigned["alg"] = json!(alg);
            cases.push(("alg none", assemble(&unsigned, &claims, b"")));
            cases.push((
                "alg none, genuine signature kept",
                assemble(&unsigned, &claims, &genuine_signature),
            ));
        }
        cases.push(("signature stripped", assemble(&header, &claims, b"")));
        cases.push((
            "signature stripped, no trailing dot",
            target
                .token
                .rsplit_once('.')
                .map(|(head, _)| head.to_owned())
                .unwrap_or_default(),
        ));
        cases.push((
            "claims altered under the genuine signature",
            assemble(&header, &other_caller, &genuine_signature),
        ));
        let mut flipped = genuine_signature.clone();
        flipped[10] ^= 0x01;
        cases.push((
            "one signature bit flipped",
            assemble(&header, &claims, &flipped),
        ));
        cases.push((
            "attacker key under the genuine kid",
            sign(&header, &other_caller, &rsa_key(&attacker)?)?,
        ));
        cases.push(("not a JWT", "not.a.jwt".to_owned()));
        cases.push(("empty segments", "..".to_owned()));
        for (case, token) in &cases {
            let reply = target.overwrite(Some(&format!("Bearer {token}"))).await?;
            assert_unauthorized(&target, case, &reply, INVALID);
            target.assert_untouched(case).await?;
        }
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// A token may name where its key lives (`jku`, `x5u`) or carry it (`jwk`, `x5c`); Entra's
/// tokens are verified only against the tenant's published keys (`access-tokens.md`), so
/// every such key is ignored and no URL in a token is ever fetched. HS256 keyed with the
/// public key (the RS/HS confusion) fails because only RS256 is accepted.
#[tokio::test]
async fn keys_named_or_carried_by_a_token_are_never_trusted() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let (header, claims, jwk) = target.genuine().await?;
        let attacker = ClientCertificate::generate("attacker")?;
        let attacker_key = rsa_key(&attacker)?;
        let public = rsa::RsaPrivateKey::from_pkcs8_pem(&attacker.key_pem)?.to_public_key();
        let attacker_jwk = {
            use rsa::traits::PublicKeyParts;
            json!({"kty": "RSA", "kid": "attacker", "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())})
        };
        // A listener standing in for the attacker's key server: nothing may connect to it.
        let lure = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let lure_url = format!("https://127.0.0.1:{}/keys", lure.local_addr()?.port());
        let visits = Arc::new(AtomicUsize::new(0));
        let counter = visits.clone();
        let lure_task = tokio::spawn(async move {
            while lure.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let mut cases: Vec<(String, String)> = Vec::new();
        for kid in [header["kid"].clone(), json!("attacker")] {
            for (field, value) in [
                ("jku", json!(lure_url)),
                ("x5u", json!(lure_url)),
                ("jwk", attacker_jwk.clone()),
                ("x5c", json!([base64::engine::general_purpose::STANDARD.encode(&attacker.cert_der)])),
            ] {
                let mut forged = json!({"typ": "JWT", "alg": "RS256", "kid": kid});
                forged[field] = value;
                cases.push((
                    format!("{field} with kid {kid}"),
                    sign(&forged, &claims, &attacker_key)?,
                ));
            }
        }
        // HS256 keyed with each form of the tenant's public key a verifier might hold.
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap_or_default())?;
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap_or_default())?;
        let genuine_public = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&n),
            rsa::BigUint::from_bytes_be(&e),
        )?;
        let pkcs1 = {
            use rsa::pkcs1::EncodeRsaPublicKey;
            genuine_public.to_pkcs1_der()?.as_bytes().to_vec()
        };
        let spki_pem = {
            use rsa::pkcs8::EncodePublicKey;
            genuine_public.to_public_key_pem(rsa::pkcs8::LineEnding::LF)?
        };
        let mut hs = header.clone();
        hs["alg"] = json!("HS256");
        for (form, secret) in [
            ("PKCS#1 DER", pkcs1),
            ("SPKI PEM", spki_pem.into_bytes()),
            ("JWK JSON", jwk.to_string().into_bytes()),
            ("modulus", n.clone()),
        ] {
            cases.push((
                format!("HS256 keyed with the public key as {form}"),
                sign(&hs, &claims, &EncodingKey::from_secret(&secret))?,
            ));
        }
        for (case, token) in &cases {
            let reply = target.overwrite(Some(&format!("Bearer {token}"))).await?;
            assert_unauthorized(&target, case, &reply, INVALID);
            target.assert_untouched(case).await?;
        }
        assert_eq!(visits.load(Ordering::SeqCst), 0, "a key URL in a token was fetched");
        lure_task.abort();
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Genuine tokens, signed by the fake's own key, that are not for this vault: another
/// resource, another tenant, or outside their lifetime on the fakes' clock (with Key Vault's
/// five minutes of skew, the IdentityModel default).
#[tokio::test]
async fn genuine_tokens_for_something_else_are_refused() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let arm = target
            .token_with_secret("https://management.azure.com/.default")
            .await?;
        let audience = decode(&arm)?.1["aud"].as_str().unwrap_or_default().to_owned();
        let reply = target.overwrite(Some(&format!("Bearer {arm}"))).await?;
        assert_unauthorized(
            &target,
            "ARM token",
            &reply,
            &format!("AKV10022: Invalid audience. Expected https://vault.azure.net, found: {audience}."),
        );
        target.assert_untouched("ARM token").await?;

        // An app of a second tenant, with a genuine Key Vault token of its own tenant.
        let other_tenant = Uuid::new_v4();
        let other_app = Uuid::new_v4();
        let aad = target.bench.aad().state();
        let mut tenant = aad.directory().tenants[0].clone();
        tenant.id = other_tenant;
        tenant.domains = vec!["other.onmicrosoft.com".to_owned()];
        tenant.managed_identities.clear();
        tenant.apps.truncate(1);
        tenant.apps[0].app_id = other_app;
        tenant.apps[0].object_id = Uuid::new_v4();
        aad.put_tenant(tenant)?;
        let foreign = read(
            target
                .http
                .post(format!(
                    "https://login.microsoftonline.com/{other_tenant}/oauth2/v2.0/token"
                ))
                .form(&[
                    ("client_id", other_app.to_string().as_str()),
                    ("client_secret", target.secret.as_str()),
                    ("scope", "https://vault.azure.net/.default"),
                    ("grant_type", "client_credentials"),
                ])
                .send()
                .await?,
        )
        .await?;
        let foreign = foreign.body["access_token"].as_str().context("foreign token")?;
        let reply = target.overwrite(Some(&format!("Bearer {foreign}"))).await?;
        assert_unauthorized(
            &target,
            "another tenant's token",
            &reply,
            &format!(
                "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found https://sts.windows.net/{other_tenant}/.",
                target.tenant
            ),
        );
        target.assert_untouched("another tenant's token").await?;

        let clock = target.bench.aad().state().clock().clone();
        clock.advance(time::Duration::hours(-1));
        let reply = target.overwrite(Some(&target.bearer())).await?;
        assert_unauthorized(&target, "not yet valid", &reply, INVALID);
        clock.advance(time::Duration::hours(3));
        let reply = target.overwrite(Some(&target.bearer())).await?;
        assert_unauthorized(
            &target,
            "expired",
            &reply,
            "[TokenExpired] Error validating token: 'S2S12086'.",
        );
        clock.advance(time::Duration::hours(-2));
        target.assert_untouched("lifetime").await?;
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Key Vault reads the token from the `Authorization` header's Bearer scheme only
/// (`authentication-requests-and-responses.md`): a token anywhere else, or under another
/// scheme, is no token at all, and the answer is the challenge.
#[tokio::test]
async fn tokens_outside_the_bearer_header_count_for_nothing() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let token = target.token.clone();
        for (case, query) in [
            ("access_token in the query", format!("access_token={token}")),
            ("token in the query", format!("token={token}")),
        ] {
            let reply = read(
                target
                    .vault_request(Method::PUT, &format!("/secrets/{GUARDED}?{query}"), None)
                    .json(&json!({"value": "attacker-value"}))
                    .send()
                    .await?,
            )
            .await?;
            assert_unauthorized(&target, case, &reply, MISSING);
            target.assert_untouched(case).await?;
        }
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", target.client_id, target.secret));
        for (case, authorization) in [
            ("Basic with the client secret", format!("Basic {basic}")),
            ("a token under another scheme", format!("Token {token}")),
            ("a token with no scheme", token.clone()),
            ("Negotiate", "Negotiate YIIB".to_owned()),
            ("Bearer with nothing", "Bearer".to_owned()),
            ("Bearer with spaces", "Bearer    ".to_owned()),
        ] {
            let reply = target.overwrite(Some(&authorization)).await?;
            assert_unauthorized(&target, case, &reply, MISSING);
            target.assert_untouched(case).await?;
        }
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Requests over a size limit: a head beyond HTTP.sys's, a body beyond the fake's. Each
/// gets the front end's or Key Vault's error, nothing is written.
#[tokio::test]
async fn oversized_requests_are_refused_whole() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let bearer = target.bearer();
        // HTTP.sys refuses a request whose headers exceed 16 KB (`MaxRequestBytes`, "Http.sys
        // registry settings for Windows") with its own 400 page.
        let reply = read(
            target
                .vault_request(Method::PUT, &format!("/secrets/{GUARDED}"), Some(&bearer))
                .header("x-padding", "a".repeat(20 * 1024))
                .json(&json!({"value": "attacker-value"}))
                .send()
                .await?,
        )
        .await?;
        assert_eq!(reply.status, 400, "oversized header: {}", reply.text);
        assert!(
            reply
                .text
                .contains("HTTP Error 400. The size of the request headers is too long."),
            "{}",
            reply.text
        );
        target.assert_untouched("oversized header").await?;

        // Unauthenticated, a body of any size gets the challenge first, as the SDKs expect.
        let huge = format!("{{\"value\":\"{}\"}}", "v".repeat(3 * 1024 * 1024));
        let reply = read(
            target
                .vault_request(Method::PUT, &format!("/secrets/{GUARDED}"), None)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(huge.clone())
                .send()
                .await?,
        )
        .await?;
        assert_unauthorized(&target, "huge body without a token", &reply, MISSING);
        let reply = read(
            target
                .vault_request(Method::PUT, &format!("/secrets/{GUARDED}"), Some(&bearer))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(huge)
                .send()
                .await?,
        )
        .await?;
        assert_eq!(reply.status, 400, "huge body: {}", reply.text);
        assert_eq!(
            reply.body["error"]["code"], "BadParameter",
            "{}",
            reply.text
        );
        target.assert_untouched("huge body").await?;
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Bodies that are not the JSON object an operation takes get 400 `BadParameter`.
#[tokio::test]
async fn malformed_json_is_a_bad_parameter() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let bearer = target.bearer();
        for body in [
            "{\"value\": ",
            "{\"value\": \"a\", }",
            "\u{feff}{\"value\": 1}",
            "[\"value\", \"a\"]",
            "{\"value\": \"a\", \"value\": \"b\", \"attributes\": 7}",
            "{\"value\": \"\\ud800\"}",
            "",
        ] {
            let reply = read(
                target
                    .vault_request(Method::PUT, &format!("/secrets/{GUARDED}"), Some(&bearer))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await?,
            )
            .await?;
            assert_eq!(reply.status, 400, "{body:?}: {}", reply.text);
            assert_eq!(reply.body["error"]["code"], "BadParameter", "{body:?}");
            target.assert_untouched(body).await?;
        }
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Paths that try to reach another object or out of the vault, sent as written.
#[tokio::test]
async fn path_tricks_reach_no_other_object() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let bearer = target.bearer();
        // Paths that try to climb out of /secrets/guarded, sent as written by a caller whose
        // role covers only that secret: none may reach or write another object.
        let vault = target.bench.akv().state().vault_names()[0].clone();
        let mut spec = (*target
            .bench
            .akv()
            .state()
            .vault(&vault)
            .context("vault")?
            .spec())
        .clone();
        for assignment in &mut spec.role_assignments {
            assignment.scope = format!("/secrets/{GUARDED}");
        }
        target.bench.akv().state().put_vault(spec)?;
        let body = json!({"value": "attacker-value"}).to_string();
        let authorization = format!("Authorization: {bearer}\r\nContent-Type: application/json");
        // Dot segments resolve as HTTP.sys resolves them, to a secret outside the caller's
        // scope (403); an encoded slash or a NUL stays in the name, which is then invalid
        // (400); other shapes are no operation at all (405).
        for (path, status, code) in [
            (format!("/secrets/{GUARDED}/../other"), 403, "Forbidden"),
            (format!("/secrets/{GUARDED}/%2e%2E/other"), 403, "Forbidden"),
            ("/secrets/./other/./".to_owned(), 403, "Forbidden"),
            ("//secrets/other".to_owned(), 403, "Forbidden"),
            ("/_emulator/../secrets/other".to_owned(), 403, "Forbidden"),
            (
                format!("/secrets/{GUARDED}%2F..%2Fother"),
                400,
                "BadParameter",
            ),
            (format!("/secrets/{GUARDED}%2Fother"), 400, "BadParameter"),
            (format!("/secrets/{GUARDED}%00"), 400, "BadParameter"),
            (format!("/secrets/{GUARDED};other"), 400, "BadParameter"),
            (format!("/secrets/{}", "a".repeat(128)), 400, "BadParameter"),
            ("/secrets/".to_owned(), 405, "MethodNotAllowed"),
            (
                format!("/secrets/{GUARDED}/versions"),
                405,
                "MethodNotAllowed",
            ),
            (
                format!("/_emulator/vaults/{vault}"),
                405,
                "MethodNotAllowed",
            ),
        ] {
            let reply = target
                .raw(
                    &format!("PUT {path}?api-version=7.6 HTTP/1.1\r\n{authorization}"),
                    body.as_bytes(),
                )
                .await?;
            assert_eq!(reply.status, status, "{path}: {}", reply.text);
            assert_eq!(reply.body["error"]["code"], code, "{path}");
            target.assert_untouched(&path).await?;
        }
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// Forged client assertions at the token endpoint: each gets Entra's AADSTS error and no
/// token, and the app's genuine assertion still works afterwards.
#[tokio::test]
async fn forged_client_assertions_get_no_token() -> Result<()> {
    within(async {
        let target = Target::start().await?;
        let registered = ClientCertificate::generate("registered")?;
        target.bench.aad().state().add_client_certificate(
            &target.tenant,
            &target.client_id,
            RegisteredCertificate {
                key_id: Uuid::new_v4(),
                pem: registered.cert_pem.clone(),
            },
        )?;
        let now = target.bench.aad().state().clock().unix();
        let url = target.token_url();
        let genuine = registered.assertion(&target.client_id, &url, now)?;
        let cases = forged_assertions(&registered, &genuine, &target.client_id, &url, now)?;
        for (case, assertion, code) in &cases {
            let reply = target
                .token_request(&[
                    ("client_id", target.client_id.as_str()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion),
                    ("scope", "https://vault.azure.net/.default"),
                    ("grant_type", "client_credentials"),
                ])
                .await?;
            assert!(
                matches!(reply.status, 400 | 401),
                "{case}: {} {}",
                reply.status,
                reply.text
            );
            assert!(
                reply.body["access_token"].is_null(),
                "{case}: a token was issued"
            );
            let description = reply.body["error_description"].as_str().unwrap_or_default();
            assert!(description.starts_with(code), "{case}: {description}");
            assert!(
                reply.body["error_codes"].is_array(),
                "{case}: {}",
                reply.text
            );
        }
        let reply = target
            .token_request(&[
                ("client_id", target.client_id.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &genuine),
                ("scope", "https://vault.azure.net/.default"),
                ("grant_type", "client_credentials"),
            ])
            .await?;
        assert_eq!(reply.status, 200, "the genuine assertion: {}", reply.text);
        target.bench.shutdown().await;
        Ok(())
    })
    .await
}

/// A named case, what it sends, and the AADSTS code it gets.
type Case<T> = (&'static str, T, &'static str);

/// Variations on the `genuine` assertion of `registered` for `client_id`, each with the AADSTS
/// code Entra answers it with.
fn forged_assertions(
    registered: &ClientCertificate,
    genuine: &str,
    client_id: &str,
    url: &str,
    now: i64,
) -> Result<Vec<Case<String>>> {
    let (header, claims) = decode(genuine)?;
    let attacker = ClientCertificate::generate("attacker")?;
    let with = |changes: &[(&str, Value)]| {
        let mut changed = claims.clone();
        for (name, value) in changes {
            changed[*name] = value.clone();
        }
        changed
    };
    let key = rsa_key(registered)?;
    let signature = URL_SAFE_NO_PAD.decode(genuine.rsplit('.').next().unwrap_or_default())?;
    let mut none = header.clone();
    none["alg"] = json!("none");
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let mut cases = vec![
        // Not a JWS algorithm Entra knows, so not a JWT it can read.
        ("alg none", assemble(&none, &claims, b""), "AADSTS50027"),
        (
            "signature stripped",
            assemble(&header, &claims, b""),
            "AADSTS700027",
        ),
        (
            "claims altered under the genuine signature",
            assemble(
                &header,
                &with(&[("exp", json!(now + 86_400 * 365))]),
                &signature,
            ),
            "AADSTS700027",
        ),
        (
            "attacker key under the registered thumbprint",
            sign(&header, &claims, &rsa_key(&attacker)?)?,
            "AADSTS700027",
        ),
        (
            "HS256 keyed with the registered certificate",
            sign(
                &hs,
                &claims,
                &EncodingKey::from_secret(&registered.cert_der),
            )?,
            "AADSTS700027",
        ),
        (
            "an unregistered certificate",
            attacker.assertion(client_id, url, now)?,
            "AADSTS700027",
        ),
        ("not a JWT", "not-a-jwt".to_owned(), "AADSTS50027"),
    ];
    let other_tenant = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        Uuid::new_v4()
    );
    // Genuinely signed, with claims Entra refuses. An issuer other than the client makes it
    // a federated assertion (how Entra tells the two apart), and no federated credential
    // names that issuer.
    let misdirected: [Case<Vec<(&str, Value)>>; 6] = [
        (
            "audience of another tenant",
            vec![("aud", json!(other_tenant))],
            "AADSTS700023",
        ),
        (
            "audience of another resource",
            vec![("aud", json!("https://vault.azure.net"))],
            "AADSTS700023",
        ),
        (
            "subject is not the client",
            vec![("sub", json!(Uuid::new_v4().to_string()))],
            "AADSTS700021",
        ),
        (
            "issuer is another party",
            vec![("iss", json!("https://attacker.example"))],
            "AADSTS70021",
        ),
        (
            "expired an hour ago",
            vec![("nbf", json!(now - 7200)), ("exp", json!(now - 3600))],
            "AADSTS700024",
        ),
        (
            "valid only from tomorrow",
            vec![("nbf", json!(now + 86_400)), ("exp", json!(now + 90_000))],
            "AADSTS700024",
        ),
    ];
    for (case, changes, code) in misdirected {
        cases.push((case, sign(&header, &with(&changes), &key)?, code));
    }
    Ok(cases)
}
