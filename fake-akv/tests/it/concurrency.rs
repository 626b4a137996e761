//! Parallel writers never lose a version.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Env, OFFICER, within};

/// Every version id of `name`, following `nextLink` to the end.
async fn listed_versions(env: &Env, token: &str, base: &str, name: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut next = Some(format!("{base}/secrets/{name}/versions?api-version=7.6"));
    while let Some(url) = next {
        let page = env
            .call_with_token(Some(token), Method::GET, &url, None)
            .await
            .expect(200);
        for item in page.body["value"].as_array().expect("a page") {
            ids.insert(item["id"].as_str().expect("id").to_owned());
        }
        next = page.body["nextLink"].as_str().map(str::to_owned);
    }
    ids
}

/// `writers` tasks at once, each setting `contended` `sets` times; the version id of every
/// acknowledged set.
async fn sets_at_once(
    env: &Env,
    token: &str,
    base: &str,
    writers: usize,
    sets: usize,
) -> BTreeSet<String> {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let http = env.http.clone();
            let token = token.to_owned();
            let url = format!("{base}/secrets/contended?api-version=7.6");
            tokio::spawn(async move {
                let mut acked = Vec::with_capacity(sets);
                for n in 0..sets {
                    let response = http
                        .put(&url)
                        .bearer_auth(&token)
                        .json(&json!({"value": format!("w{w}-{n}")}))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 200);
                    let body: Value = response.json().await.expect("JSON");
                    acked.push(body["id"].as_str().expect("id").to_owned());
                }
                acked
            })
        })
        .collect();
    let mut acked = BTreeSet::new();
    for task in tasks {
        acked.extend(task.await.expect("writer task"));
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sets_keep_every_version() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        let writers = 40;
        let acked = sets_at_once(&env, &token, &base, writers, 1).await;
        assert_eq!(acked.len(), writers);
        assert!(listed_versions(&env, &token, &base, "contended").await == acked);
    })
    .await;
}

/// 64 writers, 1,000 sets each, all on one secret at once: every acknowledged version is
/// listed afterwards, and nothing else is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_lose_no_version_of_one_secret() {
    tokio::time::timeout(std::time::Duration::from_secs(600), async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        let base = env.vault("kv-rbac");
        let (writers, sets) = (64, 1_000);
        let started = std::time::Instant::now();
        let acked = sets_at_once(&env, &token, &base, writers, sets).await;
        eprintln!("{} sets in {:?}", acked.len(), started.elapsed());
        assert_eq!(
            acked.len(),
            writers * sets,
            "every set got a version of its own"
        );
        let started = std::time::Instant::now();
        let listed = listed_versions(&env, &token, &base, "contended").await;
        eprintln!(
            "{} versions listed in {:?}",
            listed.len(),
            started.elapsed()
        );
        assert_eq!(listed.len(), acked.len());
        assert!(
            listed == acked,
            "the listed versions are exactly the acknowledged ones"
        );
    })
    .await
    .expect("64,000 sets and their listing finish in time");
}
