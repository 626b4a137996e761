//! Plumbing shared by `fake-aad` and `fake-akv`, kept in one place so the fakes never grow twins.
//!
//! - [`cloud`]: the Azure clouds (global, US Government, China) and every host name, audience
//!   and issuer that differs between them, with Microsoft's sources, so that fake-aad, fake-akv,
//!   the leaf certificate and the routing proxy agree on one table.
//! - [`pki`]: a local certificate authority and the leaf certificates the fakes present for
//!   Azure's real host names in every cloud (`login.microsoftonline.com`, `*.vault.azure.net`,
//!   `login.microsoftonline.us`, `*.vault.usgovcloudapi.net`, ...), plus the rustls server
//!   configuration built from them.
//! - [`serve`]: the accept loops: HTTPS (rustls + hyper, HTTP/1.1 and HTTP/2) and plain HTTP
//!   (for the IMDS-shaped managed-identity listener), both with graceful shutdown and the
//!   peer address available to handlers as [`axum::extract::ConnectInfo`]; long-running servers
//!   serve connections on one single-threaded runtime per core
//!   ([`serve::serve_connections_per_core`]).
//! - [`audit`]: the numbered, append-only log behind both fakes' audit trails, kept in a
//!   [`chunked::Chunked`] sequence (also fake-akv's version lists) that never moves old entries.
//! - [`durable`]: crash-safe file replacement for state that must survive `kill -9`.
//! - [`clock`]: the controllable clock both fakes read, so scenarios can expire credentials,
//!   tokens and soft-deleted objects without sleeping.
//! - [`container`]: the bench image's contract (ports, state directory, user, ready line),
//!   shared by the harness that builds it and the testcontainers module that starts it.
//! - [`control`]: which requests the fakes' `/_emulator` control API answers (those addressed
//!   to the fake itself, never those under an Azure host name).

pub mod audit;
pub mod chunked;
pub mod clock;
pub mod cloud;
pub mod container;
pub mod control;
pub mod durable;
pub mod pki;
pub mod serve;

pub use clock::Clock;
pub use cloud::{Cloud, CloudError};
pub use pki::{CertificateAuthority, LeafCertificate, PkiError};
pub use rustls::ServerConfig;
pub use serve::{ServeError, Served};
