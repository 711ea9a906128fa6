//! Reading every record into the row index at start, on its own thread: the first
//! frame shows at once (the list fills as chunks arrive, the status bar says it is
//! loading), instead of waiting the second that 100,000 records take to decode.
//! The thread also turns each record into its row, so the UI thread only inserts rows
//! and full record states never pile up in the channel.

use std::sync::mpsc::Sender;

use super::action::Action;
use super::index::IndexEntry;
use crate::replica::Replica;

/// Records in the first chunk: few, so the first rows show soon after the replica
/// opens.
const FIRST_CHUNK: usize = 1_000;
/// Records per later chunk: large enough that re-sorting after each is cheap overall,
/// small enough that the list fills visibly soon.
const CHUNK: usize = 10_000;

/// Starts reading `replica`'s records; chunks arrive as [`Action::IndexChunk`], the
/// end as [`Action::IndexLoaded`].
pub fn spawn(replica: Replica, actions: Sender<Action>) {
    std::thread::spawn(move || {
        let mut size = FIRST_CHUNK;
        let mut chunk = Vec::with_capacity(size);
        for state in replica.records() {
            match state {
                Ok(state) => chunk.push(IndexEntry::of(&state)),
                Err(e) => {
                    let _ = actions.send(Action::IndexLoaded(Err(e.to_string())));
                    return;
                }
            }
            if chunk.len() == size {
                size = CHUNK;
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(size));
                if actions.send(Action::IndexChunk(full)).is_err() {
                    // The UI is gone.
                    return;
                }
            }
        }
        let _ = actions.send(Action::IndexChunk(chunk));
        let _ = actions.send(Action::IndexLoaded(Ok(())));
    });
}
