//! The API server as pods find it. In-cluster clients (client-go's in-cluster configuration,
//! so ESO, Reloader and every chart's controller) dial the `kubernetes` Service's address,
//! `10.96.0.1:443`. No kube-proxy runs here, so the node does that one Service's work itself:
//! the address is routed into every pod (the CNI configuration), the host rewrites it (one DNAT
//! rule, on the node's bridge only) to a relay on the bridge address, and the relay copies
//! bytes to the API server on loopback. TLS passes through untouched; the API server's
//! certificate names `10.96.0.1`. Nothing is routed beyond this machine.

use std::net::{IpAddr, SocketAddr};
use std::process::Command;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::Layout;

/// The `kubernetes` Service's cluster IP: the first address of the plane's service range.
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// Relays connections from the bridge address to the API server; stops when dropped.
#[derive(Debug)]
pub struct ApiRelay {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ApiRelay {
    /// Listens on `gateway` (a free port) and relays each connection to `apiserver`.
    pub async fn start(gateway: IpAddr, apiserver: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::new(gateway, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(apiserver).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ApiRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Rewrites the Service's address, for traffic arriving from the node's bridge only, to the
/// relay. The teardown script deletes every rule naming the bridge.
pub fn route_to(layout: &Layout, relay: SocketAddr) -> std::io::Result<()> {
    let output = Command::new("iptables")
        .args(["-w", "-t", "nat", "-A", "PREROUTING", "-i", &layout.bridge])
        .args(["-d", &format!("{KUBERNETES_SERVICE_IP}/32"), "-p", "tcp"])
        .args(["--dport", "443", "-j", "DNAT", "--to-destination"])
        .arg(relay.to_string())
        .output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "iptables (DNAT of the kubernetes Service): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
