//! `harness run --kubeconfig FILE --install`: ESO's CRDs and ESO's and Reloader's charts
//! installed for the whole run on a cluster the harness did not start (the user's kind, k3d or
//! dev cluster), wired to the bench as on the real node; a check that the cluster's pods reach
//! the fakes before the first scenario, which says what to change when they cannot; and the
//! releases uninstalled at the end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use super::{ClusterAccess, RunContext, releases};
use crate::event::{EventSender, RunEventKind, ScenarioResult};
use crate::helm::{ReleaseSpec, Releases, Values};
use crate::proxy::Proxy;
use crate::serve::Bench;

/// How long ESO's CRDs may take to be Established.
const CRD_TIMEOUT: Duration = Duration::from_secs(60);

/// The user's values files for the run's releases, passed to Helm unchanged.
#[derive(Clone, Debug, Default)]
pub struct OperatorValues {
    /// For ESO's chart.
    pub eso: Option<PathBuf>,
    /// For Reloader's chart.
    pub reloader: Option<PathBuf>,
}

/// What `--install` put in the cluster, removed by [`RunOperators::uninstall`].
pub struct RunOperators {
    releases: Releases,
    /// ESO's CRDs the cluster did not have before.
    created_crds: Vec<String>,
}

impl RunOperators {
    /// Uninstalls the releases and their namespaces. ESO's CRDs the run created stay, and
    /// are returned: deleting a CRD deletes every object of its kind in the cluster, and
    /// deleting ESO's right after its controller went away can leave some Terminating for
    /// good on kube-apiserver v1.37.2 ("could not list instances: storage is
    /// (re)initializing"), which then breaks the next install.
    pub async fn uninstall(self, client: &kube::Client) -> Vec<String> {
        releases::uninstall(self.releases, client).await;
        self.created_crds
    }
}

/// Installs ESO's CRDs (as its release ships them) and ESO's and Reloader's charts for the
/// run (releases `external-secrets` and `reloader`, in namespaces of those names, as the seed
/// articles install them), and points `cluster` at them: failure dumps read that ESO's log,
/// and scenarios cannot install their own. `cluster.pod_proxy` must be set. On failure the
/// releases are uninstalled, and the error says what to change.
pub async fn install(
    cluster: &mut ClusterAccess,
    bench: &Bench,
    values: &OperatorValues,
) -> Result<RunOperators, String> {
    let releases = releases::releases_on(cluster, bench, "--install")?;
    let charts = cluster.charts().as_ref().map_err(Clone::clone)?;
    let crds: kube::Api<CustomResourceDefinition> = kube::Api::all(cluster.client.clone());
    let before: BTreeSet<String> = crds
        .list_metadata(&kube::api::ListParams::default())
        .await
        .map_err(|e| format!("listing the cluster's CRDs: {e}"))?
        .items
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .collect();
    let mut installed = RunOperators {
        releases,
        created_crds: Vec::new(),
    };
    let applied = crate::cluster::apply_crds(&cluster.client, &charts.eso_crds, CRD_TIMEOUT).await;
    installed.created_crds = match applied {
        Ok(names) => names.into_iter().filter(|n| !before.contains(n)).collect(),
        Err(error) => return Err(format!("ESO's CRDs: {error}")),
    };
    for (chart, file) in [
        (&charts.eso, &values.eso),
        (&charts.reloader, &values.reloader),
    ] {
        let name = chart.kind.name();
        let spec = ReleaseSpec {
            chart: chart.clone(),
            name: name.to_owned(),
            namespace: name.to_owned(),
            values: file.iter().cloned().map(Values::File).collect(),
        };
        if let Err(error) = installed.releases.install(spec).await {
            let left = installed.uninstall(&cluster.client).await;
            return Err(format!("{error}{}", crds_left(&left)));
        }
    }
    if let Some(log) = releases::eso_log(&installed.releases) {
        cluster.eso_log = log;
    }
    cluster.run_installed = true;
    Ok(installed)
}

/// What to say about ESO's CRDs a run created and left.
#[must_use]
pub fn crds_left(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    format!(
        "\nESO's CRDs this run created stay (deleting them deletes every object of their \
         kinds): kubectl delete crd {}",
        names.join(" ")
    )
}

