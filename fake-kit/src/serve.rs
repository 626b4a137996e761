//! Accept loops for the fakes: HTTPS with rustls and plain HTTP, both shut down gracefully.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

/// The largest request head (HTTP/2 header list) a connection accepts; HTTP/1's buffer
/// limit (about 400 KiB) is larger still.
const MAX_HEADER_LIST_BYTES: u32 = 256 * 1024;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// Errors while binding a listener.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct ServeError {
    /// The address asked for.
    pub addr: SocketAddr,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

/// A running server: its bound address and the switch that stops it.
#[derive(Debug)]
pub struct Served {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Served {
    /// The address the listener is bound to (the real port when 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves `app` over TLS with `tls`.
pub async fn spawn_tls(
    addr: SocketAddr,
    tls: Arc<ServerConfig>,
    app: Router,
) -> Result<Served, ServeError> {
    let listener = bind(addr).await?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        listener,
        Some(TlsAcceptor::from(tls)),
        app,
        stopped,
    ));
    Ok(Served {
        addr: bound,
        stop,
        task,
    })
}

/// Binds `addr` and serves `app` over plain HTTP (the IMDS shape is plain HTTP in Azure too).
pub async fn spawn_plain(addr: SocketAddr, app: Router) -> Result<Served, ServeError> {
    let listener = bind(addr).await?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, None, app, stopped));
    Ok(Served {
        addr: bound,
        stop,
        task,
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError { addr, source })
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service);
        // Handed over unregistered, so the runtime that serves the connection also polls its
        // socket (with connection threads, that thread's own reactor, not the accept loop's).
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(error) => {
                tracing::debug!(%peer, %error, "cannot hand the connection over");
                continue;
            }
        };
        let acceptor = tls.clone();
        let watcher = graceful.watcher();
        spawn_connection(async move {
            let stream = match TcpStream::from_std(stream) {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::debug!(%peer, %error, "cannot register the connection");
                    return;
                }
            };
            let mut builder = Builder::new(TokioExecutor::new());
            // Above h2's 16 KiB default, so a fake's own request-size rule (Key Vault answers
            // as HTTP.sys does) decides, not a bare 431 from the protocol layer.
            builder.http2().max_header_list_size(MAX_HEADER_LIST_BYTES);
            let served = if let Some(acceptor) = acceptor {
                let stream = match acceptor.accept(stream).await {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                };
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                watcher.watch(conn.into_owned()).await
            } else {
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                watcher.watch(conn.into_owned()).await
            };
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // In-flight requests get a moment to finish; idle keep-alive connections are closed.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
}

/// The connection threads of this process, when its `main` asked for them.
static CONNECTION_THREADS: OnceLock<ConnectionThreads> = OnceLock::new();

/// Single-threaded runtimes, one per thread, that connections are dealt to in turn. A
/// connection then stays on one thread, as on one of nginx's worker processes: no work
/// stealing and no cross-thread wake-ups per request. bench-akv measured about 10% more
/// requests per second than on tokio's multi-threaded scheduler, on 2 cores.
struct ConnectionThreads {
    runtimes: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
}

/// Serves every listener's connections, from now on, on threads of their own, one per core,
/// instead of the ambient runtime: for long-running servers (the fakes' binaries, `harness
/// serve`), called once, just before they start serving. Tests and embedders
/// that do not call it keep everything on their runtime. The threads live as long as the
/// process.
pub fn serve_connections_per_core() -> std::io::Result<()> {
    if CONNECTION_THREADS.get().is_some() {
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut runtimes = Vec::with_capacity(cores);
    for index in 0..cores {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtimes.push(runtime.handle().clone());
        std::thread::Builder::new()
            .name(format!("connections-{index}"))
            .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    }
    let _ = CONNECTION_THREADS.set(ConnectionThreads {
        runtimes,
        next: AtomicUsize::new(0),
    });
    Ok(())
}

fn spawn_connection(connection: impl Future<Output = ()> + Send + 'static) {
    match CONNECTION_THREADS.get() {
        Some(threads) => {
            let turn = threads.next.fetch_add(1, Ordering::Relaxed) % threads.runtimes.len();
            threads.runtimes[turn].spawn(connection);
        }
        None => {
            tokio::spawn(connection);
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM: how every long-running binary of the bench is stopped.
pub async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            tracing::warn!(%error, "no SIGTERM handler; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
