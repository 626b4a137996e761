//! fake-akv integration tests: fake-aad and fake-akv in-process over real TLS, real tokens.
//!
//! - `auth`: the 401 challenge, token validation failures, RBAC and access-policy 403s.
//! - `clouds`: sovereign vault hosts: their challenge, audience and item ids.
//! - `secrets`: every secret operation's happy path and wire shape, routing by host, headers.
//! - `limits`: names, sizes, api-version, 405s.
//! - `paging`: maxresults and nextLink.
//! - `service_limits`: 429 `Throttled` on a vault with `serviceLimits`, weights, windows.
//! - `soft_delete`: delete, get/list deleted, recover, purge, retention.
//! - `backup`: backup and restore.
//! - `concurrency`: parallel writers.
//! - `conformance`: Microsoft's recordings of the real Key Vault (`tests/conformance/*.yaml`)
//!   replayed step by step.
//! - `keys`: key create, import, get, update, list, soft delete.
//! - `certificates`: certificate create (operation), import (PFX, PEM), get, list, policy,
//!   soft delete, backup/restore, and the managed key and secret behind each certificate.
//! - `admin`: the `/_emulator` control plane (audit, faults, clock, vaults, secrets).
//! - `cli`: the binary's `--help`.

mod admin;
mod auth;
mod backup;
mod certificates;
mod cli;
mod clouds;
mod concurrency;
mod conformance;
mod keys;
mod limits;
mod paging;
mod secrets;
mod service_limits;
mod soft_delete;
mod support;
