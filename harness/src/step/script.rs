//! `script`: runs a shell command with the scenario's environment (the bench's proxy, trust
//! and credentials, `NAMESPACE`, `KUBECONFIG`) and checks its exit code and output.

use std::collections::BTreeMap;
use std::process::Stdio;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Step, StepContext, StepError, StepOutcome};
use crate::event::OutputStream;

/// Runs `sh -c COMMAND`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Script {
    /// The command, run by `sh -c` in the scenario file's folder.
    pub run: String,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The exit code that passes (default 0).
    #[serde(default)]
    pub expect_exit_code: i32,
    /// Text standard output must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_stdout: Option<String>,
}

impl Step for Script {
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(&self.run)
            .current_dir(&cx.base_dir)
            .envs(cx.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, killed with the step if it times out.
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|source| StepError::Io {
            what: "spawn sh".into(),
            source,
        })?;
        let pid = child.id();
        let guard = GroupGuard(pid);
        let output = child
            .wait_with_output()
            .await
            .map_err(|source| StepError::Io {
                what: "wait for sh".into(),
                source,
            })?;
        std::mem::forget(guard);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !stdout.is_empty() {
            cx.output(OutputStream::Stdout, stdout.clone());
        }
        if !stderr.is_empty() {
            cx.output(OutputStream::Stderr, stderr.clone());
        }
        let code = output.status.code();
        if code != Some(self.expect_exit_code) {
            let tail: String = tail(&stderr, 5);
            return Ok(StepOutcome::failed(format!(
                "exit {}, wanted {}{}",
                code.map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
                self.expect_exit_code,
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("; stderr: {tail}")
                }
            )));
        }
        if let Some(wanted) = &self.expect_stdout
            && !stdout.contains(wanted.as_str())
        {
            return Ok(StepOutcome::failed(format!(
                "stdout does not contain {wanted:?}; it was {:?}",
                tail(&stdout, 5)
            )));
        }
        Ok(StepOutcome::Passed)
    }

    fn describe(&self) -> String {
        let first = self.run.lines().next().unwrap_or_default();
        format!("script: {first}")
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Kills the command's process group when the step is dropped mid-run (timeout).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
