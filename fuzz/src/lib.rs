//! Support for the libFuzzer targets in `fuzz_targets/` (run with `cargo fuzz`, see
//! `fuzz/README.md`).
//!
//! How the parts fit:
//! - [`wire`] turns a fuzz input, written as a raw HTTP/1.1 request (so seeds are requests the
//!   real clients send, readable in an editor), into an `http::Request`, filling the
//!   `$TOKEN`-style placeholders with credentials that verify, so the fuzzer's mutations reach
//!   the parsers behind authentication as well as the authentication itself.
//! - [`akv`] and [`aad`] hold one fixture per target: the fake's real router, its state rebuilt
//!   every few hundred inputs so memory stays flat, and the credentials the placeholders use.
//!   Both run on a frozen clock, so a token minted at start never expires mid-run.
//! - Each target checks, besides "no panic", the invariants a client relies on: no 5xx from the
//!   Azure surface, and every error in the service's own JSON error format.

pub mod aad;
pub mod akv;
pub mod wire;

/// One multi-threaded runtime per fuzz process: fake-aad serves JWKS on it in the background
/// while the fuzz thread drives routers with `block_on`.
#[must_use]
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}
