//! A real `harness serve` process for the tests that kill, restart or drive it from outside:
//! started on a state directory, reached through its proxy like a user's client.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const API: &str = "api-version=7.5";
pub const VAULT: &str = "https://my-key-vault.vault.azure.net";

/// A `harness serve` process and a client that reaches it the way users do.
pub struct Served {
    pub child: Child,
    pub env: HashMap<String, String>,
    pub client: reqwest::Client,
    pub token: String,
}

impl Served {
    /// Starts `harness serve` on `state_dir` and gets a Key Vault token through the proxy.
    pub async fn start(state_dir: &Path) -> Self {
        let env_file = state_dir.with_extension("env");
        let mut child = Command::new(harness())
            .args(["serve", "--state-dir"])
            .arg(state_dir)
            .arg("--env-file")
            .arg(&env_file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("harness starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut ready = String::new();
        stderr.read_line(&mut ready).unwrap();
        assert!(ready.contains("ready"), "{ready}");
        // Keep draining so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let env = parse_env(&std::fs::read_to_string(&env_file).unwrap());
        let ca = std::fs::read(state_dir.join("ca.pem")).unwrap();
        let client = test_support::trusting(&ca)
            .proxy(reqwest::Proxy::https(&env["HTTPS_PROXY"]).unwrap())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let token: Value = client
            .post(format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                env["AZURE_TENANT_ID"]
            ))
            .form(&[
                ("client_id", env["AZURE_CLIENT_ID"].as_str()),
                ("client_secret", env["AZURE_CLIENT_SECRET"].as_str()),
                ("scope", "https://vault.azure.net/.default"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        Self {
            child,
            env,
            client,
            token,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut request = self
            .client
            .request(method, format!("{VAULT}{path}{separator}{API}"))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// SIGKILL (unless already sent) and reap.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        self.child.wait().unwrap();
    }

    pub fn stop(mut self) {
        let pid = i32::try_from(self.child.id()).unwrap();
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }
}

/// `export KEY=value` lines (values single-quoted when needed) into a map.
pub fn parse_env(script: &str) -> HashMap<String, String> {
    script
        .lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .map_or_else(|| v.to_owned(), |v| v.replace(r"'\''", "'"));
            (k.to_owned(), v)
        })
        .collect()
}

pub fn version_of(bundle: &Value) -> String {
    bundle["id"]
        .as_str()
        .and_then(|id| id.rsplit('/').next())
        .unwrap_or_else(|| panic!("no id in {bundle}"))
        .to_owned()
}

/// The `harness` binary under test.
pub fn harness() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("harness")
}
