//! Stakater Reloader, one per scenario.
//!
//! Each scenario that declares `components.reloader` gets a Reloader of its own, started
//! before its first step with exactly the flags it declares ([`scope::scoped_args`] adds only
//! the scope that keeps it inside the scenario's namespace) and stopped when it ends. So a
//! scenario never runs under another's reload strategy, and stopping or restarting Reloader
//! mid-scenario (the `reloader` step) touches no one else.
//!
//! Reloader serves a hard-coded `:9090`, so each runs in a network namespace of its own
//! ([`NetNs`]); the API server is forwarded into it at the same loopback address, so the
//! plane's kubeconfig works unchanged.

pub mod marks;
pub mod scope;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;

use crate::supervise::{ChildSpec, NetNs, PidFileError, SpawnError, Supervisor};

/// Reloader's fixed listen port (`constants.DefaultHttpListenAddr`).
const PORT: u16 = 9090;

/// The child's name in its supervisor, and its log files' stem.
const NAME: &str = "reloader";

/// A Reloader could not be started or driven.
#[derive(Debug, thiserror::Error)]
pub enum ReloaderError {
    /// It did not start or never became ready.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// It exited before it was ready: refused its flags, or could not reach the cluster.
    #[error("Reloader exited before it was ready: {message} (its log: {})", log.display())]
    Exited {
        /// Its own words: cobra's `Error:` lines and logrus' fatal ones.
        message: String,
        /// The whole log.
        log: PathBuf,
    },
    /// Its run directory is unusable.
    #[error("Reloader run directory: {0}")]
    PidFile(#[from] PidFileError),
    /// Its network namespace could not be set up.
    #[error("Reloader's network namespace: {0}")]
    Namespace(#[source] std::io::Error),
    /// The API server is not on this host's loopback, where the namespace can forward to.
    #[error(
        "Reloader runs on this host and reaches the API server through loopback; {0} is not a loopback https://IP:PORT URL"
    )]
    ApiServer(String),
}

/// What every scenario's Reloader shares: the binary, the cluster and where runs go.
#[derive(Clone, Debug)]
pub struct ReloaderLauncher {
    program: PathBuf,
    kubeconfig: PathBuf,
    apiserver: SocketAddr,
    run_root: PathBuf,
    timeout: Duration,
}

impl ReloaderLauncher {
    /// Reloaders of `program` against the API server at `apiserver_url` (loopback), each with
    /// a run directory (pidfile, logs) under `run_root`.
    pub fn new(
        program: impl Into<PathBuf>,
        kubeconfig: impl Into<PathBuf>,
        apiserver_url: &str,
        run_root: impl Into<PathBuf>,
    ) -> Result<Self, ReloaderError> {
        let apiserver = url::Url::parse(apiserver_url)
            .ok()
            .and_then(|url| {
                let ip: IpAddr = url
                    .host_str()?
                    .trim_matches(['[', ']'])
                    .parse()
                    .ok()
                    .filter(IpAddr::is_loopback)?;
                Some(SocketAddr::new(ip, url.port_or_known_default()?))
            })
            .ok_or_else(|| ReloaderError::ApiServer(apiserver_url.to_owned()))?;
        Ok(Self {
            program: program.into(),
            kubeconfig: kubeconfig.into(),
            apiserver,
            run_root: run_root.into(),
            timeout: Duration::from_secs(60),
        })
    }

    /// Starts a Reloader for the scenario in `namespace` with the scenario's `args` and
    /// waits until it serves `/live`. A Reloader that refuses its flags fails here with its
    /// own message.
    pub async fn start(&self, namespace: &str, args: &[String]) -> Result<Reloader, ReloaderError> {
        let run_dir = self.run_root.join(namespace);
        std::fs::create_dir_all(&run_dir).map_err(|source| {
            ReloaderError::PidFile(PidFileError::Io {
                path: run_dir.clone(),
                source,
            })
        })?;
        let mut supervisor = Supervisor::new(&run_dir)?;
        supervisor.set_grace(Duration::from_secs(5));
        let netns = NetNs::new().map_err(ReloaderError::Namespace)?;
        let forward = netns
            .forward_from_host(self.apiserver)
            .map_err(ReloaderError::Namespace)?;
        let spec = ChildSpec::new(NAME, &self.program)
            .args(scope::scoped_args(args, namespace))
            .env("KUBECONFIG", &self.kubeconfig)
            // Inherited, either would narrow Reloader to one namespace or publish its
            // meta-info ConfigMap into the user's cluster: neither is the scenario's choice.
            .env("KUBERNETES_NAMESPACE", "")
            .env("RELOADER_NAMESPACE", "");
        let mut reloader = Reloader {
            supervisor,
            netns,
            forward,
            spec,
            timeout: self.timeout,
            running: false,
        };
        reloader.start().await?;
        Ok(reloader)
    }
}

