//! Conformance: Microsoft's recordings of the real Key Vault, transcribed into
//! `tests/conformance/*.yaml` (see the README there), replayed against fake-akv over TLS with
//! real tokens. Every mismatch of every case is reported with its file and step, then the test
//! fails.
//!
//! Each case gets a vault of its own named in the case, answered as
//! `{vault}.vault.azure.net:{port}` like the real host. The shared clock is frozen so that the
//! only time that passes is what a step's `advance` says.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{Env, OFFICER, TENANT, within};

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Case {
    source: Source,
    description: String,
    vault: VaultSettings,
    steps: Vec<Step>,
}

/// Where the recording is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    repo: String,
    path: String,
    commit: String,
}

/// The vault settings the recording implies (recovery level, the being-deleted window).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VaultSettings {
    name: String,
    #[serde(default = "ninety")]
    soft_delete_retention_days: u32,
    #[serde(default)]
    deletion_delay_seconds: u32,
}

fn ninety() -> u32 {
    90
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Step {
    /// Seconds the fakes' clock moves before the request (the recording's polling interval).
    #[serde(default)]
    advance: u32,
    request: Request,
    response: Expected,
    /// Variable name → JSON pointer into the response body.
    #[serde(default)]
    capture: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Request {
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// `false` for the SDKs' first, token-less call that draws the challenge.
    #[serde(default = "yes")]
    token: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
}

/// What `{…}` in a case stands for.
struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    fn new(host: &str, port: u16) -> Self {
        let mut values = BTreeMap::new();
        values.insert("vault".to_owned(), format!("https://{host}:{port}"));
        // Key Vault writes nextLinks with an explicit port (`:443` in the recordings).
        values.insert("link".to_owned(), format!("https://{host}:{port}"));
        values.insert("tenant".to_owned(), TENANT.to_string());
        Self { values }
    }

    /// `{name}` is a value; `{name.last}` its last `/` segment (a version id).
    fn expand(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.values {
            out = out.replace(&format!("{{{name}}}"), value);
            let last = value.rsplit('/').next().unwrap_or(value);
            out = out.replace(&format!("{{{name}.last}}"), last);
        }
        out
    }

    fn expand_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.expand(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.expand_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.expand_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Compares `actual` with an expected shape, pushing one line per difference.
///
/// Objects must have exactly the expected keys. Strings starting with `~` are kinds: `~string`,
/// `~int`, `~bool`, `~null`, `~prefix:TEXT`; anything else is compared exactly. An object with
/// `~every` matches an array whose elements all have that shape, with `~len` elements and
/// sorted by the string at key `~sortedBy`. `~empty` matches no body at all.
fn compare(at: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match expected {
        Value::String(kind) if kind.starts_with('~') => {
            let ok = match kind.as_str() {
                "~string" => actual.is_string(),
                "~int" => actual.is_i64() || actual.is_u64(),
                "~bool" => actual.is_boolean(),
                "~null" | "~empty" => actual.is_null(),
                other => {
                    let Some(prefix) = other.strip_prefix("~prefix:") else {
                        out.push(format!("{at}: unknown kind {other} in the case"));
                        return;
                    };
                    actual.as_str().is_some_and(|s| s.starts_with(prefix))
                }
            };
            if !ok {
                out.push(format!("{at}: expected {kind}, got {actual}"));
            }
        }
        Value::Object(shape) if shape.contains_key("~every") => {
            let Some(items) = actual.as_array() else {
                out.push(format!("{at}: expected an array, got {actual}"));
                return;
            };
            if let Some(len) = shape.get("~len").and_then(Value::as_u64)
                && items.len() as u64 != len
            {
                out.push(format!("{at}: expected {len} items, got {}", items.len()));
            }
            if let Some(key) = shape.get("~sortedBy").and_then(Value::as_str) {
                let keys: Vec<&str> = items.iter().filter_map(|i| i[key].as_str()).collect();
                if !keys.is_sorted() {
                    out.push(format!("{at}: items not sorted by {key}: {keys:?}"));
                }
            }
            for (i, item) in items.iter().enumerate() {
                compare(&format!("{at}/{i}"), &shape["~every"], item, out);
            }
        }
        Value::Object(shape) => {
            let Some(map) = actual.as_object() else {
                out.push(format!("{at}: expected an object, got {actual}"));
                return;
            };
            for (key, want) in shape {
                match map.get(key) {
                    Some(got) => compare(&format!("{at}/{key}"), want, got, out),
                    None => out.push(format!("{at}: missing key {key:?} (expected {want})")),
                }
            }
            for (key, got) in map {
                if !shape.contains_key(key) {
                    out.push(format!("{at}: unexpected key {key:?} = {got}"));
                }
            }
        }
        Value::Array(shape) => {
            let Some(items) = actual.as_array() else {
                out.push(format!("{at}: expected an array, got {actual}"));
                return;
            };
            if items.len() != shape.len() {
                out.push(format!(
                    "{at}: expected {} items, got {}",
                    shape.len(),
                    items.len()
                ));
            }
            for (i, (want, got)) in shape.iter().zip(items).enumerate() {
                compare(&format!("{at}/{i}"), want, got, out);
            }
        }
        exact => {
            if exact != actual {
                out.push(format!("{at}: expected {exact}, got {actual}"));
            }
        }
    }
}

/// Header expectations: a value, `~present`, `~absent` or `~uuid`.
fn compare_header(name: &str, expected: &str, actual: Option<&str>, out: &mut Vec<String>) {
    let ok = match (expected, actual) {
        ("~absent", None) | ("~present", Some(_)) => true,
        ("~uuid", Some(v)) => uuid::Uuid::parse_str(v).is_ok(),
        (want, Some(got)) => want == got,
        (_, None) => false,
    };
    if !ok {
        out.push(format!(
            "header {name}: expected {expected}, got {}",
            actual.unwrap_or("(absent)")
        ));
    }
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/conformance")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Creates the case's vault: the officer may do everything with secrets and keys.
async fn create_vault(env: &Env, vault: &VaultSettings) {
    let spec = json!({
        "name": vault.name,
        "tenantId": TENANT,
        "softDeleteRetentionDays": vault.soft_delete_retention_days,
        "deletionDelaySeconds": vault.deletion_delay_seconds,
        "roleAssignments": [
            {"principalId": OFFICER.object_id, "role": "Key Vault Secrets Officer"},
            {"principalId": OFFICER.object_id, "role": "Key Vault Crypto Officer"},
        ],
    });
    env.admin(Method::POST, "/_emulator/vaults", Some(spec))
        .await
        .expect(201);
}

/// Sends a step's request; answers status, headers and the JSON body (`Null` when empty).
async fn send(
    http: &reqwest::Client,
    authority: &str,
    token: &str,
    step: &Step,
    vars: &Vars,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let path = vars.expand(&step.request.path);
    // A followed nextLink is absolute already.
    let url = if path.starts_with("https://") {
        path
    } else {
        format!("https://{authority}{path}")
    };
    let method = Method::from_bytes(step.request.method.as_bytes()).expect("method");
    let mut request = http.request(method, url);
    if step.request.token {
        request = request.bearer_auth(token);
    }
    for (name, value) in &step.request.headers {
        request = request.header(name, vars.expand(value));
    }
    if let Some(body) = &step.request.body {
        request = request.json(&vars.expand_json(body));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, body)
}

/// Every difference between a response and what the step expects.
fn check(
    expected: &Expected,
    vars: &Vars,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) -> Vec<String> {
    let mut diffs = Vec::new();
    if status != expected.status {
        diffs.push(format!(
            "status: expected {}, got {status}",
            expected.status
        ));
    }
    for (name, want) in &expected.headers {
        let got = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
        compare_header(name, &vars.expand(want), got, &mut diffs);
    }
    if let Some(shape) = &expected.body {
        compare("body", &vars.expand_json(shape), body, &mut diffs);
    }
    diffs
}

/// Replays one case; returns its mismatches.
async fn replay(env: &Env, token: &str, file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("case file");
    let case: Case = match serde_yaml_ng::from_str(&text) {
        Ok(case) => case,
        Err(error) => return vec![format!("not a case: {error}")],
    };
    let origin = format!(
        "{}\n    recording: {} {} @ {}",
        case.description.trim(),
        case.source.repo,
        case.source.path,
        case.source.commit
    );
    create_vault(env, &case.vault).await;
    let host = format!("{}.vault.azure.net", case.vault.name);
    let port = env.port();
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(env.ca_pem.as_bytes()).expect("CA"))
        .resolve(&host, env.akv.addr())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let mut vars = Vars::new(&host, port);
    let mut mismatches = Vec::new();
    for (index, step) in case.steps.iter().enumerate() {
        env.clock
            .advance(time::Duration::seconds(i64::from(step.advance)));
        let path = vars.expand(&step.request.path);
        let (status, headers, body) =
            send(&http, &format!("{host}:{port}"), token, step, &vars).await;
        let diffs = check(&step.response, &vars, status, &headers, &body);
        if !diffs.is_empty() {
            let mut report = format!(
                "{} step {} ({} {path}):\n    {origin}",
                file.file_name().expect("name").to_string_lossy(),
                index + 1,
                step.request.method
            );
            for diff in &diffs {
                let _ = write!(report, "\n    - {diff}");
            }
            let pretty = serde_json::to_string_pretty(&body).expect("JSON");
            let _ = write!(
                report,
                "\n    actual body: {}",
                pretty.replace('\n', "\n    ")
            );
            mismatches.push(report);
        }
        for (name, pointer) in &step.capture {
            match body.pointer(pointer).and_then(Value::as_str) {
                Some(value) => {
                    vars.values.insert(name.clone(), value.to_owned());
                }
                None => mismatches.push(format!(
                    "{} step {}: nothing to capture at {pointer}",
                    file.display(),
                    index + 1
                )),
            }
        }
    }
    mismatches
}

/// Every case in `tests/conformance/` replays without a difference.
#[tokio::test]
async fn recordings_of_the_real_key_vault_replay_without_differences() {
    within(async {
        let env = Env::start().await;
        let token = env.token(OFFICER).await;
        env.clock.freeze();
        let files = case_files();
        assert!(files.len() >= 8, "the conformance cases are missing");
        let mut failures = Vec::new();
        for file in &files {
            failures.extend(replay(&env, &token, file).await);
        }
        assert!(
            failures.is_empty(),
            "{} mismatch(es) with the recordings:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    })
    .await;
}
