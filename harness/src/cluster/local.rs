//! The local control plane: every component a host process under one [`Supervisor`].
//!
//! The plane is a list of components, each a [`ChildSpec`] with the health URL that says it is
//! ready, started stage by stage by one loop (`Started::stage`): etcd → kube-apiserver →
//! kube-controller-manager + kube-scheduler, then RBAC + ESO CRDs (Established), the node (kwok
//! and one fake Node, or a real kubelet; Ready), and ESO. A failure stops everything already
//! started and returns the failing child's stderr tail. Reloader is not part of the plane: each
//! scenario starts its own ([`crate::reloader`]).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::runtime::wait::conditions;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::Cluster;
use super::components::{Component, Ports, arg, control_plane, eso, path_arg};
use super::eso::EsoControl;
use super::options::PlaneOptions;
use super::pki::{Pki, PkiError};
use super::state::{ComponentState, PlaneState};
use crate::deps::Resolved;
use crate::k8s::{self, ApplyError, ClientError, FIELD_MANAGER, WaitError};
use crate::node::{self, ApiRelay, NodeError, NodeStart};
use crate::reloader::ReloaderLauncher;
use crate::supervise::{ChildSpec, PidFileError, SpawnError, Supervisor, probe};

/// The fake node kwok manages.
pub const NODE_NAME: &str = "kwok-node-0";

/// Lets anonymous clients (fake-aad) read the service-account issuer's discovery document and
/// JWKS, as public clusters do.
const ISSUER_DISCOVERY_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: harness:service-account-issuer-discovery
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:service-account-issuer-discovery
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:unauthenticated
";

/// How long one component took from spawn to ready.
#[derive(Clone, Debug)]
pub struct ComponentTiming {
    /// The component.
    pub name: String,
    /// Spawn → ready (for kwok: → node Ready).
    pub ready_after: Duration,
}

/// Starting or driving the plane failed.
#[derive(Debug, thiserror::Error)]
pub enum PlaneError {
    /// A child failed to start or become ready.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// The run directory is in use or unwritable.
    #[error("run directory: {0}")]
    PidFile(#[from] PidFileError),
    /// PKI generation failed.
    #[error("PKI: {0}")]
    Pki(#[from] PkiError),
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The kubeconfig or client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Applying a manifest failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// A wait failed.
    #[error(transparent)]
    Wait(#[from] WaitError),
    /// An API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: kube::Error,
    },
    /// The HTTP client for probes failed.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The real node did not start.
    #[error("real node: {0} (or run with --node kwok)")]
    Node(#[from] NodeError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PlaneError {
    let what = what.into();
    move |source| PlaneError::Io { what, source }
}

/// A running local plane. Dropping it stops every child (blocking); prefer [`Cluster::stop`].
pub struct LocalPlane {
    /// Shared with [`EsoControl`], which stops and starts ESO mid-run.
    supervisor: Arc<Mutex<Supervisor>>,
    run_dir: PathBuf,
    log_dir: PathBuf,
    /// How ESO was started, to start it again.
    eso: Option<(ChildSpec, String)>,
    client: kube::Client,
    kubeconfig: PathBuf,
    pki: Pki,
    state: PlaneState,
    timings: Vec<ComponentTiming>,
    ready_after: Duration,
    reloader: PathBuf,
    /// The node: for a real one, its teardown script, bridge address and API relay.
    node: NodeUp,
}

impl std::fmt::Debug for LocalPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPlane")
            .field("apiserver_url", &self.state.apiserver_url)
            .field("run_dir", &self.run_dir)
            .finish_non_exhaustive()
    }
}

struct Booted {
    eso: Option<(ChildSpec, String)>,
    node: NodeUp,
    client: kube::Client,
    kubeconfig: PathBuf,
    pki: Pki,
    state: PlaneState,
    timings: Vec<ComponentTiming>,
}

impl LocalPlane {
    /// Starts every component and waits until all are ready. On failure everything already
    /// started is stopped before the error is returned.
    pub async fn start(options: PlaneOptions) -> Result<Self, PlaneError> {
        let started = Instant::now();
        std::fs::create_dir_all(&options.run_dir).map_err(io(format!(
            "create run directory {}",
            options.run_dir.display()
        )))?;
        let mut supervisor = Supervisor::new(&options.run_dir)?;
        supervisor.set_grace(options.grace);
        PlaneState::remove(&options.run_dir);
        match boot(&mut supervisor, &options).await {
            Ok(mut booted) => {
                let ready_after = started.elapsed();
                booted.state.ready_after_secs = ready_after.as_secs_f64();
                booted
                    .state
                    .write(&options.run_dir)
                    .map_err(io("write plane.json"))?;
                Ok(Self {
                    run_dir: supervisor.run_dir().to_path_buf(),
                    log_dir: supervisor.log_dir().to_path_buf(),
                    supervisor: Arc::new(Mutex::new(supervisor)),
                    eso: booted.eso,
                    client: booted.client,
                    kubeconfig: booted.kubeconfig,
                    pki: booted.pki,
                    state: booted.state,
                    timings: booted.timings,
                    ready_after,
                    reloader: options.binaries.reloader.path.clone(),
                    node: booted.node,
                })
            }
            Err(error) => {
                supervisor.stop_all().await;
                node::teardown::run(&node::teardown_script(&options.run_dir));
                Err(error)
            }
        }
    }

