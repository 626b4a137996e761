//! The harness: everything between a user's scenario and the fakes.
//!
//! - [`cli`] parses the command line and dispatches to one module per subcommand.
//! - [`proxy`] is the routing proxy: an HTTP CONNECT proxy that sends Azure's real host names
//!   (`login.microsoftonline.com`, `*.vault.azure.net`, ...) to the fakes and refuses every
//!   other host, so unmodified clients reach the fakes with TLS end to end.
//! - [`arm`] is the sliver of Azure Resource Manager `az login` needs.
//! - [`serve`] starts fake-aad, fake-akv, the proxy and the managed-identity endpoint together
//!   and writes the environment clients need.

pub mod arm;
pub mod cli;
pub mod proxy;
pub mod serve;
