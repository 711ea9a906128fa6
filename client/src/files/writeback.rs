//! Writing a large file to the disk while it is still being written. A download
//! is fsynced before it joins the cache (a cache entry must never be a torn file
//! after a crash); left to the end, that sync waits for the whole file (half a
//! second per GiB on the machine we bench on) after the last byte came. Asking
//! for a sync every [`EVERY`] bytes from a thread of its own keeps the disk busy
//! during the transfer, so the final sync waits only for the tail.

use std::fs::File;
use std::io;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Bytes written between two syncs asked for.
pub const EVERY: u64 = 64 << 20;

/// The syncs of one file being written. Small files never start its thread.
#[derive(Debug)]
pub struct Writeback {
    file: Option<File>,
    since: u64,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    due: SyncSender<()>,
    thread: JoinHandle<io::Result<()>>,
}

impl Writeback {
    /// Writeback for `file`; it syncs a handle of its own, so the writer goes on.
    ///
    /// # Errors
    /// The file's handle cannot be duplicated.
    pub fn of(file: &File) -> io::Result<Self> {
        Ok(Self {
            file: Some(file.try_clone()?),
            since: 0,
            running: None,
        })
    }

    /// Counts `bytes` written; every [`EVERY`] bytes a sync is asked for. One
    /// still running is not queued behind: the next one covers these bytes too.
    pub fn wrote(&mut self, bytes: usize) {
        self.since += bytes as u64;
        if self.since < EVERY {
            return;
        }
        self.since = 0;
        if self.running.is_none()
            && let Some(file) = self.file.take()
        {
            let (due, wakes) = sync_channel(1);
            match std::thread::Builder::new()
                .name("writeback".into())
                .spawn(move || sync_when_asked(&file, &wakes))
            {
                Ok(thread) => self.running = Some(Running { due, thread }),
                // No thread: the final sync does all of it, as without writeback.
                Err(_) => return,
            }
        }
        if let Some(running) = &self.running {
            match running.due.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                // The thread ended on an error, which `finish` reports.
                Err(TrySendError::Disconnected(())) => {}
            }
        }
    }

    /// Waits for the sync under way, if any; the first error a sync met.
    ///
    /// # Errors
    /// A sync failed (the disk is full or failing).
    pub fn finish(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        let Some(Running { due, thread }) = self.running.take() else {
            return Ok(());
        };
        drop(due);
        thread
            .join()
            .map_err(|_| io::Error::other("the writeback thread failed"))?
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        // A download broken off: its partial stays for the next attempt, whose
        // own syncs cover it, so an error here changes nothing.
        let _ = self.stop();
    }
}

fn sync_when_asked(file: &File, wakes: &Receiver<()>) -> io::Result<()> {
    while wakes.recv().is_ok() {
        file.sync_data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn small_files_start_no_thread() {
        let dir = tempfile::tempdir().expect("dir");
        let mut file = File::create(dir.path().join("small")).expect("file");
        let mut writeback = Writeback::of(&file).expect("writeback");
        file.write_all(&[7; 4096]).expect("write");
        writeback.wrote(4096);
        assert!(writeback.running.is_none());
        writeback.finish().expect("finish");
    }

    #[test]
    fn large_files_are_synced_while_written() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("large");
        let mut file = File::create(&path).expect("file");
        let mut writeback = Writeback::of(&file).expect("writeback");
        let block = vec![3u8; 1 << 20];
        for _ in 0..(EVERY >> 20) + 1 {
            file.write_all(&block).expect("write");
            writeback.wrote(block.len());
        }
        assert!(writeback.running.is_some(), "a sync was asked for");
        writeback.finish().expect("finish");
        assert_eq!(
            std::fs::metadata(&path).expect("meta").len(),
            EVERY + (1 << 20)
        );
    }
}
