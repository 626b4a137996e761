//! `maxresults` and absolute `nextLink`s, followed verbatim as clients do. Link shape:
//! Azure/azure-rest-api-specs `Microsoft.KeyVault/stable/7.5/examples/GetSecrets-example.json`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Env, OFFICER, within};

async fn follow(env: &Env, token: &str, first: String) -> (Vec<Value>, Vec<String>) {
    let mut items = Vec::new();
    let mut links = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next {
        let reply = env
            .call_with_token(Some(token), Method::GET, &url, None)
            .await
            .expect(200);
        items.extend(reply.body["value"].as_array().unwrap().iter().cloned());
        next = reply.body["nextLink"].as_str().map(str::to_owned);
        assert!(
            reply.body.get("nextLink").is_some(),
            "nextLink key is always present"
        );
        links.extend(next.clone());
    }
    (items, links)
}

#[tokio::test]
async fn list_pages_follow_next_links() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        for i in 0..7 {
            env.call_with_token(
                Some(&token),
                Method::PUT,
                &format!("{base}/secrets/page-{i}?api-version=7.6"),
                Some(json!({"value": "x"})),
            )
            .await
            .expect(200);
        }
        let (items, links) = follow(
            &env,
            &token,
            format!("{base}/secrets?api-version=7.6&maxresults=3"),
        )
        .await;
        let names: Vec<&str> = items
            .iter()
            .map(|i| i["id"].as_str().unwrap().rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6", "seeded"
            ]
        );
        assert_eq!(links.len(), 2);
        let port = env.port();
        for link in &links {
            assert!(
                link.starts_with(&format!(
                    "https://kv-rbac.localhost:{port}/secrets?api-version=7.6&$skiptoken="
                )),
                "{link}"
            );
            assert!(link.ends_with("&maxresults=3"), "{link}");
        }

        // Versions page the same way and carry versioned ids.
        for i in 0..4 {
            env.call_with_token(
                Some(&token),
                Method::PUT,
                &format!("{base}/secrets/page-0?api-version=7.6"),
                Some(json!({"value": format!("v{i}")})),
            )
            .await
            .expect(200);
        }
        let (versions, links) = follow(
            &env,
            &token,
            format!("{base}/secrets/page-0/versions?api-version=7.6&maxresults=2"),
        )
        .await;
        assert_eq!(versions.len(), 5);
        assert_eq!(links.len(), 2);
        assert!(
            versions
                .iter()
                .all(|v| v["id"].as_str().unwrap().rsplit('/').next().unwrap().len() == 32)
        );
    })
    .await;
}

#[tokio::test]
async fn versions_of_a_missing_secret_is_an_empty_page() {
    within(async {
        let env = Env::start().await;
        let reply = env
            .call(
                Some(OFFICER),
                Method::GET,
                &format!(
                    "{}/secrets/never/versions?api-version=7.6",
                    env.vault("kv-rbac")
                ),
                None,
            )
            .await
            .expect(200);
        // Azure/azure-sdk-assets `net/.../GetSecretVersionsNonExisting.json`.
        assert_eq!(reply.body, json!({"value": [], "nextLink": null}));
    })
    .await;
}

#[tokio::test]
async fn maxresults_outside_the_range_is_refused() {
    within(async {
        let env = Env::start().await;
        for bad in ["0", "26", "ten"] {
            env.call(
                Some(OFFICER),
                Method::GET,
                &format!(
                    "{}/secrets?api-version=7.6&maxresults={bad}",
                    env.vault("kv-rbac")
                ),
                None,
            )
            .await
            .expect(400);
        }
    })
    .await;
}
