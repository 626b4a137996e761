//! `harness import`: replace a state directory's state with an exported file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::export::StateExport;

/// Flags of `harness import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state directory to fill (no bench may be serving it); `harness serve --state-dir`
    /// on it then serves exactly the imported state.
    #[arg(long, env = "HARNESS_STATE_DIR")]
    state_dir: PathBuf,
    /// A file written by `harness export` (YAML or JSON).
    file: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let export = StateExport::parse(&text, &args.file)?;
    export.write(&args.state_dir)?;
    eprintln!(
        "imported {} tenant(s) and {} vault(s) into {}",
        export.directory.tenants.len(),
        export.vaults.vaults.len(),
        args.state_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
