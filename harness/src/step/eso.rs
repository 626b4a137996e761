//! `eso`: stops, starts or restarts the plane's External Secrets Operator mid-scenario, for
//! stories about what happens to a rotation while ESO is down and when it comes back.
//!
//! ESO is shared by every scenario of a run, so a scenario with this step runs alone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::operator::OperatorAction;
use super::{Step, StepContext, StepError, StepOutcome};

/// `- eso: restart` (or `stop`, `start`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct EsoStep(pub OperatorAction);

impl Step for EsoStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let eso = match cx.eso {
            Some(Ok(eso)) => eso,
            Some(Err(why)) => return Err(StepError::Invalid(why.clone())),
            None => return Err(StepError::NoCluster),
        };
        let start = async || {
            eso.start()
                .await
                .map(drop)
                .map_err(|e| StepError::Invalid(format!("ESO did not start again: {e}")))
        };
        match self.0 {
            OperatorAction::Stop => {
                if !eso.stop().await {
                    return Ok(StepOutcome::failed("ESO was not running"));
                }
            }
            OperatorAction::Start => {
                if eso.is_running().await {
                    return Ok(StepOutcome::failed("ESO is already running"));
                }
                start().await?;
            }
            OperatorAction::Restart => {
                eso.stop().await;
                start().await?;
            }
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("{} ESO", self.0.verb())
    }

    fn needs_cluster(&self) -> bool {
        true
    }

    fn changes_shared_state(&self) -> bool {
        true
    }
}
