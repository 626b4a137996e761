//! Plumbing shared by `fake-aad` and `fake-akv`, kept in one place so the fakes never grow twins.
//!
//! - [`pki`]: a local certificate authority and the leaf certificates the fakes present for
//!   Azure's real host names (`login.microsoftonline.com`, `*.vault.azure.net`, ...), plus the
//!   rustls server configuration built from them.
//! - [`serve`]: the accept loops: HTTPS (rustls + hyper, HTTP/1.1 and HTTP/2) and plain HTTP
//!   (for the IMDS-shaped managed-identity listener), both with graceful shutdown and the
//!   peer address available to handlers as [`axum::extract::ConnectInfo`].
//! - [`audit`]: the numbered, append-only log behind both fakes' audit trails.
//! - [`durable`]: crash-safe file replacement for state that must survive `kill -9`.
//! - [`clock`]: the controllable clock both fakes read, so scenarios can expire credentials,
//!   tokens and soft-deleted objects without sleeping.

pub mod audit;
pub mod clock;
pub mod durable;
pub mod pki;
pub mod serve;

pub use clock::Clock;
pub use pki::{CertificateAuthority, LeafCertificate, PkiError};
pub use rustls::ServerConfig;
pub use serve::{ServeError, Served};
