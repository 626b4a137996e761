//! The `/_emulator` control plane: secrets, clock, audit, outage.

use crate::support::{APP, SECRET, TENANT, start};

const V1: &str = "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/token";

fn form(secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", APP.to_owned()),
        ("resource", "https://vault.azure.net".to_owned()),
        ("grant_type", "client_credentials".to_owned()),
        ("client_secret", secret.to_owned()),
    ]
}

#[tokio::test]
async fn added_secret_works_until_the_clock_passes_its_end() {
    let fake = start().await;
    let end = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let created: serde_json::Value = fake
        .client
        .post(fake.url(&format!("/_emulator/tenants/{TENANT}/apps/{APP}/secrets")))
        .json(&serde_json::json!({ "end": end }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = created["value"].as_str().unwrap().to_owned();
    let ok = fake
        .client
        .post(fake.url(V1))
        .form(&form(&value))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let clock: serde_json::Value = fake
        .client
        .post(fake.url("/_emulator/clock"))
        .json(&serde_json::json!({ "advanceSeconds": 7200 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["offsetSeconds"], 7200);
    let expired: serde_json::Value = fake
        .client
        .post(fake.url(V1))
        .form(&form(&value))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(expired["error_codes"][0], 7000222);
}

#[tokio::test]
async fn audit_records_each_request_with_its_outcome() {
    let fake = start().await;
    fake.client
        .post(fake.url(V1))
        .form(&form(SECRET))
        .send()
        .await
        .unwrap();
    fake.client
        .post(fake.url(V1))
        .form(&form("bad"))
        .send()
        .await
        .unwrap();
    let audit: serde_json::Value = fake
        .client
        .get(fake.url("/_emulator/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outcomes: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["grant"].clone(), e["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("client_secret".into(), "success".into()),
            ("client_secret".into(), "7000215".into())
        ]
    );
    let later: serde_json::Value = fake
        .client
        .get(fake.url("/_emulator/audit?since=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(later.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn outage_fails_token_requests_until_cleared() {
    let fake = start().await;
    let set = |outage: bool| {
        fake.client
            .put(fake.url("/_emulator/faults"))
            .json(&serde_json::json!({ "outage": outage }))
            .send()
    };
    assert_eq!(set(true).await.unwrap().status(), 204);
    let down = fake
        .client
        .post(fake.url(V1))
        .form(&form(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    set(false).await.unwrap();
    let up = fake
        .client
        .post(fake.url(V1))
        .form(&form(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
}
