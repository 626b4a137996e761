//! Starting and stopping the fake: one HTTPS listener serving every vault.

use std::net::SocketAddr;
use std::sync::Arc;

use fake_kit::{ServeError, Served, ServerConfig};

use crate::auth::token::TokenVerifier;
use crate::state::AppState;

/// Where to listen, which certificate to present, and whose tokens to trust.
#[derive(Clone, Debug)]
pub struct Options {
    /// HTTPS listener (data plane and `/_emulator`).
    pub listen: SocketAddr,
    /// Server TLS configuration (a leaf from the local CA, e.g. `issue_default`).
    pub tls: Arc<ServerConfig>,
    /// Base URL of the Entra emulator whose JWKS signs the tokens (`https://127.0.0.1:PORT`).
    /// Without it every token is refused.
    pub aad_url: Option<String>,
    /// PEM of the CA to trust when fetching that JWKS.
    pub aad_ca_pem: Option<String>,
}

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not be bound.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The JWKS client could not be built (e.g. a bad CA PEM).
    #[error("cannot build the token-key client: {0}")]
    Http(#[from] reqwest::Error),
}

/// A running fake Key Vault.
pub struct FakeAkv {
    served: Served,
    state: AppState,
}

impl FakeAkv {
    /// Installs the token verifier, binds the listener and serves `state`.
    pub async fn start(options: Options, state: AppState) -> Result<Self, StartError> {
        if let Some(url) = &options.aad_url {
            state.set_verifier(TokenVerifier::new(url, options.aad_ca_pem.as_deref())?);
        }
        let served =
            fake_kit::serve::spawn_tls(options.listen, options.tls, crate::router(state.clone()))
                .await?;
        Ok(Self { served, state })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.served.addr()
    }

    /// `https://127.0.0.1:PORT` (answered by the default vault).
    #[must_use]
    pub fn url(&self) -> String {
        format!("https://{}", self.served.addr())
    }

    /// `https://{vault}.localhost:PORT`: the URL of one vault without a routing proxy.
    #[must_use]
    pub fn vault_url(&self, vault: &str) -> String {
        format!("https://{vault}.localhost:{}", self.served.addr().port())
    }

    /// The shared state, for in-process control.
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the listener gracefully, then, with a state file, writes a final snapshot:
    /// vault configuration changed in-process ([`AppState::put_vault`]) has no journal record,
    /// and reaches disk only by compaction.
    pub async fn shutdown(self) {
        self.served.shutdown().await;
        let state = self.state;
        let persisted = tokio::task::spawn_blocking(move || state.persist()).await;
        match persisted {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "final snapshot not written"),
            Err(error) => tracing::warn!(%error, "final snapshot not written"),
        }
    }
}

impl std::fmt::Debug for FakeAkv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAkv")
            .field("addr", &self.served.addr())
            .finish_non_exhaustive()
    }
}