/// One scenario's Reloader. Dropping it stops the process (blocking); prefer
/// [`Reloader::shutdown`].
#[derive(Debug)]
pub struct Reloader {
    supervisor: Supervisor,
    netns: NetNs,
    forward: tokio::task::JoinHandle<()>,
    spec: ChildSpec,
    timeout: Duration,
    running: bool,
}

impl Reloader {
    /// Starts the process (again) and waits for `/live`; how long that took.
    pub async fn start(&mut self) -> Result<Duration, ReloaderError> {
        if self.running {
            return Ok(Duration::ZERO);
        }
        self.supervisor.spawn_in(self.spec.clone(), &self.netns)?;
        self.running = true;
        let netns = &self.netns;
        let took = self
            .supervisor
            .wait_ready(NAME, self.timeout, move || live(netns))
            .await;
        match took {
            Ok(took) => Ok(took),
            Err(error) => {
                self.stop().await;
                let log = self.log_file();
                if !error.is_exit() {
                    return Err(error.into());
                }
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                Err(ReloaderError::Exited {
                    message: own_words(&text).unwrap_or_else(|| error.to_string()),
                    log,
                })
            }
        }
    }

    /// Stops the process (SIGTERM, then SIGKILL after 5 s); false if it was not running.
    pub async fn stop(&mut self) -> bool {
        self.running = false;
        self.supervisor.stop(NAME).await
    }

    /// Whether the process is up (as far as the harness knows: started, not stopped).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Its log (Reloader logs to stderr), across every start.
    #[must_use]
    pub fn log_file(&self) -> PathBuf {
        self.supervisor.log_dir().join(format!("{NAME}.err.log"))
    }

    /// Stops the process and the forwarding; removes its run directory (pidfile, log) too
    /// unless `keep_log`.
    pub async fn shutdown(mut self, keep_log: bool) {
        self.stop().await;
        self.supervisor.stop_all().await;
        if !keep_log {
            let _ = std::fs::remove_dir_all(self.supervisor.run_dir());
        }
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

/// What Reloader said when it gave up: cobra prints `Error: ...` and then its whole usage;
/// logrus prints `level=fatal msg="..."`.
fn own_words(log: &str) -> Option<String> {
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.starts_with("Error: ") || line.contains("level=fatal"))
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// `GET /live` on Reloader's port inside `netns`.
async fn live(netns: &NetNs) -> Result<(), String> {
    let path = "/live";
    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), PORT);
    let stream = netns
        .connect(address)
        .await
        .map_err(|e| format!("connect {address}: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
    let driver = tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, address.to_string())
        .body(Empty::<Bytes>::new())
        .expect("a static request is valid");
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        // Drain the body so the connection ends cleanly.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("GET {path}: {status}"))
        }
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_words_skip_the_usage_and_keep_errors_and_fatal_lines() {
        let log = "time=\"t\" level=info msg=\"Environment: Kubernetes\"\nError: reload-strategy must be one of: env-vars, annotations\nUsage:\n  reloader [flags]\n      --log-level string   Log level to use (trace, debug, info, warning, error, fatal and panic)\n";
        assert_eq!(
            own_words(log).as_deref(),
            Some("Error: reload-strategy must be one of: env-vars, annotations")
        );
        let fatal = "time=\"t\" level=fatal msg=\"Unable to create Kubernetes client\"\n";
        assert_eq!(
            own_words(fatal).as_deref(),
            Some("time=\"t\" level=fatal msg=\"Unable to create Kubernetes client\"")
        );
        assert_eq!(own_words("level=info msg=ok\n"), None);
    }
}
