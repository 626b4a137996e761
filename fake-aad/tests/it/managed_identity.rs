//! The IMDS and App Service managed-identity shapes on the plain-HTTP listener.

use crate::support::{IDENTITY_HEADER, MI_CLIENT, TENANT, claims, json, start};

#[tokio::test]
async fn imds_needs_the_metadata_header() {
    let fake = start().await;
    let (status, body) = fake
        .get(&fake.imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"error": "bad_request_102", "error_description": "Required metadata header not specified"})
    );
}

#[tokio::test]
async fn imds_issues_a_token_for_the_only_identity_with_string_fields() {
    let fake = start().await;
    let response = fake
        .client
        .get(fake.imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["client_id"], MI_CLIENT);
    assert!(body["expires_in"].is_string() && body["expires_on"].is_string());
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["appid"], MI_CLIENT);
    assert_eq!(token["tid"], TENANT);
    assert!(
        token["xms_mirid"]
            .as_str()
            .unwrap()
            .ends_with("/userAssignedIdentities/eso-identity")
    );
}

#[tokio::test]
async fn imds_unknown_identity_is_identity_not_found() {
    let fake = start().await;
    let response = fake
        .client
        .get(fake.imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id=00000000-0000-0000-0000-000000000009"))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Identity not found"))
    );
}

#[tokio::test]
async fn cloud_shell_post_and_app_service_get_both_issue_tokens() {
    let fake = start().await;
    let response = fake
        .client
        .post(fake.imds("/metadata/identity/oauth2/token"))
        .header("Metadata", "true")
        .form(&[("resource", "https://vault.azure.net")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let url = fake.imds("/msi/token?api-version=2019-08-01&resource=https://vault.azure.net");
    let refused = fake
        .client
        .get(&url)
        .header("X-IDENTITY-HEADER", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let accepted = fake
        .client
        .get(&url)
        .header("X-IDENTITY-HEADER", IDENTITY_HEADER)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
}
