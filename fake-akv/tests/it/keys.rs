//! Keys: create (RSA, EC), import, get (public parts only), update, list, soft delete.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, READER, within};

#[tokio::test]
async fn create_get_update_and_list_keys() {
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
        let rsa = call(
            Method::POST,
            "/keys/signing/create?api-version=7.6",
            Some(json!({"kty": "RSA", "key_size": 2048, "tags": {"purpose": "test"}})),
        )
        .await
        .expect(200);
        insta::assert_json_snapshot!("create_rsa_key", env.normalize(&rsa.body), {".key.n" => "[modulus]"});
        assert!(rsa.body["key"].get("d").is_none());

        let ec = call(
            Method::POST,
            "/keys/ec-key/create?api-version=7.6",
            Some(json!({"kty": "EC", "crv": "P-256"})),
        )
        .await
        .expect(200);
        assert_eq!(ec.body["key"]["crv"], "P-256");
        assert_eq!(ec.body["key"]["x"].as_str().unwrap().len(), 43);

        let got = call(Method::GET, "/keys/signing/?api-version=7.0", None).await.expect(200);
        assert_eq!(got.body, rsa.body);

        // Import the same public key (with a private exponent, which is discarded) as a new
        // version; ESO's PushSecret sends PUT /keys/{name} with a JWK.
        let imported = call(
            Method::PUT,
            "/keys/signing?api-version=7.6",
            Some(json!({"key": {"kty": "RSA", "n": rsa.body["key"]["n"], "e": "AQAB", "d": "c2VjcmV0"}, "tags": {"managed-by": "external-secrets"}})),
        )
        .await
        .expect(200);
        assert!(imported.body["key"].get("d").is_none());
        assert_eq!(imported.body["key"]["n"], rsa.body["key"]["n"]);
        assert_ne!(imported.body["key"]["kid"], rsa.body["key"]["kid"]);

        let updated = call(
            Method::PATCH,
            "/keys/signing/?api-version=7.6",
            Some(json!({"key_ops": ["sign", "verify"], "attributes": {"enabled": false}})),
        )
        .await
        .expect(200);
        assert_eq!(updated.body["key"]["key_ops"], json!(["sign", "verify"]));
        assert_eq!(updated.body["attributes"]["enabled"], false);

        let versions = call(Method::GET, "/keys/signing/versions?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(versions.body["value"].as_array().unwrap().len(), 2);
        let list = call(Method::GET, "/keys?api-version=7.6", None).await.expect(200);
        let kids: Vec<&str> = list.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(
            kids,
            [format!("{base}/keys/ec-key"), format!("{base}/keys/signing")]
        );

        let missing = call(Method::GET, "/keys/nope/?api-version=7.6", None).await.expect(404);
        insta::assert_json_snapshot!("key_not_found", missing.body);
        call(
            Method::POST,
            "/keys/bad/create?api-version=7.6",
            Some(json!({"kty": "oct"})),
        )
        .await
        .expect(400);
        call(
            Method::PUT,
            "/keys/bad?api-version=7.6",
            Some(json!({"key": {"kty": "RSA"}})),
        )
        .await
        .expect(400);
    })
    .await;
}

#[tokio::test]
async fn key_soft_delete_lifecycle() {
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
            Method::POST,
            "/keys/k1/create?api-version=7.6",
            Some(json!({"kty": "EC"})),
        )
        .await
        .expect(200);
        let deleted = call(Method::DELETE, "/keys/k1?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(deleted.body["recoveryId"], format!("{base}/deletedkeys/k1"));
        call(Method::GET, "/deletedkeys/k1?api-version=7.6", None)
            .await
            .expect(200);
        let list = call(Method::GET, "/deletedkeys?api-version=7.6", None)
            .await
            .expect(200);
        assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
        let conflict = call(
            Method::POST,
            "/keys/k1/create?api-version=7.6",
            Some(json!({"kty": "EC"})),
        )
        .await
        .expect(409);
        insta::assert_json_snapshot!("create_key_while_deleted", conflict.body);
        call(
            Method::POST,
            "/deletedkeys/k1/recover?api-version=7.6",
            None,
        )
        .await
        .expect(200);
        call(Method::GET, "/keys/k1?api-version=7.6", None)
            .await
            .expect(200);
        call(Method::DELETE, "/keys/k1?api-version=7.6", None)
            .await
            .expect(200);
        call(Method::DELETE, "/deletedkeys/k1?api-version=7.6", None)
            .await
            .expect(204);
        call(Method::GET, "/deletedkeys/k1?api-version=7.6", None)
            .await
            .expect(404);
    })
    .await;
}

#[tokio::test]
async fn secrets_user_cannot_read_keys() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(READER),
                Method::GET,
                &format!("{}/keys?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(403);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Action: 'Microsoft.KeyVault/vaults/keys/read'")
        );
    })
    .await;
}
