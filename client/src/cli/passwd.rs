//! `cairn passwd`: changes the account's password. The server signs out every other
//! session; this one stays logged in. `--forgot` mails a one-time code to an
//! account's address; `--code` sets a new password with it (every session ends).

use cairn_common::api::PasswordChange;
use cairn_common::api::endpoints;
use cairn_common::api::invitations::{ForgotPassword, ResetPassword};

use super::password;
use crate::paths::Paths;
use crate::sync::{Session, SyncError};

/// Change your password on the server.
///
/// Asks for the current and the new password (the new one twice at a terminal).
/// Your other sessions are signed out; this one stays logged in.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn passwd
  printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | cairn passwd --password-stdin
  cairn passwd --forgot --email ana@example.com [--server https://cairn.example.com]
  cairn passwd --code 3f9c… --email ana@example.com")]
pub struct Args {
    /// Read the current and the new password as two lines of standard input
    /// (with --code: the new password, one line)
    #[arg(long)]
    password_stdin: bool,
    /// Forgot the password: mail a one-time code to the account's address
    #[arg(long, requires = "email", conflicts_with = "code")]
    forgot: bool,
    /// Choose a new password with the code from the mail
    #[arg(long, requires = "email")]
    code: Option<String>,
    /// The account's e-mail address (with --forgot or --code)
    #[arg(long)]
    email: Option<String>,
    /// The server, when this device is not logged in to it
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Also trust the CA certificate(s) in this PEM file (with --server)
    #[arg(
        long,
        value_name = "PEM",
        conflicts_with = "fingerprint",
        requires = "server"
    )]
    ca_file: Option<std::path::PathBuf>,
    /// Trust exactly the certificate with this SHA-256 fingerprint (with --server)
    #[arg(long, value_name = "SHA256", requires = "server")]
    fingerprint: Option<String>,
}

/// A client of the server named by `--server`, or of this device's session.
fn server_client(paths: &Paths, args: &Args) -> anyhow::Result<crate::sync::Client> {
    if let Some(url) = &args.server {
        let url = crate::sync::check_url(url)?;
        let trust =
            crate::sync::Trust::from_options(args.ca_file.as_deref(), args.fingerprint.as_deref())?;
        return Ok(crate::sync::Client::new(&url, &trust)?);
    }
    let session = Session::load(&paths.data_dir)?.ok_or_else(|| {
        anyhow::anyhow!(
            "this device is not logged in to a server: name it with --server https://HOST"
        )
    })?;
    let trust = session.trust.clone();
    Ok(crate::sync::Client::new(&session.server, &trust)?)
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    if let (true, Some(email)) = (args.forgot, &args.email) {
        server_client(paths, args)?.call::<endpoints::PasswordForgot>(&ForgotPassword {
            email: email.clone(),
        })?;
        return Ok(format!(
            "If {email} has an account there, a mail with a one-time code is on its way; it \
             works for an hour: cairn passwd --code CODE --email {email}\n"
        ));
    }
    if let (Some(code), Some(email)) = (&args.code, &args.email) {
        let mut prompts = vec!["New password: "];
        if password::interactive(args.password_stdin) {
            prompts.push("New password again: ");
        }
        let secrets = password::read(&prompts, args.password_stdin)?;
        if secrets.len() == 2 && secrets[0] != secrets[1] {
            anyhow::bail!("the two new passwords differ; nothing was changed, try again");
        }
        server_client(paths, args)?.call::<endpoints::PasswordReset>(&ResetPassword {
            email: email.clone(),
            code: code.clone(),
            new_password: secrets.into_iter().next().unwrap_or_default(),
        })?;
        return Ok(format!(
            "New password set for {email}; every session of the account was signed out: \
             log in again with `cairn login`.\n"
        ));
    }
    let session = Session::load(&paths.data_dir)?.ok_or(SyncError::NotLoggedIn)?;
    let mut prompts = vec!["Current password: ", "New password: "];
    if password::interactive(args.password_stdin) {
        prompts.push("New password again: ");
    }
    let secrets = password::read(&prompts, args.password_stdin)?;
    if secrets.len() == 3 && secrets[1] != secrets[2] {
        anyhow::bail!("the two new passwords differ; nothing was changed, try again");
    }
    let mut secrets = secrets.into_iter();
    let change = PasswordChange {
        current: secrets.next().unwrap_or_default(),
        new: secrets.next().unwrap_or_default(),
    };
    session.client()?.call::<endpoints::Password>(&change)?;
    Ok(format!(
        "Password changed for {}. Your other sessions were signed out; this one stays logged in.\n",
        session.user.email
    ))
}
