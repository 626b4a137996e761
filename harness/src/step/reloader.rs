//! `reloader`: stops, starts or restarts the scenario's own Reloader mid-scenario, for the
//! stories that hinge on what Reloader sees while it is down and when it comes back
//! (`--sync-after-restart`, `--reload-on-create`, a restart inside a pause period).
//!
//! Each scenario has a Reloader of its own, so this touches no other scenario.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};

/// What to do to the scenario's Reloader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ReloaderAction {
    /// SIGTERM (SIGKILL after 5 s); it sees nothing until started again.
    Stop,
    /// Start it again with the same flags and wait until it serves `/live`.
    Start,
    /// Stop, then start.
    Restart,
}

/// `- reloader: restart` (or `stop`, `start`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ReloaderStep(pub ReloaderAction);

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
            ReloaderAction::Stop => {
                if !reloader.stop().await {
                    return Ok(StepOutcome::failed("Reloader was not running"));
                }
            }
            ReloaderAction::Start => {
                if reloader.is_running() {
                    return Ok(StepOutcome::failed("Reloader is already running"));
                }
                start(reloader).await?;
            }
            ReloaderAction::Restart => {
                reloader.stop().await;
                start(reloader).await?;
            }
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        let action = match self.0 {
            ReloaderAction::Stop => "stop",
            ReloaderAction::Start => "start",
            ReloaderAction::Restart => "restart",
        };
        format!("{action} the scenario's Reloader")
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
