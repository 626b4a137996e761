//! The kubelet's configuration: registered with the plane's API server as [`NODE_NAME`], talking
//! to the node's containerd, its own root and certificate directories under the run directory,
//! and the settings this host needs (cgroup v1 with the cgroupfs driver; see
//! `shared/reference/real-node-and-docker.md`).

use super::Layout;

/// The real node's name.
pub const NODE_NAME: &str = "akv-e2e-node";

/// Creates the cgroup root (`layout.cgroup`) in every cgroup v1 hierarchy, which kubelet needs
/// to exist; a new cpuset needs its CPUs and memory nodes before anything can join it.
pub fn create_cgroup_root(layout: &Layout) -> std::io::Result<()> {
    for entry in std::fs::read_dir("/sys/fs/cgroup")? {
        let hierarchy = entry?.path();
        if !hierarchy.is_dir() || hierarchy.ends_with("unified") {
            continue;
        }
        let root = hierarchy.join(&layout.cgroup);
        std::fs::create_dir_all(&root)?;
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(value) = std::fs::read_to_string(hierarchy.join(file)) {
                std::fs::write(root.join(file), value.trim())?;
            }
        }
    }
    Ok(())
}

/// `KubeletConfiguration`. `syncFrequency` is short so a rotated Secret reaches a mounted
/// volume within seconds, as `expectFile` waits for it (Kubernetes' default is a minute).
#[must_use]
pub fn config(layout: &Layout, ca_file: &std::path::Path) -> String {
    serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        // The bridge's address: the node IP the API server reaches it on (never loopback).
        "address": layout.gateway,
        "port": layout.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.kubelet_healthz_port,
        "cgroupDriver": "cgroupfs",
        // The host has cgroup v1; v1.37 refuses to start on it otherwise.
        "failCgroupV1": false,
        // Every pod's cgroup under one root of the node's own, which teardown empties.
        "cgroupRoot": format!("/{}", layout.cgroup),
        "containerRuntimeEndpoint": format!("unix://{}", layout.containerd_socket.display()),
        "authentication": {
            "anonymous": {"enabled": false},
            "webhook": {"enabled": false},
            "x509": {"clientCAFile": ca_file},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "syncFrequency": "5s",
        "fileCheckFrequency": "5s",
        "failSwapOn": false,
        "resolvConf": "",
        "serializeImagePulls": false,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        // A nearly full disk must not taint the node with DiskPressure and leave every pod
        // Pending: a CI machine after a clean build can be under any percentage. "0%" turns the
        // disk signals off, as kind's node configuration does; memory keeps a token floor.
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
            "imagefs.inodesFree": "0%",
        },
        "protectKernelDefaults": false,
        "registerNode": true,
    })
    .to_string()
}
