//! Soft delete: delete, get and list deleted, the name lock, recover, purge, retention.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, POLICY_ADMIN, within};

/// Delete → deleted bundle (no value, `scheduledPurgeDate = deletedDate + 90 days`:
/// `Microsoft.KeyVault/stable/7.5/examples/DeleteSecret-example.json`) → 404 → get/list
/// deleted → 409 on set (§3.3) → recover → get → delete → purge 204 → gone.
#[tokio::test]
async fn soft_delete_lifecycle() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        let call = |method: Method, path: &str, body: Option<serde_json::Value>| {
            let url = format!("{base}{path}");
            let token = token.clone();
            let env = &env;
            async move { env.call_with_token(Some(&token), method, &url, body).await }
        };
        call(
            Method::PUT,
            "/secrets/gone?api-version=7.6",
            Some(json!({"value": "x", "tags": {"t": "1"}})),
        )
        .await
        .expect(200);
        let deleted = call(Method::DELETE, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(200);
        insta::assert_json_snapshot!("delete_secret", env.normalize(&deleted.body));
        let deleted_date = deleted.body["deletedDate"].as_i64().unwrap();
        assert_eq!(
            deleted.body["scheduledPurgeDate"].as_i64().unwrap(),
            deleted_date + 90 * 86_400
        );
        assert!(deleted.body.get("value").is_none());

        call(Method::GET, "/secrets/gone/?api-version=7.6", None)
            .await
            .expect(404);
        let got = call(Method::GET, "/deletedsecrets/gone?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(got.body, deleted.body);
        let list = call(Method::GET, "/deletedsecrets?api-version=7.6", None)
            .await
            .expect(200);
        insta::assert_json_snapshot!("get_deleted_secrets", env.normalize(&list.body));

        let conflict = call(
            Method::PUT,
            "/secrets/gone?api-version=7.6",
            Some(json!({"value": "y"})),
        )
        .await
        .expect(409);
        insta::assert_json_snapshot!("set_while_deleted", conflict.body);

        let recovered = call(
            Method::POST,
            "/deletedsecrets/gone/recover?api-version=7.6",
            None,
        )
        .await
        .expect(200);
        assert!(recovered.body.get("value").is_none());
        assert_eq!(recovered.body["id"], deleted.body["id"]);
        let again = call(Method::GET, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(again.body["value"], "x");

        call(Method::DELETE, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(200);
        let purged = call(Method::DELETE, "/deletedsecrets/gone?api-version=7.6", None)
            .await
            .expect(204);
        assert_eq!(purged.body, serde_json::Value::Null);
        call(Method::GET, "/deletedsecrets/gone?api-version=7.6", None)
            .await
            .expect(404);
        call(
            Method::POST,
            "/deletedsecrets/gone/recover?api-version=7.6",
            None,
        )
        .await
        .expect(404);
        call(Method::DELETE, "/secrets/gone?api-version=7.6", None)
            .await
            .expect(404);
        call(
            Method::PUT,
            "/secrets/gone?api-version=7.6",
            Some(json!({"value": "new"})),
        )
        .await
        .expect(200);
    })
    .await;
}

/// A 7-day, purge-protected vault: `CustomizedRecoverable`, purge refused, and the deleted
/// secret disappears when the shared clock passes its purge date.
#[tokio::test]
async fn retention_and_purge_protection() {
    within(async {
        let env = Env::start().await;
        let token = env.token(POLICY_ADMIN).await;
        let base = env.vault("kv-policy");
        let set = env
            .call_with_token(
                Some(&token),
                Method::PUT,
                &format!("{base}/secrets/kept?api-version=7.6"),
                Some(json!({"value": "x"})),
            )
            .await
            .expect(200);
        assert_eq!(
            set.body["attributes"]["recoveryLevel"],
            "CustomizedRecoverable"
        );
        assert_eq!(set.body["attributes"]["recoverableDays"], 7);
        let deleted = env
            .call_with_token(
                Some(&token),
                Method::DELETE,
                &format!("{base}/secrets/kept?api-version=7.6"),
                None,
            )
            .await
            .expect(200);
        assert_eq!(
            deleted.body["scheduledPurgeDate"].as_i64().unwrap(),
            deleted.body["deletedDate"].as_i64().unwrap() + 7 * 86_400
        );
        env.call_with_token(
            Some(&token),
            Method::DELETE,
            &format!("{base}/deletedsecrets/kept?api-version=7.6"),
            None,
        )
        .await
        .expect(403);
        env.clock.advance(time::Duration::days(8));
        // The old token has expired on the shared clock: take a fresh one.
        let token = env.token(POLICY_ADMIN).await;
        env.call_with_token(
            Some(&token),
            Method::GET,
            &format!("{base}/deletedsecrets/kept?api-version=7.6"),
            None,
        )
        .await
        .expect(404);
    })
    .await;
}

/// With `deletionDelaySeconds`, a delete settles as Key Vault's does (Azure/azure-sdk-assets
/// `python/.../test_secrets_client.pyTestSecretClienttest_backup_restore[7.6].json`): 404
/// "Deleted Secret not found" and purge 409 `ObjectIsBeingDeleted` (keys recorded in
/// azure-sdk-for-js nock recordings; secret wording from its `testClient.ts`), set 409 (§3.3);
/// once the clock passes the delay, 200 and purge 204; a purge settles in turn (set 409).
#[tokio::test]
async fn deletion_window_answers_404_and_409_until_it_settles() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let mut spec = env
            .admin(Method::GET, "/_emulator/vaults/kv-rbac", None)
            .await
            .expect(200)
            .body;
        spec["deletionDelaySeconds"] = json!(3);
        env.admin(Method::PUT, "/_emulator/vaults/kv-rbac", Some(spec))
            .await
            .expect(200);
        env.clock.freeze();
        let base = env.vault("kv-rbac");
        let call = |method: Method, path: &str, body: Option<serde_json::Value>| {
            let url = format!("{base}{path}");
            let token = token.clone();
            let env = &env;
            async move { env.call_with_token(Some(&token), method, &url, body).await }
        };
        call(
            Method::PUT,
            "/secrets/slow?api-version=7.6",
            Some(json!({"value": "x"})),
        )
        .await
        .expect(200);
        call(Method::DELETE, "/secrets/slow?api-version=7.6", None)
            .await
            .expect(200);

        let pending = call(Method::GET, "/deletedsecrets/slow?api-version=7.6", None)
            .await
            .expect(404);
        insta::assert_json_snapshot!("deleted_secret_not_found_while_deleting", pending.body);
        let listed = call(Method::GET, "/deletedsecrets?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(listed.body["value"], json!([]));
        let purge = call(Method::DELETE, "/deletedsecrets/slow?api-version=7.6", None)
            .await
            .expect(409);
        insta::assert_json_snapshot!("purge_while_deleting", purge.body);
        let set = call(
            Method::PUT,
            "/secrets/slow?api-version=7.6",
            Some(json!({"value": "y"})),
        )
        .await
        .expect(409);
        insta::assert_json_snapshot!("set_while_deleting", set.body);

        env.clock.advance(time::Duration::seconds(3));
        call(Method::GET, "/deletedsecrets/slow?api-version=7.6", None)
            .await
            .expect(200);
        call(Method::DELETE, "/deletedsecrets/slow?api-version=7.6", None)
            .await
            .expect(204);
        call(
            Method::PUT,
            "/secrets/slow?api-version=7.6",
            Some(json!({"value": "y"})),
        )
        .await
        .expect(409);
        env.clock.advance(time::Duration::seconds(3));
        call(
            Method::PUT,
            "/secrets/slow?api-version=7.6",
            Some(json!({"value": "y"})),
        )
        .await
        .expect(200);
    })
    .await;
}

/// A deleted secret whose latest version is disabled cannot be read as deleted either:
/// azure-sdk-for-js `recording_cant_get_a_disabled_secret.js` (§2.6).
#[tokio::test]
async fn deleted_disabled_secret_is_access_denied() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        for (method, path, body, status) in [
            (
                Method::PUT,
                "/secrets/off?api-version=7.6",
                Some(json!({"value": "x", "attributes": {"enabled": false}})),
                200,
            ),
            (Method::DELETE, "/secrets/off?api-version=7.6", None, 200),
        ] {
            env.call_with_token(Some(&token), method, &format!("{base}{path}"), body)
                .await
                .expect(status);
        }
        let denied = env
            .call_with_token(
                Some(&token),
                Method::GET,
                &format!("{base}/deletedsecrets/off?api-version=7.6"),
                None,
            )
            .await
            .expect(403);
        insta::assert_json_snapshot!("get_deleted_disabled_secret", denied.body);
    })
    .await;
}
