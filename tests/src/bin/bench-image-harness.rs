//! The harness program again, built by this package so its tests get a binary as fresh as
//! themselves (`CARGO_BIN_EXE_bench-image-harness`) to build the bench's image from; a nested
//! `cargo build -p harness` would resolve other features and rebuild both ways.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
