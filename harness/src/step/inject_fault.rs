//! `injectFault`: the next Key Vault data-plane requests fail (fake-akv's fault plan, as
//! `PUT /_emulator/faults` sets it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use fake_akv::FaultPlan;

/// Makes the next Key Vault requests fail.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InjectFault {
    /// How many requests fail.
    pub count: u32,
    /// The HTTP status they answer (default 429, Key Vault's `Throttled`).
    #[serde(default = "default_status")]
    pub status: u16,
    /// `Retry-After` seconds on 429s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

fn default_status() -> u16 {
    429
}

impl Step for InjectFault {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        if !(400..600).contains(&self.status) {
            return Err(StepError::Invalid(format!(
                "injectFault: status {} is not an HTTP error status",
                self.status
            )));
        }
        cx.bench.akv().state().set_faults(FaultPlan {
            remaining: self.count,
            status: self.status,
            retry_after: self.retry_after,
        });
        Ok(StepOutcome::Passed)
    }

    fn changes_shared_state(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!(
            "fail the next {} Key Vault requests with {}",
            self.count, self.status
        )
    }
}
