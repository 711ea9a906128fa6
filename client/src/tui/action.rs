//! What goes into [`App::update`](super::App::update) (actions) and what comes out
//! (effects). Actions are plain data, so the state machine can be driven by tests and
//! benches without a terminal; effects name the slow or outside work the driver does.

use cairn_common::api::consent::Notice;
use cairn_common::api::notifications::{NotificationSettings, SetNotifications};
use cairn_common::model::{RecordKind, SpaceId, Value};

use crate::replica::KnownSpace;
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;
use crossterm::event::{KeyEvent, MouseEvent};

/// Something that happened: a key, a resize, or a result of an [`Effect`].
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A key press from the terminal, read through the key bindings.
    Key(KeyEvent),
    /// A mouse event (wheel scrolls the list).
    Mouse(MouseEvent),
    /// The terminal's new size.
    Resize { width: u16, height: u16 },
    /// Types one character into the filter, opening it if it is closed.
    FilterChar(char),
    /// Text pasted into the terminal (bracketed paste): one event, whatever its lines.
    Paste(String),
    /// Runs a command directly (what the palette and key bindings lead to).
    Run(Command),
    /// The full state of a record, read for the detail pane.
    Loaded {
        id: RecordId,
        result: Result<Option<RecordState>, String>,
    },
    /// The change history of a record, one line per op.
    HistoryLoaded {
        id: RecordId,
        result: Result<Vec<HistoryLine>, String>,
    },
    /// Everything about a person, for the person screen.
    PersonLoaded(Result<crate::people::Overview, String>),
    /// Records read at start, as rows for the index (built on the loader thread).
    IndexChunk(Vec<super::index::IndexEntry>),
    /// Every record has been read at start, or why not.
    IndexLoaded(Result<(), String>),
    /// A write finished (or failed) on the worker.
    Saved(SaveReport),
    /// The external editor returned the edited text, or why it could not run.
    EditorClosed(Result<String, String>),
    /// The date changed while the app ran: overdue flags are recomputed.
    NewDay(NaiveDate),
    /// A background sync round began.
    SyncStarted,
    /// A background sync round ended.
    Synced(SyncReport),
    /// Local changes waiting to be pushed (after a write).
    Pending(usize),
    /// Hits of a search found since the last batch (see [`Effect::Search`]).
    SearchResults(super::search::SearchBatch),
    /// Records a `cairn` command from another shell changed, run over `tui.sock`.
    RecordsChanged(Vec<RecordState>),
    /// The server answered a call made outside sync (see [`Effect::Server`]).
    Server(ServerAnswer),
    /// The entries of a folder, for completing a path (see [`Effect::ListDir`]).
    DirListed {
        dir: String,
        result: Result<Vec<super::path_input::DirEntry>, String>,
    },
    /// Which files have their content on this device (see [`Effect::CheckFiles`]).
    FilesChecked(Vec<(RecordId, bool)>),
    /// A file was fetched and opened or saved elsewhere, or why not.
    FileJobDone(FileJobReport),
    /// The program that opened file `name` ended (a terminal opener) or failed
    /// (a desktop opener that had started).
    OpenerClosed {
        name: String,
        result: Result<(), String>,
    },
}

/// The outcome of a sync round, with what the app needs to show it.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncReport {
    pub result: Result<Synced, SyncProblem>,
    /// Local changes still waiting to be pushed.
    pub pending: usize,
    /// Changes kept out of sync so far (`cairn undelivered`).
    pub set_aside: crate::replica::SetAsideCounts,
}

/// What a successful round changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Synced {
    /// New states of the records the round changed.
    pub states: Vec<RecordState>,
    /// Records removed with spaces taken away.
    pub removed: Vec<RecordId>,
    /// Every known space now, with the role in it.
    pub spaces: Vec<KnownSpace>,
    pub spaces_added: Vec<String>,
    pub spaces_dropped: Vec<String>,
    /// Changes this round set aside (undelivered or quarantined).
    pub newly_set_aside: usize,
}

/// Why a sync round or another call to the server did not happen or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncProblem {
    /// No session: a local-only user; nothing is shown.
    NotLoggedIn,
    /// The server could not be reached.
    Offline,
    /// The server's privacy notice changed: it refuses everything else until the
    /// user accepts the new version.
    ConsentRequired,
    /// Anything else, with a short reason for the status bar.
    Failed(String),
}

