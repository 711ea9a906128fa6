//! The CLI side of admin commands: on a stopped data dir, take its lock and run
//! the command on the store directly; on a running server's data dir (locked),
//! send it to the server's control socket, showing the progress it forwards.

use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::Context;
use cairn_common::progress::{Quiet, Report, Unit};

use super::execute;
use super::protocol::{
    AdminAnswer, AdminRequest, AdminResponse, MAX_RESPONSE_BYTES, ProgressUpdate, read_frame,
    write_frame,
};
use crate::backup::Backups;
use crate::datadir::DataDir;
use crate::mail::Mailer;
use crate::settings::{Settings, StoreBackend};
use crate::store::{Store, StoreError, wait};

/// How long the CLI waits for the next message of a running server: a command
/// that works sends one at least every [`super::control::HEARTBEAT_EVERY`], so a
/// silence this long means the server is stuck, however long the command takes.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `request` on the data dir, directly or through the running server.
///
/// # Errors
/// If the dir is not a data dir, the store cannot be opened, or the running
/// server cannot be reached. A refused command is `Ok(AdminResponse::Failed)`.
pub fn send(data_dir: &DataDir, request: AdminRequest) -> anyhow::Result<AdminResponse> {
    send_reporting(data_dir, request, &Quiet)
}

/// [`send`], reporting the command's progress to `progress`, whether it runs here
/// or in the running server.
///
/// # Errors
/// As [`send`].
pub fn send_reporting(
    data_dir: &DataDir,
    request: AdminRequest,
    progress: &dyn Report,
) -> anyhow::Result<AdminResponse> {
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
                let response = execute(&store, &backups, &mailer, request, progress).await;
                store.flush().await?;
                Ok::<_, StoreError>(response)
            })?;
            drop(lock);
            Ok(response)
        }
        None => through_socket(data_dir, request, progress),
    }
}

fn through_socket(
    data_dir: &DataDir,
    request: AdminRequest,
    progress: &dyn Report,
) -> anyhow::Result<AdminResponse> {
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
    let mut mirror = Mirror::default();
    loop {
        let answer = read_frame(&mut stream, MAX_RESPONSE_BYTES).with_context(|| {
            format!(
                "reading the server's answer from {}; if the server runs another version, use \
                 the cairn-server binary of the same version, otherwise see the server's log",
                path.display()
            )
        })?;
        match answer {
            AdminAnswer::Working => {}
            AdminAnswer::Progress(update) => mirror.show(&update, progress),
            AdminAnswer::Done(response) => return Ok(response),
        }
    }
}

/// Replays the server's progress states on a local [`Report`]: a new step when the
/// step changes (or its count goes back), the difference in count otherwise.
#[derive(Default)]
struct Mirror {
    step: Option<(String, Option<u64>, Unit)>,
    done: u64,
}

impl Mirror {
    fn show(&mut self, update: &ProgressUpdate, progress: &dyn Report) {
        let step = (update.step.clone(), update.total, update.unit);
        if self.step.as_ref() != Some(&step) || update.done < self.done {
            progress.step(&update.step, update.total, update.unit);
            self.step = Some(step);
            self.done = 0;
        }
        if update.done > self.done {
            progress.add(update.done - self.done);
            self.done = update.done;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records what it is told.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Report for Recorder {
        fn step(&self, what: &str, total: Option<u64>, unit: Unit) {
            let mut seen = self.0.lock().expect("lock");
            seen.push(format!("step {what} {total:?} {unit:?}"));
        }

        fn add(&self, n: u64) {
            self.0.lock().expect("lock").push(format!("add {n}"));
        }
    }

    /// The server's states become steps and the counts between them, and a
    /// repeated state (a heartbeat) adds nothing.
    #[test]
    fn mirror_replays_states() {
        let update = |step: &str, done, total| ProgressUpdate {
            step: step.into(),
            done,
            total,
            unit: Unit::Items,
        };
        let recorder = Recorder::default();
        let mut mirror = Mirror::default();
        for state in [
            update("a", 0, Some(10)),
            update("a", 4, Some(10)),
            update("a", 4, Some(10)),
            update("a", 10, Some(10)),
            update("b", 3, None),
            update("b", 1, None),
        ] {
            mirror.show(&state, &recorder);
        }
        let seen = recorder.0.into_inner().expect("lock");
        assert_eq!(
            seen,
            [
                "step a Some(10) Items",
                "add 4",
                "add 6",
                "step b None Items",
                "add 3",
                "step b None Items",
                "add 1",
            ]
        );
    }
}
