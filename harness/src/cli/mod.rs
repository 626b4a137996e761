//! The command line: one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod aad;
mod audit;
mod deps;
mod down;
mod export;
mod images;
mod import;
pub(crate) mod run;
mod schema;
mod serve;
mod status;
mod up;
mod validate;
mod vault;

pub use schema::schema_json as scenario_schema;
pub use validate::{Validation, validate as validate_paths};

/// Local end-to-end test bench for Kubernetes secrets that come from Azure Key Vault.
#[derive(Debug, Parser)]
#[command(name = "harness", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against the fakes (and a cluster, for Kubernetes steps).
    Run(run::Args),
    /// Check scenario files; report errors with file, line and column.
    Validate(validate::Args),
    /// Print the JSON Schema of scenario files.
    Schema(schema::Args),
    /// Run the fake Entra ID, the fake Key Vault and the routing proxy until interrupted.
    Serve(serve::Args),
    /// Write a bench's whole state (directory, vaults, all versions, deleted objects) as YAML.
    Export(export::Args),
    /// Replace a state directory's state with a file written by `harness export`.
    Import(import::Args),
    /// Read and change a running bench's secrets: set, get, list, delete, disable, purge.
    Vault(vault::Args),
    /// Change a running bench's app secrets and vault role assignments.
    Aad(aad::Args),
    /// Show what both fakes of a running bench saw, in time order.
    Audit(audit::Args),
    /// Build (or find) the control-plane binaries from the Go wrapper modules in tools/go.
    Deps(deps::Args),
    /// Start the local control plane (etcd, Kubernetes, kwok, ESO, Reloader) until interrupted.
    Up(up::Args),
    /// Stop the plane kept in a run directory and reap leftover processes.
    Down(down::Args),
    /// Show what runs in a run directory, versions and readiness.
    Status(status::Args),
    /// Save the images the bench builds (ESO, Reloader) for a cluster it did not start, or
    /// build the bench's own image.
    Images(images::Args),
}

/// The `harness` program: parses the command line, runs it, prints a failure.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("harness: {error:#}");
            ExitCode::from(2)
        }
    }
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
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Schema(args) => Ok(schema::run(&args)),
        Command::Serve(args) => serve::run(args),
        Command::Export(args) => export::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Vault(args) => vault::run(args),
        Command::Aad(args) => aad::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Deps(args) => deps::run(args),
        Command::Up(args) => up::run(args),
        Command::Down(args) => down::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Images(args) => images::run(args),
    }
}

/// The state directory of a running bench: `--state-dir` or `HARNESS_STATE_DIR`.
fn state_dir(flag: Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    flag.ok_or_else(|| {
        anyhow::anyhow!(
            "which bench? pass --state-dir or set HARNESS_STATE_DIR (the env file of `harness serve` sets it)"
        )
    })
}

/// Runs an admin command's future on a small runtime.
fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
