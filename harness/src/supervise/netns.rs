//! A private network namespace for children that bind fixed ports.
//!
//! Stakater Reloader serves `/metrics` and `/live` on a hard-coded `:9090` (`reloader.md` §6,
//! `internal/pkg/constants`), so two Reloaders on one host collide. Each one gets a namespace
//! of its own: only a loopback interface, nothing routed in or out. What it must reach (the
//! API server) is forwarded by the harness from a listener inside the namespace to the same
//! address on the host's loopback, so its kubeconfig works unchanged.
//!
//! The namespace has no name and no bind mount: it lives while something holds it (the fd
//! kept here, the forwarding listener, a child) and vanishes with the last of them, so a dead
//! harness leaves no namespace behind.
//!
//! Entering a namespace changes only the calling thread, so every entry happens on a fresh
//! thread that ends right after; the async runtime's threads never move.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::Command;

use nix::sched::{CloneFlags, setns, unshare};

/// A network namespace this process created.
#[derive(Debug)]
pub struct NetNs {
    fd: File,
}

impl NetNs {
    /// A new namespace with its loopback interface up (needs root or `CAP_SYS_ADMIN` and
    /// `ip` from iproute2).
    pub fn new() -> std::io::Result<Self> {
        on_thread(|| {
            unshare(CloneFlags::CLONE_NEWNET).map_err(|errno| {
                std::io::Error::other(format!(
                    "cannot create a network namespace ({errno}); run as root"
                ))
            })?;
            // A child started from this thread inherits its namespace.
            let status = Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .map_err(|e| {
                    std::io::Error::other(format!("cannot run `ip` (install iproute2): {e}"))
                })?;
            if !status.success() {
                return Err(std::io::Error::other(format!(
                    "`ip link set lo up` in a new network namespace: {status}"
                )));
            }
            Ok(Self {
                fd: File::open("/proc/thread-self/ns/net")?,
            })
        })
    }

    /// Runs `f` on a thread inside the namespace: sockets it opens and processes it starts
    /// belong to the namespace.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        let fd = self.fd.try_clone()?;
        on_thread(move || {
            setns(fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|errno| {
                std::io::Error::other(format!("cannot enter a network namespace: {errno}"))
            })?;
            Ok(f())
        })
    }

    /// A listener inside the namespace.
    pub fn bind(&self, address: SocketAddr) -> std::io::Result<TcpListener> {
        self.run(move || TcpListener::bind(address))?
    }

    /// A connection to `address` as seen from inside the namespace.
    pub async fn connect(&self, address: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
        let fd = self.fd.try_clone()?;
        let stream = tokio::task::spawn_blocking(move || {
            NetNs { fd }.run(move || TcpStream::connect_timeout(&address, CONNECT_TIMEOUT))?
        })
        .await
        .map_err(std::io::Error::other)??;
        stream.set_nonblocking(true)?;
        tokio::net::TcpStream::from_std(stream)
    }

    /// Forwards every connection accepted inside the namespace at `address` to the same
    /// address on the host, until the returned task is aborted.
    pub fn forward_from_host(
        &self,
        address: SocketAddr,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let listener = self.bind(address)?;
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        Ok(tokio::spawn(async move {
            while let Ok((mut inside, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut host) = tokio::net::TcpStream::connect(address).await {
                        let _ = tokio::io::copy_bidirectional(&mut inside, &mut host).await;
                    }
                });
            }
        }))
    }
}

const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `f` on a new thread and waits for it, so a namespace change dies with that thread.
fn on_thread<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    std::thread::spawn(f)
        .join()
        .map_err(|_| std::io::Error::other("network namespace thread panicked"))?
}
