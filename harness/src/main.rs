use std::process::ExitCode;

use clap::Parser;

// glibc malloc was the largest user-space cost under load (about 15% of CPU in bench-akv).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    match harness::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("harness: {error:#}");
            ExitCode::from(2)
        }
    }
}
