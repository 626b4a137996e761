//! Python clients against the container: the Azure SDK with the module's environment, and
//! the README's example with Python's own testcontainers package.

use std::ffi::OsStr;
use std::path::Path;

use akv_e2e_testcontainers::AkvBench;
use anyhow::{Context, Result};

use super::support::image_ready;

#[tokio::test]
async fn the_python_sdk_round_trips_secrets_with_the_modules_environment() -> Result<()> {
    if !image_ready() {
        return Ok(());
    }
    let bench = AkvBench::default()
        .with_vault("my-key-vault")
        .with_app("eso-app")
        .with_role("eso-app", "Key Vault Secrets Officer", "my-key-vault")
        .start()
        .await?;
    let python = tokio::task::spawn_blocking(e2e::python::python).await??;
    let script = e2e::python::scripts_dir().join("vault_secrets.py");
    let out = e2e::run_client(
        &python,
        [script.as_os_str(), OsStr::new("default")],
        &bench.env("eso-app")?,
    )
    .await?;
    let steps = out
        .json
        .get("steps")
        .with_context(|| format!("{}\n{}", out.json, out.stderr))?;
    // DefaultAzureCredential from the environment: set, get, a second version, read by version.
    assert_eq!(steps["set"]["value"], "v1", "{steps}");
    assert_eq!(steps["get"]["value"], "v1", "{steps}");
    assert_eq!(steps["second"]["value"], "v2", "{steps}");
    assert_ne!(
        steps["second"]["version"], steps["set"]["version"],
        "{steps}"
    );
    Ok(())
}

/// The README's Python example, run as written (the code block after the marker).
#[tokio::test]
async fn the_readmes_python_testcontainers_example_runs() -> Result<()> {
    if !image_ready() {
        return Ok(());
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))?;
    let example = readme
        .split("<!-- tested: tests/tests/it/container/python.rs -->")
        .nth(1)
        .and_then(|rest| rest.split("```python\n").nth(1))
        .and_then(|block| block.split("```").next())
        .context("the README's Python testcontainers example")?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("example.py");
    std::fs::write(&script, example)?;
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("py/testcontainers-requirements.txt");
    let venv = tokio::task::spawn_blocking(move || {
        e2e::python::venv("venv-testcontainers", &requirements)
    })
    .await??;
    let mut env = vec![
        // Ryuk, the reaper, is an image that would be pulled; the example removes its container.
        ("TESTCONTAINERS_RYUK_DISABLED".to_owned(), "true".to_owned()),
    ];
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        env.push(("DOCKER_HOST".to_owned(), host));
    }
    let out = e2e::run_client(&venv.join("bin/python"), [script.as_os_str()], &env).await?;
    assert_eq!(out.json["value"], "s3cret", "{}\n{}", out.json, out.stderr);
    Ok(())
}
