//! Kubernetes API access over kube-rs: one client per cluster, server-side apply with the field
//! manager `harness`, and waits built from named conditions under a timeout.

pub mod apply;
pub mod client;
pub mod wait;
pub mod workload;

pub use apply::{ApplyError, FIELD_MANAGER, apply_yaml};
pub use client::{ClientError, client_from_kubeconfig, write_kubeconfig};
pub use wait::{WaitError, wait_for};
