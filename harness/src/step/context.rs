//! What a running step can reach, and how it reports that it could not do its job.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::event::{EventSender, OutputStream, RunEventKind, ScenarioRef, StepRef};
use crate::k8s::ApplyError;
use crate::scenario::bindings::UnknownVariable;
use crate::scenario::{Bindings, World};
use crate::serve::Bench;

/// The harness could not do what a step asked (JUnit `error`, not `failure`).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A Kubernetes step ran without a cluster.
    #[error("this step needs a Kubernetes cluster and the run has none")]
    NoCluster,
    /// The scenario declares no such vault.
    #[error("no vault `{0}` in this scenario")]
    UnknownVault(String),
    /// The scenario declares no such app.
    #[error("no app registration `{0}` in this scenario")]
    UnknownApp(String),
    /// The scenario declares no such app or managed identity.
    #[error("no app or managed identity `{0}` in this scenario")]
    UnknownPrincipal(String),
    /// A fake refused the change.
    #[error("{what}: {message}")]
    Refused {
        /// What was attempted.
        what: String,
        /// Why it was refused.
        message: String,
    },
    /// A Kubernetes call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was attempted.
        what: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// A manifest could not be applied.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// A file or process could not be used.
    #[error("{what}: {source}")]
    Io {
        /// What was attempted.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A `${name}` names no variable.
    #[error(transparent)]
    Variable(#[from] UnknownVariable),
    /// The step's input makes no sense once variables are substituted.
    #[error("{0}")]
    Invalid(String),
}

impl StepError {
    /// A refusal by a fake.
    pub fn refused(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Refused {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// A failed Kubernetes call.
    pub fn kube(what: impl Into<String>, source: kube::Error) -> Self {
        Self::Kube {
            what: what.into(),
            source,
        }
    }
}

/// Everything a step may use.
pub struct StepContext<'a> {
    /// The fakes (Azure side).
    pub bench: &'a Bench,
    /// The cluster's client (Kubernetes side), when the run has one.
    pub kube: Option<kube::Client>,
    /// Variables; steps may add some (`bind`).
    pub bindings: &'a mut Bindings,
    /// The scenario's resolved Azure world.
    pub world: &'a World,
    /// The scenario's namespace.
    pub namespace: String,
    /// The fake-akv audit position when the scenario started.
    pub audit_mark: u64,
    /// When this step runs out of time; polling steps stop a little before and report why.
    pub deadline: Instant,
    /// The scenario file's folder, for relative paths.
    pub base_dir: PathBuf,
    /// The environment for commands: the bench's plus the scenario's credentials.
    pub env: Vec<(String, String)>,
    pub(crate) events: &'a EventSender,
    pub(crate) scenario: ScenarioRef,
    pub(crate) step: StepRef,
    /// The scenario's own Reloader, when the run started one.
    pub reloader: Option<&'a mut crate::reloader::Reloader>,
    /// The cluster's ESO, or why the harness cannot stop and start it (`None`: no cluster).
    pub eso: Option<Result<&'a crate::cluster::EsoControl, &'a String>>,
    /// The scenario's Helm releases, when it installed any.
    pub releases: Option<&'a mut crate::helm::Releases>,
}

impl StepContext<'_> {
    /// Sends output as a `StepOutput` event; steps never print.
    pub fn output(&self, stream: OutputStream, text: impl Into<String>) {
        self.events.emit(RunEventKind::StepOutput {
            scenario: self.scenario.clone(),
            step: self.step.clone(),
            stream,
            text: text.into(),
        });
    }

    /// The vault the scenario declares as `name`, or its first vault.
    pub fn vault(&self, name: Option<&str>) -> Result<Arc<fake_akv::Vault>, StepError> {
        let name = match name {
            Some(name) => self
                .world
                .vault(name)
                .ok_or_else(|| StepError::UnknownVault(name.to_owned()))?,
            None => self
                .world
                .default_vault()
                .ok_or_else(|| StepError::UnknownVault("(default)".into()))?,
        };
        self.bench
            .akv()
            .state()
            .vault(name)
            .ok_or_else(|| StepError::UnknownVault(name.to_owned()))
    }

    /// The cluster's client.
    pub fn kube(&self) -> Result<kube::Client, StepError> {
        self.kube.clone().ok_or(StepError::NoCluster)
    }

    /// The fakes' clock, Unix seconds.
    #[must_use]
    pub fn now_unix(&self) -> i64 {
        self.bench.akv().state().clock().unix()
    }

    /// Time left before the step should report, keeping a margin for the report itself.
    #[must_use]
    pub fn time_left(&self) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(Duration::from_millis(250))
    }

    /// The interval polling steps wait between looks.
    #[must_use]
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(250)
    }

    /// The one poll-and-sleep loop of every check: looks with `look` each poll interval until
    /// it holds (`Break`, with what it found) or the step's time runs out, then answers what
    /// the last look saw instead (`Continue`), for the failure message.
    pub async fn poll<T, U>(
        &self,
        mut look: impl AsyncFnMut() -> Result<ControlFlow<T, U>, StepError>,
    ) -> Result<Result<T, U>, StepError> {
        loop {
            match look().await? {
                ControlFlow::Break(found) => return Ok(Ok(found)),
                ControlFlow::Continue(seen) if self.time_left() < self.poll_interval() => {
                    return Ok(Err(seen));
                }
                ControlFlow::Continue(_) => tokio::time::sleep(self.poll_interval()).await,
            }
        }
    }
}
