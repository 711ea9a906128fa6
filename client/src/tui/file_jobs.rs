//! The work behind the TUI's file commands, off the screen's thread where it may be
//! slow. Fetching a file's content (from the cache, else downloaded: seconds or
//! minutes) and copying it out runs on a thread of its own, one job at a time,
//! answering with [`Action::FileJobDone`]. Listing a folder for path completion
//! runs on a short thread of its own ([`FileJobs::list_dir`]): a folder of thousands
//! of entries, or one on a network mount, must not freeze typing. Checking which
//! files are on this device is a few system calls and runs on the driver's thread,
//! as reading one record does.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};

use cairn_common::RecordId;

use super::action::{Action, FileJob, FileJobDone, FileJobProblem, FileJobReport};
use super::opener::Opener;
use super::path_input::DirEntry;
use super::text;
use crate::files::{self, FileCache, FileInfo};
use crate::replica::Replica;
use crate::sync::Session;

/// Most entries of one folder offered for completion: a folder with more is
/// better narrowed by typing.
const MAX_LISTED: usize = 5000;

/// A path as typed, with `~` and `~/…` standing for the home folder; other text
/// unchanged (relative paths are taken from where cairn was started).
#[must_use]
pub fn expand(typed: &str) -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    match (typed.strip_prefix('~'), home) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(typed),
    }
}

/// The entries of the folder `dir` as typed (`""` is the current folder), for
/// completion; names that are not UTF-8 are left out, as they could not be typed.
///
/// # Errors
/// A message for a folder that cannot be read.
pub fn list_dir(dir: &str) -> Result<Vec<DirEntry>, String> {
    let path = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        expand(dir)
    };
    let entries = std::fs::read_dir(&path).map_err(|e| text::cannot_list(dir, &e))?;
    let mut out = Vec::new();
    for entry in entries.flatten().take(MAX_LISTED) {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Followed, so a link to a folder completes like the folder.
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        out.push(DirEntry { name, is_dir });
    }
    Ok(out)
}

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

/// What a job needs besides the job itself.
pub struct JobContext {
    pub replica: Replica,
    /// Where the session is (`cairn login`), for downloads.
    pub data_dir: PathBuf,
    /// Where copies to open go: private, removed when the TUI ends; `None` when it
    /// could not be made (opening then says so).
    pub open_dir: Option<PathBuf>,
    pub opener: Opener,
    /// For a desktop opener that fails after it started.
    pub replies: Option<Sender<Action>>,
}

/// Runs one job and says how it went.
#[must_use]
pub fn perform(context: &JobContext, job: &FileJob) -> FileJobReport {
    let info = match context.replica.record(&job.file()) {
        Ok(Some(state)) => FileInfo::of(&state),
        _ => None,
    };
    let Some(info) = info else {
        return FileJobReport {
            job: job.clone(),
            name: String::new(),
            outcome: Err(FileJobProblem::Failed(text::NOT_A_FILE.to_owned())),
        };
    };
    let outcome = fetch(context, &info).and_then(|cached| match job {
        FileJob::Open { .. } => open(context, &info, &cached),
        FileJob::SaveAs { to, overwrite, .. } => save_as(&info, &cached, to, *overwrite),
    });
    FileJobReport {
        job: job.clone(),
        name: info.name,
        outcome,
    }
}

/// The content in the cache: already here, else downloaded with the session.
fn fetch(context: &JobContext, info: &FileInfo) -> Result<PathBuf, FileJobProblem> {
    let failed = |e: &dyn std::fmt::Display| FileJobProblem::Failed(e.to_string());
    let cache = FileCache::new(context.replica.dir());
    // The session (and its TLS setup) only when there is something to download.
    let client = if cache.has(info.space, &info.sha256) {
        None
    } else {
        match Session::load(&context.data_dir) {
            Ok(Some(session)) => Some(session.client().map_err(|e| failed(&e))?),
            Ok(None) => None,
            Err(e) => return Err(failed(&e)),
        }
    };
    files::open(&context.replica, client.as_ref(), info).map_err(|e| failed(&e))
}

