//! A real node for the local plane: containerd and a kubelet on this host, registered with the
//! plane's API server, so the user's pods really run: environment resolved from Secrets,
//! volumes mounted, logs written, `exec` answered.
//!
//! How the parts fit: [`host`] decides whether a real node can run here (Linux, root, Debian's
//! containerd, runc and CNI plugins, installed when missing) and fetches the static busybox;
//! [`images`] builds the images the bench provides and pushes them into the node's registry
//! (crane's, on loopback), which [`containerd`]'s configuration makes the mirror of every
//! registry; [`service`] makes the `kubernetes` Service reach the API server from pods (no
//! kube-proxy runs); [`kubelet`] configures the kubelet; [`teardown`] is the one script that undoes
//! everything, run on a clean stop and by the kubelet's guard when the harness dies.
//! [`start`] runs them in order; the plane then waits for the Node to be Ready.

pub mod containerd;
pub mod host;
pub mod images;
pub mod kubelet;
pub mod service;
pub mod teardown;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use host::{HostTools, Unavailable};
pub use kubelet::NODE_NAME;
pub use service::ApiRelay;

use crate::cluster::ports::free_port;
use crate::supervise::{ChildSpec, ON_ORPHAN_ENV, SpawnError, Supervisor, probe};

/// Which node the plane runs pods on (`--node`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum NodeKind {
    /// Real where it can run (Linux, root, containerd installable), else kwok, saying why.
    #[default]
    Auto,
    /// containerd and kubelet on this host: pods really run.
    Real,
    /// kwok: pods are reported Running, nothing starts.
    Kwok,
}

/// The node a plane starts with.
#[derive(Clone, Debug)]
pub enum Node {
    /// kwok's fake node.
    Kwok,
    /// A real node with these host programs.
    Real(HostTools),
}

impl Node {
    /// Resolves `kind` on this host; `cache` holds what the real node downloads. `auto` falls
    /// back to kwok with a warning that says why; `real` fails instead.
    pub fn choose(kind: NodeKind, cache: &Path) -> Result<Self, Unavailable> {
        match kind {
            NodeKind::Kwok => Ok(Self::Kwok),
            NodeKind::Real => host::prepare(cache).map(Self::Real),
            NodeKind::Auto => Ok(host::prepare(cache).map_or_else(
                |why| {
                    eprintln!("harness: no real node here ({why}); pods run on kwok");
                    Self::Kwok
                },
                Self::Real,
            )),
        }
    }
}

/// Where a real node keeps everything, and the names it gives what it creates on the host.
#[derive(Clone, Debug)]
pub struct Layout {
    /// `<run dir>/node`.
    pub dir: PathBuf,
    /// The cgroup root every pod lives under (`akv-e2e-<id>`).
    pub cgroup: String,
    /// The bridge (at most 15 characters).
    pub bridge: String,
    /// The CNI network name.
    pub network: String,
    /// The pod subnet, `10.244.<n>.0/24`.
    pub subnet: String,
    /// The bridge's address, which pods reach the host on.
    pub gateway: String,
    /// containerd's socket.
    pub containerd_socket: PathBuf,
    /// kubelet's API port.
    pub kubelet_port: u16,
    /// kubelet's health port.
    pub kubelet_healthz_port: u16,
    /// The registry's address.
    pub registry: SocketAddr,
}

impl Layout {
    fn new(run_dir: &Path) -> std::io::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let short = &id[..6];
        let n = 1 + u16::from_str_radix(&id[6..8], 16).unwrap_or(0) % 250;
        Ok(Self {
            dir: run_dir.join("node"),
            cgroup: format!("akv-e2e-{short}"),
            bridge: format!("akve2e{short}"),
            network: format!("akv-e2e-{short}"),
            subnet: format!("10.244.{n}.0/24"),
            gateway: format!("10.244.{n}.1"),
            containerd_socket: run_dir.join("node/containerd/containerd.sock"),
            kubelet_port: free_port()?,
            kubelet_healthz_port: free_port()?,
            registry: SocketAddr::from(([127, 0, 0, 1], free_port()?)),
        })
    }

    /// `10.244.<n>.`: how teardown recognises the pods' addresses.
    #[must_use]
    pub fn subnet_prefix(&self) -> String {
        self.gateway.trim_end_matches('1').to_owned()
    }

    /// The teardown script.
    #[must_use]
    pub fn teardown_script(&self) -> PathBuf {
        self.dir.join("teardown.sh")
    }
}

