//! A scenario's Helm releases (`components.*.install: helm`): installed before its first step,
//! uninstalled after its last, whatever the outcome. While a chart's ESO runs, the plane's own
//! ESO is stopped, so exactly one ESO reconciles; it is started again afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;

use super::ClusterAccess;
use crate::helm::{ChartSource, Helm, Release, ReleaseSpec};
use crate::scenario::spec::ComponentOptions;
use crate::scenario::{Bindings, Scenario};
use crate::serve::Bench;

/// Namespaces a release may be installed in that are not the bench's to delete.
const SHARED_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Helm and the charts the bench provides.
#[derive(Clone, Debug)]
pub struct Charts {
    /// `helm` against the cluster.
    pub helm: Helm,
    /// ESO's chart.
    pub eso: ChartSource,
    /// Reloader's chart.
    pub reloader: ChartSource,
}

/// What a scenario installed.
#[derive(Debug, Default)]
pub struct Installed {
    releases: Vec<Release>,
    /// The plane's ESO was stopped for the chart's.
    stopped_plane_eso: bool,
}

/// Installs the scenario's releases, ESO's first (Reloader's chart needs nothing of it, but a
/// scenario's objects need ESO's webhook). On failure what was installed is removed again.
pub async fn install(
    scenario: &Scenario,
    cluster: &ClusterAccess,
    bench: &Bench,
    bindings: &Bindings,
) -> Result<Installed, String> {
    let mut installed = Installed::default();
    if !scenario.installs_with_helm() {
        return Ok(installed);
    }
    match install_each(scenario, cluster, bench, bindings, &mut installed).await {
        Ok(()) => Ok(installed),
        Err(message) => {
            remove(installed, cluster).await;
            Err(message)
        }
    }
}

async fn install_each(
    scenario: &Scenario,
    cluster: &ClusterAccess,
    bench: &Bench,
    bindings: &Bindings,
    installed: &mut Installed,
) -> Result<(), String> {
    cluster
        .runs_pods
        .as_ref()
        .map_err(|why| format!("installs a Helm chart, whose pods must run: {why}"))?;
    let charts = cluster.charts().as_ref().map_err(Clone::clone)?;
    let pod_proxy = cluster
        .pod_proxy
        .as_deref()
        .ok_or("installs a Helm chart, but its pods have no way to the fakes (no routing proxy on the node)")?;
    let ca_path = bench.state_dir().join("ca.pem");
    let ca_pem = std::fs::read_to_string(&ca_path)
        .map_err(|e| format!("the bench's CA {}: {e}", ca_path.display()))?;
    let releases = [
        (
            scenario.components.eso.helm(),
            &charts.eso,
            "external-secrets",
        ),
        (
            scenario.components.reloader.helm(),
            &charts.reloader,
            "reloader",
        ),
    ];
    for (options, chart, name) in releases {
        let Some(options) = options else {
            continue;
        };
        if name == "external-secrets"
            && let Ok(eso) = &cluster.eso
        {
            installed.stopped_plane_eso = eso.stop().await;
        }
        // Inline values take `${variables}` (`scopedNamespace: ${namespace}`); a file is the
        // user's own and goes to Helm as written.
        let mut values = options.values.clone();
        if let Some(values) = &mut values {
            bindings
                .substitute_json(values)
                .map_err(|e| format!("components.{name}.values: {e}"))?;
        }
        let spec = release_spec(scenario, options, chart, name, values.as_ref());
        // Recorded first: a refused install still leaves its namespace (with the bench's CA)
        // for [`remove`] to delete.
        installed.releases.push(Release {
            name: spec.name.to_owned(),
            namespace: spec.namespace.to_owned(),
        });
        charts
            .helm
            .install(&cluster.client, &spec, pod_proxy, &ca_pem)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn release_spec<'a>(
    scenario: &Scenario,
    options: &'a ComponentOptions,
    chart: &'a ChartSource,
    name: &'a str,
    values: Option<&'a serde_json::Value>,
) -> ReleaseSpec<'a> {
    ReleaseSpec {
        chart,
        name,
        namespace: options.namespace.as_deref().unwrap_or(name),
        values_file: options
            .values_file
            .as_deref()
            .map(|file| scenario.file.parent().unwrap_or(Path::new(".")).join(file)),
        values,
    }
}

/// Uninstalls what [`install`] installed, newest first, and starts the plane's ESO again.
pub async fn remove(installed: Installed, cluster: &ClusterAccess) {
    if let Ok(charts) = cluster.charts() {
        for release in installed.releases.iter().rev() {
            if let Err(e) = charts.helm.uninstall(release).await {
                tracing::warn!(release = %release.name, error = %e, "uninstall failed");
            }
            // Helm leaves the namespace it created; the bench's CA is still in it. The next
            // scenario may install into a namespace of the same name, so wait until it is gone.
            if !SHARED_NAMESPACES.contains(&release.namespace.as_str()) {
                super::delete_namespace(&cluster.client, &release.namespace).await;
                wait_gone(&cluster.client, &release.namespace).await;
            }
        }
    }
    if installed.stopped_plane_eso
        && let Ok(eso) = &cluster.eso
        && let Err(e) = eso.start().await
    {
        tracing::warn!(error = %e, "the plane's ESO did not start again");
    }
}

async fn wait_gone(client: &kube::Client, namespace: &str) {
    let api: kube::Api<Namespace> = kube::Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match api.get_opt(namespace).await {
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(250)).await,
            _ => return,
        }
    }
    tracing::warn!(namespace, "namespace still terminating after 60 s");
}
