//! Every secret operation's happy path and wire shape, vault routing by host, and headers.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, READER, within};

/// Set, then get latest (`/name/` and `/name`), by version, and the bundle shapes. Shapes:
/// Azure/azure-sdk-assets `python/.../test_secret_crud_operations[2025-07-01].json` (set and
/// get carry `value`; PATCH does not).
#[tokio::test]
async fn set_get_update_round_trip() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let set = env
            .call(
                Some(OFFICER),
                Method::PUT,
                &format!("{base}/secrets/db-pass?api-version=7.6"),
                Some(json!({
                    "value": "hunter2",
                    "contentType": "text/plain",
                    "tags": {"env": "test"},
                    "attributes": {"enabled": true, "nbf": 1_700_000_000, "exp": 2_000_000_000}
                })),
            )
            .await
            .expect(200);
        insta::assert_json_snapshot!("set_secret", env.normalize(&set.body));
        let id = set.body["id"].as_str().unwrap().to_owned();
        let version = id.rsplit('/').next().unwrap().to_owned();
        assert_eq!(version.len(), 32);
        assert!(id.starts_with(&format!("{base}/secrets/db-pass/")));

        for url in [
            format!("{base}/secrets/db-pass/?api-version=7.6"),
            format!("{base}/secrets/db-pass?api-version=7.0"),
            format!("{base}/secrets/DB-PASS/{version}?api-version=2025-07-01"),
        ] {
            let got = env
                .call(Some(READER), Method::GET, &url, None)
                .await
                .expect(200);
            assert_eq!(got.body, set.body, "{url}");
        }

        let second = env
            .call(
                Some(OFFICER),
                Method::PUT,
                &format!("{base}/secrets/db-pass?api-version=7.6"),
                Some(json!({"value": "v2"})),
            )
            .await
            .expect(200);
        let latest = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{base}/secrets/db-pass/?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        assert_eq!(latest.body["value"], "v2");
        assert_eq!(latest.body["id"], second.body["id"]);
        let old = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{base}/secrets/db-pass/{version}?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        assert_eq!(old.body["value"], "hunter2");

        // PATCH with an empty version segment updates the latest version.
        let patched = env
            .call(
                Some(OFFICER),
                Method::PATCH,
                &format!("{base}/secrets/db-pass/?api-version=7.6"),
                Some(json!({"contentType": "application/json", "tags": {"a": "b"}})),
            )
            .await
            .expect(200);
        insta::assert_json_snapshot!("update_secret", env.normalize(&patched.body));
        assert!(patched.body.get("value").is_none());
        // PATCH of a named version leaves the latest alone.
        env.call(
            Some(OFFICER),
            Method::PATCH,
            &format!("{base}/secrets/db-pass/{version}?api-version=7.6"),
            Some(json!({"attributes": {"enabled": false}})),
        )
        .await
        .expect(200);
        env.call(
            Some(READER),
            Method::GET,
            &format!("{base}/secrets/db-pass/?api-version=7.6"),
            None,
        )
        .await
        .expect(200);
    })
    .await;
}

/// Body: azure-sdk-for-js `recording_cant_get_a_disabled_secret.js` (§2.6).
#[tokio::test]
async fn get_of_a_disabled_secret_is_forbidden() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        env.call(
            Some(OFFICER),
            Method::PUT,
            &format!("{base}/secrets/off?api-version=7.6"),
            Some(json!({"value": "x", "attributes": {"enabled": false}})),
        )
        .await
        .expect(200);
        let reply = env
            .call(
                Some(OFFICER),
                Method::GET,
                &format!("{base}/secrets/off/?api-version=7.6"),
                None,
            )
            .await
            .expect(403);
        insta::assert_json_snapshot!(reply.body);
        // Listing still shows it, with enabled: false (ESO skips such items).
        let list = env
            .call(
                Some(OFFICER),
                Method::GET,
                &format!("{base}/secrets?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        let item = list.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"].as_str().unwrap().ends_with("/secrets/off"))
            .unwrap()
            .clone();
        assert_eq!(item["attributes"]["enabled"], false);
    })
    .await;
}

