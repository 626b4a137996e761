//! Steps: the [`Step`] trait, the [`StepKind`] enum (one variant per file in this folder), the
//! [`StepEntry`] wrapper with the fields every step shares, and [`StepContext`].
//!
//! Adding a step means: the new file, one variant, one arm in each `match` below,
//! `scenarios/examples/<step>.yaml`, and an updated schema snapshot.

mod context;
mod entry;
mod kube_util;
pub mod operator;
mod pods;

pub mod add_client_secret;
pub mod advance_clock;
pub mod apply;
pub mod assert;
pub mod assert_absent;
pub mod clear_faults;
pub mod delete;
pub mod delete_vault_secret;
pub mod disable_vault_secret;
pub mod enable_vault_secret;
pub mod eso;
pub mod exec;
pub mod expect_audit;
pub mod expect_event;
pub mod expect_file;
pub mod expect_log;
pub mod expect_rollout;
pub mod expect_secret;
pub mod expire_client_secret;
pub mod federate;
pub mod force_sync;
pub mod grant_access;
pub mod inject_fault;
pub mod purge_vault_secret;
pub mod recover_vault_secret;
pub mod reloader;
pub mod revoke_access;
pub mod script;
pub mod set_vault_secret;
pub mod sleep;
pub mod wait;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use context::{StepContext, StepError};
pub use entry::{StepBody, StepEntry};

/// What a step found. A failed assertion is `Failed`, never an `Err`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum StepOutcome {
    /// The step did what it should, or what it checked holds.
    Passed,
    /// What the step checked does not hold.
    Failed {
        /// Why, for people.
        reason: String,
    },
}

impl StepOutcome {
    /// A failure with `reason`.
    pub fn failed(reason: impl Into<String>) -> Self {
        Self::Failed {
            reason: reason.into(),
        }
    }
}

/// One step kind.
#[allow(async_fn_in_trait)] // Dispatch is the static `match` in `StepKind::run`, never `dyn`.
pub trait Step {
    /// Runs the step.
    async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError>;

    /// One line saying what the step does, for reports.
    fn describe(&self) -> String;

    /// Whether the step talks to Kubernetes.
    fn needs_cluster(&self) -> bool {
        false
    }

    /// Whether the step changes state every scenario shares (the fakes' clock, the fault
    /// plan), so its scenario must not run beside another (`--jobs`).
    fn changes_shared_state(&self) -> bool {
        false
    }
}

