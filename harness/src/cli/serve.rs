//! `harness serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use fake_kit::Cloud;
use tokio::signal::unix::{SignalKind, signal};

use crate::serve::{Bench, Options};

/// Flags of `harness serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the CA, the CA bundle and durable state: the directory journal and every
    /// acknowledged vault write survive a crash and are served again on restart.
    #[arg(long, env = "HARNESS_STATE_DIR", default_value_os_t = default_state_dir())]
    state_dir: PathBuf,
    /// Entra directory file (YAML or JSON) to start from instead of the default world.
    #[arg(long, env = "HARNESS_DIRECTORY")]
    directory: Option<PathBuf>,
    /// fake-akv vault file (YAML or JSON) to start from instead of the state directory's vaults
    /// (which it replaces) or the default vault.
    #[arg(long, env = "HARNESS_VAULTS")]
    vaults: Option<PathBuf>,
    /// Also write the `export` lines to this file (`source` it in another shell).
    #[arg(long, env = "HARNESS_ENV_FILE")]
    env_file: Option<PathBuf>,
    /// Listen address of the routing proxy.
    #[arg(long, env = "HARNESS_PROXY_LISTEN", default_value = "127.0.0.1:0")]
    proxy_listen: SocketAddr,
    /// Also serve the CA and the client environment over plain HTTP here (`GET /ca.pem`,
    /// `/env`, `/env.json`): for a host that cannot read the state directory, such as the
    /// host of the bench's container.
    #[arg(long, env = "HARNESS_INFO_LISTEN")]
    info_listen: Option<SocketAddr>,
    /// Clouds to answer as (repeat, or a comma list): public, usgov, china (also the Azure CLI
    /// and ESO names such as AzureUSGovernment or ChinaCloud). The exported environment points
    /// at the first (`AZURE_KEYVAULT_URL`, and `AZURE_AUTHORITY_HOST` for a sovereign cloud).
    #[arg(
        long = "cloud",
        env = "HARNESS_CLOUD",
        value_delimiter = ',',
        default_value = "public"
    )]
    clouds: Vec<Cloud>,
}

fn default_state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("harness-serve-{}", std::process::id()))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The long-lived bench that clients (and bench-akv) hammer; other subcommands need none.
    fake_kit::serve::serve_connections_per_core().context("cannot start connection threads")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Listen before saying ready: a supervisor may signal as soon as it reads the line.
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let bench = Bench::start_with_clouds(
            Options {
                state_dir: args.state_dir.clone(),
                directory: args.directory,
                vaults: args.vaults,
                proxy_listen: args.proxy_listen,
            },
            &args.clouds,
        )
        .await?;
        let front_door = match args.info_listen {
            Some(listen) => Some(fake_kit::serve::spawn_plain(listen, bench.front_door()).await?),
            None => None,
        };
        let script = bench.env_script();
        if let Some(path) = &args.env_file {
            std::fs::write(path, &script)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        print!("{script}");
        eprintln!(
            "{} (state in {}); Ctrl-C to stop",
            fake_kit::container::READY_LINE,
            args.state_dir.display()
        );
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
        if let Some(front_door) = front_door {
            front_door.shutdown().await;
        }
        bench.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
