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

/// Grants the default app the certificate and key roles on `my-key-vault` too (the default
/// world has it Secrets Officer only).
fn grant_certificates_and_keys(bench: &Bench) -> Result<()> {
    let state = bench.akv().state();
    let vault = state.vault("my-key-vault").context("my-key-vault")?;
    let mut spec = (*vault.spec()).clone();
    let principal = spec
        .role_assignments
        .first()
        .context("the default app's assignment")?
        .principal_id;
    for role in ["Key Vault Certificates Officer", "Key Vault Crypto Officer"] {
        spec.role_assignments.push(fake_akv::vault::RoleAssignment {
            id: uuid::Uuid::new_v4(),
            principal_id: principal,
            role: role.to_owned(),
            scope: "/".to_owned(),
        });
    }
    state.put_vault(spec)?;
    Ok(())
}

#[tokio::test]
async fn python_sdks_create_import_and_soft_delete_certificates_and_keys() -> Result<()> {
    let (bench, _dir) = bench().await?;
    grant_certificates_and_keys(&bench)?;
    let python = support::python().await?;
    let script = e2e::python::scripts_dir().join("vault_certificates.py");
    let out = support::within(run_client(&python, [script.as_os_str()], &env_of(&bench))).await?;
    let steps = steps(&out)?;
    let vault = "https://my-key-vault.vault.azure.net";
    let c = &steps["certificates"];
    let name = c["name"].as_str().context("name")?;
    assert_eq!(c["create"]["subject"], "CN=py.example", "{c}");
    assert_eq!(c["create"]["tags"]["via"], "python");
    assert_eq!(c["operation"]["status"], "completed");
    assert_eq!(
        c["operation"]["target"],
        format!("{vault}/certificates/{name}")
    );
    assert_eq!(c["get"]["version"], c["create"]["version"]);
    assert_eq!(c["get"]["subject"], "CN=py.example");
    assert_eq!(c["get"]["sans"], serde_json::json!(["py.example"]));
    assert_eq!(c["get"]["thumbprint_matches"], true);
    let version = c["get"]["version"].as_str().context("version")?;
    assert_eq!(c["get"]["key_id"], format!("{vault}/keys/{name}/{version}"));
    assert_eq!(
        c["get"]["secret_id"],
        format!("{vault}/secrets/{name}/{version}")
    );
    assert_eq!(c["secret"]["content_type"], "application/x-pkcs12");
    assert_eq!(c["secret"]["managed"], true);
    assert_eq!(c["secret"]["key_id"], c["get"]["key_id"]);
    assert_eq!(c["secret"]["pfx_key_is_rsa"], true);
    assert_eq!(c["secret"]["pfx_cert_matches"], true);
    assert_eq!(c["secret"]["pfx_key_matches"], true);
    assert_eq!(c["key"]["managed"], true);
    assert_eq!(c["key"]["kty"], "RSA");
    assert_eq!(c["key"]["n_matches"], true);
    assert_eq!(c["import_pfx"]["cer_matches"], true);
    assert_eq!(c["import_pfx"]["issuer"], "Unknown");
    assert_eq!(c["import_pfx"]["content_type"], "application/x-pkcs12");
    assert_eq!(c["import_pfx"]["key_type"], "EC");
    // The message Key Vault gives a wrong PFX password (ronaldbosma/mtls-with-apim `README.md`,
    // Troubleshooting), as the SDK surfaces it.
    assert_eq!(
        c["import_wrong_password"],
        serde_json::json!({
            "status": 400,
            "code": "BadParameter",
            "message": "The specified PKCS#12 X.509 certificate content can not be read. Please check if certificate is in valid PKCS#12 format.",
        })
    );
    assert_eq!(c["import_pfx_password"]["cer_matches"], true);
    assert_eq!(
        c["import_pfx_password"]["content_type"],
        "application/x-pkcs12"
    );
    assert_eq!(c["import_pfx_password"]["secret_key_matches"], true);
    assert_eq!(c["import_pfx_password"]["secret_cert_matches"], true);
    assert_eq!(c["import_pem"]["cer_matches"], true);
    assert_eq!(c["import_pem"]["content_type"], "application/x-pem-file");
    assert_eq!(c["import_pem"]["secret_key_matches"], true);
    assert_eq!(c["import_pem"]["secret_cert_matches"], true);
    let suffix = steps["suffix"].as_str().context("suffix")?;
    assert_eq!(
        c["list"],
        serde_json::json!([
            name,
            format!("py-pem-{suffix}"),
            format!("py-pfx-{suffix}"),
            format!("py-pwd-{suffix}")
        ])
    );
    assert_eq!(c["versions"], 1);
    assert_eq!(c["secret_listed_managed"], serde_json::json!([true]));
    assert_eq!(c["update"]["tags"]["updated"], "yes");
    assert_eq!(c["update"]["version"], c["get"]["version"]);
    assert_eq!(c["policy"]["subject"], "CN=py.example");
    assert_eq!(c["policy"]["validity"], 12);
    assert_eq!(
        c["delete"]["recovery_id"],
        format!("{vault}/deletedcertificates/{name}")
    );
    assert_eq!(c["deleted_listed"], true);
    assert_eq!(c["secret_after_delete"], "not found");
    assert_eq!(c["recover"]["name"], name);
    assert_eq!(c["recover"]["cer_matches"], true);
    assert_eq!(c["purged"], true);

    let k = &steps["keys"];
    assert_eq!(k["rsa"]["kty"], "RSA", "{k}");
    assert_eq!(k["rsa"]["n_bytes"], 256);
    assert_eq!(k["rsa"]["same_on_get"], true);
    assert_eq!(k["rsa"]["tags"]["via"], "python");
    assert_eq!(k["ec"]["kty"], "EC");
    assert_eq!(k["ec"]["crv"], "P-256");
    assert_eq!(k["ec"]["x_bytes"], 32);
    let listed = k["list"].as_array().context("keys list")?;
    for name in k["names"].as_array().context("names")? {
        assert!(listed.contains(name), "{k}");
    }
    assert_eq!(k["delete"]["name"], k["names"][1]);
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn certificates_and_their_secrets_survive_a_bench_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let options = || Options {
        state_dir: dir.path().join("state"),
        directory: None,
        vaults: None,
        proxy_listen: "127.0.0.1:0".parse().expect("address"),
    };
    let connect = |bench: &Bench| {
        let env = bench.env();
        let ca = std::fs::read_to_string(dir.path().join("state/ca.pem"));
        async move { e2e::vault::VaultClient::from_env(&env, &ca?).await }
    };
    let bench = Bench::start(options()).await?;
    grant_certificates_and_keys(&bench)?;
    let vault = connect(&bench).await?;
    let created = vault
        .create_certificate(
            "durable",
            serde_json::json!({"issuer": {"name": "Self"}, "x509_props": {"subject": "CN=durable"}}),
        )
        .await?;
    let secret = vault.get("/secrets/durable/?api-version=7.6").await?;
    bench.shutdown().await;

    let bench = Bench::start(options()).await?;
    let vault = connect(&bench).await?;
    let again = vault.get("/certificates/durable/?api-version=7.6").await?;
    assert_eq!(again["id"], created["id"]);
    assert_eq!(again["cer"], created["cer"]);
    assert_eq!(again["policy"]["x509_props"]["subject"], "CN=durable");
    let pending = vault
        .get("/certificates/durable/pending?api-version=7.6")
        .await?;
    assert_eq!(pending["status"], "completed");
    let secret_again = vault.get("/secrets/durable/?api-version=7.6").await?;
    assert_eq!(secret_again["value"], secret["value"]);
    assert_eq!(secret_again["managed"], true);
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

/// Real Key Vault deletes asynchronously and purging too early is a 409 `ObjectIsBeingDeleted`;
/// azure-keyvault-secrets' delete poller (GET /deletedsecrets/NAME every 2 s until 200) is what
/// makes `begin_delete_secret(...).wait()` then `purge_deleted_secret` safe. With a 2 s window
/// on the vault the poller has to wait it out, and the purge then succeeds.
#[tokio::test]
async fn python_purge_right_after_the_delete_poller_succeeds_with_a_deletion_window() -> Result<()>
{
    let (bench, _dir) = bench().await?;
    let state = bench.akv().state();
    let mut spec = (*state
        .vault(harness::serve::DEFAULT_VAULT)
        .context("the default vault")?
        .spec())
    .clone();
    spec.deletion_delay_seconds = 2;
    state.put_vault(spec)?;
    let out = python_flow("purge-after-delete", &env_of(&bench)).await?;
    let steps = steps(&out)?;
    assert_eq!(steps["purged"], true, "{steps}");
    assert_eq!(steps["deleted_listed"], false, "{steps}");
    // The poller met the window (404s) before the 200 it stops on, and the purge came after.
    let seen: Vec<(String, u16)> = state
        .audit()
        .since(0)
        .into_iter()
        .filter(|e| e.operation.contains("Deleted"))
        .map(|e| (e.operation, e.status))
        .collect();
    let first_ok = seen
        .iter()
        .position(|(op, status)| op == "GetDeletedSecret" && *status == 200)
        .context("the poller never saw the deleted secret")?;
    assert!(
        seen[..first_ok]
            .iter()
            .any(|(op, status)| op == "GetDeletedSecret" && *status == 404),
        "{seen:?}"
    );
    assert!(
        seen[first_ok..]
            .iter()
            .any(|(op, status)| op == "PurgeDeletedSecret" && *status == 204),
        "{seen:?}"
    );
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

/// The pinned Azure CLI with the bench's environment, a private config dir and no telemetry.
struct AzCli {
    path: std::path::PathBuf,
    config: std::path::PathBuf,
    env: Vec<(String, String)>,
}

impl AzCli {
    /// The CLI (its venv built first if needed) for `bench`, configured under `dir`.
    async fn new(bench: &Bench, dir: &Path) -> Result<Self> {
        let path =
            tokio::time::timeout(support::BUILD_TIMEOUT, tokio::task::spawn_blocking(e2e::az))
                .await
                .context("building the Azure CLI venv timed out")???;
        Ok(Self {
            path,
            config: dir.join("azure"),
            env: env_of(bench),
        })
    }

    /// The bench's value of `key` (empty when it exports none).
    fn var(&self, key: &str) -> String {
        self.env
            .iter()
            .find_map(|(k, v)| (k == key).then(|| v.clone()))
            .unwrap_or_default()
    }

    /// Runs `az args...`; returns its JSON output (`null` for commands that print nothing, like
    /// `az cloud set`).
    async fn run(&self, args: &[&str]) -> Result<Value> {
        let mut command = tokio::process::Command::new(&self.path);
        command
            .args(args)
            .args(["--output", "json"])
            .env_clear()
            .envs(
                ["PATH", "HOME", "LANG"]
                    .iter()
                    .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("AZURE_CONFIG_DIR", &self.config)
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

    /// `az login --service-principal` as the bench's default app.
    async fn login(&self) -> Result<Value> {
        let (client, secret, tenant) = (
            self.var("AZURE_CLIENT_ID"),
            self.var("AZURE_CLIENT_SECRET"),
            self.var("AZURE_TENANT_ID"),
        );
        self.run(&[
            "login",
            "--service-principal",
            "-u",
            &client,
            "-p",
            &secret,
            "--tenant",
            &tenant,
            "--allow-no-subscriptions",
        ])
        .await
    }

    /// `az keyvault secret set` then `show` on `--vault-name my-key-vault`: both carry
    /// `value`, the same id, and that id is under `vault_url` (the CLI built it from the
    /// cloud's vault suffix).
    async fn set_and_show(&self, name: &str, value: &str, vault_url: &str) -> Result<()> {
        let vault = ["--vault-name", "my-key-vault"];
        let set = self
            .run(
                &[
                    &[
                        "keyvault", "secret", "set", "--name", name, "--value", value,
                    ][..],
                    &vault[..],
                ]
                .concat(),
            )
            .await?;
        assert_eq!(set["value"], value, "{set}");
        let show = self
            .run(
                &[
                    &["keyvault", "secret", "show", "--name", name][..],
                    &vault[..],
                ]
                .concat(),
            )
            .await?;
        assert_eq!(show["value"], value);
        assert_eq!(show["id"], set["id"]);
        let prefix = format!("{vault_url}/secrets/{name}/");
        assert!(
            show["id"]
                .as_str()
                .is_some_and(|id| id.starts_with(&prefix)),
            "{show}"
        );
        Ok(())
    }
}

/// `az cloud set --name AzureUSGovernment`: the CLI then signs in at `login.microsoftonline.us`,
/// lists subscriptions at `management.usgovcloudapi.net` and builds vault URLs with the
/// `vault.usgovcloudapi.net` suffix, all answered by the bench configured for that cloud.
#[tokio::test]
async fn az_cli_in_azure_government_shows_a_secret_by_vault_name() -> Result<()> {
    let (bench, dir) = bench_for(&[Cloud::UsGovernment]).await?;
    let az = AzCli::new(&bench, dir.path()).await?;
    az.run(&["cloud", "set", "--name", "AzureUSGovernment"])
        .await?;
    let login = az.login().await?;
    assert_eq!(login[0]["cloudName"], "AzureUSGovernment", "{login}");
    az.set_and_show(
        "gov-az",
        "gov",
        "https://my-key-vault.vault.usgovcloudapi.net",
    )
    .await?;
    bench.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn az_cli_logs_in_and_manages_secrets_by_vault_name() -> Result<()> {
    let started = Instant::now();
    let (bench, dir) = bench().await?;
    let az = AzCli::new(&bench, dir.path()).await?;
    eprintln!("az venv ready in {:?}", started.elapsed());
    let version = az.run(&["version"]).await?;
    assert_eq!(version["azure-cli"], "2.91.0", "the pin in tests/az");
    let login = az.login().await?;
    assert_eq!(login[0]["tenantId"], az.var("AZURE_TENANT_ID"), "{login}");
    az.set_and_show(
        "from-az",
        "az-value",
        "https://my-key-vault.vault.azure.net",
    )
    .await?;
    let list = az
        .run(&["keyvault", "secret", "list", "--vault-name", "my-key-vault"])
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