/// Work for the driver. [`App::update`](super::App::update) never does I/O itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Read one record for the detail pane; answer with [`Action::Loaded`].
    Load(RecordId),
    /// Gather everything about a person; answer with [`Action::PersonLoaded`].
    LoadPerson(RecordId),
    /// Read a record's history; answer with [`Action::HistoryLoaded`].
    LoadHistory(RecordId),
    /// Commit a change on the worker thread; answer with [`Action::Saved`].
    Write(Write),
    /// Suspend the terminal and edit `text` (the field `label`) in `$VISUAL`/`$EDITOR`;
    /// answer with [`Action::EditorClosed`].
    OpenEditor { label: String, text: String },
    /// Run a sync round now on the sync thread; it answers with [`Action::Synced`].
    Sync,
    /// Leave the app (after pending writes are durable).
    Quit,
    /// Search every record on the search thread, stopping any older search; it
    /// answers with [`Action::SearchResults`] batches.
    Search(super::search::SearchRequest),
    /// Call the server outside sync, on the thread of such calls; it answers with
    /// [`Action::Server`].
    Server(ServerCall),
    /// List the folder `dir` as typed (`~` for home, `""` the current folder) to
    /// complete a path; answer with [`Action::DirListed`].
    ListDir { dir: String },
    /// Check which of these files have their content on this device; answer with
    /// [`Action::FilesChecked`].
    CheckFiles(Vec<RecordId>),
    /// Fetch a file's content (downloading it if need be) and open it or save it
    /// elsewhere, on the files thread; it answers with [`Action::FileJobDone`].
    FileJob(FileJob),
    /// Suspend the terminal and run the opener `command` on `path` (a copy of the
    /// file `name`); answer with [`Action::OpenerClosed`].
    RunOpener {
        name: String,
        command: Vec<String>,
        path: std::path::PathBuf,
    },
}

/// Work on a file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileJob {
    /// Open a copy with the person's opener.
    Open { file: RecordId },
    /// Copy the content to the path `to` as typed (into it, when a folder);
    /// an existing file only with `overwrite`.
    SaveAs {
        file: RecordId,
        to: String,
        overwrite: bool,
    },
}

impl FileJob {
    /// The file record the job is about.
    #[must_use]
    pub fn file(&self) -> RecordId {
        match self {
            Self::Open { file } | Self::SaveAs { file, .. } => *file,
        }
    }
}

/// How a [`FileJob`] went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileJobReport {
    pub job: FileJob,
    /// The file's name, for messages (empty if the record is no file).
    pub name: String,
    pub outcome: Result<FileJobDone, FileJobProblem>,
}

/// What a [`FileJob`] did; the content is on this device after each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileJobDone {
    /// The desktop's opener `program` was started on a copy.
    Opened { program: String },
    /// A copy is ready at `path`; `$OPENER` (`command`) needs the terminal to
    /// open it, which only the driver can hand over.
    RunInTerminal {
        command: Vec<String>,
        path: std::path::PathBuf,
    },
    /// Saved at `to`.
    Saved { to: std::path::PathBuf },
}

/// Why a [`FileJob`] did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileJobProblem {
    /// Saving would overwrite this file: the person is asked first.
    Exists(std::path::PathBuf),
    /// Anything else, said so a person knows what to do.
    Failed(String),
}

/// A call to the server that is not part of a sync round: what lives only there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerCall {
    /// Read the current privacy notice.
    FetchNotice,
    /// Accept the notice of this version (the one shown).
    AcceptNotice { version: String },
    /// Read which mails the user gets.
    LoadNotifications,
    /// Turn kinds of mail on or off.
    SetNotifications(SetNotifications),
}

/// What the server said to a [`ServerCall`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerAnswer {
    Notice(Result<Notice, SyncProblem>),
    /// The version accepted.
    NoticeAccepted(Result<String, SyncProblem>),
    /// The settings now, after a load or a change.
    Notifications(Result<NotificationSettings, SyncProblem>),
}

/// A change to commit. The worker turns it into ops with the replica's draft functions
/// (`create_ops`, `update_ops`, `delete_op`, `restore_op`, `done_ops`, `set_op`).
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    Create {
        kind: RecordKind,
        space: SpaceId,
        fields: Vec<(String, Value)>,
        today: NaiveDate,
    },
    /// Edits relative to the state the person saw, so a concurrent change elsewhere
    /// turns into a visible conflict instead of being overwritten.
    Update {
        base: Box<RecordState>,
        fields: Vec<(String, Value)>,
    },
    Delete {
        id: RecordId,
    },
    Restore {
        id: RecordId,
    },
    Done {
        id: RecordId,
        today: NaiveDate,
    },
    /// Resolves a conflict: one value replaces every current value of the field.
    Resolve {
        base: Box<RecordState>,
        field: String,
        value: Value,
    },
    /// Adds `target` to the links of `field` of record `id` (a commitment agreed in
    /// a conversation joins the note's commitments).
    Link {
        id: RecordId,
        field: String,
        target: RecordId,
    },
    /// Makes the record show what it showed right after its op `version`, with new
    /// ops on top (history view: revert to this version).
    RevertTo {
        id: RecordId,
        version: cairn_common::OpId,
    },
    /// Makes the record show what `to` showed (`None`: as if never created), with
    /// new ops on top of whatever it shows now.
    Revert {
        id: RecordId,
        to: Option<Box<RecordState>>,
        why: RevertWhy,
    },
    /// Copies the file at `path` (as typed, `~` for home) into the cache and creates
    /// its file record in `space`, attached to `record` if given; the next sync
    /// uploads the content.
    AddFile {
        path: String,
        space: SpaceId,
        record: Option<RecordId>,
        today: NaiveDate,
    },
}