/// Every step kind. YAML: `- setVaultSecret: {...}` (externally tagged, camelCase).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    /// Sets a secret in a vault (a new version).
    SetVaultSecret(set_vault_secret::SetVaultSecret),
    /// Disables a secret's latest version.
    DisableVaultSecret(disable_vault_secret::DisableVaultSecret),
    /// Enables a secret's latest version.
    EnableVaultSecret(enable_vault_secret::EnableVaultSecret),
    /// Soft-deletes a secret.
    DeleteVaultSecret(delete_vault_secret::DeleteVaultSecret),
    /// Recovers a soft-deleted secret.
    RecoverVaultSecret(recover_vault_secret::RecoverVaultSecret),
    /// Purges a soft-deleted secret.
    PurgeVaultSecret(purge_vault_secret::PurgeVaultSecret),
    /// Adds a client secret to an app.
    AddClientSecret(add_client_secret::AddClientSecret),
    /// Expires an app's client secrets.
    ExpireClientSecret(expire_client_secret::ExpireClientSecret),
    /// Adds a federated identity credential to an app or managed identity.
    Federate(federate::Federate),
    /// Gives a principal a role or access-policy permissions on a vault.
    GrantAccess(grant_access::GrantAccess),
    /// Takes a role or access-policy permissions away.
    RevokeAccess(revoke_access::RevokeAccess),
    /// Moves the fakes' clock.
    AdvanceClock(advance_clock::AdvanceClock),
    /// Makes the next Key Vault requests fail.
    InjectFault(inject_fault::InjectFault),
    /// Cancels injected faults.
    ClearFaults(clear_faults::ClearFaults),
    /// Counts Key Vault requests in the audit log.
    ExpectAudit(expect_audit::ExpectAudit),
    /// Waits a fixed time.
    Sleep(sleep::Sleep),
    /// Runs a shell command with the scenario's environment.
    Script(script::Script),
    /// Server-side applies manifests.
    Apply(apply::Apply),
    /// Deletes an object.
    Delete(delete::Delete),
    /// Polls until an object matches a partial object.
    Assert(assert::Assert),
    /// Polls until an object is gone.
    AssertAbsent(assert_absent::AssertAbsent),
    /// Polls until an object's condition has a status.
    Wait(wait::Wait),
    /// Annotates an ExternalSecret with `force-sync=<unix time>`.
    ForceSync(force_sync::ForceSync),
    /// Polls until a Secret's decoded data equals the given map.
    ExpectSecret(expect_secret::ExpectSecret),
    /// Checks that a Deployment was restarted exactly N times and others were not.
    ExpectRollout(expect_rollout::ExpectRollout),
    /// Polls until an object has an event with a reason and message.
    ExpectEvent(expect_event::ExpectEvent),
    /// Polls until the app's log shows a text (real node).
    ExpectLog(expect_log::ExpectLog),
    /// Runs a command in the app's container (real node).
    Exec(exec::Exec),
    /// Polls until a file in the app's container has a content (real node).
    ExpectFile(expect_file::ExpectFile),
    /// Stops, starts or restarts the scenario's own Reloader.
    Reloader(reloader::ReloaderStep),
    /// Stops, starts or restarts the plane's ESO.
    Eso(eso::EsoStep),
}