    /// `https://127.0.0.1:<port>`.
    #[must_use]
    pub fn apiserver_url(&self) -> &str {
        &self.state.apiserver_url
    }

    /// The service-account issuer (equal to [`Self::apiserver_url`]).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// The plane CA (PEM): trust it to reach the API server and the issuer.
    #[must_use]
    pub fn ca_pem(&self) -> &str {
        &self.pki.ca_pem
    }

    /// The plane CA file.
    #[must_use]
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca_cert
    }

    /// Fetches the issuer's JWKS the way a relying party does: anonymously, discovery document
    /// first, trusting only the plane CA.
    pub async fn service_account_jwks(&self) -> Result<serde_json::Value, PlaneError> {
        let client = probe::http_client(Some(&self.pki.ca_pem))?;
        let discovery: serde_json::Value = client
            .get(format!(
                "{}/.well-known/openid-configuration",
                self.issuer()
            ))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let jwks_uri = discovery
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .map_or_else(
                || format!("{}/openid/v1/jwks", self.issuer()),
                str::to_owned,
            );
        Ok(client
            .get(jwks_uri)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Process ids of every child (in start order); empty while ESO is being restarted.
    #[must_use]
    pub fn pids(&self) -> Vec<u32> {
        self.supervisor
            .try_lock()
            .map(|s| s.pids())
            .unwrap_or_default()
    }

    /// Every port the plane listens on.
    #[must_use]
    pub fn ports(&self) -> &[u16] {
        &self.state.ports
    }

    /// The real node's bridge address, where its pods reach the host; `None` on kwok.
    #[must_use]
    pub fn node_gateway(&self) -> Option<IpAddr> {
        self.node.gateway
    }

    /// Spawn → ready per component.
    #[must_use]
    pub fn timings(&self) -> &[ComponentTiming] {
        &self.timings
    }

    /// Start → all ready.
    #[must_use]
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// What `plane.json` holds.
    #[must_use]
    pub fn state(&self) -> &PlaneState {
        &self.state
    }

    /// The run directory.
    #[must_use]
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Fails if any child has exited since start (with its stderr tail).
    pub async fn check_alive(&mut self) -> Result<(), PlaneError> {
        let mut supervisor = self.supervisor.lock().await;
        let names: Vec<String> = supervisor
            .children()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        for name in names {
            supervisor.check_alive(&name).await?;
        }
        Ok(())
    }

    /// Stops every child, newest first.
    pub async fn shutdown(&mut self) {
        self.supervisor.lock().await.stop_all().await;
        if let Some(script) = self.node.teardown.take() {
            let _ = tokio::task::spawn_blocking(move || node::teardown::run(&script)).await;
        }
        PlaneState::remove(&self.run_dir);
    }
}

impl Drop for LocalPlane {
    fn drop(&mut self) {
        // Nothing else holds the lock once the plane is dropped; the Supervisor's own Drop
        // stops whatever is left when the last handle goes.
        if let Ok(mut supervisor) = self.supervisor.try_lock() {
            supervisor.stop_all_blocking();
        }
        if let Some(script) = self.node.teardown.take() {
            node::teardown::run(&script);
        }
        PlaneState::remove(&self.run_dir);
    }
}

impl Cluster for LocalPlane {
    fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    fn client(&self) -> kube::Client {
        self.client.clone()
    }

    async fn apply(&self, yaml: &str) -> Result<Vec<DynamicObject>, ApplyError> {
        k8s::apply_yaml(&self.client, yaml).await
    }

    async fn service_account_issuer(&self) -> Option<(String, Option<serde_json::Value>)> {
        Some((
            self.issuer().to_owned(),
            self.service_account_jwks().await.ok(),
        ))
    }

    fn component_logs(&self) -> Result<&Path, &str> {
        Ok(&self.log_dir)
    }

    fn eso_control(&self) -> Result<EsoControl, String> {
        let (spec, health_url) = self
            .eso
            .clone()
            .ok_or("this plane was started without ESO")?;
        EsoControl::new(self.supervisor.clone(), spec, health_url).map_err(|e| e.to_string())
    }

    fn reloaders(&self) -> Result<ReloaderLauncher, String> {
        ReloaderLauncher::new(
            &self.reloader,
            &self.kubeconfig,
            self.apiserver_url(),
            self.run_dir().join("reloaders"),
        )
        .map_err(|e| e.to_string())
    }

    fn runs_pods(&self) -> Result<(), String> {
        if self.node.teardown.is_some() {
            Ok(())
        } else {
            Err("this plane's node is kwok: pods are reported Running, nothing starts (run with --node real)".into())
        }
    }

    async fn stop(mut self) {
        self.shutdown().await;
    }
}

/// What the plane has started so far, and how long each took.
struct Started<'a> {
    supervisor: &'a mut Supervisor,
    deadline: Duration,
    insecure: reqwest::Client,
    trusted: reqwest::Client,
    timings: Vec<ComponentTiming>,
    components: Vec<ComponentState>,
}

impl Started<'_> {
    /// Starts a stage's components together, then waits for each to be ready.
    async fn stage(&mut self, stage: Vec<Component<'_>>) -> Result<(), PlaneError> {
        for component in &stage {
            self.supervisor.spawn(component.spec.clone())?;
        }
        for component in stage {
            let client = if component.uses_plane_ca {
                &self.trusted
            } else {
                &self.insecure
            };
            let url = component.health_url.as_str();
            let took = self
                .supervisor
                .wait_ready(&component.spec.name, self.deadline, move || {
                    probe::http_ok(client, url)
                })
                .await?;
            self.record(
                &component.spec.name,
                component.resolved,
                Some(component.health_url.clone()),
                component.uses_plane_ca,
                took,
            );
        }
        Ok(())
    }

