//! `expectSecret`: polls until a Kubernetes Secret's decoded data equals the given map.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};

/// Polls until the Secret's data, decoded, equals `data`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectSecret {
    /// The Secret.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Wanted keys and their decoded values.
    pub data: BTreeMap<String, String>,
    /// Other keys are allowed (default false: the data must be exactly `data`).
    #[serde(default)]
    pub partial: bool,
}

impl ExpectSecret {
    fn differences(&self, secret: &Secret) -> Vec<String> {
        let actual: BTreeMap<String, String> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        let mut out = Vec::new();
        for (key, want) in &self.data {
            match actual.get(key) {
                Some(got) if got == want => {}
                Some(got) => out.push(format!("{key}: wanted {want:?}, got {got:?}")),
                None => out.push(format!("{key}: wanted {want:?}, absent")),
            }
        }
        if !self.partial {
            for key in actual.keys().filter(|k| !self.data.contains_key(*k)) {
                out.push(format!("{key}: not wanted, present"));
            }
        }
        out
    }
}

impl Step for ExpectSecret {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| cx.namespace.clone());
        let api: Api<Secret> = Api::namespaced(cx.kube()?, &namespace);
        let looked = cx
            .poll(async || {
                let found = api.get_opt(&self.name).await.map_err(|e| {
                    StepError::kube(format!("get Secret {namespace}/{}", self.name), e)
                })?;
                let diff = match &found {
                    Some(secret) => self.differences(secret),
                    None => vec![format!("Secret {namespace}/{} does not exist", self.name)],
                };
                Ok(if diff.is_empty() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(diff)
                })
            })
            .await?;
        Ok(match looked {
            Ok(()) => StepOutcome::Passed,
            Err(diff) => StepOutcome::failed(format!(
                "Secret {namespace}/{}:\n  {}",
                self.name,
                diff.join("\n  ")
            )),
        })
    }

    fn describe(&self) -> String {
        format!("expect Secret {}", self.name)
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
