//! Backup and restore.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, within};

/// Backup → delete → purge → restore (200, no value, same versions) → restore again (409,
/// message from Azure/azure-sdk-assets `python/.../test_backup_restore[7.6].json`).
#[tokio::test]
async fn backup_and_restore_round_trip() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        let url = |path: &str| format!("{base}{path}");
        let call = |method: Method, path: &str, body: Option<serde_json::Value>| {
            let url = url(path);
            let token = token.clone();
            let env = &env;
            async move { env.call_with_token(Some(&token), method, &url, body).await }
        };
        call(
            Method::PUT,
            "/secrets/saved?api-version=7.6",
            Some(json!({"value": "one"})),
        )
        .await
        .expect(200);
        let latest = call(
            Method::PUT,
            "/secrets/saved?api-version=7.6",
            Some(json!({"value": "two"})),
        )
        .await
        .expect(200);
        let backup = call(Method::POST, "/secrets/saved/backup?api-version=7.6", None)
            .await
            .expect(200);
        let blob = backup.body["value"].as_str().unwrap().to_owned();
        assert!(
            blob.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );

        let conflict = call(
            Method::POST,
            "/secrets/restore?api-version=7.6",
            Some(json!({"value": blob})),
        )
        .await
        .expect(409);
        insta::assert_json_snapshot!("restore_conflict", env.normalize(&conflict.body));

        call(Method::DELETE, "/secrets/saved?api-version=7.6", None)
            .await
            .expect(200);
        call(
            Method::DELETE,
            "/deletedsecrets/saved?api-version=7.6",
            None,
        )
        .await
        .expect(204);
        let restored = call(
            Method::POST,
            "/secrets/restore?api-version=7.6",
            Some(json!({"value": blob})),
        )
        .await
        .expect(200);
        assert!(restored.body.get("value").is_none());
        assert_eq!(restored.body["id"], latest.body["id"]);
        let versions = call(Method::GET, "/secrets/saved/versions?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(versions.body["value"].as_array().unwrap().len(), 2);
        let got = call(Method::GET, "/secrets/saved/?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(got.body["value"], "two");
    })
    .await;
}

/// `Malformed backup blob`: Azure/azure-sdk-assets `net/.../RestoreMalformedBackup.json`.
#[tokio::test]
async fn restore_of_garbage_is_a_malformed_blob() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(OFFICER),
                Method::POST,
                &format!("{}/secrets/restore?api-version=7.6", env.vault("kv-rbac")),
                Some(json!({"value": "bm90IGEgYmFja3Vw"})),
            )
            .await
            .expect(400);
        insta::assert_json_snapshot!(reply.body);
        env.call(
            Some(OFFICER),
            Method::POST,
            &format!(
                "{}/secrets/missing/backup?api-version=7.6",
                env.vault("kv-rbac")
            ),
            None,
        )
        .await
        .expect(404);
    })
    .await;
}
