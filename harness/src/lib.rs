//! The harness: everything between a user's scenario and the fakes.
//!
//! - [`cli`] parses the command line and dispatches to one module per subcommand.
//! - [`proxy`] is the routing proxy: an HTTP CONNECT proxy that sends Azure's real host names
//!   (`login.microsoftonline.com`, `*.vault.azure.net`, ..., and those of each configured
//!   sovereign cloud, [`fake_kit::Cloud`]) to the fakes and refuses every other host, so
//!   unmodified clients reach the fakes with TLS end to end.
//! - [`arm`] is the sliver of Azure Resource Manager `az login` needs.
//! - [`serve`] starts fake-aad, fake-akv, the proxy and the managed-identity endpoint together
//!   and writes the environment clients need; its vault state is durable in the state
//!   directory. [`export`] moves that state as one YAML file, and [`admin`] drives a running
//!   bench's `/_emulator` APIs (`harness vault`, `harness aad`, `harness audit`).
//! - [`supervise`] runs child processes (own process group, logs, probes, stop, pidfile);
//!   [`deps`] builds or finds their binaries; [`cluster`] starts the local control plane on
//!   them (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, ESO, and kwok or a
//!   real [`node`]: containerd and kubelet on this host, the bench's own images in a local
//!   registry, one teardown script) or uses an existing cluster, behind one trait, and
//!   [`k8s`] talks to it (client,
//!   server-side apply, waits). [`reloader`] starts one Stakater Reloader per scenario, each
//!   in its own network namespace, with the flags that scenario declares.
//!   [`runner::plane`] starts the local plane for a run: the one place that decides the
//!   environment ESO gets from the bench ([`serve::Bench::eso_env`]).
//! - Scenarios: [`cli`] → [`scenario`] (YAML format, validation, variables) → [`runner`] (try →
//!   catch → finally, timeouts, scenarios side by side, failure dumps) → [`step`] (one file per
//!   step kind) → [`event`] (the runner-report contract) → [`report`] (terminal, JUnit, JSON).
//!   [`duration`] is the duration both scenarios and steps write (`30s`). Steps change the
//!   fakes only through their operations (`fake_akv::operations`, `fake_aad::operations`).

pub mod admin;
pub mod arm;
pub mod cli;
pub mod cluster;
pub mod deps;
pub mod docker;
pub mod duration;
pub mod event;
pub mod export;
pub mod helm;
pub mod k8s;
pub mod node;
pub mod proxy;
pub mod reloader;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod step;
pub mod supervise;
