//! `sleep`: waits a fixed time. For letting time pass (refresh intervals), never for
//! assertions: those poll until their timeout.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::duration::DurationSpec;

/// Waits.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sleep {
    /// How long, e.g. `2s`.
    pub duration: DurationSpec,
}

impl Step for Sleep {
    async fn run(&self, _cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        tokio::time::sleep(self.duration.get()).await;
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("sleep {}", self.duration.0)
    }
}
