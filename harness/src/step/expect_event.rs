//! `expectEvent`: polls until the namespace has an event about an object with a reason (and
//! a message containing some text), as `kubectl describe` shows it: ESO puts the provider's
//! full error (AADSTS codes, Key Vault error codes) only in its `UpdateFailed` events, the
//! ExternalSecret's condition carries a generic message.

use std::ops::ControlFlow;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};

/// Polls until a matching event exists.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectEvent {
    /// The involved object's kind, e.g. `ExternalSecret`.
    pub kind: String,
    /// The involved object's name.
    pub name: String,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The event's reason, e.g. `UpdateFailed`.
    pub reason: String,
    /// Text the message must contain, e.g. `AADSTS7000215`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
    /// `Normal` or `Warning`; either when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub type_: Option<String>,
}

impl ExpectEvent {
    fn matches(&self, event: &Event) -> bool {
        let object = &event.involved_object;
        object.kind.as_deref() == Some(self.kind.as_str())
            && object.name.as_deref() == Some(self.name.as_str())
            && event.reason.as_deref() == Some(self.reason.as_str())
            && self
                .type_
                .as_ref()
                .is_none_or(|t| event.type_.as_deref() == Some(t.as_str()))
            && self.message_contains.as_ref().is_none_or(|m| {
                event
                    .message
                    .as_deref()
                    .is_some_and(|t| t.contains(m.as_str()))
            })
    }
}

impl Step for ExpectEvent {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| cx.namespace.clone());
        let api: Api<Event> = Api::namespaced(cx.kube()?, &namespace);
        let looked = cx
            .poll(async || {
                let list = api
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| StepError::kube(format!("list events in {namespace}"), e))?;
                Ok(if list.items.iter().any(|e| self.matches(e)) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(list)
                })
            })
            .await?;
        match looked {
            Ok(()) => Ok(StepOutcome::Passed),
            Err(list) => {
                let about: Vec<String> = list
                    .items
                    .iter()
                    .filter(|e| e.involved_object.name.as_deref() == Some(self.name.as_str()))
                    .map(|e| {
                        format!(
                            "{} {}: {}",
                            e.type_.as_deref().unwrap_or("-"),
                            e.reason.as_deref().unwrap_or("-"),
                            e.message.as_deref().unwrap_or("").trim()
                        )
                    })
                    .collect();
                Ok(StepOutcome::failed(format!(
                    "no event {} on {} {namespace}/{}{}; its events:\n  {}",
                    self.reason,
                    self.kind,
                    self.name,
                    self.message_contains
                        .as_ref()
                        .map(|m| format!(" containing {m:?}"))
                        .unwrap_or_default(),
                    if about.is_empty() {
                        "(none)".to_owned()
                    } else {
                        about.join("\n  ")
                    }
                )))
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "expect event {} on {} {}",
            self.reason, self.kind, self.name
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