/// The teardown script of the node a plane in `run_dir` started, if it started one.
#[must_use]
pub fn teardown_script(run_dir: &Path) -> PathBuf {
    run_dir.join("node/teardown.sh")
}

/// Starting the real node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A child failed to start or become ready.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// An image could not be built or pushed.
    #[error(transparent)]
    Image(#[from] images::ImageError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What [`start`] needs from the plane.
#[derive(Debug)]
pub struct NodeStart<'a> {
    /// The plane's run directory.
    pub run_dir: &'a Path,
    /// Host programs.
    pub tools: &'a HostTools,
    /// kubelet.
    pub kubelet: &'a Path,
    /// crane.
    pub crane: &'a Path,
    /// Kubernetes' `build/pause/linux/pause.c`.
    pub pause_source: &'a Path,
    /// Programs served as their upstream images too (ESO, Reloader), for manifests and
    /// charts that run them as pods.
    pub programs: Vec<images::Program>,
    /// The API server.
    pub apiserver_url: &'a str,
    /// The API server's loopback address, which the `kubernetes` Service leads to.
    pub apiserver: SocketAddr,
    /// The plane CA file (kubelet trusts client certificates it signed).
    pub ca_file: &'a Path,
    /// The plane CA, PEM.
    pub ca_pem: &'a str,
    /// The kubelet's client certificate and key, PEM.
    pub client: (&'a str, &'a str),
    /// Deadline for each child to become ready.
    pub deadline: Duration,
}

fn write(path: &Path, text: &str) -> Result<(), NodeError> {
    let io = |source| NodeError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// Starts the registry (and fills it), containerd and kubelet under `supervisor`; returns the
/// layout. A node a previous run left behind in the same run directory is torn down first.
pub async fn start(
    supervisor: &mut Supervisor,
    start: NodeStart<'_>,
) -> Result<(Layout, ApiRelay), NodeError> {
    let old = teardown_script(start.run_dir);
    teardown::run(&old);
    let layout = Layout::new(start.run_dir).map_err(|source| NodeError::Io {
        path: start.run_dir.to_path_buf(),
        source,
    })?;
    let _ = std::fs::remove_dir_all(&layout.dir);
    write(&layout.teardown_script(), &teardown::script(&layout))?;
    let sandbox_image = start_registry(supervisor, &layout, &start).await?;
    start_containerd(supervisor, &layout, &start, &sandbox_image).await?;
    let relay = route_the_kubernetes_service(&layout, start.apiserver).await?;
    start_kubelet(supervisor, &layout, &start)?;
    Ok((layout, relay))
}

/// The relay on the bridge address, and the rule that sends the Service's address to it.
async fn route_the_kubernetes_service(
    layout: &Layout,
    apiserver: SocketAddr,
) -> Result<ApiRelay, NodeError> {
    let io = |source| NodeError::Io {
        path: PathBuf::from(&layout.bridge),
        source,
    };
    let gateway = layout
        .gateway
        .parse()
        .map_err(|e| io(std::io::Error::other(e)))?;
    let relay = ApiRelay::start(gateway, apiserver).await.map_err(io)?;
    service::route_to(layout, relay.addr()).map_err(io)?;
    Ok(relay)
}

/// crane's registry on `address` under `supervisor`, ready. Its blobs live in `cache`:
/// content-addressed, so shared by every run, and a blob pushed once is never pushed again.
pub async fn serve_registry(
    supervisor: &mut Supervisor,
    crane: &Path,
    cache: &Path,
    address: SocketAddr,
    deadline: Duration,
) -> Result<(), NodeError> {
    let blobs = cache.join("registry-blobs");
    std::fs::create_dir_all(&blobs).map_err(|source| NodeError::Io {
        path: blobs.clone(),
        source,
    })?;
    supervisor.spawn(ChildSpec::new("registry", crane).args([
        "registry".to_owned(),
        "serve".to_owned(),
        format!("--address={address}"),
        format!("--disk={}", blobs.display()),
    ]))?;
    let http = probe::http_client(None).map_err(|e| NodeError::Io {
        path: blobs.clone(),
        source: std::io::Error::other(e),
    })?;
    let url = format!("http://{address}/v2/");
    let (c, u) = (&http, url.as_str());
    supervisor
        .wait_ready("registry", deadline, move || probe::http_ok(c, u))
        .await?;
    Ok(())
}

/// The registry, filled with the bench's images; returns the sandbox (pause) image.
async fn start_registry(
    supervisor: &mut Supervisor,
    layout: &Layout,
    start: &NodeStart<'_>,
) -> Result<String, NodeError> {
    serve_registry(
        supervisor,
        start.crane,
        &start.tools.cache,
        layout.registry,
        start.deadline,
    )
    .await?;
    let cache = start.tools.cache.clone();
    let (tools, pause, crane, registry, programs) = (
        start.tools.clone(),
        start.pause_source.to_path_buf(),
        start.crane.to_path_buf(),
        layout.registry,
        start.programs.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let built = images::build(&tools, &pause, &programs, &cache)?;
        images::push(&crane, registry, &built)?;
        Ok::<_, images::ImageError>(
            built
                .iter()
                .find(|i| i.repository.ends_with("/pause"))
                .map(|i| format!("{}:{}", i.repository, i.tags[0]))
                .unwrap_or_default(),
        )
    })
    .await
    .map_err(|e| NodeError::Io {
        path: layout.dir.clone(),
        source: std::io::Error::other(e),
    })?
    .map_err(NodeError::from)
}

