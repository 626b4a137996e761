//! Validation after authentication: names, sizes, tags, api-version, unknown routes.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, within};

/// `(BadParameter) The request URI contains an invalid name: NAME` (3P captures, §3.5).
#[tokio::test]
async fn invalid_names_are_bad_parameters() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let reply = env
            .call(
                Some(OFFICER),
                Method::PUT,
                &format!("{base}/secrets/bad_name?api-version=7.6"),
                Some(json!({"value": "x"})),
            )
            .await
            .expect(400);
        insta::assert_json_snapshot!(reply.body);
        let long = "a".repeat(128);
        env.call(
            Some(OFFICER),
            Method::GET,
            &format!("{base}/secrets/{long}?api-version=7.6"),
            None,
        )
        .await
        .expect(400);
        env.call(
            Some(OFFICER),
            Method::PUT,
            &format!("{base}/secrets/{}?api-version=7.6", "a".repeat(127)),
            Some(json!({"value": "x"})),
        )
        .await
        .expect(200);
    })
    .await;
}

/// `PUT /secrets/` answers 405 `HTTP PUT not allowed`: azure-sdk-for-js
/// `recording_cannot_create_a_secret_with_an_empty_name.js` (§2.6).
#[tokio::test]
async fn unknown_method_and_path_is_method_not_allowed() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let reply = env
            .call(
                Some(OFFICER),
                Method::PUT,
                &format!("{base}/secrets/?api-version=7.6"),
                Some(json!({"value": "x"})),
            )
            .await
            .expect(405);
        insta::assert_json_snapshot!(reply.body);
        let reply = env
            .call(
                Some(OFFICER),
                Method::POST,
                &format!("{base}/secrets/x?api-version=7.6"),
                None,
            )
            .await
            .expect(405);
        assert_eq!(reply.body["error"]["message"], "HTTP POST not allowed");
    })
    .await;
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    within(async {
        let env = Env::start().await;
        let base = env.vault("kv-rbac");
        let missing = env
            .call(Some(OFFICER), Method::GET, &format!("{base}/secrets"), None)
            .await
            .expect(400);
        insta::assert_json_snapshot!("missing_api_version", missing.body);
        let unknown = env
            .call(
                Some(OFFICER),
                Method::GET,
                &format!("{base}/secrets?api-version=1.0"),
                None,
            )
            .await
            .expect(400);
        insta::assert_json_snapshot!("unknown_api_version", unknown.body);
        for version in [
            "2016-10-01",
            "7.0",
            "7.3",
            "7.6",
            "2025-07-01",
            "2026-04-01",
            "7.6-preview.2",
        ] {
            env.call(
                Some(OFFICER),
                Method::GET,
                &format!("{base}/secrets?api-version={version}"),
                None,
            )
            .await
            .expect(200);
        }
    })
    .await;
}

/// Documented limits (MicrosoftDocs `key-vault/secrets/about-secrets.md`): 25 600-byte value,
/// 255-character content type, 15 tags.
#[tokio::test]
async fn documented_limits_are_enforced() {
    within(async {
        let env = Env::start().await;
        let url = format!("{}/secrets/big?api-version=7.6", env.vault("kv-rbac"));
        env.call(
            Some(OFFICER),
            Method::PUT,
            &url,
            Some(json!({"value": "v".repeat(25_600)})),
        )
        .await
        .expect(200);
        let cases = [
            json!({"value": "v".repeat(25_601)}),
            json!({"value": "v", "contentType": "c".repeat(256)}),
            json!({"value": "v", "tags": (0..16).map(|i| (format!("t{i}"), json!("x"))).collect::<serde_json::Map<_, _>>()}),
            json!({"value": "v", "tags": {"k": "x".repeat(513)}}),
            json!({"contentType": "no value"}),
            json!("not an object"),
        ];
        for body in cases {
            let reply = env
                .call(Some(OFFICER), Method::PUT, &url, Some(body.clone()))
                .await;
            assert_eq!(reply.status, 400, "{body}: {}", reply.body);
            assert_eq!(reply.body["error"]["code"], "BadParameter");
        }
        env.call(
            Some(OFFICER),
            Method::PUT,
            &url,
            Some(json!({"value": "v", "contentType": "c".repeat(255), "tags": (0..15).map(|i| (format!("t{i}"), json!("x"))).collect::<serde_json::Map<_, _>>()})),
        )
        .await
        .expect(200);
    })
    .await;
}
