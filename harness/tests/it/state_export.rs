//! `harness export` / `harness import`: a bench's whole state as one YAML file that starts an
//! identical bench elsewhere.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::served::{Served, harness, version_of};

fn harness_ok(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(harness()).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "harness {args:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_starts_an_identical_bench() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let served = Served::start(&first).await;
    let (_, v1) = served
        .call(
            Method::PUT,
            "/secrets/app-config",
            Some(json!({ "value": "one", "tags": { "env": "dev" } })),
        )
        .await;
    let (_, v2) = served
        .call(
            Method::PUT,
            "/secrets/app-config",
            Some(json!({ "value": "two", "contentType": "text/plain" })),
        )
        .await;
    served
        .call(Method::PUT, "/secrets/old", Some(json!({ "value": "old" })))
        .await;
    served.call(Method::DELETE, "/secrets/old", None).await;
    let (_, deleted) = served.call(Method::GET, "/deletedsecrets/old", None).await;

    // Exported while the bench runs: what is on disk is every acknowledged write.
    let file = dir.path().join("state.yaml");
    harness_ok(&[
        "export".as_ref(),
        "--state-dir".as_ref(),
        first.as_os_str(),
        "-o".as_ref(),
        file.as_os_str(),
    ]);
    let yaml = std::fs::read_to_string(&file).unwrap();
    assert!(yaml.contains("format: 1"), "{yaml}");
    assert!(
        yaml.contains("value: two") && yaml.contains("value: one"),
        "{yaml}"
    );
    assert!(yaml.contains("deletedDate:"), "{yaml}");
    assert!(
        yaml.contains("clientId:") || yaml.contains("appId:"),
        "{yaml}"
    );

    // Importing into a directory a bench is serving is refused.
    let refused = Command::new(harness())
        .args(["import", "--state-dir"])
        .arg(&first)
        .arg(&file)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop it before importing"));
    served.stop();

    let second = dir.path().join("second");
    harness_ok(&[
        "import".as_ref(),
        "--state-dir".as_ref(),
        second.as_os_str(),
        file.as_os_str(),
    ]);
    let served = Served::start(&second).await;
    let (status, latest) = served.call(Method::GET, "/secrets/app-config", None).await;
    assert_eq!(status, 200);
    assert_eq!(latest["value"], "two");
    assert_eq!(version_of(&latest), version_of(&v2));
    assert_eq!(latest["attributes"], v2["attributes"], "timestamps kept");
    let (_, old) = served
        .call(
            Method::GET,
            &format!("/secrets/app-config/{}", version_of(&v1)),
            None,
        )
        .await;
    assert_eq!(
        (old["value"].as_str(), old["tags"]["env"].as_str()),
        (Some("one"), Some("dev"))
    );
    let (_, still_deleted) = served.call(Method::GET, "/deletedsecrets/old", None).await;
    assert_eq!(still_deleted["deletedDate"], deleted["deletedDate"]);
    assert_eq!(
        still_deleted["scheduledPurgeDate"],
        deleted["scheduledPurgeDate"]
    );
    // Round trip: the imported bench exports the very same file.
    let again = harness_ok(&[
        "export".as_ref(),
        "--state-dir".as_ref(),
        second.as_os_str(),
    ]);
    assert_eq!(again, yaml);
    served.stop();
}
