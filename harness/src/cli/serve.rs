//! `harness serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::serve::{Bench, Options};

/// Flags of `harness serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the CA, the CA bundle and durable state.
    #[arg(long, env = "HARNESS_STATE_DIR", default_value_os_t = default_state_dir())]
    state_dir: PathBuf,
    /// Entra directory file (YAML or JSON) to start from instead of the default world.
    #[arg(long)]
    directory: Option<PathBuf>,
    /// fake-akv vault file (YAML or JSON) to start from instead of the default vault.
    #[arg(long)]
    vaults: Option<PathBuf>,
    /// Also write the `export` lines to this file (`source` it in another shell).
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Listen address of the routing proxy.
    #[arg(long, default_value = "127.0.0.1:0")]
    proxy_listen: SocketAddr,
}

fn default_state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("harness-serve-{}", std::process::id()))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let bench = Bench::start(Options {
            state_dir: args.state_dir.clone(),
            directory: args.directory,
            vaults: args.vaults,
            proxy_listen: args.proxy_listen,
        })
        .await?;
        let script = bench.env_script();
        if let Some(path) = &args.env_file {
            std::fs::write(path, &script)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        print!("{script}");
        eprintln!(
            "harness serve: ready (state in {}); Ctrl-C to stop",
            args.state_dir.display()
        );
        fake_kit::serve::shutdown_signal().await;
        bench.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
