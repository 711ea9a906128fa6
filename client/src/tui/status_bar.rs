//! The status bar: space, counts, conflicts, whether everything is saved, where sync
//! stands (only with a server), and the last message or error. It draws from
//! [`StatusProps`], what the app tells it.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keys::KeyPress;
use super::text;
use super::theme::Theme;

/// Where sync stands, for the status bar.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SyncStatus {
    /// No server (or not known yet): the status bar says nothing about sync.
    #[default]
    Off,
    Syncing,
    Synced,
    Offline,
    /// The last round failed; a short reason.
    Failed(String),
    /// The server refuses to sync until its new privacy notice is accepted.
    ConsentRequired,
}

/// A line for the status bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// What the bar shows.
pub struct StatusProps<'a> {
    /// The replica is still opening: nothing else is known.
    pub opening: bool,
    pub space_name: &'a str,
    pub kind: RecordKind,
    /// Rows shown (after the filter) and records of the kind (live, or in the trash).
    pub visible: usize,
    pub total: usize,
    pub trash: bool,
    pub conflicts: usize,
    /// Records are still streaming in.
    pub loading: bool,
    /// Writes in flight.
    pub saving: usize,
    /// The last write failed or a form holds changes.
    pub unsaved: bool,
    pub sync: &'a SyncStatus,
    /// Local changes not pushed yet.
    pub pending: usize,
    /// Changes kept out of sync.
    pub set_aside: usize,
    /// The first key of help, shown as a hint while no message is.
    pub help_key: Option<&'a KeyPress>,
    pub message: Option<&'a Message>,
    pub theme: &'a Theme,
}

/// Draws the bar.
pub fn draw(frame: &mut Frame, area: Rect, props: &StatusProps<'_>) {
    let theme = props.theme;
    if props.opening {
        // Nothing is known yet: not the space, not the counts.
        let opening = Span::styled(text::OPENING_REPLICA, theme.warn);
        frame.render_widget(Paragraph::new(Line::from(opening)), area);
        return;
    }
    let sep = || Span::styled(" │ ", theme.dim);
    let mut spans = vec![
        Span::styled(text::space(props.space_name), theme.accent),
        sep(),
        Span::raw(text::counts(props.kind, props.visible, props.total)),
    ];
    if props.trash {
        spans.push(Span::styled(format!(" ({})", text::TRASH_MODE), theme.warn));
    }
    let conflicts = props.conflicts;
    if conflicts > 0 {
        spans.push(sep());
        spans.push(Span::styled(text::conflicts(conflicts), theme.conflict));
    }
    if props.loading {
        spans.push(sep());
        spans.push(Span::styled(text::LOADING_RECORDS, theme.warn));
    }
    spans.push(sep());
    spans.push(if props.saving > 0 {
        Span::styled(text::SAVING, theme.warn)
    } else if props.unsaved {
        Span::styled(text::UNSAVED, theme.error)
    } else {
        Span::styled(text::SAVED, theme.ok)
    });
    let sync = match props.sync {
        SyncStatus::Off => None,
        SyncStatus::Syncing => Some(Span::styled(text::SYNCING, theme.warn)),
        SyncStatus::Offline if props.pending > 0 => Some(Span::styled(
            format!("{}, {}", text::OFFLINE, text::pending(props.pending)),
            theme.warn,
        )),
        SyncStatus::Offline => Some(Span::styled(text::OFFLINE, theme.warn)),
        SyncStatus::Failed(reason) => Some(Span::styled(text::sync_error(reason), theme.error)),
        SyncStatus::ConsentRequired => {
            Some(Span::styled(text::SYNC_PAUSED_FOR_NOTICE, theme.error))
        }
        SyncStatus::Synced if props.pending > 0 => {
            Some(Span::styled(text::pending(props.pending), theme.warn))
        }
        SyncStatus::Synced => Some(Span::styled(text::SYNCED, theme.ok)),
    };
    if let Some(sync) = sync {
        spans.push(sep());
        spans.push(sync);
    }
    let set_aside = props.set_aside;
    if set_aside > 0 {
        spans.push(sep());
        spans.push(Span::styled(text::set_aside(set_aside), theme.error));
    }
    if props.message.is_none()
        && let Some(help) = props.help_key
    {
        // New users find every key from here.
        spans.push(sep());
        spans.push(Span::styled(
            format!("{help} {}", text::HELP_HINT),
            theme.dim,
        ));
    }
    if let Some(message) = props.message {
        spans.push(sep());
        let style = if message.error {
            theme.error
        } else {
            theme.text
        };
        spans.push(Span::styled(message.text.as_str(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
