//! `harness audit`: what both fakes saw, as one table in time order.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

use crate::admin::Admin;

/// Flags of `harness audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The running bench's state directory.
    #[arg(long, env = "HARNESS_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Only entries after this sequence number (each fake numbers its own log from 1).
    #[arg(long, default_value_t = 0)]
    since: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let admin = Admin::connect(&super::state_dir(args.state_dir)?)?;
    super::block_on(async {
        let mut rows: Vec<[String; 7]> = Vec::new();
        for e in admin.aad_audit(args.since).await? {
            rows.push([
                field(&e["time"]),
                format!("aad#{}", field(&e["seq"])),
                field(&e["clientId"]),
                format!("token {} {}", field(&e["endpoint"]), field(&e["grant"])),
                field(&e["tenant"]),
                field(&e["resource"]),
                field(&e["outcome"]),
            ]);
        }
        for e in admin.akv_audit(args.since).await? {
            rows.push([
                field(&e["time"]),
                format!("akv#{}", field(&e["seq"])),
                e.get("callerAppid").map_or_else(|| "-".to_owned(), field),
                format!("{} {}", field(&e["method"]), field(&e["operation"])),
                field(&e["vault"]),
                e.get("objectName").map_or_else(|| "-".to_owned(), field),
                field(&e["status"]),
            ]);
        }
        // Stable: within one second, each fake's own order is kept.
        rows.sort_by(|a, b| a[0].cmp(&b[0]));
        println!(
            "{:<20} {:<9} {:<36} {:<28} {:<36} {:<28} RESULT",
            "TIME", "ENTRY", "CLIENT", "OPERATION", "TENANT/VAULT", "RESOURCE/OBJECT"
        );
        for row in rows {
            let [time, entry, client, operation, target, object, result] = row;
            let time = super::vault::unix_time(time.parse::<i64>().unwrap_or(0));
            println!(
                "{time:<20} {entry:<9} {client:<36} {operation:<28} {target:<36} {object:<28} {result}"
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn field(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}
