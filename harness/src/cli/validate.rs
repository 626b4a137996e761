//! `harness validate PATH...`: loads every scenario file and reports each error with its file,
//! line and column. Exit 0 when all are valid, 1 when one is not, 2 when a path is unreadable.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::scenario;

/// Flags of `harness validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched for *.yaml and *.yml).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// The outcome of validating some files.
#[derive(Debug)]
pub struct Validation {
    /// What to print: one line per file.
    pub report: String,
    /// Files with errors.
    pub invalid: usize,
}

/// Validates every scenario file under `paths`.
pub fn validate(paths: &[PathBuf]) -> std::io::Result<Validation> {
    let files = scenario::discover(paths)?;
    let mut report = String::new();
    let mut invalid = 0;
    for file in &files {
        match scenario::load(file) {
            Ok(s) => {
                let _ = writeln!(report, "ok      {} ({})", file.display(), s.name);
            }
            Err(error) => {
                invalid += 1;
                let _ = writeln!(report, "error   {error}");
            }
        }
    }
    let _ = writeln!(
        report,
        "{} file{} checked, {invalid} invalid",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    Ok(Validation { report, invalid })
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let validation = validate(&args.paths)?;
    print!("{}", validation.report);
    Ok(if validation.invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
