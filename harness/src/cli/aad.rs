//! `harness aad`: change a running bench's identities and access: app client secrets (in
//! fake-aad) and role assignments on vaults (in fake-akv).

use std::path::PathBuf;
use std::process::ExitCode;

use uuid::Uuid;

use crate::admin::Admin;
use crate::serve::DEFAULT_VAULT;

/// Flags of `harness aad`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The running bench's state directory.
    #[arg(long, env = "HARNESS_STATE_DIR", global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// An app registration's client secrets.
    Secret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Assign a Key Vault role on a vault to a principal (service principal, managed identity).
    Grant {
        /// Object id of the principal (the token's `oid`).
        #[arg(long)]
        principal: Uuid,
        /// Built-in role name, e.g. `Key Vault Secrets User`.
        #[arg(long)]
        role: String,
        /// The vault.
        #[arg(long, default_value = DEFAULT_VAULT)]
        vault: String,
        /// `/` for the whole vault, or `/secrets/{name}`.
        #[arg(long, default_value = "/")]
        scope: String,
    },
    /// Remove a principal's assignments of a role on a vault.
    Revoke {
        /// Object id of the principal.
        #[arg(long)]
        principal: Uuid,
        /// Role name.
        #[arg(long)]
        role: String,
        /// The vault.
        #[arg(long, default_value = DEFAULT_VAULT)]
        vault: String,
        /// Only the assignment at this scope.
        #[arg(long)]
        scope: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
enum SecretAction {
    /// Add a client secret (generated unless --value is given); prints key id and value.
    Add {
        /// Application (client) id or object id.
        #[arg(long)]
        app: String,
        /// The secret's value.
        #[arg(long)]
        value: Option<String>,
    },
    /// Expire the app's client secrets now (AADSTS7000222 from then on).
    Expire {
        /// Application (client) id or object id.
        #[arg(long)]
        app: String,
        /// Only this secret (key id).
        #[arg(long)]
        key: Option<Uuid>,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let admin = Admin::connect(&super::state_dir(args.state_dir)?)?;
    super::block_on(async {
        match args.action {
            Action::Secret {
                action: SecretAction::Add { app, value },
            } => {
                let secret = admin.add_app_secret(&app, value.as_deref()).await?;
                println!("key {} value {}", secret.key_id, secret.value);
            }
            Action::Secret {
                action: SecretAction::Expire { app, key },
            } => {
                for key in admin.expire_app_secrets(&app, key).await? {
                    println!("expired key {key}");
                }
            }
            Action::Grant {
                principal,
                role,
                vault,
                scope,
            } => {
                let id = admin.grant(&vault, principal, &role, &scope).await?;
                println!("{principal} holds {role} on {vault}{scope} (assignment {id})");
            }
            Action::Revoke {
                principal,
                role,
                vault,
                scope,
            } => {
                let removed = admin
                    .revoke(&vault, principal, &role, scope.as_deref())
                    .await?;
                println!("removed {removed} assignment(s) of {role} on {vault} from {principal}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