    fn record(
        &mut self,
        name: &str,
        resolved: &Resolved,
        health_url: Option<String>,
        uses_plane_ca: bool,
        ready_after: Duration,
    ) {
        tracing::info!(name, ?ready_after, "ready");
        self.timings.push(ComponentTiming {
            name: name.to_owned(),
            ready_after,
        });
        let pid = self
            .supervisor
            .child(name)
            .map_or(0, crate::supervise::Child::pid);
        self.components.push(ComponentState {
            name: name.to_owned(),
            pid,
            program: resolved.path.clone(),
            version: resolved.version.clone(),
            health_url,
            uses_plane_ca,
            ready_after_secs: ready_after.as_secs_f64(),
        });
    }
}

/// The node pods run on, ready: kwok's fake Node, or a real kubelet with containerd.
struct NodeUp {
    /// Run once the node's children are stopped.
    teardown: Option<PathBuf>,
    /// Where the node's pods reach the host.
    gateway: Option<IpAddr>,
    /// How pods reach the API server; stops with the plane.
    _relay: Option<ApiRelay>,
    ports: Vec<u16>,
}

async fn start_node(
    started: &mut Started<'_>,
    options: &PlaneOptions,
    pki: &Pki,
    apiserver_port: u16,
    kubeconfig: &Path,
    client: &kube::Client,
) -> Result<NodeUp, PlaneError> {
    let apiserver_url = format!("https://127.0.0.1:{apiserver_port}");
    let bins = &options.binaries;
    let deadline = started.deadline;
    match &options.node {
        node::Node::Kwok => {
            start_kwok(started.supervisor, options, kubeconfig, client).await?;
            let took = wait_node(started.supervisor, "kwok", NODE_NAME, client, deadline).await?;
            started.record("kwok", &bins.kwok, None, false, took);
            Ok(NodeUp {
                teardown: None,
                gateway: None,
                _relay: None,
                ports: Vec::new(),
            })
        }
        node::Node::Real(tools) => {
            let begun = Instant::now();
            let (layout, relay) = node::start(
                started.supervisor,
                NodeStart {
                    run_dir: &options.run_dir,
                    tools,
                    kubelet: &bins.kubelet.path,
                    crane: &bins.crane.path,
                    pause_source: &options.assets.pause_source,
                    programs: upstream_images(&bins.eso, &bins.reloader),
                    apiserver_url: &apiserver_url,
                    apiserver: SocketAddr::from(([127, 0, 0, 1], apiserver_port)),
                    ca_file: &pki.ca_cert,
                    ca_pem: &pki.ca_pem,
                    client: (&pki.node_cert_pem, &pki.node_key_pem),
                    deadline,
                },
            )
            .await?;
            wait_node(
                started.supervisor,
                "kubelet",
                node::NODE_NAME,
                client,
                deadline,
            )
            .await?;
            started.record("kubelet", &bins.kubelet, None, true, begun.elapsed());
            Ok(NodeUp {
                teardown: Some(layout.teardown_script()),
                gateway: layout.gateway.parse().ok(),
                _relay: Some(relay),
                ports: vec![
                    layout.kubelet_port,
                    layout.kubelet_healthz_port,
                    layout.registry.port(),
                ],
            })
        }
    }
}

