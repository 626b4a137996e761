//! Parallel writers never lose a version.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Env, OFFICER, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sets_keep_every_version() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        let writers = 40;
        let tasks: Vec<_> = (0..writers)
            .map(|i| {
                let http = env.http.clone();
                let token = token.clone();
                let url = format!("{base}/secrets/hot?api-version=7.6");
                tokio::spawn(async move {
                    let response = http
                        .put(url)
                        .bearer_auth(token)
                        .json(&json!({"value": format!("v{i}")}))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 200);
                    let body: Value = response.json().await.expect("JSON");
                    body["id"].as_str().expect("id").to_owned()
                })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.expect("writer task"));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), writers);

        let mut count = 0;
        let mut next = Some(format!("{base}/secrets/hot/versions?api-version=7.6"));
        while let Some(url) = next {
            let page = env
                .call_with_token(Some(&token), Method::GET, &url, None)
                .await
                .expect(200);
            count += page.body["value"].as_array().unwrap().len();
            next = page.body["nextLink"].as_str().map(str::to_owned);
        }
        assert_eq!(count, writers);
    })
    .await;
}
