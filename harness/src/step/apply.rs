//! `apply`: server-side applies manifests (inline or from a file), with `${variables}`
//! substituted and the scenario's namespace filled in where a namespaced object has none.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::k8s::ApplyError;

/// Server-side applies one or more YAML documents with the field manager `harness`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Apply {
    /// Inline YAML (one or more documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// A YAML file, relative to the scenario file; its `${variables}` are substituted too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Step for Apply {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let text = match (&self.manifest, &self.file) {
            (Some(text), None) => text.clone(),
            (None, Some(file)) => {
                let path = cx.base_dir.join(file);
                let raw = std::fs::read_to_string(&path).map_err(|source| StepError::Io {
                    what: format!("read {}", path.display()),
                    source,
                })?;
                cx.bindings.substitute(&raw)?
            }
            _ => {
                return Err(StepError::Invalid(
                    "apply needs exactly one of `manifest` and `file`".into(),
                ));
            }
        };
        let client = cx.kube()?;
        for (index, mut object) in parse_documents(&text)?.into_iter().enumerate() {
            if object.metadata.namespace.is_none() {
                object.metadata.namespace = Some(cx.namespace.clone());
            }
            crate::k8s::apply::apply_object(&client, object, index).await?;
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        match (&self.file, &self.manifest) {
            (Some(file), _) => format!("apply {file}"),
            (None, Some(text)) => format!("apply {}", summary(text)),
            (None, None) => "apply".into(),
        }
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}

fn parse_documents(text: &str) -> Result<Vec<kube::api::DynamicObject>, StepError> {
    let mut objects = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = serde_yaml_ng::Value::deserialize(document).map_err(|e| ApplyError::Parse {
            index,
            reason: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        objects.push(
            serde_yaml_ng::from_value(value).map_err(|e| ApplyError::Parse {
                index,
                reason: e.to_string(),
            })?,
        );
    }
    Ok(objects)
}

/// `Kind/name, Kind/name` of the documents, for the description.
fn summary(text: &str) -> String {
    let mut parts = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let Ok(value) = serde_yaml_ng::Value::deserialize(document) else {
            break;
        };
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        let name = value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("?");
        parts.push(format!("{kind}/{name}"));
    }
    parts.join(", ")
}
