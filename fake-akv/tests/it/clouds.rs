//! A vault reached under a sovereign cloud's DNS suffix behaves as that cloud's Key Vault: its
//! 401 challenge names that cloud's authority and resource, it accepts only tokens for that
//! resource, and the ids it returns carry the host the client used.

use reqwest::Method;
use serde_json::json;

use crate::support::{Env, OFFICER, TENANT, within};

const GOV_RESOURCE: &str = "https://vault.usgovcloudapi.net";

fn gov_vault(env: &Env) -> String {
    format!("https://kv-rbac.vault.usgovcloudapi.net:{}", env.port())
}

/// The challenge as an Azure Government vault sends it: authority `login.microsoftonline.us`
/// (go-autorest `USGovernmentCloud.ActiveDirectoryEndpoint`) and resource
/// `https://vault.usgovcloudapi.net` (`ResourceIdentifiers.KeyVault`), in the header shape
/// recorded for the global cloud (§3.1).
#[tokio::test]
async fn gov_vault_challenge_names_the_gov_authority_and_resource() {
    within(async {
        let env = Env::start().await;
        let url = format!("{}/secrets/name?api-version=7.6", gov_vault(&env));
        let reply = env.call(None, Method::GET, &url, None).await.expect(401);
        insta::assert_json_snapshot!(json!({
            "status": reply.status,
            "www-authenticate": reply.header("www-authenticate"),
            "body": reply.body,
        }));
        assert_eq!(
            reply.header("www-authenticate"),
            Some(
                format!(
                    "Bearer authorization=\"https://login.microsoftonline.us/{TENANT}\", resource=\"{GOV_RESOURCE}\""
                )
                .as_str()
            )
        );
    })
    .await;
}

#[tokio::test]
async fn public_cloud_token_on_a_gov_vault_is_an_invalid_audience() {
    within(async {
        let env = Env::start().await;
        let url = format!("{}/secrets?api-version=7.6", gov_vault(&env));
        let reply = env.call(Some(OFFICER), Method::GET, &url, None).await.expect(401);
        assert_eq!(
            reply.body["error"]["message"],
            "AKV10022: Invalid audience. Expected https://vault.usgovcloudapi.net, found: https://vault.azure.net."
        );
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.contains(GOV_RESOURCE))
        );
    })
    .await;
}

#[tokio::test]
async fn gov_token_works_on_the_gov_host_only_and_ids_carry_that_host() {
    within(async {
        let env = Env::start().await;
        let token = env
            .token_for(OFFICER, &format!("{GOV_RESOURCE}/.default"))
            .await;
        let base = gov_vault(&env);
        let set = env
            .call_with_token(
                Some(&token),
                Method::PUT,
                &format!("{base}/secrets/sovereign?api-version=7.6"),
                Some(json!({"value": "v"})),
            )
            .await
            .expect(200);
        let id = set.body["id"].as_str().expect("id");
        assert!(id.starts_with(&format!("{base}/secrets/sovereign/")), "{id}");
        let listed = env
            .call_with_token(
                Some(&token),
                Method::GET,
                &format!("{base}/secrets?api-version=7.6&maxresults=1"),
                None,
            )
            .await
            .expect(200);
        assert!(
            listed.body["value"][0]["id"]
                .as_str()
                .is_some_and(|id| id.starts_with(&base)),
            "{}",
            listed.body
        );
        // The same token at the same vault under its global-cloud name is for the wrong cloud.
        let public = env
            .call_with_token(
                Some(&token),
                Method::GET,
                &format!("{}/secrets/sovereign?api-version=7.6", env.vault("kv-rbac")),
                None,
            )
            .await
            .expect(401);
        assert_eq!(
            public.body["error"]["message"],
            "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://vault.usgovcloudapi.net."
        );
    })
    .await;
}