/// Copies the content under its own name into the private folder (read-only: it
/// is a copy to look at, and changes to it are not kept) and opens it.
fn open(
    context: &JobContext,
    info: &FileInfo,
    cached: &Path,
) -> Result<FileJobDone, FileJobProblem> {
    let failed = |e: io::Error| FileJobProblem::Failed(text::cannot_copy_to_open(&e));
    let Some(open_dir) = &context.open_dir else {
        return Err(FileJobProblem::Failed(text::NO_OPEN_DIR.to_owned()));
    };
    // One folder per file: two files of the same name do not overwrite each other.
    let dir = open_dir.join(info.id.short());
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let copy = dir.join(files::safe_name(&info.name));
    match std::fs::remove_file(&copy) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(failed(e)),
        _ => {}
    }
    std::fs::copy(cached, &copy).map_err(failed)?;
    let mut permissions = std::fs::metadata(&copy).map_err(failed)?.permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&copy, permissions).map_err(failed)?;
    match &context.opener {
        Opener::Terminal(command) => Ok(FileJobDone::RunInTerminal {
            command: command.clone(),
            path: copy,
        }),
        Opener::Desktop(program) => {
            super::opener::open_detached(program, &copy, &info.name, context.replies.clone())
                .map_err(FileJobProblem::Failed)?;
            Ok(FileJobDone::Opened {
                program: program.clone(),
            })
        }
    }
}

/// Copies the content to `to` as typed (into it, under the file's name, when it is
/// a folder), never over an existing file unless `overwrite`.
fn save_as(
    info: &FileInfo,
    cached: &Path,
    to: &str,
    overwrite: bool,
) -> Result<FileJobDone, FileJobProblem> {
    let mut target = expand(to.trim());
    if to.trim_end().ends_with('/') || target.is_dir() {
        target.push(files::safe_name(&info.name));
    }
    let failed = |e: io::Error| FileJobProblem::Failed(text::cannot_save_to(&target, &e));
    if overwrite {
        std::fs::copy(cached, &target).map_err(failed)?;
        return Ok(FileJobDone::Saved { to: target });
    }
    // Created only if absent, in one step: nothing that appears meanwhile is
    // overwritten either.
    let mut out = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
    {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(FileJobProblem::Exists(target));
        }
        Err(e) => return Err(failed(e)),
    };
    let copied = std::fs::File::open(cached)
        .and_then(|mut input| io::copy(&mut input, &mut out))
        .and_then(|_| out.sync_all());
    if let Err(e) = copied {
        // Half a file must not be left where the person will look for the whole.
        let _ = std::fs::remove_file(&target);
        return Err(failed(e));
    }
    Ok(FileJobDone::Saved { to: target })
}

/// A temporary folder only its owner may enter: the copies opened are people's
/// documents, and even their names say something. (Temporary folders are made
/// with the umask's permissions otherwise, usually 0755.)
fn private_temp_dir() -> io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("cairn-open-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder.tempdir()
}

/// The thread that runs the jobs, and the private folder of opened copies.
pub struct FileJobs {
    jobs: Sender<FileJob>,
    /// For listings, which run beside the jobs.
    replies: Sender<Action>,
    /// Removed (with the copies) when the TUI ends.
    _open_dir: Option<tempfile::TempDir>,
}

impl FileJobs {
    /// Starts the thread; it answers on `replies`.
    #[must_use]
    pub fn spawn(replica: Replica, data_dir: PathBuf, replies: Sender<Action>) -> Self {
        // Without it only opening fails, and says so; saving elsewhere still works.
        let open_dir = private_temp_dir().ok();
        let context = JobContext {
            replica,
            data_dir,
            open_dir: open_dir.as_ref().map(|d| d.path().to_owned()),
            opener: Opener::from_env(),
            replies: Some(replies.clone()),
        };
        let (jobs, inbox) = channel::<FileJob>();
        let answers = replies.clone();
        std::thread::spawn(move || {
            for job in inbox {
                if answers
                    .send(Action::FileJobDone(perform(&context, &job)))
                    .is_err()
                {
                    // The UI is gone: nobody waits for files any more.
                    return;
                }
            }
        });
        Self {
            jobs,
            replies,
            _open_dir: open_dir,
        }
    }

