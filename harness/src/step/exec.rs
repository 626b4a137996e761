//! `exec`: runs a command in a container of each running pod meant, as `kubectl exec` does
//! (through the API server and the kubelet), and checks its exit code and output.

use std::ops::ControlFlow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pods::{self, PodTarget};
use super::{Step, StepContext, StepError, StepOutcome};

/// Runs `command` in every running pod meant; each must exit with `exitCode` and print what
/// is asked.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exec {
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
    /// The command and its arguments (no shell unless you name one: `[sh, -c, "..."]`).
    pub command: Vec<String>,
    /// The exit code wanted (default 0).
    #[serde(default)]
    pub exit_code: i32,
    /// Text standard output must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_contains: Option<String>,
    /// Standard output wanted exactly (a trailing newline aside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
}

impl Exec {
    fn target(&self) -> PodTarget<'_> {
        PodTarget {
            pod: self.pod.as_deref(),
            selector: self.selector.as_deref(),
            namespace: self.namespace.as_deref(),
        }
    }
}

impl Step for Exec {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let (namespace, api) = self.target().api(cx)?;
        let looked = cx
            .poll(async || {
                let running = self.target().running(&api).await?;
                Ok(if running.is_empty() {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(running)
                })
            })
            .await?;
        let Ok(running) = looked else {
            return Ok(StepOutcome::failed(format!(
                "nothing to exec in for {} in {namespace}: {}",
                self.target().describe(),
                self.target().why_none_runs(&api, &namespace).await
            )));
        };
        let mut problems = Vec::new();
        for pod in &running {
            let name = pods::name(pod);
            let ran = pods::exec(&api, name, self.container.as_deref(), &self.command).await?;
            cx.output(
                crate::event::OutputStream::Stdout,
                format!("{name}: {}", ran.stdout.trim_end()),
            );
            if !ran.stderr.is_empty() {
                cx.output(
                    crate::event::OutputStream::Stderr,
                    format!("{name}: {}", ran.stderr.trim_end()),
                );
            }
            if ran.code != self.exit_code {
                problems.push(format!(
                    "{name}: exit code {} (wanted {})",
                    ran.code, self.exit_code
                ));
            }
            if let Some(want) = &self.stdout_contains
                && !ran.stdout.contains(want.as_str())
            {
                problems.push(format!("{name}: stdout {:?} lacks {want:?}", ran.stdout));
            }
            if let Some(want) = &self.stdout
                && ran.stdout.trim_end_matches('\n') != want.trim_end_matches('\n')
            {
                problems.push(format!("{name}: stdout {:?}, wanted {want:?}", ran.stdout));
            }
        }
        if problems.is_empty() {
            Ok(StepOutcome::Passed)
        } else {
            Ok(StepOutcome::failed(problems.join("; ")))
        }
    }

    fn describe(&self) -> String {
        format!("exec {:?} in {}", self.command, self.target().describe())
    }

    fn needs_cluster(&self) -> bool {
        true
    }
}
