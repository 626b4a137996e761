//! Running one client script: a clean environment (so no `AZURE_*`, proxy or managed-identity
//! variable of the developer's shell leaks in), the fake's CA trusted, and exactly one JSON
//! object expected on stdout.
//!
//! The scripts print either `{"claims": .., "header": .., "access_token": ..}` or
//! `{"error": <what the library raised>, "aadsts": <code or null>}`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::cache::tail;

/// Host variables a client needs to run at all; everything else is dropped.
const KEPT_VARIABLES: &[&str] = &["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

/// What a client script reported.
#[derive(Clone, Debug)]
pub struct ClientOutcome {
    /// The JSON object the script printed.
    pub json: Value,
    /// The script's stderr (library logging), for diagnostics.
    pub stderr: String,
}

impl ClientOutcome {
    /// The decoded access-token claims, or an error carrying what the library raised.
    pub fn claims(&self) -> Result<&Value> {
        self.success_field("claims")
    }

    /// The decoded access-token header.
    pub fn header(&self) -> Result<&Value> {
        self.success_field("header")
    }

    /// The raw access token.
    pub fn access_token(&self) -> Result<&str> {
        self.success_field("access_token")?
            .as_str()
            .context("access_token is not a string")
    }

    /// The AADSTS code the library surfaced, or an error if the client got a token.
    pub fn aadsts(&self) -> Result<u64> {
        let Some(error) = self.json.get("error") else {
            bail!(
                "expected the client to fail, but it got a token: {}",
                self.json
            );
        };
        self.json
            .get("aadsts")
            .and_then(Value::as_u64)
            .ok_or_else(|| anyhow!("the client failed without an AADSTS code: {error}"))
    }

    /// The message the library raised, if it failed.
    #[must_use]
    pub fn error_message(&self) -> Option<&str> {
        self.json.get("error").and_then(Value::as_str)
    }

    fn success_field(&self, name: &str) -> Result<&Value> {
        if let Some(error) = self.json.get("error") {
            bail!(
                "the client failed: {}\n--- client stderr ---\n{}",
                error
                    .as_str()
                    .map_or_else(|| error.to_string(), str::to_owned),
                tail(&self.stderr, 30)
            );
        }
        self.json
            .get(name)
            .with_context(|| format!("no `{name}` in {}", self.json))
    }
}

/// Runs `program args...` with only `env` (plus [`KEPT_VARIABLES`]) set, and parses its JSON.
///
/// Fails, with the script's stderr, if it exits non-zero or prints anything but one JSON
/// object; the child is killed if the future is dropped (a test timeout).
pub async fn run_client<I, S>(
    program: &Path,
    args: I,
    env: &[(String, String)],
) -> Result<ClientOutcome>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in KEPT_VARIABLES {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let output = command
        .output()
        .await
        .with_context(|| format!("starting {}", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        bail!(
            "{} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            program.display(),
            output.status,
            tail(&stdout, 20),
            tail(&stderr, 60)
        );
    }
    let json: Value = serde_json::from_str(stdout.trim()).with_context(|| {
        format!(
            "{} printed no single JSON object\n--- stdout ---\n{}\n--- stderr ---\n{}",
            program.display(),
            tail(&stdout, 20),
            tail(&stderr, 60)
        )
    })?;
    Ok(ClientOutcome { json, stderr })
}
