//! The plane's own processes as a table: each component is a [`ChildSpec`] and the health URL
//! that says it is ready, in stages that start together ([`control_plane`]), and ESO after the
//! node ([`eso`]). The loop that starts them is `local::Started::stage`.

use std::ffi::OsString;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

use super::options::PlaneOptions;
use super::pki::Pki;
use crate::deps::Resolved;
use crate::supervise::ChildSpec;

pub(super) fn arg(flag: &str, value: impl std::fmt::Display) -> OsString {
    format!("--{flag}={value}").into()
}

pub(super) fn path_arg(flag: &str, path: &Path) -> OsString {
    let mut out = OsString::from(format!("--{flag}="));
    out.push(path);
    out
}

/// One process of the plane: how it starts and how the bench knows it is ready.
pub(super) struct Component<'a> {
    pub(super) spec: ChildSpec,
    pub(super) resolved: &'a Resolved,
    /// Answers 200 when the component is ready.
    pub(super) health_url: String,
    /// The health endpoint is served with the plane's CA (else with a self-signed certificate
    /// the probe does not check, or over plain HTTP).
    pub(super) uses_plane_ca: bool,
}

impl<'a> Component<'a> {
    pub(super) fn new(
        resolved: &'a Resolved,
        spec: ChildSpec,
        health_url: String,
        uses_plane_ca: bool,
    ) -> Self {
        Self {
            spec,
            resolved,
            health_url,
            uses_plane_ca,
        }
    }
}

/// The ports the plane's own processes listen on, picked up front.
pub(super) struct Ports {
    pub(super) etcd: u16,
    pub(super) etcd_peer: u16,
    pub(super) apiserver: u16,
    pub(super) controller_manager: u16,
    pub(super) scheduler: u16,
    pub(super) eso: u16,
}

impl Ports {
    /// Six distinct free ports: each stays bound until all are picked, so the OS cannot hand
    /// out one twice.
    pub(super) fn pick() -> std::io::Result<Self> {
        let held = (0..6)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .collect::<std::io::Result<Vec<_>>>()?;
        let ports = held
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self {
            etcd: ports[0],
            etcd_peer: ports[1],
            apiserver: ports[2],
            controller_manager: ports[3],
            scheduler: ports[4],
            eso: ports[5],
        })
    }
}

/// The control plane in start order: each stage's components start together once the stage
/// before is ready.
pub(super) fn control_plane<'a>(
    options: &'a PlaneOptions,
    pki: &Pki,
    ports: &Ports,
    kubeconfig: &Path,
) -> Vec<Vec<Component<'a>>> {
    // The controller manager and the scheduler only need the API.
    vec![
        vec![etcd(options, ports)],
        vec![apiserver(options, pki, ports)],
        vec![
            controller_manager(options, pki, ports.controller_manager, kubeconfig),
            scheduler(options, ports.scheduler, kubeconfig),
        ],
    ]
}

/// etcd, its data empty every time.
fn etcd<'a>(options: &'a PlaneOptions, ports: &Ports) -> Component<'a> {
    let data = options.run_dir.join("etcd");
    let _ = std::fs::remove_dir_all(&data);
    let client_url = format!("http://127.0.0.1:{}", ports.etcd);
    let peer_url = format!("http://127.0.0.1:{}", ports.etcd_peer);
    let spec = ChildSpec::new("etcd", &options.binaries.etcd.path).args([
        arg("name", "e0"),
        path_arg("data-dir", &data),
        arg("listen-client-urls", &client_url),
        arg("advertise-client-urls", &client_url),
        arg("listen-peer-urls", &peer_url),
        arg("initial-advertise-peer-urls", &peer_url),
        arg("initial-cluster", format!("e0={peer_url}")),
        arg("unsafe-no-fsync", true),
        arg("log-level", "warn"),
    ]);
    Component::new(
        &options.binaries.etcd,
        spec,
        format!("{client_url}/health"),
        false,
    )
}

fn apiserver<'a>(options: &'a PlaneOptions, pki: &Pki, ports: &Ports) -> Component<'a> {
    let run = &options.run_dir;
    let url = format!("https://127.0.0.1:{}", ports.apiserver);
    let mut args = vec![
        arg("etcd-servers", format!("http://127.0.0.1:{}", ports.etcd)),
        arg("bind-address", "127.0.0.1"),
        arg("secure-port", ports.apiserver),
        path_arg("tls-cert-file", &pki.apiserver_cert),
        path_arg("tls-private-key-file", &pki.apiserver_key),
        path_arg("cert-dir", &run.join("pki/generated")),
        path_arg("client-ca-file", &pki.ca_cert),
        arg("service-account-issuer", &url),
        // Else the discovery document names the advertise address, which is neither bound nor
        // in the serving certificate.
        arg("service-account-jwks-uri", format!("{url}/openid/v1/jwks")),
        path_arg("service-account-key-file", &pki.sa_pub),
        path_arg("service-account-signing-key-file", &pki.sa_key),
        arg("service-cluster-ip-range", "10.96.0.0/16"),
        arg("authorization-mode", "Node,RBAC"),
        // How `kubectl logs`/`exec` reach a real node's kubelet.
        path_arg("kubelet-client-certificate", &run.join("pki/admin.crt")),
        path_arg("kubelet-client-key", &run.join("pki/admin.key")),
        arg("kubelet-preferred-address-types", "InternalIP"),
        arg("allow-privileged", true),
        // Admission webhooks (ESO's, installed from its chart) are reached at their pods'
        // addresses: no kube-proxy serves Service addresses.
        arg("enable-aggregator-routing", true),
        arg("enable-priority-and-fairness", false),
        arg("profiling", false),
    ];
    if let Some(address) = options.advertise_address {
        args.push(arg("advertise-address", address));
    }
    let bin = &options.binaries.kube_apiserver;
    let spec = ChildSpec::new("kube-apiserver", &bin.path).args(args);
    Component::new(bin, spec, format!("{url}/readyz"), true)
}

