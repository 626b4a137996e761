//! `harness vault`, `harness aad` and `harness audit` against a running `harness serve`, found
//! through the `serve.json` in its state directory; every change is checked on the data plane
//! or the token endpoint through the proxy, as a client sees it.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::served::{Served, harness};

/// Runs `harness args...` on the bench of `state_dir`; returns stdout, failing on a non-zero exit.
fn cli(state_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(harness())
        .args(args)
        .env("HARNESS_STATE_DIR", state_dir)
        .output()
        .expect("harness runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "harness {args:?} failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn token_status(served: &Served, secret: &str) -> (u16, Value) {
    let response = served
        .client
        .post(format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            served.env["AZURE_TENANT_ID"]
        ))
        .form(&[
            ("client_id", served.env["AZURE_CLIENT_ID"].as_str()),
            ("client_secret", secret),
            ("scope", "https://vault.azure.net/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_commands_set_get_list_disable_delete_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Served::start(&state).await;

    let set = cli(&state, &["vault", "set", "db-pass", "hunter2"]);
    assert!(set.starts_with("db-pass version "), "{set}");
    let (status, bundle) = served.call(Method::GET, "/secrets/db-pass", None).await;
    assert_eq!((status, bundle["value"].as_str()), (200, Some("hunter2")));
    assert!(
        set.trim().ends_with(&crate::served::version_of(&bundle)),
        "{set}"
    );
    assert_eq!(cli(&state, &["vault", "get", "db-pass"]), "hunter2\n");
    let list = cli(&state, &["vault", "list", "--vault", "my-key-vault"]);
    assert!(list.starts_with("NAME"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("db-pass ") && l.contains(" enabled ")),
        "{list}"
    );

    cli(&state, &["vault", "disable", "db-pass"]);
    let (status, body) = served.call(Method::GET, "/secrets/db-pass", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(cli(&state, &["vault", "list"]).contains(" disabled "));
    cli(&state, &["vault", "enable", "db-pass"]);

    let deleted = cli(&state, &["vault", "delete", "db-pass"]);
    assert!(deleted.contains("recoverable until"), "{deleted}");
    let (status, _) = served
        .call(Method::GET, "/deletedsecrets/db-pass", None)
        .await;
    assert_eq!(status, 200);
    assert!(cli(&state, &["vault", "list"]).contains(" deleted "));
    cli(&state, &["vault", "purge", "db-pass"]);
    let (status, _) = served
        .call(Method::GET, "/deletedsecrets/db-pass", None)
        .await;
    assert_eq!(status, 404);

    // A refusal is an error with the fake's message, not a silent success.
    let output = Command::new(harness())
        .args(["vault", "get", "no-such-secret", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aad_commands_add_and_expire_secrets_and_grant_and_revoke_roles() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let served = Served::start(&state).await;
    let app = served.env["AZURE_CLIENT_ID"].clone();
    let original = served.env["AZURE_CLIENT_SECRET"].clone();

    let added = cli(
        &state,
        &[
            "aad",
            "secret",
            "add",
            "--app",
            &app,
            "--value",
            "rotated~1",
        ],
    );
    assert!(added.contains("value rotated~1"), "{added}");
    assert_eq!(token_status(&served, "rotated~1").await.0, 200);

    // The app's object id holds Key Vault Secrets Officer on my-key-vault.
    let directory: Value =
        serde_json::from_slice(&std::fs::read(state.join("directory.json")).unwrap()).unwrap();
    let oid = directory["tenants"][0]["apps"][0]["objectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = "Key Vault Secrets Officer";
    let body = Some(json!({ "value": "x" }));
    cli(
        &state,
        &["aad", "revoke", "--principal", &oid, "--role", role],
    );
    let (status, error) = served.call(Method::PUT, "/secrets/s", body.clone()).await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["error"]["code"], "Forbidden");
    let granted = cli(
        &state,
        &[
            "aad",
            "grant",
            "--principal",
            &oid,
            "--role",
            role,
            "--vault",
            "my-key-vault",
        ],
    );
    assert!(
        granted.contains("holds Key Vault Secrets Officer"),
        "{granted}"
    );
    assert_eq!(served.call(Method::PUT, "/secrets/s", body).await.0, 200);

    let expired = cli(&state, &["aad", "secret", "expire", "--app", &app]);
    assert_eq!(expired.lines().count(), 2, "{expired}");
    let (status, error) = token_status(&served, &original).await;
    assert_eq!(status, 401, "{error}");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000222"),
        "{error}"
    );

    let audit = cli(&state, &["audit"]);
    assert!(audit.starts_with("TIME"), "{audit}");
    assert!(audit.contains("aad#1 "), "{audit}");
    assert!(
        audit
            .lines()
            .any(|l| l.contains("akv#") && l.contains("SetSecret") && l.contains(" 200")),
        "{audit}"
    );
    assert!(
        audit.contains("AADSTS7000222") || audit.contains("7000222"),
        "{audit}"
    );
    let later = cli(&state, &["audit", "--since", "1000"]);
    assert_eq!(later.lines().count(), 1, "only the header: {later}");
    served.stop();
}
