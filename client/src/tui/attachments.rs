//! Files attached to records, in the app: which files a record has (from the row
//! index: the live file records whose "Attached to" links it), the commands that
//! attach, select, open and save them, and the answers of the work behind those.
//! Part of the pure update: reading folders, checking the cache and fetching
//! content are effects.

use cairn_common::RecordId;
use cairn_common::model::RecordKind;
use crossterm::event::{KeyCode, KeyEvent};

use super::action::{Effect, FileJob, FileJobDone, FileJobProblem, FileJobReport, SaveReport};
use super::action::{Write, WriteKind};
use super::app::App;
use super::index::Index;
use super::path_input::{DirEntry, PathKey};
use super::path_popup::{PathPopup, PathPurpose};
use super::popups::Popup;
use super::text;
use crate::present;

/// A file attached to a record, as the details list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedFile {
    pub id: RecordId,
    pub name: String,
    /// As people read it: `1.5 KiB`.
    pub size: String,
    pub content_type: String,
}

/// The live files attached to `record`, by name: the file records among its
/// backlinks (the index keeps those of live records only).
#[must_use]
pub fn attached_files(index: &Index, record: &RecordId) -> Vec<AttachedFile> {
    let files = index.kind(RecordKind::File);
    let column = |field| {
        present::columns(RecordKind::File)
            .iter()
            .position(|c| c.field == field)
    };
    let (name, size, content_type) = (column("name"), column("size"), column("type"));
    let cell = |row: &super::index::Row, at: Option<usize>| {
        at.map(|at| row.cell(at).to_owned()).unwrap_or_default()
    };
    let mut out: Vec<AttachedFile> = index
        .links
        .backlinks(record)
        .iter()
        .filter_map(|id| files.row(files.find(id)?))
        .filter(|row| !row.is_deleted())
        .map(|row| AttachedFile {
            id: row.id,
            name: cell(row, name),
            size: cell(row, size),
            content_type: cell(row, content_type),
        })
        .collect();
    out.sort_by_key(|a| (a.name.to_lowercase(), a.id));
    out
}

impl App {
    /// `f`: asks for the path of a file to attach to the selected record; on the
    /// Files tab, of a file to add on its own.
    pub(super) fn attach_file(&mut self) -> Vec<Effect> {
        if self.tab == RecordKind::File {
            return self.add_file();
        }
        let Some(state) = self.editable() else {
            return Vec::new();
        };
        let known = self.spaces.iter().find(|k| k.space.id == state.space);
        // The server would hold the new file record back: say so now instead.
        if let Some(known) = known
            && !known.role.can_edit()
        {
            self.error(text::space_read_only(&known.space.name));
            return Vec::new();
        }
        let space_name = known.map_or_else(|| self.space_name.clone(), |k| k.space.name.clone());
        let record = Some((state.id, state.title().to_owned()));
        self.popup = Some(Popup::Path(Box::new(PathPopup::attach(
            record,
            state.space,
            space_name,
        ))));
        Vec::new()
    }

    /// `n` on the Files tab: a file record comes from real content, so a new one
    /// starts from a path, not from an empty form. It goes to the current space.
    pub(super) fn add_file(&mut self) -> Vec<Effect> {
        self.trash = false;
        self.go_to(RecordKind::File);
        let popup = PathPopup::attach(None, self.space, self.space_name.clone());
        self.popup = Some(Popup::Path(Box::new(popup)));
        Vec::new()
    }

    /// `F`: the next of the selected record's attachments is the one the file
    /// keys act on.
    pub(super) fn next_attachment(&mut self) {
        let Some(id) = self.selected_id() else {
            self.info(text::NO_SELECTION.to_owned());
            return;
        };
        let files = attached_files(&self.index, &id);
        if files.is_empty() {
            self.info(text::NO_ATTACHMENTS.to_owned());
            return;
        }
        let next = (self.detail.attachment.min(files.len() - 1) + 1) % files.len();
        self.detail.attachment = next;
        self.info(text::attachment_selected(
            &files[next].name,
            next + 1,
            files.len(),
        ));
    }

