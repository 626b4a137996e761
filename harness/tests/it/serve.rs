//! `harness serve` as a user runs it: prints exports, writes the env file, exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_writes_the_env_file_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("e.env");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["serve", "--state-dir"])
        .arg(dir.path().join("state"))
        .arg("--env-file")
        .arg(&env_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harness starts");
    let stderr = child.stderr.take().unwrap();
    let mut ready = String::new();
    BufReader::new(stderr).read_line(&mut ready).unwrap();
    assert!(ready.contains("ready"), "{ready}");
    let exports = std::fs::read_to_string(&env_file).unwrap();
    for key in [
        "HTTPS_PROXY",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_KEYVAULT_URL",
        "FAKE_AAD_ENDPOINT",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
    ] {
        assert!(
            exports.contains(&format!("export {key}=")),
            "{key} missing from\n{exports}"
        );
    }
    assert!(exports.contains("export AZURE_KEYVAULT_URL=https://my-key-vault.vault.azure.net\n"));
    // The global cloud is the SDKs' default: no authority host is exported for it.
    assert!(!exports.contains("AZURE_AUTHORITY_HOST"), "{exports}");
    stop(child);
}

/// `--cloud` points the exports at the first cloud given; an unknown or retired cloud is
/// refused before anything starts.
#[test]
fn serve_cloud_flag_exports_the_first_clouds_authority_and_vault_url() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("e.env");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["serve", "--cloud", "usgov,china", "--state-dir"])
        .arg(dir.path().join("state"))
        .arg("--env-file")
        .arg(&env_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harness starts");
    let stderr = child.stderr.take().unwrap();
    let mut ready = String::new();
    BufReader::new(stderr).read_line(&mut ready).unwrap();
    assert!(ready.contains("ready"), "{ready}");
    let exports = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        exports
            .contains("export AZURE_KEYVAULT_URL=https://my-key-vault.vault.usgovcloudapi.net\n"),
        "{exports}"
    );
    assert!(
        exports.contains("export AZURE_AUTHORITY_HOST=https://login.microsoftonline.us\n"),
        "{exports}"
    );
    stop(child);

    let refused = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .args(["serve", "--cloud", "GermanCloud", "--state-dir"])
        .arg(dir.path().join("state"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Azure Germany closed on 2021-10-29"),
        "{stderr}"
    );
}

fn stop(mut child: std::process::Child) {
    let pid = i32::try_from(child.id()).unwrap();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "harness serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
