//! A scenario's Helm releases (`components.*.install: helm`): installed before its first step,
//! uninstalled after its last, whatever the outcome. While a chart's ESO runs, the plane's own
//! ESO is stopped, so exactly one ESO reconciles; it is started again afterwards.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;

use super::ClusterAccess;
use crate::helm::{ChartKind, ChartSource, Helm, ReleaseSpec, Releases, Values};
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
    /// ESO's CRDs, which its release ships beside the chart (the module's chart has none).
    pub eso_crds: Vec<std::path::PathBuf>,
}

/// What a scenario installed.
#[derive(Default)]
pub struct Installed {
    /// Its releases, once it installs one.
    pub releases: Option<Releases>,
    /// The plane's ESO was stopped for the chart's.
    stopped_plane_eso: bool,
}

impl Installed {
    /// Where ESO's log is, when the scenario installed ESO's chart.
    #[must_use]
    pub fn eso_log(&self) -> Option<super::dump::EsoLog> {
        self.releases.as_ref().and_then(eso_log)
    }
}

/// Where the ESO of `releases` logs, if they hold ESO's chart.
#[must_use]
pub fn eso_log(releases: &Releases) -> Option<super::dump::EsoLog> {
    releases
        .installed()
        .iter()
        .find(|spec| spec.chart.kind == ChartKind::ExternalSecrets)
        .map(|spec| super::dump::EsoLog::Release {
            namespace: spec.namespace.clone(),
            name: spec.name.clone(),
        })
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
    if cluster.run_installed {
        return Err(
            "installs its own Helm release, but this run installed ESO and Reloader \
                    for every scenario (--install); run it without --install"
                .into(),
        );
    }
    let releases = installed
        .releases
        .insert(releases_on(cluster, bench, "installs a Helm chart")?);
    let charts = cluster.charts().as_ref().map_err(Clone::clone)?;
    let components = [
        (scenario.components.eso.helm(), &charts.eso),
        (scenario.components.reloader.helm(), &charts.reloader),
    ];
    for (options, chart) in components {
        let Some(options) = options else {
            continue;
        };
        let name = chart.kind.name();
        if chart.kind == ChartKind::ExternalSecrets
            && let Ok(eso) = &cluster.eso
        {
            installed.stopped_plane_eso = eso.stop().await;
        }
        // Inline values take `${variables}` (`scopedNamespace: ${namespace}`); a file is the
        // user's own and goes to Helm as written.
        let mut values = Vec::new();
        if let Some(file) = &options.values_file {
            values.push(Values::File(scenario.base_dir().join(file)));
        }
        if let Some(inline) = &options.values {
            let mut inline = inline.clone();
            bindings
                .substitute_json(&mut inline)
                .map_err(|e| format!("components.{name}.values: {e}"))?;
            values.push(Values::Inline(inline));
        }
        let spec = ReleaseSpec {
            chart: chart.clone(),
            name: name.to_owned(),
            namespace: options.namespace.clone().unwrap_or_else(|| name.to_owned()),
            values,
        };
        releases.install(spec).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Releases installed on `cluster` for pods that reach `bench`, or why none can be (`what`
/// says what wanted one).
pub fn releases_on(cluster: &ClusterAccess, bench: &Bench, what: &str) -> Result<Releases, String> {
    cluster
        .runs_pods
        .as_ref()
        .map_err(|why| format!("{what}, whose pods must run: {why}"))?;
    let charts = cluster.charts().as_ref().map_err(Clone::clone)?;
    let pod_proxy = cluster.pod_proxy.clone().ok_or_else(|| {
        format!("{what}, but its pods have no way to the fakes (no routing proxy for pods)")
    })?;
    let ca_path = bench.state_dir().join("ca.pem");
    let ca_pem = std::fs::read_to_string(&ca_path)
        .map_err(|e| format!("the bench's CA {}: {e}", ca_path.display()))?;
    Ok(Releases::new(
        charts.helm.clone(),
        cluster.client.clone(),
        pod_proxy,
        ca_pem,
    ))
}

/// Uninstalls what [`install`] installed, newest first, and starts the plane's ESO again.
pub async fn remove(installed: Installed, cluster: &ClusterAccess) {
    if let Some(releases) = installed.releases {
        uninstall(releases, &cluster.client).await;
    }
    if installed.stopped_plane_eso
        && let Ok(eso) = &cluster.eso
        && let Err(e) = eso.start().await
    {
        tracing::warn!(error = %e, "the plane's ESO did not start again");
    }
}

/// Uninstalls `releases`, newest first, each with the namespace Helm created for it.
pub async fn uninstall(releases: Releases, client: &kube::Client) {
    releases
        .uninstall_all(async |namespace: &str| {
            // Helm leaves the namespace it created; the bench's CA is still in it. The next
            // scenario may install into a namespace of the same name, so wait until it is gone.
            if !SHARED_NAMESPACES.contains(&namespace) {
                super::delete_namespace(client, namespace).await;
                wait_gone(client, namespace).await;
            }
        })
        .await;
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
