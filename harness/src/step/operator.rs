//! The operators steps act on, and what the `reloader` and `eso` steps do to their processes.
//! A leaf: the scenario loader reads [`Operator`] without importing any step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::helm::ChartKind;

/// Stop, start or restart an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OperatorAction {
    /// SIGTERM (SIGKILL after the grace period); it sees nothing until started again.
    Stop,
    /// Start it again with the same flags and wait until it is ready.
    Start,
    /// Stop, then start.
    Restart,
}

impl OperatorAction {
    /// The verb, for reports.
    #[must_use]
    pub fn verb(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Restart => "restart",
        }
    }
}

/// An operator the bench installs from its chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Operator {
    /// External Secrets Operator (`components.eso`).
    Eso,
    /// Stakater Reloader (`components.reloader`).
    Reloader,
}

impl Operator {
    /// Its chart.
    #[must_use]
    pub fn chart(self) -> ChartKind {
        match self {
            Self::Eso => ChartKind::ExternalSecrets,
            Self::Reloader => ChartKind::Reloader,
        }
    }
}
