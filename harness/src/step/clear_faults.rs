//! `clearFaults`: cancels injected Key Vault faults (`DELETE /_emulator/faults`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use fake_akv::FaultPlan;

/// Cancels injected faults. YAML: `- clearFaults: {}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClearFaults {}

impl Step for ClearFaults {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        cx.bench.akv().state().set_faults(FaultPlan::default());
        Ok(StepOutcome::Passed)
    }

    fn changes_shared_state(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        "clear Key Vault faults".into()
    }
}
