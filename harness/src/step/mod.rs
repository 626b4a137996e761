//! Steps: the [`Step`] trait, the [`StepKind`] enum (one variant per file in this folder), the
//! [`StepEntry`] wrapper with the fields every step shares, and [`StepContext`].
//!
//! Adding a step means: the new file, one line in `step_kinds!` below,
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
pub mod measure_rotations;
pub mod purge_vault_secret;
pub mod recover_vault_secret;
pub mod reloader;
pub mod revoke_access;
pub mod script;
pub mod set_vault_secret;
pub mod sleep;
pub mod upgrade;
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

    /// The names it refers to, which the scenario must declare (checked when it loads).
    fn references(&self) -> References<'_> {
        References::default()
    }
}

/// The names a step refers to: each must be declared by the scenario, which refuses to load
/// otherwise, pointing at the name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct References<'a> {
    /// A vault under `azure.vaults` (absent: the first one).
    pub vault: Option<&'a str>,
    /// An app under `azure.apps`.
    pub app: Option<&'a str>,
    /// An app or a managed identity under `azure.apps` / `azure.managedIdentities`.
    pub principal: Option<&'a str>,
    /// A variable the step sets, for the steps after it.
    pub bind: Option<&'a str>,
    /// A component the scenario installs with `install: helm`.
    pub helm_component: Option<operator::Operator>,
}

/// Declares [`StepKind`] once: each variant with its doc (the schema's description), its step
/// type and its YAML key; the enum, the key list and every dispatch follow from it.
macro_rules! step_kinds {
    ($($(#[$doc:meta])* $variant:ident($step:ty) = $name:literal,)*) => {
        /// Every step kind. YAML: `- setVaultSecret: {...}` (externally tagged, camelCase).
        #[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase")]
        pub enum StepKind {
            $($(#[$doc])* $variant($step),)*
        }

        impl StepKind {
            /// The YAML key of each kind, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The YAML key of this kind.
            #[must_use]
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// The one place a variant becomes its [`Step`].
            fn step(&self) -> &dyn StepInfo {
                match self {
                    $(Self::$variant(s) => s,)*
                }
            }

            /// Runs the step (static dispatch: `async fn` in traits is not object safe).
            pub async fn run(&self, cx: &mut StepContext<'_>) -> Result<StepOutcome, StepError> {
                match self {
                    $(Self::$variant(s) => s.run(cx).await,)*
                }
            }
        }
    };
}

step_kinds! {
    /// Sets a secret in a vault (a new version).
    SetVaultSecret(set_vault_secret::SetVaultSecret) = "setVaultSecret",
    /// Disables a secret's latest version.
    DisableVaultSecret(disable_vault_secret::DisableVaultSecret) = "disableVaultSecret",
    /// Enables a secret's latest version.
    EnableVaultSecret(enable_vault_secret::EnableVaultSecret) = "enableVaultSecret",
    /// Soft-deletes a secret.
    DeleteVaultSecret(delete_vault_secret::DeleteVaultSecret) = "deleteVaultSecret",
    /// Recovers a soft-deleted secret.
    RecoverVaultSecret(recover_vault_secret::RecoverVaultSecret) = "recoverVaultSecret",
    /// Purges a soft-deleted secret.
    PurgeVaultSecret(purge_vault_secret::PurgeVaultSecret) = "purgeVaultSecret",
    /// Adds a client secret to an app.
    AddClientSecret(add_client_secret::AddClientSecret) = "addClientSecret",
    /// Expires an app's client secrets.
    ExpireClientSecret(expire_client_secret::ExpireClientSecret) = "expireClientSecret",
    /// Adds a federated identity credential to an app or managed identity.
    Federate(federate::Federate) = "federate",
    /// Gives a principal a role or access-policy permissions on a vault.
    GrantAccess(grant_access::GrantAccess) = "grantAccess",
    /// Takes a role or access-policy permissions away.
    RevokeAccess(revoke_access::RevokeAccess) = "revokeAccess",
    /// Moves the fakes' clock.
    AdvanceClock(advance_clock::AdvanceClock) = "advanceClock",
    /// Makes the next Key Vault requests fail.
    InjectFault(inject_fault::InjectFault) = "injectFault",
    /// Cancels injected faults.
    ClearFaults(clear_faults::ClearFaults) = "clearFaults",
    /// Counts Key Vault requests in the audit log.
    ExpectAudit(expect_audit::ExpectAudit) = "expectAudit",
    /// Waits a fixed time.
    Sleep(sleep::Sleep) = "sleep",
    /// Runs a shell command with the scenario's environment.
    Script(script::Script) = "script",
    /// Server-side applies manifests.
    Apply(apply::Apply) = "apply",
    /// Deletes an object.
    Delete(delete::Delete) = "delete",
    /// Polls until an object matches a partial object.
    Assert(assert::Assert) = "assert",
    /// Polls until an object is gone.
    AssertAbsent(assert_absent::AssertAbsent) = "assertAbsent",
    /// Polls until an object's condition has a status.
    Wait(wait::Wait) = "wait",
    /// Annotates an ExternalSecret with `force-sync=<unix time>`.
    ForceSync(force_sync::ForceSync) = "forceSync",
    /// Polls until a Secret's decoded data equals the given map.
    ExpectSecret(expect_secret::ExpectSecret) = "expectSecret",
    /// Checks that a Deployment was restarted exactly N times and others were not.
    ExpectRollout(expect_rollout::ExpectRollout) = "expectRollout",
    /// Polls until an object has an event with a reason and message.
    ExpectEvent(expect_event::ExpectEvent) = "expectEvent",
    /// Polls until the app's log shows a text (real node).
    ExpectLog(expect_log::ExpectLog) = "expectLog",
    /// Runs a command in the app's container (real node).
    Exec(exec::Exec) = "exec",
    /// Polls until a file in the app's container has a content (real node).
    ExpectFile(expect_file::ExpectFile) = "expectFile",
    /// Stops, starts or restarts the scenario's own Reloader.
    Reloader(reloader::ReloaderStep) = "reloader",
    /// Stops, starts or restarts the plane's ESO.
    Eso(eso::EsoStep) = "eso",
    /// Upgrades a Helm release of the scenario with changed values.
    Upgrade(upgrade::Upgrade) = "upgrade",
    /// Rotates a vault secret N times and reports how long each hop to the app took.
    MeasureRotations(measure_rotations::MeasureRotations) = "measureRotations",
}

impl StepKind {
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

    /// The names the step refers to.
    #[must_use]
    pub fn references(&self) -> References<'_> {
        self.step().references()
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
}

/// The object-safe half of [`Step`].
trait StepInfo {
    fn describe(&self) -> String;
    fn needs_cluster(&self) -> bool;
    fn changes_shared_state(&self) -> bool;
    fn references(&self) -> References<'_>;
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
    fn references(&self) -> References<'_> {
        Step::references(self)
    }
}