/// Starts the plane in order (`shared/reference/local-control-plane.md` §5): the control
/// plane's stages, then the API's own objects (issuer discovery, ESO's CRDs), the node, and ESO.
async fn boot(supervisor: &mut Supervisor, options: &PlaneOptions) -> Result<Booted, PlaneError> {
    let run = &options.run_dir;
    let pki = Pki::generate(&run.join("pki"))?;
    let ports = Ports::pick().map_err(io("pick free ports"))?;
    let apiserver_url = format!("https://127.0.0.1:{}", ports.apiserver);
    let kubeconfig = run.join("kubeconfig");
    k8s::write_kubeconfig(
        &kubeconfig,
        &apiserver_url,
        &pki.ca_pem,
        &pki.admin_cert_pem,
        &pki.admin_key_pem,
    )?;
    let mut started = Started {
        supervisor,
        deadline: options.component_timeout,
        insecure: probe::http_client(None)?,
        trusted: probe::http_client(Some(&pki.ca_pem))?,
        timings: Vec::new(),
        components: Vec::new(),
    };
    for stage in control_plane(options, &pki, &ports, &kubeconfig) {
        started.stage(stage).await?;
    }

    let client = k8s::client_from_kubeconfig(&kubeconfig).await?;
    k8s::apply_yaml(&client, ISSUER_DISCOVERY_BINDING).await?;
    apply_crds(&client, &options.assets.eso_crds, started.deadline).await?;

    let node = start_node(
        &mut started,
        options,
        &pki,
        ports.apiserver,
        &kubeconfig,
        &client,
    )
    .await?;
    let mut plane_ports = vec![
        ports.etcd,
        ports.etcd_peer,
        ports.apiserver,
        ports.controller_manager,
        ports.scheduler,
    ];
    plane_ports.extend(&node.ports);

    let mut eso_spec = None;
    if options.eso {
        let eso = eso(options, ports.eso, &kubeconfig);
        eso_spec = Some((eso.spec.clone(), eso.health_url.clone()));
        plane_ports.push(ports.eso);
        started.stage(vec![eso]).await?;
    }

    let state = PlaneState {
        kubeconfig: kubeconfig.clone(),
        apiserver_url: apiserver_url.clone(),
        issuer: apiserver_url,
        ca_file: pki.ca_cert.clone(),
        ports: plane_ports,
        components: started.components,
        ready_after_secs: 0.0,
    };
    Ok(Booted {
        eso: eso_spec,
        node,
        client,
        kubeconfig,
        pki,
        state,
        timings: started.timings,
    })
}

/// ESO and Reloader as their upstream images (entrypoint and user from their Dockerfiles),
/// for charts and manifests that run them as pods; not for a binary given by override.
#[must_use]
pub fn upstream_images(
    eso: &crate::deps::Resolved,
    reloader: &crate::deps::Resolved,
) -> Vec<node::images::Program> {
    let eso_image = node::images::Program {
        repository: "ghcr.io/external-secrets/external-secrets",
        // Where ESO's chart points (`image.repository`); upstream it redirects to ghcr.io.
        aliases: &["oci.external-secrets.io/external-secrets/external-secrets"],
        tag: eso.version.clone(),
        binary: eso.path.clone(),
        entrypoint: "/bin/external-secrets",
        user: "65534",
    };
    let reloader_image = node::images::Program {
        repository: "ghcr.io/stakater/reloader",
        aliases: &[],
        tag: reloader.version.clone(),
        binary: reloader.path.clone(),
        entrypoint: "/manager",
        user: "65532:65532",
    };
    [(eso, eso_image), (reloader, reloader_image)]
        .into_iter()
        .filter(|(resolved, _)| resolved.version != "override")
        .map(|(_, program)| program)
        .collect()
}