fn controller_manager<'a>(
    options: &'a PlaneOptions,
    pki: &Pki,
    port: u16,
    kubeconfig: &Path,
) -> Component<'a> {
    let bin = &options.binaries.kube_controller_manager;
    let mut args = controller_args(options, port, kubeconfig, "kcm");
    args.extend([
        path_arg("service-account-private-key-file", &pki.sa_key),
        path_arg("root-ca-file", &pki.ca_cert),
        arg("kube-api-qps", 100),
        arg("kube-api-burst", 200),
    ]);
    let spec = ChildSpec::new("kube-controller-manager", &bin.path).args(args);
    Component::new(bin, spec, healthz(port), false)
}

fn scheduler<'a>(options: &'a PlaneOptions, port: u16, kubeconfig: &Path) -> Component<'a> {
    let bin = &options.binaries.kube_scheduler;
    let args = controller_args(options, port, kubeconfig, "scheduler");
    let spec = ChildSpec::new("kube-scheduler", &bin.path).args(args);
    Component::new(bin, spec, healthz(port), false)
}

/// What the controller manager and the scheduler share: the admin kubeconfig for the API and
/// for delegated authentication, one instance (no leader election), and a loopback health
/// port with a self-signed certificate kept in `pki/generated/<certs>`.
fn controller_args(
    options: &PlaneOptions,
    port: u16,
    kubeconfig: &Path,
    certs: &str,
) -> Vec<OsString> {
    vec![
        path_arg("kubeconfig", kubeconfig),
        path_arg("authentication-kubeconfig", kubeconfig),
        path_arg("authorization-kubeconfig", kubeconfig),
        arg("leader-elect", false),
        arg("bind-address", "127.0.0.1"),
        arg("secure-port", port),
        path_arg(
            "cert-dir",
            &options.run_dir.join("pki/generated").join(certs),
        ),
    ]
}

/// The health endpoint of a component serving its own self-signed certificate.
fn healthz(port: u16) -> String {
    format!("https://127.0.0.1:{port}/healthz")
}

/// ESO as a host process, with the bench's environment.
pub(super) fn eso<'a>(options: &'a PlaneOptions, port: u16, kubeconfig: &Path) -> Component<'a> {
    let mut spec = ChildSpec::new("external-secrets", &options.binaries.eso.path)
        .args([
            arg("metrics-addr", 0),
            arg("live-addr", format!("127.0.0.1:{port}")),
            arg("enable-leader-election", false),
        ])
        .args(options.eso_args.iter().cloned())
        .env("KUBECONFIG", kubeconfig);
    spec.env.extend(eso_env(&options.eso_env));
    Component::new(
        &options.binaries.eso,
        spec,
        format!("http://127.0.0.1:{port}/healthz"),
        false,
    )
}

/// The caller's ESO environment with loopback added to `NO_PROXY`/`no_proxy`.
fn eso_env(extra: &[(OsString, OsString)]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = extra.to_vec();
    for key in ["NO_PROXY", "no_proxy"] {
        let existing = env
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| env.remove(i).1.to_string_lossy().into_owned());
        let mut value = existing.unwrap_or_default();
        for host in ["127.0.0.1", "localhost"] {
            if !value.split(',').any(|h| h.trim() == host) {
                if !value.is_empty() {
                    value.push(',');
                }
                value.push_str(host);
            }
        }
        env.push((key.into(), value.into()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eso_env_adds_loopback_to_no_proxy_once() {
        let env = eso_env(&[
            ("HTTPS_PROXY".into(), "http://127.0.0.1:3128".into()),
            ("NO_PROXY".into(), "localhost,.svc".into()),
        ]);
        let get = |key: &str| {
            env.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("NO_PROXY").as_deref(), Some("localhost,.svc,127.0.0.1"));
        assert_eq!(get("no_proxy").as_deref(), Some("127.0.0.1,localhost"));
        assert_eq!(get("HTTPS_PROXY").as_deref(), Some("http://127.0.0.1:3128"));
    }
}
