//! `assertAbsent`: polls until an object does not exist.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kube_util::{api_for_ref, shown};
use super::{Step, StepContext, StepError, StepOutcome};
use crate::scenario::spec::ObjectRef;

/// Polls until the object is gone.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AssertAbsent(pub ObjectRef);

impl Step for AssertAbsent {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let client = cx.kube()?;
        let api = api_for_ref(&client, &self.0, &cx.namespace).await?;
        loop {
            let found = api.get_opt(&self.0.name).await.map_err(|e| {
                StepError::kube(format!("get {}", shown(&self.0, &cx.namespace)), e)
            })?;
            if found.is_none() {
                return Ok(StepOutcome::Passed);
            }
            if cx.time_left() < cx.poll_interval() {
                return Ok(StepOutcome::failed(format!(
                    "{} still exists",
                    shown(&self.0, &cx.namespace)
                )));
            }
            tokio::time::sleep(cx.poll_interval()).await;
        }
    }

    fn describe(&self) -> String {
        format!("assert {} {} is absent", self.0.kind, self.0.name)
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
