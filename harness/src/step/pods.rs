//! What the steps that look inside the app share: which pods a step means (one by name, or
//! every live pod a label selector picks, as `kubectl logs -l` does), and running a command in
//! a container through the API server, as `kubectl exec` does.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, ListParams};
use tokio::io::AsyncReadExt;

use super::{StepContext, StepError};

/// The pods a step looks at: `pod`, or the live pods matching `selector`.
#[derive(Clone, Copy, Debug)]
pub struct PodTarget<'a> {
    /// One pod by name.
    pub pod: Option<&'a str>,
    /// A label selector.
    pub selector: Option<&'a str>,
    /// Namespace; the scenario's when absent.
    pub namespace: Option<&'a str>,
}

impl PodTarget<'_> {
    /// `pod/<name>` or `pods -l <selector>`, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match (self.pod, self.selector) {
            (Some(pod), _) => format!("pod/{pod}"),
            (None, Some(selector)) => format!("pods -l {selector}"),
            (None, None) => "(no pod)".to_owned(),
        }
    }

    /// The namespace and API for these pods.
    pub fn api(&self, cx: &StepContext<'_>) -> Result<(String, Api<Pod>), StepError> {
        let namespace = self
            .namespace
            .map_or_else(|| cx.namespace.clone(), str::to_owned);
        Ok((namespace.clone(), Api::namespaced(cx.kube()?, &namespace)))
    }

    /// The running pods meant, now (empty while none runs yet).
    pub async fn running(&self, api: &Api<Pod>) -> Result<Vec<Pod>, StepError> {
        let pods = match (self.pod, self.selector) {
            (Some(name), _) => api
                .get_opt(name)
                .await
                .map_err(|e| StepError::kube(format!("get pod {name}"), e))?
                .into_iter()
                .collect(),
            (None, Some(selector)) => {
                api.list(&ListParams::default().labels(selector))
                    .await
                    .map_err(|e| StepError::kube(format!("list pods -l {selector}"), e))?
                    .items
            }
            (None, None) => {
                return Err(StepError::refused("pod", "name a `pod` or a `selector`"));
            }
        };
        Ok(pods
            .into_iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            })
            .collect())
    }
}

/// Name of a pod.
#[must_use]
pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct Ran {
    /// Exit code (0 on success).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `command` in `container` of `pod`, through the API server and the kubelet.
pub async fn exec(
    api: &Api<Pod>,
    pod: &str,
    container: Option<&str>,
    command: &[String],
) -> Result<Ran, StepError> {
    let mut params = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    if let Some(container) = container {
        params = params.container(container);
    }
    let what = || format!("exec {command:?} in pod {pod}");
    let mut process = api
        .exec(pod, command.to_vec(), &params)
        .await
        .map_err(|e| StepError::kube(what(), e))?;
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let out = process.stdout();
    let err = process.stderr();
    let status = process.take_status();
    let read_out = async {
        if let Some(mut out) = out {
            let _ = out.read_to_string(&mut stdout).await;
        }
    };
    let read_err = async {
        if let Some(mut err) = err {
            let _ = err.read_to_string(&mut stderr).await;
        }
    };
    tokio::join!(read_out, read_err);
    let status = match status {
        Some(status) => status.await,
        None => None,
    };
    let _ = process.join().await;
    // The API server reports success with status `Success`, and an exit code in the details
    // of a `NonZeroExitCode` failure.
    let code = match status {
        Some(s) if s.status.as_deref() == Some("Success") => 0,
        Some(s) => s
            .details
            .and_then(|d| d.causes)
            .and_then(|causes| {
                causes
                    .into_iter()
                    .find(|c| c.reason.as_deref() == Some("ExitCode"))
                    .and_then(|c| c.message)
            })
            .and_then(|m| m.parse().ok())
            .unwrap_or(-1),
        None => -1,
    };
    Ok(Ran {
        code,
        stdout,
        stderr,
    })
}
