//! The fakes driven by real client libraries over real TLS on loopback. One binary, one module
//! per concept; each module's doc says what belongs there.

mod support;

mod attacks;
mod container;
mod errors;
mod eso;
mod identity;
mod msal;
mod node;
mod serve_clients;
mod token_shape;
mod toolchains;
