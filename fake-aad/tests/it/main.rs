//! fake-aad over real TLS: wire shapes (snapshotted), credential checks, discovery, managed
//! identity and the admin API. Real-client (MSAL, azure-identity) coverage lives in the
//! workspace `tests/` package.

mod admin;
mod cli;
mod discovery;
mod managed_identity;
mod support;
mod token;
