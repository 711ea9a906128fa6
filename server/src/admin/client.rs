//! The CLI side of admin commands: on a stopped data dir, take its lock and run
//! the command on the store directly; on a running server's data dir (locked),
//! send it to the server's control socket.

use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::Context;

use super::execute;
use super::protocol::{AdminRequest, AdminResponse, MAX_RESPONSE_BYTES, read_frame, write_frame};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::mail::Mailer;
use crate::settings::{Settings, StoreBackend};
use crate::store::{Store, StoreError, wait};

/// How long the CLI waits for a running server to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `request` on the data dir, directly or through the running server.
///
/// # Errors
/// If the dir is not a data dir, the store cannot be opened, or the running
/// server cannot be reached. A refused command is `Ok(AdminResponse::Failed)`.
pub fn send(data_dir: &DataDir, request: AdminRequest) -> anyhow::Result<AdminResponse> {
    let settings = Settings::load(data_dir.root(), std::env::vars());
    let postgres = match settings {
        Ok(settings) if settings.store.backend == StoreBackend::Postgres => Some(settings),
        Ok(_) => None,
        // A data dir without `db/` may be one on PostgreSQL whose config has an
        // error: that error says more than "not initialized".
        Err(e) if !data_dir.db().is_dir() && data_dir.config().is_file() => return Err(e.into()),
        Err(_) => None,
    };
    if postgres.is_none() {
        data_dir.check_initialized()?;
    }
    match data_dir.try_lock()? {
        Some(lock) => {
            let backups = Backups::of_data_dir(data_dir.root());
            // Mail queued here waits in the outbox for the server's next start.
            let mailer = Mailer::of_data_dir(data_dir.root());
            // One runtime for the whole command: a database pool lives on the
            // runtime that connected it.
            let response = wait(async {
                let store = match &postgres {
                    Some(settings) => settings.open_store().await?,
                    None => Store::open(&data_dir.db())?,
                };
                let response = execute(&store, &backups, &mailer, request).await;
                store.flush().await?;
                Ok::<_, StoreError>(response)
            })?;
            drop(lock);
            Ok(response)
        }
        None => through_socket(data_dir, request),
    }
}

fn through_socket(data_dir: &DataDir, request: AdminRequest) -> anyhow::Result<AdminResponse> {
    let path = data_dir.control_socket();
    let mut stream = UnixStream::connect(&path).with_context(|| {
        format!(
            "{} is in use by another cairn-server process, but its control socket {} does \
             not answer; if another admin command is running, wait for it and try again, \
             otherwise check that the server is healthy",
            data_dir.root().display(),
            path.display()
        )
    })?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    write_frame(&mut stream, &request)
        .with_context(|| format!("sending the command to {}", path.display()))?;
    read_frame(&mut stream, MAX_RESPONSE_BYTES).with_context(|| {
        format!(
            "reading the server's answer from {}; see the server's log",
            path.display()
        )
    })
}
