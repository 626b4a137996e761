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

fn start_serve(args: &[&std::ffi::OsStr]) -> std::process::Child {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("harness"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("harness starts");
    let mut ready = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(ready.contains("ready"), "{ready}");
    child
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    body.to_owned()
}

/// The front door (`--info-listen`) serves what the state directory and the env file hold,
/// and a directory file given once is what a restart on the state directory alone serves.
#[test]
fn serve_front_door_serves_the_ca_and_env_and_a_given_directory_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let env_file = dir.path().join("e.env");
    let info = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fake-aad/examples/directory.yaml");
    let child = start_serve(&[
        "--state-dir".as_ref(),
        state.as_os_str(),
        "--directory".as_ref(),
        directory.as_os_str(),
        "--env-file".as_ref(),
        env_file.as_os_str(),
        "--info-listen".as_ref(),
        info.as_ref(),
    ]);
    let exports = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        exports.contains("export AZURE_CLIENT_ID=9a1f2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b\n"),
        "{exports}"
    );
    assert_eq!(
        http_get(&info, "/ca.pem"),
        std::fs::read_to_string(state.join("ca.pem")).unwrap()
    );
    assert_eq!(http_get(&info, "/env"), exports);
    let env: serde_json::Value = serde_json::from_str(&http_get(&info, "/env.json")).unwrap();
    assert_eq!(env["AZURE_CLIENT_SECRET"], "eso-app-secret");
    stop(child);

    let child = start_serve(&[
        "--state-dir".as_ref(),
        state.as_os_str(),
        "--env-file".as_ref(),
        env_file.as_os_str(),
    ]);
    let exports = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        exports.contains("export AZURE_CLIENT_ID=9a1f2b3c-4d5e-4f60-8a7b-1c2d3e4f5a6b\n"),
        "{exports}"
    );
    stop(child);
}
