//! Reading every record into the row index at start, on its own thread: the first
//! frame shows at once (the list fills as chunks arrive, the status bar says it is
//! loading), instead of waiting the second that 100,000 records take to decode.

use std::sync::mpsc::Sender;

use super::action::Action;
use crate::replica::Replica;

/// Records per chunk: large enough that re-sorting after each is cheap overall,
/// small enough that the list fills visibly soon.
const CHUNK: usize = 10_000;

/// Starts reading `replica`'s records; chunks arrive as [`Action::IndexChunk`], the
/// end as [`Action::IndexLoaded`].
pub fn spawn(replica: Replica, actions: Sender<Action>) {
    std::thread::spawn(move || {
        let mut chunk = Vec::with_capacity(CHUNK);
        for state in replica.records() {
            match state {
                Ok(state) => chunk.push(state),
                Err(e) => {
                    let _ = actions.send(Action::IndexLoaded(Err(e.to_string())));
                    return;
                }
            }
            if chunk.len() == CHUNK
                && actions
                    .send(Action::IndexChunk(std::mem::take(&mut chunk)))
                    .is_err()
            {
                // The UI is gone.
                return;
            }
        }
        let _ = actions.send(Action::IndexChunk(chunk));
        let _ = actions.send(Action::IndexLoaded(Ok(())));
    });
}
