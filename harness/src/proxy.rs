//! The routing proxy: an HTTP proxy for `HTTPS_PROXY`/`HTTP_PROXY` that lets unmodified
//! clients reach the fakes under Azure's real host names.
//!
//! `CONNECT login.microsoftonline.com:443` is tunnelled to fake-aad and
//! `CONNECT {vault}.vault.azure.net:443` to fake-akv, and likewise the hosts of each configured
//! sovereign cloud (`login.microsoftonline.us`, `{vault}.vault.usgovcloudapi.net`, ...,
//! from [`Cloud`]'s table); TLS stays end to end between the client
//! and the fake, which presents a certificate for the real name from the local CA. Plain-HTTP
//! requests in absolute form are forwarded the same way (the IMDS address `169.254.169.254`
//! goes to fake-aad's managed-identity listener). Every other host is refused at once with a
//! 403 that says why, so nothing leaks to the internet.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fake_kit::Cloud;
use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The largest request head the proxy reads before giving up.
const MAX_HEAD: usize = 16 * 1024;

/// Which backend serves a host name.
#[derive(Clone, Debug)]
pub struct Route {
    /// An exact host (`login.microsoftonline.com`) or a suffix starting with a dot
    /// (`.vault.azure.net`, matching `{vault}.vault.azure.net`).
    pub host: String,
    /// The port clients use (443 for HTTPS, 80 for IMDS).
    pub port: u16,
    /// Where the fake listens.
    pub backend: SocketAddr,
}

impl Route {
    fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        port == self.port
            && match self.host.strip_prefix('.') {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|label| label.ends_with('.') && label.len() > 1),
                None => host == self.host,
            }
    }
}

/// Where each kind of Azure host goes: Entra's login hosts to `aad`, vault hosts to `akv`,
/// ARM to `arm`, and the IMDS address to `imds`.
#[derive(Clone, Copy, Debug)]
pub struct Backends {
    /// fake-aad's HTTPS listener.
    pub aad: SocketAddr,
    /// fake-akv, if one runs.
    pub akv: Option<SocketAddr>,
    /// The ARM stand-in, if one runs.
    pub arm: Option<SocketAddr>,
    /// fake-aad's managed-identity listener (plain HTTP).
    pub imds: SocketAddr,
}

/// The routes for `clouds` ([`Cloud`]'s table): each cloud's login hosts, `*.{vault suffix}`
/// and ARM host, plus the IMDS address, which is the same in every cloud. Hosts of clouds not
/// listed stay unrouted, so they are refused like any other host.
#[must_use]
pub fn azure_routes(clouds: &[Cloud], backends: Backends) -> Vec<Route> {
    let https = |host: String, backend: SocketAddr| Route {
        host,
        port: 443,
        backend,
    };
    let mut routes = Vec::new();
    for cloud in clouds {
        routes.extend(
            cloud
                .login_hosts()
                .iter()
                .map(|host| https((*host).to_owned(), backends.aad)),
        );
        if let Some(akv) = backends.akv {
            routes.push(https(format!(".{}", cloud.vault_dns_suffix()), akv));
        }
        if let Some(arm) = backends.arm {
            routes.push(https(cloud.arm_host().to_owned(), arm));
        }
    }
    routes.push(Route {
        host: "169.254.169.254".to_owned(),
        port: 80,
        backend: backends.imds,
    });
    routes
}

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    accepted: Arc<AtomicU64>,
}

/// The proxy could not bind.
#[derive(Debug, thiserror::Error)]
#[error("routing proxy cannot listen on {addr}: {source}")]
pub struct ProxyError {
    addr: SocketAddr,
    #[source]
    source: std::io::Error,
}

impl Proxy {
    /// Binds `listen` and starts routing.
    pub async fn start(listen: SocketAddr, routes: Vec<Route>) -> Result<Self, ProxyError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ProxyError {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ProxyError {
            addr: listen,
            source,
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let routes = Arc::new(routes);
        let accepted = Arc::new(AtomicU64::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            loop {
                let (client, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(pair) => pair,
                        Err(error) => {
                            tracing::warn!(%error, "proxy accept failed");
                            continue;
                        }
                    },
                    _ = stopped.changed() => break,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let routes = routes.clone();
                tokio::spawn(async move {
                    if let Err(error) = handle(client, &routes).await {
                        tracing::debug!(%peer, %error, "proxy connection ended");
                    }
                });
            }
        });
        Ok(Self {
            addr,
            stop,
            task,
            accepted,
        })
    }

