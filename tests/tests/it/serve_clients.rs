//! Unmodified clients at their default settings reach the fakes at Azure's real host names
//! through `harness serve`'s routing proxy: the environment a `Bench` exports is the child's
//! whole environment, and nothing in the client points at a fake. Instance discovery and
//! challenge-resource verification stay on.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use e2e::{ClientOutcome, run_client};
use fake_kit::Cloud;
use harness::serve::{Bench, Options};
use serde_json::Value;

use crate::support;

/// Bound on one `az` invocation (the CLI imports a lot on each start).
const AZ_TIMEOUT: Duration = Duration::from_secs(180);

/// A bench with its state in a fresh temp dir.
async fn bench() -> Result<(Bench, tempfile::TempDir)> {
    bench_for(&[Cloud::Public]).await
}

/// A bench answering as `clouds`, its environment pointing at the first.
async fn bench_for(clouds: &[Cloud]) -> Result<(Bench, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let bench = Bench::start_with_clouds(
        Options {
            state_dir: dir.path().join("state"),
            directory: None,
            vaults: None,
            proxy_listen: "127.0.0.1:0".parse()?,
        },
        clouds,
    )
    .await?;
    Ok((bench, dir))
}

/// The bench's exports as a child environment, plus what keeps the source tree clean.
fn env_of(bench: &Bench) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = bench
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    support::set(&mut env, "PYTHONDONTWRITEBYTECODE", "1");
    env
}

fn steps(out: &ClientOutcome) -> Result<&Value> {
    if let Some(error) = out.json.get("error") {
        bail!(
            "the client failed: {}\n--- client stderr ---\n{}",
            error.as_str().unwrap_or_default(),
            e2e::cache::tail(&out.stderr, 40)
        );
    }
    out.json.get("steps").context("no steps in the output")
}

async fn python_flow(flow: &str, env: &[(String, String)]) -> Result<ClientOutcome> {
    let python = support::python().await?;
    let script = e2e::python::scripts_dir().join("vault_secrets.py");
    support::within(run_client(
        &python,
        [script.as_os_str(), OsStr::new(flow)],
        env,
    ))
    .await
}

#[tokio::test]
async fn python_default_azure_credential_round_trips_secrets_at_the_real_vault_url() -> Result<()> {
    let (bench, _dir) = bench().await?;
    let out = python_flow("default", &env_of(&bench)).await?;
    let steps = steps(&out)?;
    let name = steps["name"].as_str().context("name")?;
    assert_eq!(steps["set"]["value"], "v1");
    assert_eq!(steps["get"]["value"], "v1");
    assert_eq!(steps["get"]["version"], steps["set"]["version"]);
    assert_eq!(steps["get"]["content_type"], "text/plain");
    assert_eq!(steps["get"]["tags"]["a"], "1");
    assert!(
        steps["list"]
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n == name)),
        "{steps}"
    );
    assert_eq!(steps["update"]["tags"]["b"], "2");
    assert_eq!(steps["update"]["version"], steps["set"]["version"]);
    assert_eq!(steps["second"]["value"], "v2");
    assert_ne!(steps["second"]["version"], steps["set"]["version"]);
    assert_eq!(steps["by_version"]["first"], "v1");
    assert_eq!(steps["by_version"]["second"], "v2");
    assert_eq!(steps["by_version"]["latest"], "v2");
    assert_eq!(steps["versions"], 2);
    assert_eq!(steps["delete"]["name"], name);
    assert_eq!(
        steps["delete"]["recovery_id"],
        format!("https://my-key-vault.vault.azure.net/deletedsecrets/{name}")
    );
    assert_eq!(steps["deleted_listed"], true);
    assert_eq!(steps["recover"]["name"], name);
    assert_eq!(steps["after_recover"], "v2");
    bench.shutdown().await;
    Ok(())
}