    /// The file the file keys act on: the selected row on the Files tab, else the
    /// selected attachment of the selected record. Says why when there is none.
    fn selected_file(&mut self) -> Option<(RecordId, String)> {
        let Some(id) = self.selected_id() else {
            self.info(text::NO_SELECTION.to_owned());
            return None;
        };
        if self.tab == RecordKind::File {
            let name = super::links::title_of(&self.index, &id).unwrap_or_default();
            return Some((id, name));
        }
        let files = attached_files(&self.index, &id);
        let Some(last) = files.len().checked_sub(1) else {
            self.info(text::NO_ATTACHMENTS.to_owned());
            return None;
        };
        let file = &files[self.detail.attachment.min(last)];
        Some((file.id, file.name.clone()))
    }

    /// `ctrl-o`: fetches the selected file and opens it.
    pub(super) fn open_selected_file(&mut self) -> Vec<Effect> {
        let Some((file, name)) = self.selected_file() else {
            return Vec::new();
        };
        self.info(text::opening(&name));
        vec![Effect::FileJob(FileJob::Open { file })]
    }

    /// `W`: asks where to save the selected file.
    pub(super) fn save_selected_file(&mut self) {
        if let Some((file, name)) = self.selected_file() {
            self.popup = Some(Popup::Path(Box::new(PathPopup::save_as(file, name))));
        }
    }

