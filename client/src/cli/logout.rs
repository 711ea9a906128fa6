//! `cairn logout`: ends the session on the server and forgets it here. The local data
//! stays; offline, the session is forgotten here only and the reply says so.

use cairn_common::api::Empty;
use cairn_common::api::endpoints;

use crate::paths::Paths;
use crate::sync::{FailureKind, Session, SyncError};

/// Log out of the server.
///
/// Your records stay on this device; `cairn login` again to sync them.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cairn logout")]
pub struct Args {}

pub fn run(paths: &Paths, _args: &Args) -> anyhow::Result<String> {
    let Some(session) = Session::load(&paths.data_dir)? else {
        return Ok("Not logged in; nothing to do.\n".to_owned());
    };
    let outcome = session
        .client()
        .and_then(|client| client.call::<endpoints::Logout>(&Empty));
    Session::delete(&paths.data_dir)?;
    let server = &session.server;
    Ok(match outcome {
        Ok(Empty) => format!("Logged out of {server}. Your records stay on this device.\n"),
        Err(SyncError::Unauthorized { .. }) => format!(
            "Logged out of {server} (the session had already ended there). Your records stay on this device.\n"
        ),
        Err(e) if e.kind() == FailureKind::Offline => format!(
            "The server could not be reached, so you are logged out on this device only; the \
             session ends on the server when it expires. ({e})\n"
        ),
        Err(e) => format!(
            "Logged out on this device; the server did not confirm ({e}). The session ends there when it expires.\n"
        ),
    })
}