/// kwok, managing the one fake Node it creates.
async fn start_kwok(
    supervisor: &mut Supervisor,
    options: &PlaneOptions,
    kubeconfig: &Path,
    client: &kube::Client,
) -> Result<(), PlaneError> {
    let mut kwok_args = vec![
        path_arg("kubeconfig", kubeconfig),
        arg("manage-all-nodes", false),
        arg(
            "manage-nodes-with-annotation-selector",
            "kwok.x-k8s.io/node=fake",
        ),
        arg("node-lease-duration-seconds", 40),
    ];
    for stage in &options.assets.kwok_stages {
        kwok_args.push(path_arg("config", stage));
    }
    supervisor.spawn(ChildSpec::new("kwok", &options.binaries.kwok.path).args(kwok_args))?;
    let node = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
    });
    Api::<Node>::all(client.clone())
        .patch(
            NODE_NAME,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&node),
        )
        .await
        .map_err(|source| PlaneError::Kube {
            what: format!("create node {NODE_NAME}"),
            source,
        })?;
    Ok(())
}

/// Waits until Node `name` is Ready, failing with `child`'s stderr if it dies first.
async fn wait_node(
    supervisor: &mut Supervisor,
    child: &str,
    name: &'static str,
    client: &kube::Client,
    deadline: Duration,
) -> Result<Duration, PlaneError> {
    let nodes: Api<Node> = Api::all(client.clone());
    Ok(supervisor
        .wait_ready(child, deadline, move || {
            let nodes = nodes.clone();
            async move {
                match nodes.get_opt(name).await {
                    Ok(Some(node)) if k8s::wait::node_ready(&node) => Ok(()),
                    Ok(Some(_)) => Err(format!("node {name} not Ready yet")),
                    Ok(None) => Err(format!("node {name} missing")),
                    Err(e) => Err(format!("get node {name}: {e}")),
                }
            }
        })
        .await?)
}

/// Server-side applies every CRD file and waits until each is Established; returns their
/// names.
pub async fn apply_crds(
    client: &kube::Client,
    files: &[PathBuf],
    timeout: Duration,
) -> Result<Vec<String>, PlaneError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crds = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(io(format!("read {}", file.display())))?;
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value =
                serde_yaml_ng::Value::deserialize(document).map_err(|e| PlaneError::Io {
                    what: format!("parse {}", file.display()),
                    source: std::io::Error::other(e),
                })?;
            // `config/crds/bases` also holds a kustomization.yaml.
            if value.get("kind").and_then(serde_yaml_ng::Value::as_str)
                != Some("CustomResourceDefinition")
            {
                continue;
            }
            let crd: CustomResourceDefinition =
                serde_yaml_ng::from_value(value).map_err(|e| PlaneError::Io {
                    what: format!("parse {}", file.display()),
                    source: std::io::Error::other(e),
                })?;
            crds.push(crd);
        }
    }
    let params = PatchParams::apply(FIELD_MANAGER).force();
    try_join_all(crds.iter().map(|crd| {
        let api = api.clone();
        let params = params.clone();
        async move {
            let name = crd.metadata.name.clone().unwrap_or_default();
            api.patch(&name, &params, &Patch::Apply(crd))
                .await
                .map_err(|source| PlaneError::Kube {
                    what: format!("apply CRD {name}"),
                    source,
                })
        }
    }))
    .await?;
    try_join_all(crds.iter().map(|crd| {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let api = api.clone();
        async move {
            k8s::wait_for(api, &name, conditions::is_crd_established(), timeout)
                .await
                .map(|_| ())
        }
    }))
    .await?;
    // Established is not yet served: after a CRD is deleted and created again, the API
    // server's discovery can lag behind, and an apply of the kind in between is refused.
    try_join_all(crds.iter().flat_map(|crd| {
        crd.spec
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|version| {
                let gvk = kube::api::GroupVersionKind::gvk(
                    &crd.spec.group,
                    &version.name,
                    &crd.spec.names.kind,
                );
                async move {
                    let deadline = tokio::time::Instant::now() + timeout;
                    loop {
                        match kube::discovery::pinned_kind(client, &gvk).await {
                            Ok(_) => return Ok(()),
                            Err(source) if tokio::time::Instant::now() >= deadline => {
                                return Err(PlaneError::Kube {
                                    what: format!(
                                        "discover {}/{} {}",
                                        gvk.group, gvk.version, gvk.kind
                                    ),
                                    source,
                                });
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                        }
                    }
                }
            })
    }))
    .await?;
    Ok(crds
        .iter()
        .filter_map(|crd| crd.metadata.name.clone())
        .collect())
}