    /// A key for the path popup.
    pub(super) fn on_path_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let keys = &self.config.keys;
        let Some(Popup::Path(popup)) = &mut self.popup else {
            return Vec::new();
        };
        if keys.cancel.matches(key) {
            self.popup = None;
            return Vec::new();
        }
        if popup.busy {
            return Vec::new();
        }
        if key.code == KeyCode::Enter {
            return self.submit_path();
        }
        match popup.input.handle_key(key, keys) {
            PathKey::List { dir } => vec![Effect::ListDir { dir }],
            PathKey::Consumed => {
                popup.problem = None;
                Vec::new()
            }
            PathKey::Ignored => Vec::new(),
        }
    }

    /// Enter in the path popup: adds the file, or saves to the path. The popup
    /// stays open, busy, until the answer comes.
    fn submit_path(&mut self) -> Vec<Effect> {
        let today = self.today;
        let Some(Popup::Path(popup)) = &mut self.popup else {
            return Vec::new();
        };
        let path = popup.input.text();
        if path.trim().is_empty() {
            popup.problem = Some(text::PATH_EMPTY.to_owned());
            return Vec::new();
        }
        popup.problem = None;
        popup.busy = true;
        match &popup.purpose {
            PathPurpose::Attach { record, space, .. } => {
                let write = Write::AddFile {
                    path,
                    space: *space,
                    record: record.as_ref().map(|(id, _)| *id),
                    today,
                };
                self.write(write)
            }
            PathPurpose::SaveAs { file, .. } => {
                let overwrite = popup.overwrite_ok.as_deref() == Some(path.as_str());
                vec![Effect::FileJob(FileJob::SaveAs {
                    file: *file,
                    to: path,
                    overwrite,
                })]
            }
        }
    }

    /// A paste into the path popup.
    pub(super) fn paste_into_path(&mut self, pasted: &str) {
        if let Some(Popup::Path(popup)) = &mut self.popup
            && !popup.busy
        {
            popup.input.paste(pasted);
            popup.problem = None;
        }
    }

    /// A folder's entries for the completion asked for.
    pub(super) fn on_dir_listed(&mut self, dir: &str, result: Result<Vec<DirEntry>, String>) {
        if let Some(Popup::Path(popup)) = &mut self.popup {
            popup.input.complete(dir, result);
        }
    }

    /// After a write that failed: a file that could not be added keeps its popup,
    /// which says why (the path typed is still there, nothing is lost). Whether it
    /// was such a write.
    pub(super) fn file_not_added(&mut self, write: WriteKind, error: &str) -> bool {
        if write != WriteKind::AddFile {
            return false;
        }
        match &mut self.popup {
            Some(Popup::Path(popup)) if popup.busy => {
                popup.busy = false;
                popup.problem = Some(text::not_added(error));
                true
            }
            _ => false,
        }
    }

    /// After a file was added: its popup closes; a file added to a record becomes
    /// its selected attachment, one added on the Files tab is selected there.
    pub(super) fn file_added(&mut self, report: &SaveReport) {
        let (WriteKind::AddFile, Ok(states)) = (report.write, &report.result) else {
            return;
        };
        let Some(added) = states.first() else { return };
        let attached_to = match &self.popup {
            Some(Popup::Path(popup)) if popup.busy => {
                let to = popup.attaching_to();
                self.popup = None;
                to
            }
            _ => return,
        };
        match attached_to {
            Some(record) if self.selected_id() == Some(record) => {
                let files = attached_files(&self.index, &record);
                if let Some(at) = files.iter().position(|f| f.id == added.id) {
                    self.detail.attachment = at;
                }
            }
            Some(_) => {}
            None => self.select(added),
        }
    }

    /// Which files the details show (the attachments, or the file itself on the
    /// Files tab) when that changed: check whether their content is here.
    pub(super) fn check_files(&mut self) -> Option<Effect> {
        let ids: Vec<RecordId> = match self.detail.id {
            Some(id) => {
                let mut ids: Vec<RecordId> = attached_files(&self.index, &id)
                    .into_iter()
                    .map(|f| f.id)
                    .collect();
                if self.index.kind(RecordKind::File).find(&id).is_some() {
                    ids.push(id);
                }
                ids
            }
            None => Vec::new(),
        };
        if ids == self.detail.checked {
            return None;
        }
        self.detail.checked.clone_from(&ids);
        (!ids.is_empty()).then_some(Effect::CheckFiles(ids))
    }

    /// A file job ended: an opener to run, a message, or the save popup told why.
    pub(super) fn on_file_job(&mut self, report: FileJobReport) -> Vec<Effect> {
        let file = report.job.file();
        if report.outcome.is_ok() {
            // Fetched for the job: the content is here now.
            self.detail.here.insert(file, true);
        }
        let saving = matches!(report.job, FileJob::SaveAs { .. });
        // The save popup of this file, while it waits for this answer.
        let popup = match &mut self.popup {
            Some(Popup::Path(popup))
                if saving
                    && popup.busy
                    && matches!(popup.purpose, PathPurpose::SaveAs { file: f, .. } if f == file) =>
            {
                Some(popup)
            }
            _ => None,
        };
        let name = report.name;
        match (report.outcome, popup) {
            (Ok(FileJobDone::Opened { program }), _) => self.info(text::opened(&name, &program)),
            (Ok(FileJobDone::RunInTerminal { command, path }), _) => {
                return vec![Effect::RunOpener {
                    name,
                    command,
                    path,
                }];
            }
            (Ok(FileJobDone::Saved { to }), popup) => {
                if popup.is_some() {
                    self.popup = None;
                }
                self.info(text::saved_to(&name, &to));
            }
            (Err(FileJobProblem::Exists(path)), Some(popup)) => {
                popup.busy = false;
                popup.overwrite_ok = Some(popup.input.text());
                popup.problem = Some(text::exists(&path));
            }
            (Err(FileJobProblem::Failed(e)), Some(popup)) => {
                popup.busy = false;
                popup.problem = Some(e);
            }
            (Err(FileJobProblem::Exists(path)), None) => {
                self.error(text::not_saved_elsewhere(&name, &text::exists(&path)));
            }
            (Err(FileJobProblem::Failed(e)), None) if saving => {
                self.error(text::not_saved_elsewhere(&name, &e));
            }
            (Err(FileJobProblem::Failed(e)), None) => self.error(text::not_opened(&name, &e)),
        }
        Vec::new()
    }

    /// The opener ended (in the terminal) or failed (on the desktop).
    pub(super) fn on_opener_closed(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => self.info(text::opener_closed(name)),
            Err(e) => self.error(text::not_opened(name, &e)),
        }
    }
}