    /// How many connections it has accepted: whether clients (a cluster's pods) reach it at
    /// all.
    #[must_use]
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the value for `HTTPS_PROXY`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting; open tunnels end with their clients.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// What the proxy does with one request head.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Answer `200 Connection Established` and pipe bytes both ways to `backend`.
    Tunnel {
        /// The fake serving the host.
        backend: SocketAddr,
    },
    /// Send `head` (origin form, `Connection: close`), then the body bytes, to `backend`.
    Forward {
        /// The fake serving the host.
        backend: SocketAddr,
        /// The rewritten request head, ending with its blank line.
        head: String,
    },
    /// Answer `status` with `message` and close.
    Refuse {
        /// 400 for a head the proxy cannot read, 403 for a host no fake serves.
        status: u16,
        /// Why, for the client's error output.
        message: String,
    },
}

/// Decides what to do with a request head (the bytes before the blank line, as text): the
/// one place the proxy parses what a client sent.
#[must_use]
pub fn plan(head: &str, routes: &[Route]) -> Plan {
    let bad = |message: &str| Plan::Refuse {
        status: 400,
        message: message.to_owned(),
    };
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return bad("malformed request line");
    };
    let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    // A line that is not `name: value` (a second request line after a bare LF, say) would
    // reach the fake as part of this request's head; refuse instead of forwarding it.
    if headers.iter().any(|line| !is_header_line(line)) {
        return bad("malformed header line");
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, 443) else {
            return bad("CONNECT needs host:port");
        };
        if let Some(route) = routes.iter().find(|r| r.matches(&host, port)) {
            return Plan::Tunnel {
                backend: route.backend,
            };
        }
        tracing::info!(%host, port, "proxy refused CONNECT");
        return Plan::Refuse {
            status: 403,
            message: refusal(&host, port, routes),
        };
    }
    // Plain HTTP through the proxy: the request line carries an absolute URL.
    let Ok(url) = url::Url::parse(target) else {
        return bad("a proxied request needs an absolute URL");
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let Some(route) = routes.iter().find(|r| r.matches(&host, port)) else {
        tracing::info!(%host, port, "proxy refused request");
        return Plan::Refuse {
            status: 403,
            message: refusal(&host, port, routes),
        };
    };
    let origin_form = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut rewritten = format!("{method} {origin_form} HTTP/1.1\r\n");
    for line in headers {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("proxy-connection")
        {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    // One request per connection keeps the forwarding a plain byte pipe.
    rewritten.push_str("Connection: close\r\n\r\n");
    Plan::Forward {
        backend: route.backend,
        head: rewritten,
    }
}

/// `name: value` with a non-empty RFC 9110 token name and no stray CR.
fn is_header_line(line: &str) -> bool {
    let Some((name, _)) = line.split_once(':') else {
        return false;
    };
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && !line.contains('\r')
}

async fn handle(mut client: TcpStream, routes: &[Route]) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut client).await?;
    if head.trim().is_empty() {
        return Ok(());
    }
    match plan(&head, routes) {
        Plan::Refuse { status, message } => refuse(&mut client, status, &message).await,
        Plan::Tunnel { backend } => {
            let mut upstream = TcpStream::connect(backend).await?;
            upstream.set_nodelay(true)?;
            client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await?;
            if !rest.is_empty() {
                upstream.write_all(&rest).await?;
            }
            copy_bidirectional(&mut client, &mut upstream).await?;
            Ok(())
        }
        Plan::Forward { backend, head } => {
            let mut upstream = TcpStream::connect(backend).await?;
            upstream.write_all(head.as_bytes()).await?;
            upstream.write_all(&rest).await?;
            copy_bidirectional(&mut client, &mut upstream).await?;
            Ok(())
        }
    }
}

/// Reads up to the blank line that ends the request head; returns the head and whatever
/// bytes arrived after it.
async fn read_head(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0_u8; 2048];
    loop {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buffer).into_owned(), rest));
        }
        if buffer.len() > MAX_HEAD {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
}

fn split_host_port(target: &str, default_port: u16) -> Option<(String, u16)> {
    match target.rsplit_once(':') {
        Some((host, port)) => Some((host.trim_matches(['[', ']']).to_owned(), port.parse().ok()?)),
        None => Some((target.to_owned(), default_port)),
    }
}