/// What a [`Write::Revert`] is for: it decides which stack its own step goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevertWhy {
    Undo,
    Redo,
}

/// One change of one record as the person made it, from `before` (`None`: it did
/// not exist) to `after`: what undo goes back from and redo goes forward to.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeStep {
    pub id: RecordId,
    pub before: Option<Box<RecordState>>,
    pub after: Box<RecordState>,
}

impl Write {
    /// The record the write is about, if it exists already.
    #[must_use]
    pub fn record(&self) -> Option<RecordId> {
        match self {
            Self::Create { .. } | Self::AddFile { .. } => None,
            Self::Update { base, .. } | Self::Resolve { base, .. } => Some(base.id),
            Self::Delete { id }
            | Self::Restore { id }
            | Self::Done { id, .. }
            | Self::RevertTo { id, .. }
            | Self::Link { id, .. }
            | Self::Revert { id, .. } => Some(*id),
        }
    }
}

/// The outcome of a [`Write`].
#[derive(Clone, Debug, PartialEq)]
pub struct SaveReport {
    /// What was asked, for the status message.
    pub write: WriteKind,
    /// The new states of the records that changed, or the error to show.
    pub result: Result<Vec<RecordState>, String>,
    /// The change as a step to undo, when it changed one record.
    pub step: Option<ChangeStep>,
}

/// Which kind of write a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
    Delete,
    Restore,
    Done,
    Resolve,
    Undo,
    Redo,
    RevertTo,
    Link,
    AddFile,
}

impl From<&Write> for WriteKind {
    fn from(write: &Write) -> Self {
        match write {
            Write::Create { .. } => Self::Create,
            Write::Update { .. } => Self::Update,
            Write::Delete { .. } => Self::Delete,
            Write::Restore { .. } => Self::Restore,
            Write::Done { .. } => Self::Done,
            Write::Resolve { .. } => Self::Resolve,
            Write::RevertTo { .. } => Self::RevertTo,
            Write::Link { .. } => Self::Link,
            Write::AddFile { .. } => Self::AddFile,
            Write::Revert {
                why: RevertWhy::Undo,
                ..
            } => Self::Undo,
            Write::Revert {
                why: RevertWhy::Redo,
                ..
            } => Self::Redo,
        }
    }
}

/// One line of a record's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    /// The op of this line: the version "revert to this version" goes back to.
    pub op: cairn_common::OpId,
    pub when: String,
    pub who: String,
    pub what: String,
}

/// Everything the user can ask for by name: key bindings and the palette lead here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Palette,
    Filter,
    ClearFilter,
    NextTab,
    PrevTab,
    GoTo(RecordKind),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// A new record of the current kind.
    New,
    /// A new record of this kind (switches to its tab).
    NewOf(RecordKind),
    Edit,
    Delete,
    Restore,
    Done,
    ToggleTrash,
    /// Show or hide done records.
    ToggleDone,
    /// Potentials: filter the list to the next box of the grid.
    NextGridBox,
    SortNext,
    SortReverse,
    Conflicts,
    History,
    /// The person screen of the selected person, or of the person a record names.
    Person,
    /// A new commitment agreed in the selected conversation, linked to it.
    CommitmentFromNote,
    /// The selected record's links and backlinks, to follow one.
    Links,
    /// Read the selected record's long texts full-screen.
    Read,
    /// Scroll the detail pane by half a pane.
    DetailDown,
    DetailUp,
    /// Undo the last change of a record made here.
    UndoChange,
    /// Redo the last undone change.
    RedoChange,
    /// Sync with the server now.
    Sync,
    /// New records go to the next space one may edit.
    NextSpace,
    /// New records go to this space.
    Space(SpaceId),
    /// The agenda: overdue, today, this week, later over every kind.
    Agenda,
    /// Search every record in every field.
    Search,
    /// Read (and accept) the server's privacy notice.
    PrivacyNotice,
    /// Which mails the server sends: turn each kind on or off.
    Notifications,
    /// Attach a file by path to the selected record (on the Files tab: add one).
    Attach,
    /// Select the next file attached to the selected record.
    NextAttachment,
    /// Open the selected file (Files tab) or the selected attachment.
    OpenFile,
    /// Save the selected file or attachment elsewhere.
    SaveFile,
}