impl StepKind {
    /// The YAML key of each kind, in declaration order.
    pub const NAMES: &'static [&'static str] = &[
        "setVaultSecret",
        "disableVaultSecret",
        "enableVaultSecret",
        "deleteVaultSecret",
        "recoverVaultSecret",
        "purgeVaultSecret",
        "addClientSecret",
        "expireClientSecret",
        "federate",
        "grantAccess",
        "revokeAccess",
        "advanceClock",
        "injectFault",
        "clearFaults",
        "expectAudit",
        "sleep",
        "script",
        "apply",
        "delete",
        "assert",
        "assertAbsent",
        "wait",
        "forceSync",
        "expectSecret",
        "expectRollout",
        "expectEvent",
        "expectLog",
        "exec",
        "expectFile",
        "reloader",
        "eso",
    ];

    /// The factory: the one place a variant becomes its [`Step`].
    fn step(&self) -> &dyn StepInfo {
        match self {
            Self::SetVaultSecret(s) => s,
            Self::DisableVaultSecret(s) => s,
            Self::EnableVaultSecret(s) => s,
            Self::DeleteVaultSecret(s) => s,
            Self::RecoverVaultSecret(s) => s,
            Self::PurgeVaultSecret(s) => s,
            Self::AddClientSecret(s) => s,
            Self::ExpireClientSecret(s) => s,
            Self::Federate(s) => s,
            Self::GrantAccess(s) => s,
            Self::RevokeAccess(s) => s,
            Self::AdvanceClock(s) => s,
            Self::InjectFault(s) => s,
            Self::ClearFaults(s) => s,
            Self::ExpectAudit(s) => s,
            Self::Sleep(s) => s,
            Self::Script(s) => s,
            Self::Apply(s) => s,
            Self::Delete(s) => s,
            Self::Assert(s) => s,
            Self::AssertAbsent(s) => s,
            Self::Wait(s) => s,
            Self::ForceSync(s) => s,
            Self::ExpectSecret(s) => s,
            Self::ExpectRollout(s) => s,
            Self::ExpectEvent(s) => s,
            Self::ExpectLog(s) => s,
            Self::Exec(s) => s,
            Self::ExpectFile(s) => s,
            Self::Reloader(s) => s,
            Self::Eso(s) => s,
        }
    }

    /// Runs the step (static dispatch: `async fn` in traits is not object safe).
    pub async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
        match self {
            Self::SetVaultSecret(s) => s.run(cx).await,
            Self::DisableVaultSecret(s) => s.run(cx).await,
            Self::EnableVaultSecret(s) => s.run(cx).await,
            Self::DeleteVaultSecret(s) => s.run(cx).await,
            Self::RecoverVaultSecret(s) => s.run(cx).await,
            Self::PurgeVaultSecret(s) => s.run(cx).await,
            Self::AddClientSecret(s) => s.run(cx).await,
            Self::ExpireClientSecret(s) => s.run(cx).await,
            Self::Federate(s) => s.run(cx).await,
            Self::GrantAccess(s) => s.run(cx).await,
            Self::RevokeAccess(s) => s.run(cx).await,
            Self::AdvanceClock(s) => s.run(cx).await,
            Self::InjectFault(s) => s.run(cx).await,
            Self::ClearFaults(s) => s.run(cx).await,
            Self::ExpectAudit(s) => s.run(cx).await,
            Self::Sleep(s) => s.run(cx).await,
            Self::Script(s) => s.run(cx).await,
            Self::Apply(s) => s.run(cx).await,
            Self::Delete(s) => s.run(cx).await,
            Self::Assert(s) => s.run(cx).await,
            Self::AssertAbsent(s) => s.run(cx).await,
            Self::Wait(s) => s.run(cx).await,
            Self::ForceSync(s) => s.run(cx).await,
            Self::ExpectSecret(s) => s.run(cx).await,
            Self::ExpectRollout(s) => s.run(cx).await,
            Self::ExpectEvent(s) => s.run(cx).await,
            Self::ExpectLog(s) => s.run(cx).await,
            Self::Exec(s) => s.run(cx).await,
            Self::ExpectFile(s) => s.run(cx).await,
            Self::Reloader(s) => s.run(cx).await,
            Self::Eso(s) => s.run(cx).await,
        }
    }

    /// One line saying what the step does.
    #[must_use]
    pub fn describe(&self) -> String {
        self.step().describe()
    }

    /// Whether the step talks to Kubernetes.
    #[must_use]
    pub fn needs_cluster(&self) -> bool {
        self.step().needs_cluster()
    }

    /// Whether the step changes state every scenario shares.
    #[must_use]
    pub fn changes_shared_state(&self) -> bool {
        self.step().changes_shared_state()
    }

    /// Whether the step looks inside running containers (logs, files, `exec`), which only a
    /// real node (or an existing cluster) has; on kwok the runner skips it and says why.
    #[must_use]
    pub fn needs_real_node(&self) -> bool {
        matches!(
            self,
            Self::ExpectLog(_) | Self::Exec(_) | Self::ExpectFile(_)
        )
    }

    /// The YAML key of this kind.
    #[must_use]
    pub fn name(&self) -> &'static str {
        let value = serde_json::to_value(self).expect("steps serialise");
        value
            .as_object()
            .and_then(|o| o.keys().next())
            .and_then(|k| Self::NAMES.iter().find(|n| **n == k))
            .copied()
            .unwrap_or("step")
    }
}

/// The object-safe half of [`Step`].
trait StepInfo {
    fn describe(&self) -> String;
    fn needs_cluster(&self) -> bool;
    fn changes_shared_state(&self) -> bool;
}

impl<T: Step> StepInfo for T {
    fn describe(&self) -> String {
        Step::describe(self)
    }
    fn needs_cluster(&self) -> bool {
        Step::needs_cluster(self)
    }
    fn changes_shared_state(&self) -> bool {
        Step::changes_shared_state(self)
    }
}