fn refusal(host: &str, port: u16, routes: &[Route]) -> String {
    let served: Vec<String> = routes
        .iter()
        .map(|r| {
            let host = if r.host.starts_with('.') {
                format!("*{}", r.host)
            } else {
                r.host.clone()
            };
            format!("{host}:{}", r.port)
        })
        .collect();
    format!(
        "harness routing proxy refuses {host}:{port}: only hosts served by the local fakes are reachable ({}). Nothing is forwarded to the internet.",
        served.join(", ")
    )
}

async fn refuse(client: &mut TcpStream, status: u16, message: &str) -> std::io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        _ => "Forbidden",
    };
    let body = format!("{message}\n");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: &str) -> Route {
        Route {
            host: host.to_owned(),
            port: 443,
            backend: "127.0.0.1:1".parse().unwrap(),
        }
    }

    #[test]
    fn suffix_routes_match_one_label_deep_or_more_but_not_the_bare_suffix() {
        let vaults = route(".vault.azure.net");
        assert!(vaults.matches("my-key-vault.vault.azure.net", 443));
        assert!(vaults.matches("MY-KEY-VAULT.Vault.Azure.Net", 443));
        assert!(!vaults.matches("vault.azure.net", 443));
        assert!(!vaults.matches("evilvault.azure.net", 443));
        assert!(!vaults.matches("my-key-vault.vault.azure.net", 8443));
        assert!(route("login.microsoftonline.com").matches("login.microsoftonline.com", 443));
    }

    #[test]
    fn routes_cover_exactly_the_configured_clouds() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let backends = Backends {
            aad: addr,
            akv: Some(addr),
            arm: Some(addr),
            imds: addr,
        };
        let routes = azure_routes(&[Cloud::UsGovernment], backends);
        let is_routed = |host: &str| routes.iter().any(|r| r.matches(host, 443));
        assert!(is_routed("login.microsoftonline.us"));
        assert!(is_routed("login.usgovcloudapi.net"));
        assert!(is_routed("kv.vault.usgovcloudapi.net"));
        assert!(is_routed("management.usgovcloudapi.net"));
        assert!(!is_routed("login.microsoftonline.com"));
        assert!(!is_routed("kv.vault.azure.net"));
        assert!(!is_routed("kv.vault.azure.cn"));
        assert!(routes.iter().any(|r| r.matches("169.254.169.254", 80)));
    }

    #[test]
    fn plan_tunnels_forwards_and_refuses() {
        let routes = [route(".vault.azure.net")];
        let backend = routes[0].backend;
        assert_eq!(
            plan(
                "CONNECT kv.vault.azure.net:443 HTTP/1.1\r\nHost: kv.vault.azure.net:443",
                &routes
            ),
            Plan::Tunnel { backend }
        );
        assert!(matches!(
            plan("CONNECT example.com:443 HTTP/1.1", &routes),
            Plan::Refuse { status: 403, .. }
        ));
        let forwarded = plan(
            "GET https://kv.vault.azure.net/secrets?api-version=7.6 HTTP/1.1\r\nHost: kv.vault.azure.net\r\nProxy-Connection: keep-alive",
            &routes,
        );
        assert_eq!(
            forwarded,
            Plan::Forward {
                backend,
                head: "GET /secrets?api-version=7.6 HTTP/1.1\r\nHost: kv.vault.azure.net\r\nConnection: close\r\n\r\n".to_owned(),
            }
        );
    }

    #[test]
    fn a_second_request_line_after_a_bare_lf_is_refused_not_forwarded() {
        let routes = [route(".vault.azure.net")];
        let smuggled = "GET https://kv.vault.azure.net/ HTTP/1.1\nHost: kv.vault.azure.net\n\nDELETE /secrets/x HTTP/1.1";
        assert!(matches!(
            plan(smuggled, &routes),
            Plan::Refuse { status: 400, .. }
        ));
        assert!(matches!(
            plan(
                "GET https://kv.vault.azure.net/ HTTP/1.1\r\nX-A: b\rc",
                &routes
            ),
            Plan::Refuse { status: 400, .. }
        ));
    }

    #[test]
    fn host_port_split_handles_ipv6_and_defaults() {
        assert_eq!(split_host_port("a.b:443", 80), Some(("a.b".into(), 443)));
        assert_eq!(
            split_host_port("[::1]:8443", 80),
            Some(("::1".into(), 8443))
        );
        assert_eq!(split_host_port("a.b", 80), Some(("a.b".into(), 80)));
        assert_eq!(split_host_port("a.b:x", 80), None);
    }
}
