//! `upgrade`: upgrades a release the scenario installed with Helm (`components.*.install:
//! helm`) with changed values, as `helm upgrade` with the release's values plus the changes,
//! and waits until its pods are ready again: for stories about what a rotation does across an
//! operator upgrade, and about values that only matter once changed.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::operator::Operator;
use super::{References, Step, StepContext, StepError, StepOutcome};
use crate::helm::{UpgradeError, Values};

/// `- upgrade: { component: eso, values: { concurrent: 4 } }`
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upgrade {
    /// Whose release: `eso` or `reloader`; the scenario installs it with `install: helm`.
    pub component: Operator,
    /// Values changed, over the release's (maps merged, lists replaced, as Helm merges values
    /// files); `${variables}` are substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub values: Option<serde_json::Value>,
    /// A values file, relative to the scenario file, handed to Helm unchanged, over the
    /// release's values and under `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_file: Option<PathBuf>,
}

impl Step for Upgrade {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let mut changes = Vec::new();
        if let Some(file) = &self.values_file {
            changes.push(Values::File(cx.base_dir.join(file)));
        }
        if let Some(values) = &self.values {
            let mut values = values.clone();
            cx.bindings.substitute_json(&mut values)?;
            changes.push(Values::Inline(values));
        }
        let Some(releases) = cx.releases.as_deref_mut() else {
            return Err(StepError::Invalid(
                UpgradeError::NotInstalled(self.component.chart().name()).to_string(),
            ));
        };
        match releases.upgrade(self.component.chart(), changes).await {
            Ok(()) => Ok(StepOutcome::Passed),
            // Helm's refusal (a value the chart's schema rejects, pods that never get ready)
            // is what the scenario checks, not a harness fault.
            Err(UpgradeError::Helm(e)) => Ok(StepOutcome::failed(e.to_string())),
            Err(e @ UpgradeError::NotInstalled(_)) => Err(StepError::Invalid(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        let mut what = Vec::new();
        if let Some(file) = &self.values_file {
            what.push(file.display().to_string());
        }
        if let Some(values) = self.values.as_ref().and_then(|v| v.as_object()) {
            what.extend(values.keys().cloned());
        }
        format!(
            "upgrade the {} release ({})",
            self.component.chart().name(),
            what.join(", ")
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }

    fn references(&self) -> References<'_> {
        References {
            helm_component: Some(self.component),
            ..References::default()
        }
    }
}
