//! `assert`: polls an object until it contains a partial object (chainsaw's assert), and on
//! timeout reports each field that differs.

use std::ops::ControlFlow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kube_util::{api_for, subset_diff};
use super::{Step, StepContext, StepError, StepOutcome};
use crate::event::OutputStream;

/// Polls until the object named by `object` contains every field of `object`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assert {
    /// A partial object: `apiVersion`, `kind`, `metadata.name` (and `metadata.namespace`,
    /// the scenario's by default) say which object; every other field must match.
    pub object: serde_json::Value,
}

/// Which object a partial object names.
pub(super) fn target(
    object: &serde_json::Value,
) -> Result<(String, String, String, Option<String>), StepError> {
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(object, |v, k| v.get(k))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let missing = |what: &str| StepError::Invalid(format!("the object has no {what}"));
    Ok((
        field(&["apiVersion"]).ok_or_else(|| missing("apiVersion"))?,
        field(&["kind"]).ok_or_else(|| missing("kind"))?,
        field(&["metadata", "name"]).ok_or_else(|| missing("metadata.name"))?,
        field(&["metadata", "namespace"]),
    ))
}

impl Step for Assert {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let (api_version, kind, name, namespace) = target(&self.object)?;
        let client = cx.kube()?;
        let api = api_for(
            &client,
            &api_version,
            &kind,
            namespace.as_deref(),
            &cx.namespace,
        )
        .await?;
        let looked = cx
            .poll(async || {
                let found = api
                    .get_opt(&name)
                    .await
                    .map_err(|e| StepError::kube(format!("get {kind} {name}"), e))?;
                let diff = match &found {
                    Some(object) => {
                        let actual = serde_json::to_value(object).expect("objects serialise");
                        subset_diff(&self.object, &actual)
                    }
                    None => vec![format!("{kind} {name} does not exist")],
                };
                Ok(if diff.is_empty() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue((found, diff))
                })
            })
            .await?;
        let Err((found, diff)) = looked else {
            return Ok(StepOutcome::Passed);
        };
        if let Some(object) = &found {
            let yaml = serde_yaml_ng::to_string(object).unwrap_or_default();
            cx.output(
                OutputStream::Log,
                format!("last seen {kind} {name}:\n{yaml}"),
            );
        }
        Ok(StepOutcome::failed(format!(
            "{kind} {name} does not match:\n  {}",
            diff.join("\n  ")
        )))
    }

    fn describe(&self) -> String {
        match target(&self.object) {
            Ok((_, kind, name, _)) => format!("assert {kind} {name}"),
            Err(_) => "assert".into(),
        }
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
