//! Starting and stopping the fake: the HTTPS listener and the managed-identity listener.

use std::net::SocketAddr;
use std::sync::Arc;

use fake_kit::{ServeError, Served, ServerConfig};

use crate::state::AppState;

/// Where to listen and which certificate to present.
#[derive(Clone, Debug)]
pub struct Options {
    /// HTTPS listener (token endpoints, discovery, admin).
    pub listen: SocketAddr,
    /// Plain-HTTP managed-identity listener.
    pub imds_listen: SocketAddr,
    /// The server TLS configuration (a leaf for the Azure host names from the local CA).
    pub tls: Arc<ServerConfig>,
}

/// A running fake Entra ID.
pub struct FakeAad {
    https: Served,
    imds: Served,
    state: AppState,
}

impl FakeAad {
    /// Binds both listeners and starts serving `state`.
    pub async fn start(options: Options, state: AppState) -> Result<Self, ServeError> {
        let https =
            fake_kit::serve::spawn_tls(options.listen, options.tls, crate::router(state.clone()))
                .await?;
        let imds = fake_kit::serve::spawn_plain(
            options.imds_listen,
            crate::managed_identity_router(state.clone()),
        )
        .await?;
        Ok(Self { https, imds, state })
    }

    /// The HTTPS address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.https.addr()
    }

    /// `https://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://{}", self.https.addr())
    }

    /// `http://127.0.0.1:PORT` of the managed-identity listener.
    #[must_use]
    pub fn imds_url(&self) -> String {
        format!("http://{}", self.imds.addr())
    }

    /// The shared state, for in-process control.
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops both listeners gracefully.
    pub async fn shutdown(self) {
        self.https.shutdown().await;
        self.imds.shutdown().await;
    }
}

impl std::fmt::Debug for FakeAad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAad")
            .field("https", &self.https.addr())
            .field("imds", &self.imds.addr())
            .finish_non_exhaustive()
    }
}
