//! `cairn passwd`: changes the account's password. The server signs out every other
//! session; this one stays logged in.

use cairn_common::api::PasswordChange;
use cairn_common::api::endpoints;

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
  printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | cairn passwd --password-stdin")]
pub struct Args {
    /// Read the current and the new password as two lines of standard input
    #[arg(long)]
    password_stdin: bool,
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
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
