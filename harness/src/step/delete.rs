//! `delete`: deletes a Kubernetes object (gone already counts as done).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kube_util::{api_for_ref, shown};
use super::{Step, StepContext, StepError, StepOutcome};
use crate::scenario::spec::ObjectRef;

/// Deletes an object.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Delete(pub ObjectRef);

impl Step for Delete {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let client = cx.kube()?;
        let api = api_for_ref(&client, &self.0, &cx.namespace).await?;
        match api
            .delete(&self.0.name, &kube::api::DeleteParams::default())
            .await
        {
            Ok(_) => Ok(StepOutcome::Passed),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(StepOutcome::Passed),
            Err(e) => Err(StepError::kube(
                format!("delete {}", shown(&self.0, &cx.namespace)),
                e,
            )),
        }
    }

    fn describe(&self) -> String {
        format!("delete {} {}", self.0.kind, self.0.name)
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
