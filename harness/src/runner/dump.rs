//! The failure dump: what a reader of a failed step needs to see why, gathered when the step
//! fails and sent as a `StepOutput` log event (so every report shows it). Gathering
//! ([`gather`]) does the IO; [`Dump::render`] is pure, so reports of it can be snapshotted.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use crate::scenario::World;
use crate::serve::Bench;

/// Lines of each log or audit section; the newest are kept.
const TAIL: usize = 20;
/// How much of a log file is read from its end: enough for many reconcile loops of one
/// scenario among others running beside it.
const LOG_BYTES: u64 = 4 * 1024 * 1024;
/// How many of a pod's last log lines are read.
const LOG_LINES: i64 = 5000;

/// Lines, or why there are none to show.
pub(crate) type Section = Result<Vec<String>, String>;

/// Where ESO's log is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EsoLog {
    /// The plane's ESO process writes `<dir>/external-secrets.{out,err}.log`.
    Files(std::path::PathBuf),
    /// ESO runs from a Helm release: its controller pods' logs.
    Release {
        /// The release's namespace.
        namespace: String,
        /// The release's name (the pods' `app.kubernetes.io/instance`).
        name: String,
    },
    /// Why ESO's log cannot be read.
    Unavailable(String),
}

impl EsoLog {
    /// The log of ESO's controller: the files' ends, or the last lines of each controller
    /// pod of the release.
    pub async fn read(&self, client: Option<&kube::Client>) -> Result<String, String> {
        match self {
            Self::Files(dir) => Ok(["err", "out"]
                .iter()
                .map(|stream| read_end(&dir.join(format!("external-secrets.{stream}.log"))))
                .collect::<Vec<_>>()
                .join("\n")),
            Self::Release { namespace, name } => {
                let client = client.ok_or("the run has no cluster")?;
                release_log(client, namespace, name).await
            }
            Self::Unavailable(why) => Err(why.clone()),
        }
    }
}

/// The last lines of every controller pod of ESO's release `name` (the chart's selector
/// labels; the webhook and cert-controller pods carry other names).
async fn release_log(client: &kube::Client, namespace: &str, name: &str) -> Result<String, String> {
    use k8s_openapi::api::core::v1::Pod;
    let api: kube::Api<Pod> = kube::Api::namespaced(client.clone(), namespace);
    let selector =
        format!("app.kubernetes.io/name=external-secrets,app.kubernetes.io/instance={name}");
    let pods = api
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .map_err(|e| format!("listing ESO's pods in {namespace}: {e}"))?;
    let params = kube::api::LogParams {
        tail_lines: Some(LOG_LINES),
        ..kube::api::LogParams::default()
    };
    let mut text = String::new();
    for pod in &pods.items {
        let pod = pod.metadata.name.as_deref().unwrap_or_default();
        match api.logs(pod, &params).await {
            Ok(log) => text.push_str(&log),
            Err(e) => {
                let _ = writeln!(text, "(log of pod {namespace}/{pod}: {e})");
            }
        }
    }
    Ok(text)
}

/// Everything the dump shows, rendered by [`Dump::render`].
pub(crate) struct Dump {
    pub namespace: String,
    /// The namespace's events and the conditions of ESO's objects, or why they could not be
    /// read (no cluster).
    pub cluster: Section,
    pub eso_log: Section,
    /// The scenario's own Reloader's log; `None` when the scenario does not use Reloader.
    pub reloader_log: Option<Section>,
    pub akv_audit: Vec<String>,
    pub aad_audit: Vec<String>,
}

impl Dump {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut section = |title: &str, lines: &Section| match lines {
            Ok(lines) if lines.is_empty() => {
                let _ = writeln!(out, "{title}: nothing");
            }
            Ok(lines) => {
                let _ = writeln!(out, "{title}:");
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
            Err(why) => {
                let _ = writeln!(out, "{title}: not available ({why})");
            }
        };
        section(&format!("namespace {}", self.namespace), &self.cluster);
        section(
            &format!("ESO log, lines about {}", self.namespace),
            &self.eso_log,
        );
        if let Some(log) = &self.reloader_log {
            section("Reloader log (this scenario's Reloader)", log);
        }
        section(
            "Key Vault audit, this scenario's vaults and principals",
            &Ok(self.akv_audit.clone()),
        );
        section(
            "Entra ID audit, this scenario's tenant and principals",
            &Ok(self.aad_audit.clone()),
        );
        out
    }
}

