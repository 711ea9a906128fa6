//! The work behind the TUI's file commands. Checking which files are on this
//! device is a few system calls and runs on the driver's thread, as reading one
//! record does.

use cairn_common::RecordId;

use crate::files::{FileCache, FileInfo};
use crate::replica::Replica;

/// Which of the file records `ids` have their content on this device; ids that
/// are no file here are left out.
#[must_use]
pub fn check_files(replica: &Replica, ids: &[RecordId]) -> Vec<(RecordId, bool)> {
    let cache = FileCache::new(replica.dir());
    ids.iter()
        .filter_map(|id| {
            let info = FileInfo::of(&replica.record(id).ok()??)?;
            Some((*id, cache.has(info.space, &info.sha256)))
        })
        .collect()
}
