//! `cairn join LINK`: joins a server with the one-time link of an invitation mail.
//! Shows who invited you to what, shows the privacy notice to accept, then makes
//! your account with the password and names you choose (or, if the address has an
//! account already, asks its password and adds the membership), logs in and syncs.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_common::api::invitations::{JoinCode, JoinDetails, JoinRequest};
use cairn_common::api::{LoginResponse, endpoints};

use super::{consent, password};
use crate::paths::Paths;
use crate::replica::{Replica, ReplicaError};
use crate::sync::{Client, Trust, check_url};

/// Join a Cairn server with the link from an invitation mail.
///
/// The link carries a one-time code after `#`; give the code with --code instead
/// if you have it apart. You read and accept the server's privacy notice, choose
/// your password (and give your names) for a new account, and the space you were
/// invited to is synced here.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn join 'https://cairn.example.com/join#3f9c…'
  cairn join https://cairn.example.com --code 3f9c…
  printf '%s\\n' \"$PW\" | cairn join \"$LINK\" --yes --first-name Ana --last-name Lima --password-stdin")]
pub struct Args {
    /// The link from the mail (https://HOST[:PORT]/join#CODE), or the server's address
    link: String,
    /// The code, if the link does not carry it
    #[arg(long)]
    code: Option<String>,
    /// Accept the privacy notice without asking (for scripts, after reading it)
    #[arg(long)]
    yes: bool,
    /// Your first name, for a new account
    #[arg(long)]
    first_name: Option<String>,
    /// Your last name, for a new account
    #[arg(long)]
    last_name: Option<String>,
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

/// The server's address and the code, from the link and `--code`.
fn split_link(link: &str, code: Option<&str>) -> anyhow::Result<(String, String)> {
    let (base, from_link) = match link.split_once('#') {
        Some((base, code)) => (base, Some(code)),
        None => (link, None),
    };
    let base = base.trim().trim_end_matches('/');
    let base = base.strip_suffix("/join").unwrap_or(base);
    let code = match (code, from_link) {
        (Some(code), _) => code,
        (None, Some(code)) if !code.trim().is_empty() => code,
        _ => bail!(
            "the link has no code after #; copy the whole link from the mail, or give the \
             code with --code"
        ),
    };
    Ok((base.to_owned(), code.trim().to_owned()))
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let (base, code) = split_link(&args.link, args.code.as_deref())?;
    let url = check_url(&base)?;
    let trust = Trust::from_options(args.ca_file.as_deref(), args.fingerprint.as_deref())?;
    trust.client_config()?;
    let replica = match Replica::open(&paths.data_dir) {
        Ok(replica) => replica,
        Err(ReplicaError::Locked { dir }) => bail!(
            "another cairn (the TUI?) is using {dir:?}, and joining changes who that data \
             belongs to; close it and run `cairn join` again"
        ),
        Err(e) => return Err(e.into()),
    };
    let client = Client::new(&url, &trust)?;
    let details: JoinDetails =
        client.call::<endpoints::JoinPreview>(&JoinCode { code: code.clone() })?;
    let what = match &details.space_name {
        Some(name) => format!("the space \"{name}\" as {}", details.role),
        None => "an account".to_owned(),
    };
    eprintln!(
        "{} invites {} to {what} on {url}.",
        details.invited_by, details.email
    );
    consent::ask(&details.notice, args.yes)?;
    let (first_name, last_name, secret) = if details.account_exists {
        eprintln!(
            "{} has an account here already: its password adds the membership.",
            details.email
        );
        let prompt = format!("Password of {}: ", details.email);
        let secret = password::read(&[&prompt], args.password_stdin)?;
        (
            String::new(),
            String::new(),
            secret.into_iter().next().unwrap_or_default(),
        )
    } else {
        let first = name(args.first_name.as_deref(), "First name: ")?;
        let last = name(args.last_name.as_deref(), "Last name: ")?;
        let mut prompts = vec!["Choose a password: "];
        if password::interactive(args.password_stdin) {
            prompts.push("The password again: ");
        }
        let secrets = password::read(&prompts, args.password_stdin)?;
        if secrets.len() == 2 && secrets[0] != secrets[1] {
            bail!("the two passwords differ; nothing was changed, run `cairn join` again");
        }
        (first, last, secrets.into_iter().next().unwrap_or_default())
    };
    let answer: LoginResponse = client.call::<endpoints::Join>(&JoinRequest {
        code,
        accept_version: details.notice.version.clone(),
        password: secret,
        first_name,
        last_name,
        device: super::login::device_name(),
    })?;
    let mut out = format!(
        "Joined: you accepted the privacy notice (version {}).\n",
        details.notice.version
    );
    out.push_str(&super::login::settle(paths, &replica, &url, trust, answer)?);
    Ok(out)
}

/// A name from its flag, or asked at a terminal.
fn name(given: Option<&str>, prompt: &str) -> anyhow::Result<String> {
    if let Some(name) = given {
        return Ok(name.trim().to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "a new account needs your names: give --first-name and --last-name (nothing was \
             changed)"
        );
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the name")?;
    Ok(line.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::split_link;

    /// The code comes from the link's `#`, or from --code; `/join` is not part of
    /// the server's address; a link without a code says what to do.
    #[test]
    fn links_split_into_server_and_code() {
        assert_eq!(
            split_link("https://cairn.example.com/join#abc123", None).expect("link"),
            ("https://cairn.example.com".to_owned(), "abc123".to_owned())
        );
        assert_eq!(
            split_link("https://10.0.0.5:8443/", Some(" abc ")).expect("code"),
            ("https://10.0.0.5:8443".to_owned(), "abc".to_owned())
        );
        assert!(
            split_link("https://cairn.example.com/join", None)
                .expect_err("no code")
                .to_string()
                .contains("--code")
        );
    }
}
