//! The client environments themselves: built from the pins, reused on the next call.

use std::time::Instant;

use anyhow::{Result, ensure};

use crate::support;

#[tokio::test]
async fn python_venv_has_the_pinned_clients_and_is_reused() -> Result<()> {
    let python = support::python().await?;
    let started = Instant::now();
    let again = tokio::task::spawn_blocking(e2e::python).await??;
    ensure!(again == python);
    ensure!(
        started.elapsed().as_millis() < 500,
        "warm lookup took {:?}",
        started.elapsed()
    );
    let out = tokio::process::Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m; print(' '.join(m.version(p) for p in \
             ['msal', 'azure-identity', 'azure-keyvault-secrets']))",
        ])
        .output()
        .await?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1.39.0 1.27.0 4.12.0"
    );
    Ok(())
}

#[tokio::test]
async fn node_modules_have_the_pinned_clients_and_are_reused() -> Result<()> {
    let modules = support::node_modules().await?;
    let started = Instant::now();
    let again = tokio::task::spawn_blocking(e2e::node_modules).await??;
    ensure!(again == modules);
    ensure!(
        started.elapsed().as_millis() < 500,
        "warm lookup took {:?}",
        started.elapsed()
    );
    let version = |package: &str| -> Result<String> {
        let manifest = std::fs::read(modules.join(package).join("package.json"))?;
        let manifest: serde_json::Value = serde_json::from_slice(&manifest)?;
        Ok(manifest["version"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(version("@azure/identity")?, "4.13.0");
    assert_eq!(version("@azure/keyvault-secrets")?, "4.11.0");
    Ok(())
}