    /// Lists the folder `dir` (as typed) on a thread of its own, answering with
    /// [`Action::DirListed`]. A listing that comes after the typed folder changed
    /// is ignored by the path input.
    pub fn list_dir(&self, dir: String) {
        let replies = self.replies.clone();
        let typed = dir.clone();
        let spawned = std::thread::Builder::new()
            .name("cairn-list-dir".into())
            .spawn(move || {
                let result = list_dir(&typed);
                // The UI may be gone meanwhile: nobody waits for the listing then.
                let _ = replies.send(Action::DirListed { dir: typed, result });
            });
        if spawned.is_err() {
            // No thread to be had: listed here, as before, rather than not at all.
            let result = list_dir(&dir);
            let _ = self.replies.send(Action::DirListed { dir, result });
        }
    }

    /// Queues a job. Should the thread be gone, the answer is a failure to show.
    #[must_use]
    pub fn send(&self, job: FileJob) -> Option<Action> {
        let failed = self.jobs.send(job).err()?;
        Some(Action::FileJobDone(FileJobReport {
            job: failed.0,
            name: String::new(),
            outcome: Err(FileJobProblem::Failed(text::FILE_JOBS_GONE.to_owned())),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder's entries come with whether each is a folder, a link to a folder
    /// counting as one; a missing folder is a message naming it.
    #[test]
    fn listing_marks_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), "a").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("link")).expect("link");
        let typed = format!("{}/", dir.path().display());
        let mut listed = list_dir(&typed).expect("listed");
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        let folders: Vec<(&str, bool)> =
            listed.iter().map(|e| (e.name.as_str(), e.is_dir)).collect();
        let mut expected = vec![("a.txt", false), ("sub", true)];
        #[cfg(unix)]
        expected.insert(1, ("link", true));
        assert_eq!(folders, expected);
        let missing = format!("{}/nope/", dir.path().display());
        let err = list_dir(&missing).expect_err("missing");
        assert!(err.contains("nope"), "{err}");
    }

    /// A listing is answered on the replies channel, from a thread of its own, with
    /// the folder as typed so that the path input can tell it is still wanted.
    #[test]
    fn listings_answer_from_beside_the_screen() {
        let home = tempfile::tempdir().expect("tempdir");
        let replica = Replica::open(home.path()).expect("replica");
        let (replies, answers) = channel();
        let jobs = FileJobs::spawn(replica, home.path().to_owned(), replies);
        std::fs::write(home.path().join("plan.pdf"), "p").expect("write");
        let typed = format!("{}/", home.path().display());
        jobs.list_dir(typed.clone());
        let answer = answers
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("an answer");
        let Action::DirListed { dir, result } = answer else {
            panic!("not a listing: {answer:?}");
        };
        assert_eq!(dir, typed);
        let names: Vec<String> = result
            .expect("listed")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.iter().any(|n| n == "plan.pdf"), "{names:?}");
    }

    /// The folder of opened copies is its owner's alone.
    #[cfg(unix)]
    #[test]
    fn opened_copies_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_temp_dir().expect("made");
        let mode = std::fs::metadata(dir.path())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    /// `~` and `~/…` are the home folder; anything else stays as typed.
    #[test]
    fn tilde_is_home() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            return;
        };
        let home = PathBuf::from(home);
        assert_eq!(expand("~"), home);
        assert_eq!(expand("~/docs/a.pdf"), home.join("docs/a.pdf"));
        assert_eq!(expand("~other/a"), PathBuf::from("~other/a"));
        assert_eq!(expand("rel/~/a"), PathBuf::from("rel/~/a"));
    }
}
