//! Stopping and starting the plane's ESO mid-run (the `eso` step), for stories about what ESO
//! does while it is down and when it comes back. ESO is the plane's, shared by every scenario,
//! so a scenario that uses it runs alone.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::supervise::{ChildSpec, SpawnError, Supervisor, probe};

/// How long ESO may take to serve `/healthz` again.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// A handle on the plane's ESO process.
#[derive(Clone, Debug)]
pub struct EsoControl {
    supervisor: Arc<Mutex<Supervisor>>,
    spec: ChildSpec,
    health_url: String,
    probe: reqwest::Client,
}

impl EsoControl {
    pub(super) fn new(
        supervisor: Arc<Mutex<Supervisor>>,
        spec: ChildSpec,
        health_url: String,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            supervisor,
            spec,
            health_url,
            probe: probe::http_client(None)?,
        })
    }

    /// Stops ESO (SIGTERM, the plane's grace, SIGKILL); false if it was not running.
    pub async fn stop(&self) -> bool {
        self.supervisor.lock().await.stop(&self.spec.name).await
    }

    /// Whether ESO runs (started and not stopped).
    pub async fn is_running(&self) -> bool {
        self.supervisor
            .lock()
            .await
            .child(&self.spec.name)
            .is_some()
    }

    /// Starts ESO again with the same flags and environment, appending to its log, and waits
    /// until it serves `/healthz`; how long that took.
    pub async fn start(&self) -> Result<Duration, SpawnError> {
        let mut supervisor = self.supervisor.lock().await;
        supervisor.spawn_again(self.spec.clone())?;
        let (client, url) = (&self.probe, self.health_url.as_str());
        supervisor
            .wait_ready(&self.spec.name, READY_TIMEOUT, move || {
                probe::http_ok(client, url)
            })
            .await
    }
}
