//! What the `reloader` and `eso` steps do to an operator process.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
