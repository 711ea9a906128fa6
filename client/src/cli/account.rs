//! `cairn account logins|consent|withdraw-consent|notifications`: your own logins as
//! the server recorded them (time, success or failure, network, device), your consent
//! to the server's privacy notice, and which mails you get.

use cairn_common::api::{Empty, LoginList, endpoints};
use serde_json::json;

use super::{consent, json_line, notifications, password, table};
use crate::paths::Paths;
use crate::sync::{Session, SyncError};

/// Your account on the server.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn account logins
  cairn account logins --json
  cairn account consent
  cairn account consent --show
  cairn account withdraw-consent
  cairn account notifications
  cairn account notifications on
  cairn account notifications on --due --follow-ups
  cairn account notifications off")]
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
    /// Read the server's privacy notice and accept it (asked at a terminal)
    Consent {
        /// Only print the notice
        #[arg(long, conflicts_with = "yes")]
        show: bool,
        /// Accept without asking (for scripts, after reading it with --show)
        #[arg(long)]
        yes: bool,
    },
    /// Withdraw your consent: your access ends at once, the owners of your spaces
    /// are told, and the server keeps or purges your data as its admin set up
    WithdrawConsent {
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Do not ask to confirm (the password still confirms it)
        #[arg(long)]
        yes: bool,
    },
    /// Which mails the server sends you (all off until you turn them on): a daily
    /// digest of what is due, and a mail when you are added to a space
    Notifications(notifications::Args),
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let session = Session::load(&paths.data_dir)?.ok_or(SyncError::NotLoggedIn)?;
    let client = session.client()?;
    match &args.action {
        Action::Consent { show: true, .. } => {
            let notice = consent::fetch(&client)?;
            Ok(format!(
                "{}

(privacy notice version {})
",
                notice.text.trim_end(),
                notice.version
            ))
        }
        Action::Consent { yes, .. } => {
            let version = consent::accept(&client, *yes)?;
            Ok(format!(
                "Accepted the privacy notice, version {version}. `cairn sync` works again.\n"
            ))
        }
        Action::WithdrawConsent {
            password_stdin,
            yes,
        } => withdraw(paths, &client, *password_stdin, *yes),
        Action::Notifications(args) => notifications::run(&client, args),
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

/// Withdraws consent after a confirmation at a terminal (or `--yes`) and the
/// password; the session is gone afterwards, so it is forgotten here too.
fn withdraw(
    paths: &Paths,
    client: &crate::sync::Client,
    password_stdin: bool,
    yes: bool,
) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if !yes {
        if !std::io::stdin().is_terminal() || password_stdin {
            anyhow::bail!(
                "withdrawing consent ends your access to this server; to go on without a \
                 terminal, add --yes"
            );
        }
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "Withdrawing your consent ends your access to this server at once, and the \
             owners of your spaces are told. Type withdraw to go on: "
        )?;
        err.flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "withdraw" {
            anyhow::bail!("not withdrawn; nothing was changed");
        }
    }
    let secret = password::read(&["Password: "], password_stdin)?;
    client.call::<endpoints::ConsentWithdraw>(&cairn_common::api::consent::WithdrawConsent {
        password: secret.into_iter().next().unwrap_or_default(),
    })?;
    crate::sync::Session::delete(&paths.data_dir)?;
    Ok(
        "Your consent is withdrawn: your access to the server has ended and this device is \
         logged out. What is on this device stays here until you delete it.\n"
            .to_owned(),
    )
}
