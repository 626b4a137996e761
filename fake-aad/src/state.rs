//! The one piece of shared state every handler receives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use fake_kit::Clock;
use uuid::Uuid;

use crate::audit::AuditLog;
use crate::directory::Directory;
use crate::keys::SigningKeys;

/// Tunables that do not belong to the directory.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Access-token lifetime in seconds (Entra's default is about an hour).
    pub token_lifetime: i64,
    /// The shared secret App Service style clients send as `X-IDENTITY-HEADER` / `secret`.
    pub identity_header: String,
    /// Extra roots (PEM) trusted when fetching an external issuer's keys, e.g. a local
    /// kube-apiserver's CA.
    pub extra_roots_pem: Vec<String>,
    /// When set, the directory is rewritten here (crash-safely) after every change and before
    /// the change is acknowledged.
    pub journal: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_lifetime: 3599,
            identity_header: Uuid::new_v4().simple().to_string(),
            extra_roots_pem: Vec::new(),
            journal: None,
        }
    }
}

/// Handler state: the directory, keys, clock, audit log and settings.
#[derive(Clone)]
pub struct AppState {
    pub(crate) directory: Arc<RwLock<Directory>>,
    pub(crate) keys: SigningKeys,
    pub(crate) clock: Clock,
    pub(crate) audit: AuditLog,
    pub(crate) settings: Arc<Settings>,
    pub(crate) outage: Arc<AtomicBool>,
    pub(crate) http: reqwest::Client,
}

impl AppState {
    /// State over `directory`, reading time from `clock`.
    pub fn new(
        directory: Directory,
        clock: Clock,
        settings: Settings,
    ) -> Result<Self, reqwest::Error> {
        let mut http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .use_rustls_tls();
        for pem in &settings.extra_roots_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(Self {
            directory: Arc::new(RwLock::new(directory)),
            keys: SigningKeys::default(),
            clock,
            audit: AuditLog::default(),
            settings: Arc::new(settings),
            outage: Arc::new(AtomicBool::new(false)),
            http: http.build()?,
        })
    }

    /// A snapshot of the directory (handlers never hold the lock across an await).
    #[must_use]
    pub fn directory(&self) -> Directory {
        self.directory.read().expect("directory lock").clone()
    }

    /// Changes the directory under the write lock and, with a journal, persists it before
    /// returning, so an acknowledged change survives a crash.
    pub(crate) fn update_directory<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> T,
    ) -> Result<T, std::io::Error> {
        let mut directory = self.directory.write().expect("directory lock");
        let result = change(&mut directory);
        if let Some(journal) = &self.settings.journal {
            let text = serde_json::to_vec_pretty(&*directory).expect("directory serialises");
            fake_kit::durable::write_atomic(journal, &text)?;
        }
        Ok(result)
    }

    /// The clock every expiry decision reads.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The audit log.
    #[must_use]
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub(crate) fn in_outage(&self) -> bool {
        self.outage.load(Ordering::Relaxed)
    }
}

impl AppState {
    /// The settings this state was built with.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}
