//! OpenID configuration, instance discovery and JWKS.

use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};

use crate::assert_aad_snapshot;
use crate::support::{APP, SECRET, TENANT, start};

#[tokio::test]
async fn v2_openid_configuration_points_back_at_the_requested_host() {
    let fake = start().await;
    let (status, body) = fake
        .get(&fake.url(&format!("/{TENANT}/v2.0/.well-known/openid-configuration")))
        .await;
    assert_eq!(status, 200);
    let host = fake.aad.url();
    assert_eq!(body["issuer"], format!("{host}/{TENANT}/v2.0"));
    assert_eq!(
        body["token_endpoint"],
        format!("{host}/{TENANT}/oauth2/v2.0/token")
    );
    let mut redacted = body.clone();
    for value in redacted.as_object_mut().unwrap().values_mut() {
        if let Some(text) = value.as_str() {
            *value = text.replace(&host, "https://[host]").into();
        }
    }
    assert_aad_snapshot!(redacted);
}

#[tokio::test]
async fn domain_tenant_resolves_to_the_tenant_id() {
    let fake = start().await;
    let (status, body) = fake
        .get(&fake.url("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(status, 200);
    assert!(
        body["issuer"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{TENANT}/v2.0"))
    );
}

#[tokio::test]
async fn unknown_tenant_discovery_is_400_invalid_tenant() {
    let fake = start().await;
    let (status, body) = fake
        .get(&fake.url("/nobody.onmicrosoft.com/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(status, 400);
    assert_aad_snapshot!(body);
}

#[tokio::test]
async fn instance_discovery_answers_for_public_cloud_and_refuses_strangers() {
    let fake = start().await;
    let (status, body) = fake
        .get(&fake.url(&format!(
            "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/authorize"
        )))
        .await;
    assert_eq!(status, 200);
    assert_aad_snapshot!(body);
    let (status, body) = fake
        .get(&fake.url(
            "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://evil.example/t/oauth2/v2.0/authorize",
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_instance");
}

#[tokio::test]
async fn issued_tokens_verify_against_the_advertised_jwks() {
    let fake = start().await;
    let (_, config) = fake
        .get(&fake.url(&format!("/{TENANT}/v2.0/.well-known/openid-configuration")))
        .await;
    let jwks: JwkSet =
        serde_json::from_value(fake.get(config["jwks_uri"].as_str().unwrap()).await.1).unwrap();
    let (_, token) = fake
        .post_form(
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[
                ("client_id", APP),
                ("scope", "https://vault.azure.net/.default"),
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
            ],
        )
        .await;
    let token = token["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid, header.x5t);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid is published");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["https://vault.azure.net"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{TENANT}/")]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("signature, issuer and audience verify");
    // The v1 common key set carries the same key.
    let common: JwkSet =
        serde_json::from_value(fake.get(&fake.url("/common/discovery/keys")).await.1).unwrap();
    assert!(common.find(header.kid.as_deref().unwrap()).is_some());
}

/// Azure Government and Azure China answer on their own login hosts with their own instance
/// metadata (recorded instance-discovery answer, api-version 1.1) and their v1 issuers
/// (`sts.windows.net` for Government, `sts.chinacloudapi.cn` for China); the v2 issuer is the
/// host the client used.
#[tokio::test]
async fn sovereign_login_hosts_answer_with_their_cloud_metadata_and_issuers() {
    let fake = start().await;
    let port = fake.aad.addr().port();
    let gov = "login.microsoftonline.us";
    let china = "login.chinacloudapi.cn";
    let client = fake.client_as(&[gov, china]);
    let get = |url: String| {
        let client = client.clone();
        async move { crate::support::json(client.get(url).send().await.expect("request")).await }
    };
    let (status, body) = get(format!(
        "https://{gov}:{port}/common/discovery/instance?api-version=1.1&authorization_endpoint=https://{gov}/{TENANT}/oauth2/v2.0/authorize"
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["metadata"][0],
        serde_json::json!({
            "preferred_network": "login.microsoftonline.us",
            "preferred_cache": "login.microsoftonline.us",
            "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
        })
    );
    let (_, v2) = get(format!(
        "https://{gov}:{port}/{TENANT}/v2.0/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(v2["issuer"], format!("https://{gov}:{port}/{TENANT}/v2.0"));
    let (_, v1) = get(format!(
        "https://{gov}:{port}/{TENANT}/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{TENANT}/"));
    let (_, v1) = get(format!(
        "https://{china}:{port}/{TENANT}/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(
        v1["issuer"],
        format!("https://sts.chinacloudapi.cn/{TENANT}/")
    );
    let response = client
        .post(format!("https://{china}:{port}/{TENANT}/oauth2/token"))
        .form(&[
            ("client_id", APP),
            ("resource", "https://vault.azure.cn"),
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .expect("token request");
    let (status, token) = crate::support::json(response).await;
    assert_eq!(status, 200, "{token}");
    let claims = crate::support::claims(token["access_token"].as_str().unwrap());
    assert_eq!(
        claims["iss"],
        format!("https://sts.chinacloudapi.cn/{TENANT}/")
    );
    assert_eq!(claims["aud"], "https://vault.azure.cn");
}
