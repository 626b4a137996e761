//! The command line: one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod deps;
mod down;
mod serve;
mod status;
mod up;

/// Local end-to-end test bench for Kubernetes secrets that come from Azure Key Vault.
#[derive(Debug, Parser)]
#[command(name = "harness", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the fake Entra ID, the fake Key Vault and the routing proxy until interrupted.
    Serve(serve::Args),
    /// Build (or find) the control-plane binaries from the Go wrapper modules in tools/go.
    Deps(deps::Args),
    /// Start the local control plane (etcd, Kubernetes, kwok, ESO, Reloader) until interrupted.
    Up(up::Args),
    /// Stop the plane kept in a run directory and reap leftover processes.
    Down(down::Args),
    /// Show what runs in a run directory, versions and readiness.
    Status(status::Args),
}

/// Runs the parsed command; the exit code follows `main`'s contract (0 ok, 1 failed, 2 could not run).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Deps(args) => deps::run(args),
        Command::Up(args) => up::run(args),
        Command::Down(args) => down::run(&args),
        Command::Status(args) => status::run(&args),
    }
}
