//! `advanceClock`: moves the fakes' shared clock, so credentials, tokens and soft-deleted
//! secrets expire without waiting.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::duration::DurationSpec;

/// Moves the fakes' clock forward.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvanceClock {
    /// How far, e.g. `2h`.
    pub by: DurationSpec,
}

impl Step for AdvanceClock {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let by = time::Duration::try_from(self.by.get())
            .map_err(|e| StepError::Invalid(format!("advanceClock: {e}")))?;
        // fake-aad and fake-akv share one clock (see `serve::Bench::start`).
        cx.bench.akv().state().clock().advance(by);
        Ok(StepOutcome::Passed)
    }

    fn changes_shared_state(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("advance the clock by {}", self.by.0)
    }
}
