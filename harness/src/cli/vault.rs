//! `harness vault`: look at and change a running bench's secrets through fake-akv's admin API
//! (no token, values shown).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::admin::Admin;
use crate::serve::DEFAULT_VAULT;

/// Flags of `harness vault`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The running bench's state directory.
    #[arg(long, env = "HARNESS_STATE_DIR", global = true)]
    state_dir: Option<PathBuf>,
    /// The vault.
    #[arg(long, default_value = DEFAULT_VAULT, global = true)]
    vault: String,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Add a version of a secret.
    Set {
        /// Secret name.
        name: String,
        /// Value.
        value: String,
    },
    /// Print a secret's latest value (disabled or soft-deleted ones too).
    Get {
        /// Secret name.
        name: String,
        /// Print the whole record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the vault's secrets, soft-deleted ones included.
    List,
    /// Soft-delete a secret.
    Delete {
        /// Secret name.
        name: String,
    },
    /// Disable a secret's latest version (reads answer 403 Forbidden, SecretDisabled).
    Disable {
        /// Secret name.
        name: String,
    },
    /// Enable a secret's latest version again.
    Enable {
        /// Secret name.
        name: String,
    },
    /// Purge a soft-deleted secret for good (purge protection does not stop the operator).
    Purge {
        /// Secret name.
        name: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let admin = Admin::connect(&super::state_dir(args.state_dir)?)?;
    let vault = args.vault.as_str();
    super::block_on(async {
        match args.action {
            Action::Set { name, value } => {
                let set = admin.set_secret(vault, &name, &value).await?;
                println!("{name} version {}", set.version);
            }
            Action::Get { name, json } => {
                let secret = admin.get_secret(vault, &name).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&secret)?);
                } else {
                    println!("{}", secret.value);
                }
            }
            Action::List => {
                let secrets = admin.list_secrets(vault).await?;
                println!(
                    "{:<32} {:<32} {:>8} {:<8} {:<20}",
                    "NAME", "VERSION", "VERSIONS", "STATE", "UPDATED"
                );
                for s in secrets {
                    let state = if s.deleted.is_some() {
                        "deleted"
                    } else if !s.enabled {
                        "disabled"
                    } else {
                        "enabled"
                    };
                    println!(
                        "{:<32} {:<32} {:>8} {:<8} {:<20}",
                        s.name,
                        s.version,
                        s.versions,
                        state,
                        unix_time(s.updated)
                    );
                }
            }
            Action::Delete { name } => {
                let deleted = admin.delete_secret(vault, &name).await?;
                println!(
                    "{name} deleted; recoverable until {}",
                    deleted
                        .scheduled_purge
                        .map_or_else(|| "-".to_owned(), unix_time)
                );
            }
            Action::Disable { name } => {
                let secret = admin.enable_secret(vault, &name, false).await?;
                println!("{name} version {} disabled", secret.version);
            }
            Action::Enable { name } => {
                let secret = admin.enable_secret(vault, &name, true).await?;
                println!("{name} version {} enabled", secret.version);
            }
            Action::Purge { name } => {
                admin.purge_secret(vault, &name).await?;
                println!("{name} purged");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Unix seconds as RFC 3339 (UTC).
pub(super) fn unix_time(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".to_owned())
}