/// Gathers the dump of a scenario whose step just failed. `eso_log` is where ESO's log is
/// read; `reloader_log` is the scenario's own Reloader's log file (or why it has none), if it
/// uses Reloader.
pub(crate) async fn gather(
    client: Option<&kube::Client>,
    eso_log: &EsoLog,
    reloader_log: Option<Result<&Path, &str>>,
    namespace: &str,
    bench: &Bench,
    world: &World,
    marks: (u64, u64),
) -> Dump {
    let cluster = match client {
        Some(client) => Ok(cluster_lines(client, namespace).await),
        None => Err("the run has no cluster".to_owned()),
    };
    Dump {
        namespace: namespace.to_owned(),
        cluster,
        eso_log: eso_log
            .read(client)
            .await
            .map(|text| lines_about(&text, namespace)),
        // Everything this Reloader logged is about the scenario: it watches nothing else. Its
        // logrus lines start with a timestamp the reader does not need.
        reloader_log: reloader_log.map(|file| match file {
            Ok(file) => Ok(squeeze(
                read_end(file)
                    .lines()
                    .map(|line| line.find("level=").map_or(line, |at| &line[at..]))
                    .filter_map(|line| log_line(line, ""))
                    .collect(),
            )),
            Err(why) => Err(why.to_owned()),
        }),
        akv_audit: akv_lines(bench, world, marks.0),
        aad_audit: aad_lines(bench, world, marks.1),
    }
}

/// fake-akv's records since `mark` for the world's vaults or callers.
fn akv_lines(bench: &Bench, world: &World, mark: u64) -> Vec<String> {
    let lines: Vec<String> = bench
        .akv()
        .state()
        .audit()
        .since(mark)
        .into_iter()
        .filter(|e| {
            world.owns_vault(&e.vault)
                || [&e.caller_oid, &e.caller_appid]
                    .into_iter()
                    .flatten()
                    .any(|id| world.owns_principal(id))
        })
        .map(|e| {
            let object = e.object_name.as_deref().unwrap_or("-");
            let caller = e.caller_appid.as_deref().unwrap_or("anonymous");
            format!(
                "{} {} {}/{object} -> {} (appid {caller})",
                e.method,
                if e.operation.is_empty() {
                    "(unrouted)"
                } else {
                    &e.operation
                },
                e.vault,
                e.status
            )
        })
        .collect();
    squeeze(lines)
}

/// fake-aad's token requests since `mark` for the world's tenant or principals.
fn aad_lines(bench: &Bench, world: &World, mark: u64) -> Vec<String> {
    let tenant = world.tenant_id.to_string();
    let lines: Vec<String> = bench
        .aad()
        .state()
        .audit()
        .since(mark)
        .into_iter()
        .filter(|e| e.tenant.eq_ignore_ascii_case(&tenant) || world.owns_principal(&e.client_id))
        .map(|e| {
            format!(
                "{} {} client {} for {} -> {}",
                e.endpoint, e.grant, e.client_id, e.resource, e.outcome
            )
        })
        .collect();
    squeeze(lines)
}

/// Collapses runs of equal lines into one with a count (controllers retry the same failing
/// call many times) and keeps the newest [`TAIL`].
fn squeeze(lines: Vec<String>) -> Vec<String> {
    let mut runs: Vec<(String, usize)> = Vec::new();
    for line in lines {
        match runs.last_mut() {
            Some((last, n)) if *last == line => *n += 1,
            _ => runs.push((line, 1)),
        }
    }
    let skip = runs.len().saturating_sub(TAIL);
    runs.into_iter()
        .skip(skip)
        .map(|(line, n)| {
            if n > 1 {
                format!("{line} (x{n})")
            } else {
                line
            }
        })
        .collect()
}

/// The lines of a log about `namespace`. controller-runtime logs JSON with a `namespace` field;
/// the level, message and error are what a reader needs (not the timestamps or stack traces).
/// Other lines are kept whole when they name the namespace.
fn lines_about(text: &str, namespace: &str) -> Vec<String> {
    squeeze(
        text.lines()
            .filter_map(|line| log_line(line, namespace))
            .collect(),
    )
}

