//! Both token endpoints: success shapes and the AADSTS error for each misconfiguration.

use crate::assert_aad_snapshot;
use crate::support::{APP, APP_OBJECT, SECRET, TENANT, claims, start};

const V1: &str = "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/token?api-version=1.0";
const V2: &str = "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token";

#[tokio::test]
async fn v1_token_has_string_typed_fields_and_a_v1_key_vault_token() {
    let fake = start().await;
    // The exact form adal (ESO's default path) posts.
    let (status, body) = fake
        .post_form(
            V1,
            &[
                ("client_id", APP),
                ("resource", "https://vault.azure.net"),
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_aad_snapshot!(body);
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(token["aud"], "https://vault.azure.net");
    assert_eq!(token["appid"], APP);
    assert_eq!(token["oid"], APP_OBJECT);
    assert_eq!(token["sub"], APP_OBJECT);
    assert_eq!(token["tid"], TENANT);
    assert_eq!(token["ver"], "1.0");
    assert_eq!(token["appidacr"], "1");
    assert_eq!(token["idtyp"], "app");
    let exp = token["exp"].as_i64().unwrap();
    assert_eq!(body["expires_on"].as_str().unwrap(), exp.to_string());
}

#[tokio::test]
async fn v2_token_accepts_msal_scopes_and_omits_scope() {
    let fake = start().await;
    let (status, body) = fake
        .post_form(
            V2,
            &[
                ("client_id", APP),
                (
                    "scope",
                    "https://vault.azure.net/.default openid offline_access profile",
                ),
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
                ("client_info", "1"),
                (
                    "claims",
                    r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#,
                ),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert_aad_snapshot!(body);
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["aud"], "https://vault.azure.net");
    assert_eq!(token["xms_cc"], serde_json::json!(["cp1"]));
}

#[tokio::test]
async fn wrong_secret_is_401_aadsts7000215() {
    let fake = start().await;
    let (status, body) = fake
        .post_form(
            V2,
            &[
                ("client_id", APP),
                ("scope", "https://vault.azure.net/.default"),
                ("grant_type", "client_credentials"),
                ("client_secret", "not-it"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert_aad_snapshot!(body);
}

#[tokio::test]
async fn expired_secret_is_401_aadsts7000222() {
    let fake = start().await;
    let (status, body) = fake
        .post_form(
            V1,
            &[
                ("client_id", APP),
                ("resource", "https://vault.azure.net"),
                ("grant_type", "client_credentials"),
                ("client_secret", "old-secret"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error_codes"][0], 7000222);
    assert_eq!(body["error"], "invalid_client");
}

/// A client-credentials form: `client_id`, `grant_type`, `client_secret` and `resource`, with
/// `changes` replacing (or, with an empty value, removing) fields.
fn form_with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut form = vec![
        ("client_id", APP),
        ("resource", "https://vault.azure.net"),
        ("grant_type", "client_credentials"),
        ("client_secret", SECRET),
    ];
    for (key, value) in changes {
        form.retain(|(k, _)| k != key);
        if !value.is_empty() {
            form.push((key, value));
        }
    }
    form
}

#[tokio::test]
async fn misconfigurations_map_to_their_aadsts_codes() {
    let fake = start().await;
    let unknown_tenant = "/00000000-0000-0000-0000-0000000000aa/oauth2/token";
    let cases = [
        (unknown_tenant, form_with(&[]), 400, 90002),
        // A tenant segment that is neither a GUID nor a domain (as when an authority ends in
        // `/oauth2/token` twice), or is not UTF-8 once decoded (found by fuzzing).
        ("/token/oauth2/token", form_with(&[]), 400, 900023),
        (
            "/72f988bf%91/oauth2/v2.0/token",
            form_with(&[]),
            400,
            900023,
        ),
        (
            V1,
            form_with(&[("client_id", "00000000-0000-0000-0000-000000000001")]),
            400,
            700016,
        ),
        (
            V1,
            form_with(&[("resource", "https://unknown.example")]),
            400,
            500011,
        ),
        (V1, form_with(&[("resource", "")]), 400, 900144),
        (V1, form_with(&[("client_secret", "")]), 401, 7000218),
        (V1, form_with(&[("grant_type", "password")]), 400, 70003),
        (
            V2,
            form_with(&[("resource", ""), ("scope", "openid profile")]),
            400,
            70011,
        ),
        (
            V2,
            form_with(&[
                ("resource", ""),
                ("scope", "https://vault.azure.net/user_impersonation"),
            ]),
            400,
            1002012,
        ),
    ];
    for (path, form, status, code) in cases {
        let (got_status, body) = fake.post_form(path, &form).await;
        assert_eq!(
            (got_status, body["error_codes"][0].as_u64()),
            (status, Some(code)),
            "{path} {form:?} -> {body}"
        );
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
    }
}

#[tokio::test]
async fn token_path_never_answers_404_for_credential_errors() {
    // ESO's legacy client reads a 404 from the token endpoint as "secret does not exist".
    let fake = start().await;
    let (status, _) = fake
        .post_form(
            "/contoso.onmicrosoft.com/oauth2/token",
            &[
                ("client_id", "nobody"),
                ("resource", "https://vault.azure.net"),
                ("grant_type", "client_credentials"),
                ("client_secret", "x"),
            ],
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn get_on_token_endpoint_is_aadsts900561() {
    let fake = start().await;
    let (status, body) = fake.get(&fake.url(V2)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_codes"][0], 900561);
}

#[tokio::test]
async fn client_request_id_becomes_the_correlation_id() {
    let fake = start().await;
    let sent = "3f6a1e2c-0000-4000-8000-000000000abc";
    let response = fake
        .client
        .post(fake.url(V2))
        .header("client-request-id", sent)
        .form(&[
            ("client_id", APP),
            ("scope", "https://vault.azure.net/.default"),
            ("grant_type", "client_credentials"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["client-request-id"], sent);
    assert_eq!(response.headers()["cache-control"], "no-store, no-cache");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["correlation_id"], sent);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("Correlation ID: {sent}"))
    );
}

#[tokio::test]
async fn basic_auth_carries_client_credentials() {
    let fake = start().await;
    let response = fake
        .client
        .post(fake.url(V2))
        .basic_auth(APP, Some(SECRET))
        .form(&[
            ("scope", "https://vault.azure.net/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
