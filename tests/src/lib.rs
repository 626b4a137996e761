//! Support for the workspace's cross-crate tests: the fakes driven by real, unmodified client
//! libraries over real TLS on loopback.
//!
//! How the parts fit:
//! - [`python()`] and [`node_modules()`] build (once per requirements hash, under a file lock)
//!   the pinned client environments in `${XDG_CACHE_HOME:-$HOME/.cache}/akv-e2e/`; [`cache`]
//!   holds the lock-and-marker logic both share.
//! - [`az()`] builds the Azure CLI's own venv the same way (it is large and slow), and
//!   [`go_client()`] the Go client (azidentity + azsecrets) from `tests/go`.
//! - [`fakes`] starts `fake-aad` in-process with a throwaway CA written to a temp dir.
//! - [`client`] runs a client script with a clean environment and parses the one JSON object
//!   it prints, keeping the script's stderr for the error.
//! - [`vault`] talks to a vault the way a user's tooling does: through the routing proxy, as
//!   `https://{vault}.vault.azure.net`, with a token from `login.microsoftonline.com`.
//! - [`creds`] mints what a test registers and presents: RSA certificates and federated tokens
//!   from an issuer the test controls.

#![deny(missing_docs)]

pub mod az;
pub mod cache;
pub mod client;
pub mod creds;
pub mod fakes;
pub mod go;
pub mod node;
pub mod python;
pub mod vault;

pub use az::az;
pub use client::{ClientOutcome, run_client};
pub use fakes::Aad;
pub use go::go_client;
pub use node::node_modules;
pub use python::python;