/// Runs the reach check (an ExternalSecret the installed ESO must sync from the fakes) and
/// says, on failure, what stands between the cluster's pods and the bench. `proxy` is the
/// routing proxy the pods were given (as `pod_proxy`), whose count of connections tells
/// whether they reached it at all.
pub async fn check_reach(
    cx: &RunContext<'_>,
    pod_proxy: &str,
    proxy: &Proxy,
) -> Result<(), String> {
    let before = proxy.accepted();
    let scenario = crate::scenario::parse(
        std::path::Path::new("reach.yaml"),
        include_str!("reach.yaml"),
    )
    .map_err(|e| e.to_string())?;
    let (events, mut rx) = EventSender::channel();
    let result = super::run_scenario(0, &scenario, cx, &events).await;
    drop(events);
    let mut seen = String::new();
    while let Some(event) = rx.recv().await {
        if let RunEventKind::StepOutput { text, .. } = event.kind {
            seen.push_str(&text);
            seen.push('\n');
        }
    }
    match result {
        ScenarioResult::Passed => Ok(()),
        ScenarioResult::Failed { reason } | ScenarioResult::Error { message: reason } => {
            Err(format!(
                "the cluster's pods do not reach the bench: {}\n{reason}\n{seen}",
                diagnose(&seen, pod_proxy, proxy.accepted() > before)
            ))
        }
    }
}

/// What to change, from ESO's own error when its log has one (in the failure dump), else from
/// whether anything reached the routing proxy.
fn diagnose(seen: &str, pod_proxy: &str, reached_proxy: bool) -> String {
    let has = |needle: &str| seen.contains(needle);
    if has("x509") || has("certificate") {
        "ESO's pod reached the proxy but does not trust the bench's CA: its SSL_CERT_FILE must \
         stay the bench's (the ConfigMap akv-e2e-bench-ca mounted at /etc/akv-e2e); a values \
         file that sets extraEnv SSL_CERT_FILE or replaces the mount overrides it"
            .to_owned()
    } else if has("no such host") || has("server misbehaving") {
        "ESO's pod looked Azure's host names up itself instead of asking the routing proxy: its \
         HTTPS_PROXY must stay the bench's (a values file that sets extraEnv HTTPS_PROXY or \
         NO_PROXY for Azure's names overrides it)"
            .to_owned()
    } else if !reached_proxy {
        format!(
            "nothing reached the routing proxy at {pod_proxy} from ESO's pod. The proxy must \
             listen on an address of this machine that the cluster's pods route to, and no \
             firewall may drop the cluster's traffic to it: for kind, the gateway of its Docker \
             network (`--proxy-listen $(docker network inspect kind -f '{{{{(index .IPAM.Config \
             0).Gateway}}}}'):8400`); when pods know this machine by a name, add `--pod-proxy \
             http://NAME:8400`"
        )
    } else {
        format!(
            "ESO's pod reached the routing proxy at {pod_proxy} but synced nothing; its log \
             and the namespace's events below say why"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::diagnose;

    #[test]
    fn each_cause_gets_its_own_advice() {
        let proxy = "http://172.18.0.1:8400";
        let refused = diagnose("", proxy, false);
        assert!(
            refused.contains("nothing reached the routing proxy at http://172.18.0.1:8400")
                && refused.contains(
                    "docker network inspect kind -f '{{(index .IPAM.Config 0).Gateway}}'"
                ),
            "{refused}"
        );
        assert!(
            diagnose(
                "tls: failed to verify certificate: x509: certificate signed by unknown authority",
                proxy,
                true
            )
            .contains("does not trust the bench's CA")
        );
        assert!(
            diagnose(
                "dial tcp: lookup login.microsoftonline.com on 10.96.0.10:53: no such host",
                proxy,
                false
            )
            .contains("instead of asking the routing proxy")
        );
        assert!(
            diagnose("", proxy, true)
                .contains("reached the routing proxy at http://172.18.0.1:8400 but synced nothing")
        );
    }
}