fn log_line(line: &str, namespace: &str) -> Option<String> {
    if !line.contains(namespace) {
        return None;
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(line)
    else {
        return Some(line.to_owned());
    };
    let text = |key: &str| fields.get(key).and_then(serde_json::Value::as_str);
    let mut out = format!(
        "{} {}",
        text("level").unwrap_or("-"),
        text("msg").unwrap_or("-")
    );
    for key in ["controller", "name"] {
        if let Some(value) = text(key) {
            let _ = write!(out, " {key}={value}");
        }
    }
    if let Some(error) = text("error") {
        let _ = write!(out, ": {error}");
    }
    Some(out)
}

fn read_end(path: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(LOG_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The namespace's events and the conditions of ESO's objects in it.
async fn cluster_lines(client: &kube::Client, namespace: &str) -> Vec<String> {
    let mut out = Vec::new();
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(client.clone(), namespace);
    match events.list(&kube::api::ListParams::default()).await {
        Ok(list) => {
            // Controllers repeat a warning on every retry: show each (type, reason, object)
            // once, with its latest message and how often it came.
            let mut seen: Vec<(String, String, u32)> = Vec::new();
            for event in &list.items {
                let key = format!(
                    "{} {} {}/{}",
                    event.type_.as_deref().unwrap_or("-"),
                    event.reason.as_deref().unwrap_or("-"),
                    event.involved_object.kind.as_deref().unwrap_or("-"),
                    event.involved_object.name.as_deref().unwrap_or("-"),
                );
                let message = event.message.as_deref().unwrap_or("").trim().to_owned();
                let count = u32::try_from(event.count.unwrap_or(1).max(1)).unwrap_or(1);
                match seen.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(entry) => {
                        entry.1 = message;
                        entry.2 += count;
                    }
                    None => seen.push((key, message, count)),
                }
            }
            for (key, message, count) in seen {
                let times = if count > 1 {
                    format!(" (x{count})")
                } else {
                    String::new()
                };
                out.push(format!("event {key}{times}: {message}"));
            }
        }
        Err(error) => out.push(format!("events: {error}")),
    }
    for kind in ["SecretStore", "ExternalSecret"] {
        let gvk = kube::core::GroupVersionKind::gvk("external-secrets.io", "v1", kind);
        let Ok((resource, _)) = kube::discovery::pinned_kind(client, &gvk).await else {
            continue;
        };
        let api: kube::Api<kube::api::DynamicObject> =
            kube::Api::namespaced_with(client.clone(), namespace, &resource);
        let Ok(list) = api.list(&kube::api::ListParams::default()).await else {
            continue;
        };
        for object in list.items {
            let value = serde_json::to_value(&object).unwrap_or_default();
            let name = object.metadata.name.unwrap_or_default();
            let conditions = value
                .pointer("/status/conditions")
                .and_then(serde_json::Value::as_array)
                .cloned()
                .unwrap_or_default();
            if conditions.is_empty() {
                out.push(format!("{kind}/{name}: no conditions"));
            }
            for c in conditions {
                let text = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
                out.push(format!(
                    "{kind}/{name}: {}={} {}: {}",
                    text("type"),
                    text("status"),
                    text("reason"),
                    text("message")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeeze_counts_repeats_and_keeps_the_newest() {
        let mut lines: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
        lines.push("line 29".into());
        let out = squeeze(lines);
        assert_eq!(out.len(), TAIL);
        assert_eq!(out.last().unwrap(), "line 29 (x2)");
        assert_eq!(out[0], "line 10");
    }

    #[test]
    fn log_line_keeps_level_message_and_error_of_the_namespace() {
        let line = r#"{"level":"error","ts":1.5,"msg":"Reconciler error","controller":"externalsecret","namespace":"h-a-1234","name":"app","error":"403 Forbidden","stacktrace":"x"}"#;
        assert_eq!(
            log_line(line, "h-a-1234").as_deref(),
            Some("error Reconciler error controller=externalsecret name=app: 403 Forbidden")
        );
        assert_eq!(log_line(line, "h-b-5678"), None);
        assert_eq!(
            log_line("plain h-a-1234 text", "h-a-1234").as_deref(),
            Some("plain h-a-1234 text")
        );
    }
}
