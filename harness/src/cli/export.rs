//! `harness export`: a bench's whole state as one YAML file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::export::StateExport;

/// Flags of `harness export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bench's state directory (running or not).
    #[arg(long, env = "HARNESS_STATE_DIR")]
    state_dir: PathBuf,
    /// Write here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let yaml = StateExport::read(&args.state_dir)?.to_yaml();
    match &args.output {
        Some(path) => fake_kit::durable::write_atomic(path, yaml.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}