/// Azure Government as the SDK sees it: `AZURE_AUTHORITY_HOST=https://login.microsoftonline.us`
/// (exported by the bench for its first cloud) and a vault at `*.vault.usgovcloudapi.net`; the
/// challenge names the government resource, which the SDK checks against the vault's host.
#[tokio::test]
async fn python_default_azure_credential_round_trips_secrets_in_azure_government() -> Result<()> {
    let (bench, _dir) = bench_for(&[Cloud::UsGovernment]).await?;
    let env = env_of(&bench);
    ensure!(
        env.iter()
            .any(|(k, v)| k == "AZURE_AUTHORITY_HOST" && v == "https://login.microsoftonline.us"),
        "the bench exports the government authority"
    );
    let out = python_flow("default", &env).await?;
    let steps = steps(&out)?;
    let name = steps["name"].as_str().context("name")?;
    assert_eq!(steps["get"]["value"], "v1");
    assert_eq!(steps["by_version"]["latest"], "v2");
    assert_eq!(
        steps["delete"]["recovery_id"],
        format!("https://my-key-vault.vault.usgovcloudapi.net/deletedsecrets/{name}")
    );
    assert_eq!(steps["after_recover"], "v2");
    // The tokens came from the government login host, for the government resource.
    let audit = bench.aad().state().audit().since(0);
    ensure!(
        audit
            .iter()
            .any(|e| e.resource.contains("https://vault.usgovcloudapi.net")),
        "no token for the government vault resource in {audit:?}"
    );
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn python_client_secret_credential_sets_and_gets_through_the_proxy() -> Result<()> {
    let (bench, _dir) = bench().await?;
    let out = python_flow("client-secret", &env_of(&bench)).await?;
    assert_eq!(steps(&out)?["get"], "hello");
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn python_request_to_another_host_fails_fast_with_the_proxy_message() -> Result<()> {
    let (bench, _dir) = bench().await?;
    let out = python_flow("other-host", &env_of(&bench)).await?;
    let steps = steps(&out)?;
    assert_eq!(steps["failed"], true, "{steps}");
    let seconds = steps["seconds"].as_f64().context("seconds")?;
    assert!(seconds < 1.0, "took {seconds}s: {steps}");
    let message = steps["message"].as_str().context("message")?;
    assert!(
        message.contains("ProxyError") && message.contains("403"),
        "{message}"
    );
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn node_default_azure_credential_sets_gets_and_lists_through_the_proxy() -> Result<()> {
    let (bench, _dir) = bench().await?;
    let modules = support::node_modules().await?;
    let mut env = env_of(&bench);
    support::set(&mut env, "NODE_PATH", modules.display().to_string());
    let script = e2e::node::scripts_dir().join("vault_secrets.cjs");
    let node = which("node")?;
    let out = support::within(run_client(&node, [script.as_os_str()], &env)).await?;
    let steps = steps(&out)?;
    assert_eq!(steps["set"]["value"], "from-node");
    assert_eq!(steps["get"]["value"], "from-node");
    assert_eq!(steps["get"]["version"], steps["set"]["version"]);
    assert_eq!(steps["get"]["tags"]["via"], "node");
    let name = &steps["name"];
    assert!(
        steps["list"].as_array().is_some_and(|l| l.contains(name)),
        "{steps}"
    );
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn go_default_azure_credential_sets_gets_and_lists_through_the_proxy() -> Result<()> {
    let binary = tokio::time::timeout(
        support::BUILD_TIMEOUT,
        tokio::task::spawn_blocking(e2e::go_client),
    )
    .await
    .context("building the Go client timed out")???;
    let (bench, _dir) = bench().await?;
    let out = support::within(run_client(
        &binary,
        std::iter::empty::<&str>(),
        &env_of(&bench),
    ))
    .await?;
    let steps = steps(&out)?;
    assert_eq!(steps["set"]["value"], "from-go");
    assert_eq!(steps["get"]["value"], "from-go");
    assert_eq!(steps["get"]["version"], steps["set"]["version"]);
    let name = &steps["name"];
    assert!(
        steps["list"].as_array().is_some_and(|l| l.contains(name)),
        "{steps}"
    );
    bench.shutdown().await;
    Ok(())
}

fn which(program: &str) -> Result<std::path::PathBuf> {
    let path = std::env::var_os("PATH").context("PATH is not set")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{program} is not on PATH"))
}

/// Runs `az args...` with the bench's environment, a private config dir and no telemetry;
/// returns its JSON output (`null` for commands that print nothing, like `az cloud set`).
async fn az(az: &Path, config: &Path, env: &[(String, String)], args: &[&str]) -> Result<Value> {
    let mut command = tokio::process::Command::new(az);
    command
        .args(args)
        .args(["--output", "json"])
        .env_clear()
        .envs(
            ["PATH", "HOME", "LANG"]
                .iter()
                .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
        )
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AZURE_CONFIG_DIR", config)
        .env("AZURE_CORE_COLLECT_TELEMETRY", "false")
        .env("AZURE_CORE_NO_COLOR", "true")
        .env("AZURE_CORE_SURVEY_MESSAGE", "false")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(AZ_TIMEOUT, command.output())
        .await
        .with_context(|| format!("az {args:?} did not finish within {AZ_TIMEOUT:?}"))??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "az {args:?} failed ({}):\n{}\n{}",
        output.status,
        stdout,
        e2e::cache::tail(&String::from_utf8_lossy(&output.stderr), 40)
    );
    if stdout.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&stdout).with_context(|| format!("az {args:?} printed {stdout}"))
}

/// `az cloud set --name AzureUSGovernment`: the CLI then signs in at `login.microsoftonline.us`,
/// lists subscriptions at `management.usgovcloudapi.net` and builds vault URLs with the
/// `vault.usgovcloudapi.net` suffix, all answered by the bench configured for that cloud.
#[tokio::test]
async fn az_cli_in_azure_government_shows_a_secret_by_vault_name() -> Result<()> {
    let az_path =
        tokio::time::timeout(support::BUILD_TIMEOUT, tokio::task::spawn_blocking(e2e::az))
            .await
            .context("building the Azure CLI venv timed out")???;
    let (bench, dir) = bench_for(&[Cloud::UsGovernment]).await?;
    let env = env_of(&bench);
    let get = |key: &str| {
        env.iter()
            .find_map(|(k, v)| (k == key).then(|| v.clone()))
            .unwrap_or_default()
    };
    let config = dir.path().join("azure");
    az(
        &az_path,
        &config,
        &env,
        &["cloud", "set", "--name", "AzureUSGovernment"],
    )
    .await?;
    let login = az(
        &az_path,
        &config,
        &env,
        &[
            "login",
            "--service-principal",
            "-u",
            &get("AZURE_CLIENT_ID"),
            "-p",
            &get("AZURE_CLIENT_SECRET"),
            "--tenant",
            &get("AZURE_TENANT_ID"),
            "--allow-no-subscriptions",
        ],
    )
    .await?;
    assert_eq!(login[0]["cloudName"], "AzureUSGovernment", "{login}");
    let vault = ["--vault-name", "my-key-vault"];
    let set = az(
        &az_path,
        &config,
        &env,
        &[
            &[
                "keyvault", "secret", "set", "--name", "gov-az", "--value", "gov",
            ][..],
            &vault[..],
        ]
        .concat(),
    )
    .await?;
    let show = az(
        &az_path,
        &config,
        &env,
        &[
            &["keyvault", "secret", "show", "--name", "gov-az"][..],
            &vault[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(show["value"], "gov");
    assert_eq!(show["id"], set["id"]);
    assert!(
        show["id"].as_str().is_some_and(
            |id| id.starts_with("https://my-key-vault.vault.usgovcloudapi.net/secrets/gov-az/")
        ),
        "{show}"
    );
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn az_cli_logs_in_and_manages_secrets_by_vault_name() -> Result<()> {
    let started = Instant::now();
    let az_path =
        tokio::time::timeout(support::BUILD_TIMEOUT, tokio::task::spawn_blocking(e2e::az))
            .await
            .context("building the Azure CLI venv timed out")???;
    eprintln!("az venv ready in {:?}", started.elapsed());
    let (bench, dir) = bench().await?;
    let env = env_of(&bench);
    let get = |key: &str| {
        env.iter()
            .find_map(|(k, v)| (k == key).then(|| v.clone()))
            .unwrap_or_default()
    };
    let config = dir.path().join("azure");
    let version = az(&az_path, &config, &env, &["version"]).await?;
    assert_eq!(version["azure-cli"], "2.91.0", "the pin in tests/az");
    let login = az(
        &az_path,
        &config,
        &env,
        &[
            "login",
            "--service-principal",
            "-u",
            &get("AZURE_CLIENT_ID"),
            "-p",
            &get("AZURE_CLIENT_SECRET"),
            "--tenant",
            &get("AZURE_TENANT_ID"),
            "--allow-no-subscriptions",
        ],
    )
    .await?;
    assert_eq!(login[0]["tenantId"], get("AZURE_TENANT_ID"), "{login}");
    let vault = ["--vault-name", "my-key-vault"];
    let set = az(
        &az_path,
        &config,
        &env,
        &[
            &[
                "keyvault", "secret", "set", "--name", "from-az", "--value", "az-value",
            ][..],
            &vault[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(set["value"], "az-value", "{set}");
    let show = az(
        &az_path,
        &config,
        &env,
        &[
            &["keyvault", "secret", "show", "--name", "from-az"][..],
            &vault[..],
        ]
        .concat(),
    )
    .await?;
    assert_eq!(show["value"], "az-value");
    assert_eq!(show["id"], set["id"]);
    assert!(
        show["id"].as_str().is_some_and(
            |id| id.starts_with("https://my-key-vault.vault.azure.net/secrets/from-az/")
        ),
        "{show}"
    );
    let list = az(
        &az_path,
        &config,
        &env,
        &[&["keyvault", "secret", "list"][..], &vault[..]].concat(),
    )
    .await?;
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|s| s["name"] == "from-az")),
        "{list}"
    );
    eprintln!("az test took {:?}", started.elapsed());
    bench.shutdown().await;
    Ok(())
}
