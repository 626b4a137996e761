//! `expectLog`: polls until the log of every running pod meant (one by name, or all a selector
//! picks, as `kubectl logs -l` reads them) contains a text or matches a pattern. After a
//! rollout only the new pods run, so "the app's log shows the new password" is one step.

use std::ops::ControlFlow;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pods::{self, PodTarget};
use super::{Step, StepContext, StepError, StepOutcome};

/// Polls until every running pod's log shows `contains` (or matches `matches`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectLog {
    /// One pod by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// A label selector (`app=web`): every pod it matches that runs and is not being deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The container; the pod's first when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Namespace; the scenario's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Text a line must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// A regular expression a line must match (Rust `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// Only the last N lines count (`kubectl logs --tail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<i64>,
    /// Only lines written after this step began count.
    #[serde(default)]
    pub since_step: bool,
}

impl ExpectLog {
    fn pattern(&self) -> Result<regex::Regex, StepError> {
        match (&self.contains, &self.matches) {
            (Some(text), None) => Ok(regex::Regex::new(&regex::escape(text)).expect("escaped")),
            (None, Some(pattern)) => regex::Regex::new(pattern)
                .map_err(|e| StepError::refused("expectLog", format!("`matches`: {e}"))),
            _ => Err(StepError::refused(
                "expectLog",
                "give exactly one of `contains` and `matches`",
            )),
        }
    }

    /// `"text"` or `/pattern/`, for messages.
    fn wanted(&self) -> String {
        self.contains.as_ref().map_or_else(
            || format!("/{}/", self.matches.as_deref().unwrap_or_default()),
            |text| format!("{text:?}"),
        )
    }

    async fn log(
        &self,
        api: &Api<Pod>,
        pod: &str,
        since: Option<i64>,
    ) -> Result<String, StepError> {
        let params = LogParams {
            container: self.container.clone(),
            tail_lines: self.tail,
            since_seconds: since,
            ..LogParams::default()
        };
        api.logs(pod, &params)
            .await
            .map_err(|e| StepError::kube(format!("logs of pod {pod}"), e))
    }
}

impl ExpectLog {
    fn target(&self) -> PodTarget<'_> {
        PodTarget {
            pod: self.pod.as_deref(),
            selector: self.selector.as_deref(),
            namespace: self.namespace.as_deref(),
        }
    }
}

impl Step for ExpectLog {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let pattern = self.pattern()?;
        let (namespace, api) = self.target().api(cx)?;
        let started = Instant::now();
        let looked = cx
            .poll(async || {
                let since = self
                    .since_step
                    .then(|| i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX) + 1);
                let running = self.target().running(&api).await?;
                let mut missing = Vec::new();
                for pod in &running {
                    let name = pods::name(pod);
                    let log = self.log(&api, name, since).await?;
                    if !log.lines().any(|line| pattern.is_match(line)) {
                        let last: Vec<&str> = log.lines().rev().take(5).collect();
                        let last: Vec<&str> = last.into_iter().rev().collect();
                        missing.push(format!(
                            "{name}: {}",
                            if last.is_empty() {
                                "(no output)".to_owned()
                            } else {
                                last.join(" | ")
                            }
                        ));
                    }
                }
                Ok(if !running.is_empty() && missing.is_empty() {
                    ControlFlow::Break(running.len())
                } else {
                    ControlFlow::Continue(missing)
                })
            })
            .await?;
        match looked {
            Ok(pods) => {
                cx.output(
                    crate::event::OutputStream::Stdout,
                    format!(
                        "{pods} pod(s) show it after {:.1}s",
                        started.elapsed().as_secs_f64()
                    ),
                );
                Ok(StepOutcome::Passed)
            }
            Err(missing) => {
                // No pod whose log lacks it, yet no pass: none runs.
                let why = if missing.is_empty() {
                    self.target().why_none_runs(&api, &namespace).await
                } else {
                    missing.join("; ")
                };
                Ok(StepOutcome::failed(format!(
                    "the log of {} in {namespace} never showed {}: {why}",
                    self.target().describe(),
                    self.wanted(),
                )))
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "expect the log of {} to show {}",
            self.target().describe(),
            self.wanted()
        )
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