/// containerd, with the bench's registry as every registry's mirror; ready when its socket
/// answers.
async fn start_containerd(
    supervisor: &mut Supervisor,
    layout: &Layout,
    start: &NodeStart<'_>,
    sandbox_image: &str,
) -> Result<(), NodeError> {
    let dir = &layout.dir;
    containerd::create_bridge(layout).map_err(|source| NodeError::Io {
        path: PathBuf::from(&layout.bridge),
        source,
    })?;
    let containerd_config = dir.join("containerd/config.toml");
    write(
        &containerd_config,
        &containerd::config(layout, &start.tools.cni_bin, sandbox_image),
    )?;
    for (file, text) in containerd::hosts(layout.registry) {
        write(&dir.join("containerd/certs.d").join(file), &text)?;
    }
    write(
        &dir.join(format!("cni/net.d/10-{}.conflist", layout.network)),
        &containerd::cni_config(layout),
    )?;
    supervisor.spawn(
        ChildSpec::new("containerd", &start.tools.containerd)
            .args([format!("--config={}", containerd_config.display())]),
    )?;
    let socket = layout.containerd_socket.clone();
    supervisor
        .wait_ready("containerd", start.deadline, move || {
            let socket = socket.clone();
            async move {
                tokio::net::UnixStream::connect(&socket)
                    .await
                    .map(drop)
                    .map_err(|e| format!("{}: {e}", socket.display()))
            }
        })
        .await?;
    Ok(())
}

/// kubelet, whose guard runs the teardown script if the harness dies.
fn start_kubelet(
    supervisor: &mut Supervisor,
    layout: &Layout,
    start: &NodeStart<'_>,
) -> Result<(), NodeError> {
    let dir = &layout.dir;
    kubelet::create_cgroup_root(layout).map_err(|source| NodeError::Io {
        path: PathBuf::from("/sys/fs/cgroup").join(&layout.cgroup),
        source,
    })?;
    let kubelet_config = dir.join("kubelet/config.json");
    write(&kubelet_config, &kubelet::config(layout, start.ca_file))?;
    let kubeconfig = dir.join("kubelet/kubeconfig");
    crate::k8s::write_kubeconfig(
        &kubeconfig,
        start.apiserver_url,
        start.ca_pem,
        start.client.0,
        start.client.1,
    )
    .map_err(|e| NodeError::Io {
        path: kubeconfig.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    supervisor.spawn(
        ChildSpec::new("kubelet", start.kubelet)
            .args([
                format!("--config={}", kubelet_config.display()),
                format!("--kubeconfig={}", kubeconfig.display()),
                format!("--root-dir={}", dir.join("kubelet/root").display()),
                format!("--cert-dir={}", dir.join("kubelet/pki").display()),
                format!("--hostname-override={NODE_NAME}"),
                format!("--node-ip={}", layout.gateway),
            ])
            .env(ON_ORPHAN_ENV, layout.teardown_script()),
    )?;
    Ok(())
}