/// 404 body: .NET `GetDeletedSecretNonExisting.json` / Python recordings (§2.6).
#[tokio::test]
async fn get_of_a_missing_secret_is_404() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let reply = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{base}/secrets/missing1/?api-version=7.6"),
                None,
            )
            .await
            .expect(404);
        insta::assert_json_snapshot!(reply.body);
        let reply = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{base}/secrets/seeded/0123456789abcdef0123456789abcdef?api-version=7.6"),
                None,
            )
            .await
            .expect(404);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(
                    "A secret with (name/id) seeded/0123456789abcdef0123456789abcdef was not found"
                )
        );
    })
    .await;
}

#[tokio::test]
async fn vaults_are_routed_by_host_and_ids_follow_the_host() {
    within(async {
        let env = Env::start().await;
        let port = env.port();
        // The Azure name (as delivered by a routing proxy), the default vault on the bare
        // address, and `{vault}.localhost` all reach kv-rbac.
        for base in [
            format!("https://kv-rbac.vault.azure.net:{port}"),
            env.akv.url(),
            env.vault("kv-rbac"),
        ] {
            let reply = env
                .call(
                    Some(READER),
                    Method::GET,
                    &format!("{base}/secrets/seeded?api-version=7.6"),
                    None,
                )
                .await
                .expect(200);
            assert!(
                reply.body["id"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{base}/secrets/seeded/")),
                "{base}: {}",
                reply.body
            );
        }
        let unknown = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.vault("nope")),
                None,
            )
            .await;
        // `nope` is no vault; a vault-shaped host never falls back to the default vault.
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.body["error"]["code"], "VaultNotFound");
    })
    .await;
}

/// Headers from §2.3.
#[tokio::test]
async fn responses_carry_key_vault_headers() {
    within(async {
        let env = Env::start().await;
        let token = env.token(READER).await;
        let reply = env
            .http
            .get(format!(
                "{}/secrets/seeded?api-version=7.6",
                env.vault("kv-rbac")
            ))
            .bearer_auth(&token)
            .header("x-ms-client-request-id", "client-id-123")
            .send()
            .await
            .unwrap();
        let h = |name: &str| {
            reply
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(h("cache-control").as_deref(), Some("no-cache"));
        assert_eq!(h("pragma").as_deref(), Some("no-cache"));
        assert_eq!(h("expires").as_deref(), Some("-1"));
        assert_eq!(
            h("content-type").as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(
            h("strict-transport-security").as_deref(),
            Some("max-age=31536000;includeSubDomains")
        );
        assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(
            h("x-ms-client-request-id").as_deref(),
            Some("client-id-123")
        );
        assert_eq!(h("x-ms-keyvault-region").as_deref(), Some("westeurope"));
        assert_eq!(
            h("x-ms-keyvault-service-version").as_deref(),
            Some("1.9.3070.1")
        );
        assert_eq!(
            h("x-ms-keyvault-network-info").as_deref(),
            Some("conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;")
        );
        let request_id = h("x-ms-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(&request_id).is_ok());
    })
    .await;
}

#[tokio::test]
async fn list_items_carry_base_ids_and_enabled() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{}/secrets?api-version=7.0", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(200);
        insta::assert_json_snapshot!(env.normalize(&reply.body));
    })
    .await;
}

/// Over HTTP/1.1 the vault comes from the `Host` header (HTTP/2 carries it in `:authority`).
#[tokio::test]
async fn http1_requests_are_routed_by_the_host_header() {
    within(async {
        let env = Env::start().await;
        let token = env.token(READER).await;
        let http1 = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(env.ca_pem.as_bytes()).expect("CA pem"),
            )
            .resolve("kv-policy.localhost", env.akv.addr())
            .http1_only()
            .build()
            .unwrap();
        let reply = http1
            .get(format!(
                "{}/secrets/seeded?api-version=7.6",
                env.vault("kv-policy")
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.version(), reqwest::Version::HTTP_11);
        // kv-policy has no policy for READER: the 403 names kv-policy, so Host was honoured.
        assert_eq!(reply.status(), 403);
        let body: serde_json::Value = reply.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("kv-policy;location=")
        );
    })
    .await;
}
