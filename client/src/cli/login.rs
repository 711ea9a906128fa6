//! `cairn login URL --email E`: logs in to a sync server, keeps the session, makes the
//! records made so far part of the account's personal space, and syncs once.

use std::io::IsTerminal;
use std::path::PathBuf;

use cairn_common::api::{Empty, LoginRequest, LoginResponse, endpoints};

use super::password;
use crate::paths::Paths;
use crate::replica::{Replica, ReplicaError};
use crate::sync::{Client, Session, SyncError, Trust, check_url, sync_round_showing};
use cairn_common::progress::Progress;

/// Log in to a Cairn server and sync.
///
/// Records made before the first login are kept and join your personal space on the
/// server. The server's certificate is checked against the system's roots, or the CA
/// in --ca-file, or exactly the certificate with the --fingerprint that
/// `cairn-server init` printed.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn login https://cairn.example.com --email ana@example.com
  cairn login https://10.0.0.5:8443 --email admin --fingerprint 3A:91:...:7C
  printf '%s\\n' \"$PW\" | cairn login https://cairn.example.com --email ana@example.com --password-stdin")]
pub struct Args {
    /// The server, https://HOST[:PORT]
    url: String,
    /// Your e-mail address (or `admin` for the standard account)
    #[arg(long)]
    email: String,
    /// Read the password from the first line of standard input
    #[arg(long)]
    password_stdin: bool,
    /// Also trust the CA certificate(s) in this PEM file
    #[arg(long, value_name = "PEM", conflicts_with = "fingerprint")]
    ca_file: Option<PathBuf>,
    /// Trust exactly the certificate with this SHA-256 fingerprint
    #[arg(long, value_name = "SHA256")]
    fingerprint: Option<String>,
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let url = check_url(&args.url)?;
    let trust = Trust::from_options(args.ca_file.as_deref(), args.fingerprint.as_deref())?;
    // Check the trust setup before asking for a password.
    trust.client_config()?;
    let replica = match Replica::open(&paths.data_dir) {
        Ok(replica) => replica,
        // The TUI cannot log in for us: the login changes who the data belongs to.
        Err(ReplicaError::Locked { dir }) => anyhow::bail!(
            "another cairn (the TUI?) is using {dir:?}, and logging in changes who that data              belongs to; close it and run `cairn login` again"
        ),
        Err(e) => return Err(e.into()),
    };
    let prompt = format!("Password for {}: ", args.email);
    let secret = password::read(&[&prompt], args.password_stdin)?;
    let client = Client::new(&url, &trust)?;
    let answer: LoginResponse = client.call::<endpoints::Login>(&LoginRequest {
        email: args.email.clone(),
        password: secret.into_iter().next().unwrap_or_default(),
        device: device_name(),
    })?;
    settle(paths, &replica, &url, trust, answer)
}

/// After a login (or a join): keeps the session, makes the records made so far
/// the account's, and syncs once, accepting the privacy notice first at a
/// terminal if the server asks for it. What to print.
///
/// # Errors
/// A replica of another account, or a storage error; a failed first sync is an
/// error that says to run `cairn sync`.
pub(super) fn settle(
    paths: &Paths,
    replica: &Replica,
    url: &str,
    trust: Trust,
    answer: LoginResponse,
) -> anyhow::Result<String> {
    if replica.is_adopted()? && replica.identity().user != answer.user.id {
        // Leave no unused session behind on the server.
        let _ = Client::new(url, &trust).map(|c| {
            c.with_token(&answer.token)
                .call::<endpoints::Logout>(&Empty)
        });
        return Err(ReplicaError::OtherAccount {
            dir: paths.data_dir.clone(),
        }
        .into());
    }
    let session = Session {
        server: url.to_owned(),
        trust,
        token: answer.token,
        user: answer.user,
        personal_space: answer.personal_space,
        expires_at_ms: answer.expires_at_ms,
    };
    session.save(&paths.data_dir)?;
    let adopted = replica.adopt_identity(session.user.id, session.personal_space)?;
    let mut out = format!("Logged in to {url} as {}.\n", session.user.email);
    if !adopted.records.is_empty() {
        out.push_str(&format!(
            "{} record(s) made on this device join your personal space.\n",
            adopted.records.len()
        ));
    }
    if answer.must_change_password {
        out.push_str(
            "This account must change its password before it can sync: run `cairn passwd`, then `cairn sync`.\n",
        );
        return Ok(out);
    }
    let client = session.client()?;
    let progress = Progress::new("first sync: changes pulled", None, false);
    let summary = match sync_round_showing(replica, &client, true, &progress) {
        Err(SyncError::Consent { .. }) if std::io::stdin().is_terminal() => {
            progress.finish();
            super::consent::accept(&client, false)?;
            sync_round_showing(replica, &client, true, &progress)
        }
        other => other,
    };
    progress.finish();
    match summary {
        Ok(summary) => out.push_str(&summary.describe()),
        Err(SyncError::Consent { message }) => {
            out.push_str(&format!("{message}\n"));
        }
        Err(e) => {
            return Err(anyhow::Error::from(e)
                .context("logged in, but the first sync failed; run `cairn sync` to try again"));
        }
    }
    Ok(out)
}

/// The session's name in the server's session list.
pub(super) fn device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("cairn on {host}"),
        None => "cairn".to_owned(),
    }
}
