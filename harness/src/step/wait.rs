//! `wait`: polls until an object's `status.conditions` has a condition with the wanted status
//! (and reason), e.g. an ExternalSecret `Ready=True` with reason `SecretSynced`.

use std::ops::ControlFlow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kube_util::api_for;
use super::{Step, StepContext, StepError, StepOutcome};

/// Polls until a status condition holds.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wait {
    /// `apiVersion`, e.g. `external-secrets.io/v1`.
    pub api_version: String,
    /// `kind`, e.g. `ExternalSecret`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Condition type (default `Ready`).
    #[serde(default = "default_condition")]
    pub condition: String,
    /// Wanted status (default `True`).
    #[serde(default = "default_status")]
    pub status: String,
    /// Wanted reason, e.g. `SecretSynced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Text the condition's message must contain, e.g. `could not get secret data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
}

fn default_condition() -> String {
    "Ready".into()
}

fn default_status() -> String {
    "True".into()
}

/// The condition `type_` of an object: (status, reason, message).
#[must_use]
pub fn condition_of(
    object: &serde_json::Value,
    type_: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    let text =
        |c: &serde_json::Value, k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(|t| t.as_str()) == Some(type_))
        .map(|c| {
            (
                text(c, "status").unwrap_or_default(),
                text(c, "reason"),
                text(c, "message"),
            )
        })
}

impl Step for Wait {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let client = cx.kube()?;
        let api = api_for(
            &client,
            &self.api_version,
            &self.kind,
            self.namespace.as_deref(),
            &cx.namespace,
        )
        .await?;
        let looked = cx
            .poll(async || {
                let found = api
                    .get_opt(&self.name)
                    .await
                    .map_err(|e| StepError::kube(format!("get {} {}", self.kind, self.name), e))?;
                let seen = found
                    .as_ref()
                    .map(|o| serde_json::to_value(o).expect("objects serialise"))
                    .and_then(|v| condition_of(&v, &self.condition));
                Ok(match &seen {
                    Some((status, reason, message))
                        if *status == self.status
                            && self
                                .reason
                                .as_ref()
                                .is_none_or(|r| Some(r) == reason.as_ref())
                            && self.message_contains.as_ref().is_none_or(|m| {
                                message.as_ref().is_some_and(|t| t.contains(m.as_str()))
                            }) =>
                    {
                        ControlFlow::Break(())
                    }
                    _ => ControlFlow::Continue((found.is_some(), seen)),
                })
            })
            .await?;
        match looked {
            Ok(()) => Ok(StepOutcome::Passed),
            Err((found, seen)) => {
                let last = match (found, &seen) {
                    (false, _) => "the object does not exist".to_owned(),
                    (true, None) => format!("no {} condition", self.condition),
                    (true, Some((status, reason, message))) => format!(
                        "{}={status} reason={} message={}",
                        self.condition,
                        reason.as_deref().unwrap_or("-"),
                        message.as_deref().unwrap_or("-")
                    ),
                };
                Ok(StepOutcome::failed(format!(
                    "{} {}: wanted {}={}{}{}; last seen: {last}",
                    self.kind,
                    self.name,
                    self.condition,
                    self.status,
                    self.reason
                        .as_ref()
                        .map(|r| format!(" reason={r}"))
                        .unwrap_or_default(),
                    self.message_contains
                        .as_ref()
                        .map(|m| format!(" message containing {m:?}"))
                        .unwrap_or_default()
                )))
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "wait for {} {} {}={}",
            self.kind, self.name, self.condition, self.status
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
