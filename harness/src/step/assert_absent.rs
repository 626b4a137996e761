//! `assertAbsent`: polls until an object does not exist.

use std::ops::ControlFlow;

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
        let shown = shown(&self.0, &cx.namespace);
        let looked = cx
            .poll(async || {
                let found = api
                    .get_opt(&self.0.name)
                    .await
                    .map_err(|e| StepError::kube(format!("get {shown}"), e))?;
                Ok(match found {
                    None => ControlFlow::Break(()),
                    Some(_) => ControlFlow::Continue(()),
                })
            })
            .await?;
        Ok(match looked {
            Ok(()) => StepOutcome::Passed,
            Err(()) => StepOutcome::failed(format!("{shown} still exists")),
        })
    }

    fn describe(&self) -> String {
        format!("assert {} {} is absent", self.0.kind, self.0.name)
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
