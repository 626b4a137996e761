//! containerd's configuration for the node: its own root, state and socket under the run
//! directory (nothing in `/etc` or `/var/lib`), the CRI settings this host needs, the bridge
//! network, and every registry mirrored to the node's own registry, so no pull leaves the
//! machine.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::Layout;

/// The registries images are commonly named from; anything else falls to `_default`, which
/// points at the same registry, so an unknown image fails like a real pull failure.
const MIRRORED: &[&str] = &[
    "docker.io",
    "registry.k8s.io",
    "ghcr.io",
    "quay.io",
    // ESO's chart names its image here (a redirect to ghcr.io upstream).
    "oci.external-secrets.io",
    "_default",
];

/// The pod network: a bridge with a gateway on the host, addresses from `subnet`, no masquerade
/// and no default route in the pods, so pod traffic can reach the host's bridge address and
/// nothing beyond it. The one other route is the `kubernetes` Service's address, which the host
/// rewrites to its own relay ([`super::service`]).
#[must_use]
pub fn cni_config(layout: &Layout) -> String {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": layout.network,
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.bridge,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.subnet, "gateway": layout.gateway}]],
                    "routes": [{"dst": format!("{}/32", super::service::KUBERNETES_SERVICE_IP)}],
                    "dataDir": layout.dir.join("cni/ipam"),
                },
            },
            {"type": "loopback"},
        ],
    })
    .to_string()
}

/// Creates the bridge with the gateway address before anything starts: the kubelet serves on
/// that address (it refuses a loopback node IP), and the bridge plugin adopts the bridge.
pub fn create_bridge(layout: &Layout) -> std::io::Result<()> {
    let cidr = format!("{}/24", layout.gateway);
    for args in [
        vec!["link", "add", layout.bridge.as_str(), "type", "bridge"],
        vec!["addr", "add", cidr.as_str(), "dev", layout.bridge.as_str()],
        vec!["link", "set", layout.bridge.as_str(), "up"],
    ] {
        let output = std::process::Command::new("ip").args(&args).output()?;
        if !output.status.success() {
            return Err(std::io::Error::other(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    }
    Ok(())
}

/// `config.toml` (version 2, as containerd 1.6 reads it).
#[must_use]
pub fn config(layout: &Layout, cni_bin: &Path, sandbox_image: &str) -> String {
    let dir = &layout.dir;
    format!(
        r#"version = 2
root = "{root}"
state = "{state}"
# Plugins that would use /opt or other host paths, or are not needed.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  # Without CAP_SYS_RESOURCE no process may lower its OOM score; runc would fail every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  # runc's state under the node's directory, not /run/containerd/runc.
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    Root = "{runc_root}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{net_d}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{certs_d}"
"#,
        root = dir.join("containerd/root").display(),
        state = dir.join("containerd/state").display(),
        socket = layout.containerd_socket.display(),
        cni_bin = cni_bin.display(),
        net_d = dir.join("cni/net.d").display(),
        certs_d = dir.join("containerd/certs.d").display(),
        runc_root = dir.join("runc").display(),
    )
}

/// `certs.d/<registry>/hosts.toml` for every mirrored registry: the node's registry is both
/// the mirror and the server, so a missing image is not looked for upstream.
#[must_use]
pub fn hosts(registry: SocketAddr) -> Vec<(PathBuf, String)> {
    MIRRORED
        .iter()
        .map(|host| {
            let prefix = if *host == "_default" { "unknown" } else { host };
            let url = format!("http://{registry}/v2/{prefix}");
            let mut text = format!("server = \"{url}\"\n\n");
            let _ = write!(
                text,
                "[host.\"{url}\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n"
            );
            (PathBuf::from(host).join("hosts.toml"), text)
        })
        .collect()
}
