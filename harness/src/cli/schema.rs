//! `harness schema`: prints the JSON Schema of scenario files (committed as
//! `scenarios/schema.json`).

use std::process::ExitCode;

use crate::scenario::ScenarioSpec;

/// Flags of `harness schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// The schema, pretty-printed, with a trailing newline.
#[must_use]
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ScenarioSpec);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    text.push('\n');
    text
}

pub fn run(_args: &Args) -> ExitCode {
    print!("{}", schema_json());
    ExitCode::SUCCESS
}
