//! `expectFile`: polls until a file in the container (a mounted Secret's key, typically) has
//! the content wanted, reading it with `cat` through `exec`, and says how long it took: a
//! mounted Secret is updated in place by the kubelet, an environment variable never is.

use std::ops::ControlFlow;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pods::{self, PodTarget};
use super::{Step, StepContext, StepError, StepOutcome};

/// Polls until `path` in every running pod meant holds `content` (or contains `contains`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectFile {
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
    /// The file, e.g. `/etc/app/password`.
    pub path: String,
    /// The whole content wanted (a trailing newline aside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Text the content must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
}

impl ExpectFile {
    fn satisfied(&self, text: &str) -> bool {
        self.content
            .as_ref()
            .is_none_or(|want| text.trim_end_matches('\n') == want.trim_end_matches('\n'))
            && self
                .contains
                .as_ref()
                .is_none_or(|want| text.contains(want.as_str()))
    }
}

impl ExpectFile {
    fn target(&self) -> PodTarget<'_> {
        PodTarget {
            pod: self.pod.as_deref(),
            selector: self.selector.as_deref(),
            namespace: self.namespace.as_deref(),
        }
    }
}

impl Step for ExpectFile {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        if self.content.is_none() && self.contains.is_none() {
            return Err(StepError::refused(
                "expectFile",
                "give `content` or `contains`",
            ));
        }
        let (namespace, api) = self.target().api(cx)?;
        let started = Instant::now();
        let command = vec!["cat".to_owned(), self.path.clone()];
        let looked = cx
            .poll(async || {
                let running = self.target().running(&api).await?;
                let mut wrong = Vec::new();
                for pod in &running {
                    let name = pods::name(pod);
                    let ran = pods::exec(&api, name, self.container.as_deref(), &command).await?;
                    if ran.code != 0 || !self.satisfied(&ran.stdout) {
                        wrong.push(format!(
                            "{name}: {}",
                            if ran.code == 0 {
                                format!("{:?}", ran.stdout)
                            } else {
                                ran.stderr.trim().to_owned()
                            }
                        ));
                    }
                }
                Ok(if !running.is_empty() && wrong.is_empty() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(wrong)
                })
            })
            .await?;
        match looked {
            Ok(()) => {
                cx.output(
                    crate::event::OutputStream::Stdout,
                    format!(
                        "{} holds it after {:.1}s",
                        self.path,
                        started.elapsed().as_secs_f64()
                    ),
                );
                Ok(StepOutcome::Passed)
            }
            Err(wrong) => {
                // No pod holds anything wrong, yet no pass: none runs.
                let why = if wrong.is_empty() {
                    self.target().why_none_runs(&api, &namespace).await
                } else {
                    wrong.join("; ")
                };
                Ok(StepOutcome::failed(format!(
                    "{} in {} in {namespace} never held what was wanted: {why}",
                    self.path,
                    self.target().describe(),
                )))
            }
        }
    }

    fn describe(&self) -> String {
        format!("expect {} in {}", self.path, self.target().describe())
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
