//! `cairn account logins [--json]`: your own logins as the server recorded them
//! (time, success or failure, network, device).

use cairn_common::api::{Empty, LoginList, endpoints};
use serde_json::json;

use super::{json_line, table};
use crate::paths::Paths;
use crate::sync::{Session, SyncError};

/// Your account on the server.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn account logins
  cairn account logins --json")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Every login to your account the server keeps, newest first: successful and
    /// failed, with the network (IPv4 /24, IPv6 /48) and the device name
    Logins {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let session = Session::load(&paths.data_dir)?.ok_or(SyncError::NotLoggedIn)?;
    let client = session.client()?;
    match &args.action {
        Action::Logins { json } => {
            let list: LoginList = client.call::<endpoints::AccountLogins>(&Empty)?;
            let when = |ms: u64| {
                i64::try_from(ms)
                    .ok()
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| {
                        t.with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string()
                    })
                    .unwrap_or_default()
            };
            if *json {
                return json_line(&json!(
                    list.logins
                        .iter()
                        .map(|l| json!({
                            "at_ms": l.at_ms,
                            "success": l.success,
                            "address": l.address,
                            "device": l.device,
                        }))
                        .collect::<Vec<_>>()
                ));
            }
            let header = ["when", "result", "network", "device"]
                .map(String::from)
                .to_vec();
            let rows: Vec<Vec<String>> = list
                .logins
                .iter()
                .map(|l| {
                    vec![
                        when(l.at_ms),
                        if l.success { "ok" } else { "failed" }.to_owned(),
                        l.address.clone().unwrap_or_else(|| "-".to_owned()),
                        l.device.clone(),
                    ]
                })
                .collect();
            Ok(table::render(&header, &rows))
        }
    }
}
