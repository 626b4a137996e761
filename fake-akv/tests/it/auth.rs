//! Authentication and authorization as Key Vault does it.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, FOREIGN, NOBODY, OFFICER, POLICY_GET, READER, SCOPED, TENANT, within};

/// Every method gets the challenge before any validation, even with an invalid name, no
/// api-version and no body: the SDKs' first request is sent that way (§2.4). Body and header
/// from Azure/azure-sdk-assets
/// `python/sdk/keyvault/azure-keyvault-secrets/tests/recordings/test_secrets_client.pyTestSecretClienttest_secret_crud_operations[2025-07-01].json`.
#[tokio::test]
async fn missing_token_gets_the_challenge_for_every_method() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let cases = [
            (Method::GET, format!("{base}/secrets/name/?api-version=7.6")),
            (Method::PUT, format!("{base}/secrets/name?api-version=7.6")),
            (Method::PUT, format!("{base}/secrets/bad_name")),
            (Method::DELETE, format!("{base}/secrets/name?api-version=7.6")),
            (Method::PATCH, format!("{base}/secrets/name/?api-version=7.6")),
            (Method::POST, format!("{base}/secrets/restore?api-version=7.6")),
            (Method::GET, format!("{base}/nothing/here")),
        ];
        for (method, url) in cases {
            let reply = env.call(None, method.clone(), &url, None).await.expect(401);
            assert_eq!(
                reply.header("www-authenticate"),
                Some(
                    format!(
                        "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://vault.azure.net\""
                    )
                    .as_str()
                ),
                "{method} {url}"
            );
            assert_eq!(
                reply.body,
                json!({"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token."}})
            );
        }
    })
    .await;
}

/// AKV10032 wording: Azure/azure-sdk-for-net `sdk/keyvault/TROUBLESHOOTING.md`.
#[tokio::test]
async fn token_from_another_tenant_is_an_invalid_issuer() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(FOREIGN),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(401);
        assert!(reply.header("www-authenticate").is_some());
        insta::assert_json_snapshot!(reply.body);
    })
    .await;
}

#[tokio::test]
async fn token_for_another_resource_is_an_invalid_audience() {
    within(async {
        let env = Env::start().await;
        let token = env
            .token_for(OFFICER, "https://management.azure.com/.default")
            .await;
        let reply = env
            .call_with_token(
                Some(&token),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(401);
        insta::assert_json_snapshot!(reply.body);
    })
    .await;
}

/// Wording: microsoft/confidential-sidecar-containers docs (§3.1).
#[tokio::test]
async fn expired_token_is_refused_on_the_shared_clock() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let url = format!("{}/secrets?api-version=7.6", env.vault("kv-rbac"));
        env.call_with_token(Some(&token), Method::GET, &url, None)
            .await
            .expect(200);
        env.clock.advance(time::Duration::hours(2));
        let reply = env
            .call_with_token(Some(&token), Method::GET, &url, None)
            .await
            .expect(401);
        insta::assert_json_snapshot!(reply.body);
    })
    .await;
}

#[tokio::test]
async fn garbage_token_is_refused() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call_with_token(
                Some("not.a.jwt"),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(401);
        assert_eq!(
            reply.body["error"]["message"],
            "Error validating token: 'S2S12086'."
        );
    })
    .await;
}

/// Shape of the RBAC 403: §3.4 (`ForbiddenByRbac`, caller, action, resource, vault).
#[tokio::test]
async fn caller_without_a_role_is_forbidden_by_rbac() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(NOBODY),
                Method::GET,
                &format!("{}/secrets/seeded/?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(403);
        insta::assert_json_snapshot!(reply.body);
    })
    .await;
}

#[tokio::test]
async fn secrets_user_can_read_but_not_write() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let reply = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{base}/secrets/seeded?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        assert_eq!(reply.body["value"], "from-config");
        assert!(reply.header("x-ms-keyvault-rbac-assignment-id").is_some());
        let reply = env
            .call(
                Some(READER),
                Method::PUT,
                &format!("{base}/secrets/new?api-version=7.6"),
                Some(json!({"value": "x"})),
            )
            .await
            .expect(403);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'")
        );
    })
    .await;
}

#[tokio::test]
async fn object_scoped_role_reaches_only_its_secret() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        for name in ["scoped-one", "scoped-two"] {
            env.call(
                Some(OFFICER),
                Method::PUT,
                &format!("{base}/secrets/{name}?api-version=7.6"),
                Some(json!({"value": name})),
            )
            .await
            .expect(200);
        }
        env.call(
            Some(SCOPED),
            Method::GET,
            &format!("{base}/secrets/scoped-one/?api-version=7.6"),
            None,
        )
        .await
        .expect(200);
        env.call(
            Some(SCOPED),
            Method::GET,
            &format!("{base}/secrets/scoped-two/?api-version=7.6"),
            None,
        )
        .await
        .expect(403);
        let reply = env
            .call(
                Some(SCOPED),
                Method::GET,
                &format!("{base}/secrets?api-version=7.6"),
                None,
            )
            .await
            .expect(403);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("secrets/readMetadata/action")
        );
    })
    .await;
}

/// Access-policy 403: message from the Container Apps doc capture, innererror
/// `ForbiddenByPolicy` as in Azure/azure-sdk-for-net `CertificateClientTests.cs` (§3.4).
#[tokio::test]
async fn access_policy_without_the_permission_is_forbidden_by_policy() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(POLICY_GET),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.vault("kv-policy")),
                None,
            )
            .await
            .expect(403);
        insta::assert_json_snapshot!(reply.body);
    })
    .await;
}

/// A tenant added to fake-aad after fake-akv cached the JWKS signs with a key fake-akv has not
/// seen: the unknown `kid` makes it refetch the keys once, and the token is accepted.
#[tokio::test]
async fn unknown_signing_key_triggers_one_jwks_refetch() {
    within(async {
        let env = Env::start().await;
        env.call(
            Some(OFFICER),
            Method::GET,
            &format!("{}/secrets?api-version=7.6", env.vault("kv-rbac")),
            None,
        )
        .await
        .expect(200);

        let third = crate::support::App {
            tenant: uuid::Uuid::from_u128(0x3333),
            client_id: uuid::Uuid::from_u128(0xa333),
            object_id: uuid::Uuid::from_u128(0xb333),
        };
        env.call_with_token(
            None,
            Method::POST,
            &format!("{}/_emulator/tenants", env.aad.url()),
            Some(json!({
                "id": third.tenant,
                "apps": [{
                    "appId": third.client_id,
                    "objectId": third.object_id,
                    "secrets": [{"value": crate::support::CLIENT_SECRET}]
                }]
            })),
        )
        .await
        .expect(200);
        env.admin(
            Method::POST,
            "/_emulator/vaults",
            Some(json!({
                "name": "kv-third",
                "tenantId": third.tenant,
                "roleAssignments": [{"principalId": third.object_id, "role": "Key Vault Secrets Officer"}]
            })),
        )
        .await
        .expect(201);
        env.admin(
            Method::PUT,
            "/_emulator/defaultVault",
            Some(json!({"name": "kv-third"})),
        )
        .await
        .expect(204);
        let reply = env
            .call(
                Some(third),
                Method::GET,
                &format!("{}/secrets?api-version=7.6", env.akv.url()),
                None,
            )
            .await
            .expect(200);
        assert_eq!(reply.body, json!({"value": [], "nextLink": null}));
    })
    .await;
}
