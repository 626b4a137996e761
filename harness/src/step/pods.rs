//! What the steps that look inside the app share: which pods a step means (one by name, or
//! every live pod a label selector picks, as `kubectl logs -l` does), and running a command in
//! a container through the API server, as `kubectl exec` does.

use k8s_openapi::api::core::v1::{Event, Pod};
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
        Ok(self
            .matching(api)
            .await?
            .into_iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            })
            .collect())
    }

    /// Why none of the pods meant runs, as `kubectl describe` would show it: each pod's phase,
    /// what its containers wait for, and the last warning event about it (a sandbox, image or
    /// mount failure lands there first). A user reading "no pod is running" needs this next.
    pub async fn why_none_runs(&self, api: &Api<Pod>, namespace: &str) -> String {
        let pods = match self.matching(api).await {
            Ok(pods) => pods,
            Err(e) => return format!("no pod is running ({e})"),
        };
        if pods.is_empty() {
            return format!("no pod is running: no {} exists", self.describe());
        }
        let events: Api<Event> = Api::namespaced(api.clone().into_client(), namespace);
        let mut lines = Vec::new();
        for pod in &pods {
            let name = name(pod);
            let warning = events
                .list(&ListParams::default().fields(&format!(
                    "involvedObject.kind=Pod,involvedObject.name={name},type=Warning"
                )))
                .await
                .ok()
                .and_then(|list| {
                    list.items
                        .into_iter()
                        .max_by_key(|e| e.last_timestamp.clone().map(|t| t.0))
                })
                .map(|e| {
                    format!(
                        "; last warning {}: {}",
                        e.reason.unwrap_or_default(),
                        e.message.unwrap_or_default().trim()
                    )
                });
            lines.push(format!(
                "{name}: {}{}",
                state(pod),
                warning.unwrap_or_default()
            ));
        }
        format!("no pod is running ({})", lines.join("; "))
    }

    /// Every pod meant, whatever its phase.
    async fn matching(&self, api: &Api<Pod>) -> Result<Vec<Pod>, StepError> {
        Ok(match (self.pod, self.selector) {
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
        })
    }
}

/// A pod's phase and, for each container not running, what it waits for or how it ended.
fn state(pod: &Pod) -> String {
    let Some(status) = &pod.status else {
        return "no status yet".to_owned();
    };
    let mut parts = vec![status.phase.clone().unwrap_or_else(|| "Unknown".to_owned())];
    if pod.metadata.deletion_timestamp.is_some() {
        parts.push("being deleted".to_owned());
    }
    let unscheduled = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False");
    if let Some(c) = unscheduled {
        parts.push(format!(
            "unscheduled: {}",
            c.message.as_deref().unwrap_or_default()
        ));
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        let Some(st) = &c.state else { continue };
        if let Some(w) = &st.waiting {
            parts.push(format!(
                "{} waiting: {} {}",
                c.name,
                w.reason.as_deref().unwrap_or_default(),
                w.message.as_deref().unwrap_or_default()
            ));
        } else if let Some(t) = &st.terminated {
            parts.push(format!(
                "{} exited {}: {}",
                c.name,
                t.exit_code,
                t.reason.as_deref().unwrap_or_default()
            ));
        }
    }
    parts
        .iter()
        .map(|p| p.trim())
        .collect::<Vec<_>>()
        .join(", ")
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
