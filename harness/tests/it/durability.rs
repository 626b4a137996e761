//! `harness serve --state-dir` keeps every acknowledged vault write across `kill -9` and a
//! restart: the real binary, real clients through the routing proxy, a real SIGKILL.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::served::{API, Served, VAULT, version_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_mid_burst() {
    burst_then_kill_9(16, 400).await;
}

/// 16 KiB values: the journal outgrows the snapshot several times before the kill, so the kill
/// lands among rotations and background compactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_among_background_compactions() {
    burst_then_kill_9(16 << 10, 1_200).await;
}

/// Eight workers write versions of their own secret, `value_len` bytes each, until `acks` are
/// acknowledged; then `kill -9`, a restart, and every acknowledged version must read back.
async fn burst_then_kill_9(value_len: usize, acks: usize) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Arc::new(Served::start(&state).await);
    // Each worker writes versions of its own secret; every acknowledged (200) write is recorded.
    let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..8 {
        let served = Arc::clone(&served);
        let acked = Arc::clone(&acked);
        workers.push(tokio::spawn(async move {
            for n in 0.. {
                let name = format!("burst-{worker}");
                let value = format!("value-{worker}-{n}-{}", "x".repeat(value_len));
                let request = served
                    .client
                    .put(format!("{VAULT}/secrets/{name}?{API}"))
                    .bearer_auth(&served.token)
                    .json(&json!({ "value": value, "tags": { "n": n.to_string() } }))
                    .send()
                    .await;
                let Ok(response) = request else { break };
                if response.status() != 200 {
                    break;
                }
                let Ok(bundle) = response.json::<Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap()
                    .push((name, version_of(&bundle), value));
            }
        }));
    }
    // Kill while the burst is in full flow.
    while acked.lock().unwrap().len() < acks {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "burst too slow"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = served.child.id();
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let burst = started.elapsed();
    let acked = acked.lock().unwrap().clone();
    Arc::into_inner(served).expect("workers are done").kill_9();
    // The snapshot on disk now: journalSeq above 0 means a background compaction finished.
    let snapshot: Value = serde_json::from_slice(
        &std::fs::read(state.join(harness::serve::VAULT_STATE_FILE)).unwrap(),
    )
    .unwrap();
    let folded = snapshot["journalSeq"].as_u64().unwrap_or(0);
    eprintln!(
        "{} writes acknowledged in {burst:?} before kill -9; the snapshot folds {folded} records",
        acked.len()
    );
    if value_len > 1 << 10 {
        assert!(folded > 0, "no compaction ran during the burst");
    }

    let served = Served::start(&state).await;
    for (name, version, value) in &acked {
        let (status, bundle) = served
            .call(
                reqwest::Method::GET,
                &format!("/secrets/{name}/{version}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{name}/{version} lost: {bundle}");
        assert_eq!(bundle["value"], value.as_str(), "{name}/{version}");
    }
    // The latest version is at least the last acknowledged one of each secret.
    for worker in 0..8 {
        let name = format!("burst-{worker}");
        let (_, versions) = served
            .call(
                reqwest::Method::GET,
                &format!("/secrets/{name}/versions?maxresults=25"),
                None,
            )
            .await;
        assert!(versions["value"].is_array(), "{versions}");
    }
    served.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_tags_and_soft_delete_state_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Served::start(&state).await;
    let put = reqwest::Method::PUT;
    let (_, v1) = served
        .call(
            put.clone(),
            "/secrets/kept",
            Some(json!({ "value": "one" })),
        )
        .await;
    let (_, v2) = served
        .call(
            put.clone(),
            "/secrets/kept",
            Some(json!({ "value": "two", "contentType": "text/plain", "tags": { "t": "2" } })),
        )
        .await;
    let (status, _) = served
        .call(
            reqwest::Method::PATCH,
            &format!("/secrets/kept/{}", version_of(&v1)),
            Some(json!({ "attributes": { "enabled": false }, "tags": { "patched": "yes" } })),
        )
        .await;
    assert_eq!(status, 200);
    for name in ["gone", "deleted", "recovered"] {
        served
            .call(
                put.clone(),
                &format!("/secrets/{name}"),
                Some(json!({ "value": name })),
            )
            .await;
        let (status, _) = served
            .call(reqwest::Method::DELETE, &format!("/secrets/{name}"), None)
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = served
        .call(reqwest::Method::DELETE, "/deletedsecrets/gone", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = served
        .call(
            reqwest::Method::POST,
            "/deletedsecrets/recovered/recover",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, deleted_before) = served
        .call(reqwest::Method::GET, "/deletedsecrets/deleted", None)
        .await;
    let (_, kept_before) = served
        .call(reqwest::Method::GET, "/secrets/kept", None)
        .await;
    served.kill_9();

    let served = Served::start(&state).await;
    let (_, kept) = served
        .call(reqwest::Method::GET, "/secrets/kept", None)
        .await;
    assert_eq!(kept, kept_before, "latest version, attributes and tags");
    assert_eq!(version_of(&kept), version_of(&v2));
    let (status, _) = served
        .call(
            reqwest::Method::GET,
            &format!("/secrets/kept/{}", version_of(&v1)),
            None,
        )
        .await;
    assert_eq!(status, 403, "the first version stays disabled");
    let (_, versions) = served
        .call(reqwest::Method::GET, "/secrets/kept/versions", None)
        .await;
    let first = versions["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"].as_str().unwrap().ends_with(&version_of(&v1)))
        .unwrap()
        .clone();
    assert_eq!(first["attributes"]["enabled"], false);
    assert_eq!(first["tags"]["patched"], "yes");
    let (_, deleted) = served
        .call(reqwest::Method::GET, "/deletedsecrets/deleted", None)
        .await;
    assert_eq!(deleted, deleted_before, "deletion and purge dates");
    let (status, _) = served
        .call(reqwest::Method::GET, "/deletedsecrets/gone", None)
        .await;
    assert_eq!(status, 404, "purged stays purged");
    let (status, recovered) = served
        .call(reqwest::Method::GET, "/secrets/recovered", None)
        .await;
    assert_eq!(
        (status, recovered["value"].as_str()),
        (200, Some("recovered"))
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_admin_changes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Served::start(&state).await;
    let (_, v2) = served
        .call(
            reqwest::Method::PUT,
            "/secrets/kept",
            Some(json!({ "value": "two" })),
        )
        .await;
    let (_, backup) = served
        .call(reqwest::Method::POST, "/secrets/kept/backup", None)
        .await;
    served.kill_9();
    let served = Served::start(&state).await;
    // A backup taken before the restart restores after it (the blob key is kept too).
    served
        .call(reqwest::Method::DELETE, "/secrets/kept", None)
        .await;
    served
        .call(reqwest::Method::DELETE, "/deletedsecrets/kept", None)
        .await;
    let (status, restored) = served
        .call(reqwest::Method::POST, "/secrets/restore", Some(backup))
        .await;
    assert_eq!(status, 200, "{restored}");
    served.kill_9();
    let served = Served::start(&state).await;
    let (status, kept) = served
        .call(reqwest::Method::GET, "/secrets/kept", None)
        .await;
    assert_eq!((status, version_of(&kept)), (200, version_of(&v2)));
    // Admin changes are durable too: a vault created through /_emulator.
    let akv = served.env["FAKE_AKV_ENDPOINT"].clone();
    let admin = test_support::trusting(&std::fs::read(state.join("ca.pem")).unwrap())
        .build()
        .unwrap();
    let created = admin
        .post(format!("{akv}/_emulator/vaults"))
        .json(&json!({ "name": "second-vault", "tenantId": served.env["AZURE_TENANT_ID"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    served.kill_9();
    let served = Served::start(&state).await;
    let akv = served.env["FAKE_AKV_ENDPOINT"].clone();
    let vault = admin
        .get(format!("{akv}/_emulator/vaults/second-vault"))
        .send()
        .await
        .unwrap();
    assert_eq!(vault.status(), 200);
    served.stop();
}

/// Every version id of `name` as `harness serve` lists it, following `nextLink`.
async fn listed_versions(served: &Served, name: &str) -> std::collections::BTreeSet<String> {
    let mut ids = std::collections::BTreeSet::new();
    let mut next = Some(format!("{VAULT}/secrets/{name}/versions?{API}"));
    while let Some(url) = next {
        let page: Value = served
            .client
            .get(&url)
            .bearer_auth(&served.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["value"].as_array().unwrap_or_else(|| panic!("{page}")) {
            ids.insert(version_of(item));
        }
        next = page["nextLink"].as_str().map(str::to_owned);
    }
    ids
}

/// 64 writers, 1,000 sets each, all on one secret of a durable bench: every acknowledged
/// version is listed afterwards, and again after `kill -9` and a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_on_one_secret_lose_nothing_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Arc::new(Served::start(&state).await);
    let (writers, sets) = (64, 1_000);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                let mut acked = Vec::with_capacity(sets);
                for n in 0..sets {
                    let (status, bundle) = served
                        .call(
                            reqwest::Method::PUT,
                            "/secrets/contended",
                            Some(json!({ "value": format!("w{w}-{n}") })),
                        )
                        .await;
                    assert_eq!(status, 200, "{bundle}");
                    acked.push(version_of(&bundle));
                }
                acked
            })
        })
        .collect();
    let mut acked = std::collections::BTreeSet::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    eprintln!(
        "{} durable sets on one secret in {:?}",
        acked.len(),
        started.elapsed()
    );
    assert_eq!(
        acked.len(),
        writers * sets,
        "one version per acknowledged set"
    );
    assert!(listed_versions(&served, "contended").await == acked);
    Arc::into_inner(served).expect("writers are done").kill_9();
    let served = Served::start(&state).await;
    let listed = listed_versions(&served, "contended").await;
    assert_eq!(listed.len(), acked.len(), "after kill -9 and a restart");
    assert!(
        listed == acked,
        "the same versions after kill -9 and a restart"
    );
    served.stop();
}
