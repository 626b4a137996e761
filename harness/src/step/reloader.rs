//! `reloader`: stops, starts or restarts the scenario's own Reloader mid-scenario, for the
//! stories that hinge on what Reloader sees while it is down and when it comes back
//! (`--sync-after-restart`, `--reload-on-create`, a restart inside a pause period).
//!
//! Each scenario has a Reloader of its own, so this touches no other scenario.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::operator::OperatorAction;
use super::{Step, StepContext, StepError, StepOutcome};

/// `- reloader: restart` (or `stop`, `start`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ReloaderStep(pub OperatorAction);

async fn start(reloader: &mut crate::reloader::Reloader) -> Result<(), StepError> {
    reloader
        .start()
        .await
        .map(drop)
        .map_err(|e| StepError::Invalid(format!("Reloader did not start again: {e}")))
}

impl Step for ReloaderStep {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let Some(reloader) = cx.reloader.as_deref_mut() else {
            return Err(StepError::Invalid(
                "this scenario has no Reloader the harness started: declare \
                 `components.reloader` (on a --kubeconfig cluster the cluster runs its own)"
                    .into(),
            ));
        };
        match self.0 {
            OperatorAction::Stop => {
                if !reloader.stop().await {
                    return Ok(StepOutcome::failed("Reloader was not running"));
                }
            }
            OperatorAction::Start => {
                if reloader.is_running() {
                    return Ok(StepOutcome::failed("Reloader is already running"));
                }
                start(reloader).await?;
            }
            OperatorAction::Restart => {
                reloader.stop().await;
                start(reloader).await?;
            }
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        format!("{} the scenario's Reloader", self.0.verb())
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
