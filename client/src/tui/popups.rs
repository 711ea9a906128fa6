//! The popups over the main screen (one at a time; it gets every key) and the state
//! the form and conflict popups keep beside their view.

use cairn_common::RecordState;

use super::agenda::AgendaView;
use super::conflict::ConflictView;
use super::form::RecordForm;
use super::help::HelpView;
use super::history::HistoryView;
use super::links::LinksView;
use super::notice::NoticeView;
use super::notifications::NotificationsView;
use super::palette::Palette;
use super::path_popup::PathPopup;
use super::person::PersonView;
use super::reader::ReaderView;

/// The popup over the main screen, if any. Only one is open at a time; it gets every key.
#[derive(Debug)]
pub enum Popup {
    Help(HelpView),
    Palette(Palette),
    History(HistoryView),
    Form(Box<FormPopup>),
    Conflict(Box<ConflictPopup>),
    Reader(ReaderView),
    /// Everything open with a date, by overdue, today, this week, later.
    Agenda(AgendaView),
    /// The search over every record; its state is [`App::search`], kept after closing.
    Search,
    Person(Box<PersonView>),
    Links(LinksView),
    /// The server's privacy notice, to accept or close for now.
    Notice(NoticeView),
    /// Which mails the server sends, as the server says.
    Notifications(NotificationsView),
    /// A path to type: a file to attach or add, or where to save one.
    Path(Box<PathPopup>),
}

/// The form popup: the form and the state it was opened on.
///
/// On save the popup closes at once, so the keys that follow go to the list, but it is
/// kept aside (`App::parked`) until the write is durable: should the write fail, it
/// comes back with everything typed.
#[derive(Debug)]
pub struct FormPopup {
    pub form: RecordForm,
    /// The record as it was when the form opened; `None` for a new record. Edits
    /// replace what the person saw, so a concurrent change elsewhere becomes a conflict.
    pub base: Option<Box<RecordState>>,
    /// A new record made from a conversation: it goes to that note's space, and once
    /// saved it is added to the note's commitments.
    pub link_to: Option<(cairn_common::RecordId, cairn_common::model::SpaceId)>,
}

/// The conflict popup and the state it resolves (parked like the form while saving).
#[derive(Debug)]
pub struct ConflictPopup {
    pub view: ConflictView,
    pub base: Box<RecordState>,
}
