//! The status bar: space, counts, conflicts, whether everything is saved, where sync
//! stands (only with a server), and the last message or error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, SyncStatus};
use super::text;

/// Draws the bar for the app.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.config.theme;
    if app.opening {
        // Nothing is known yet: not the space, not the counts.
        let opening = Span::styled(text::OPENING_REPLICA, theme.warn);
        frame.render_widget(Paragraph::new(Line::from(opening)), area);
        return;
    }
    let index = app.index.kind(app.tab);
    let total = if app.trash {
        index.trashed()
    } else {
        index.live()
    };
    let sep = || Span::styled(" │ ", theme.dim);
    let mut spans = vec![
        Span::styled(text::space(&app.space_name), theme.accent),
        sep(),
        Span::raw(text::counts(app.tab, app.view().visible().len(), total)),
    ];
    if app.trash {
        spans.push(Span::styled(format!(" ({})", text::TRASH_MODE), theme.warn));
    }
    let conflicts = app.index.conflicts();
    if conflicts > 0 {
        spans.push(sep());
        spans.push(Span::styled(text::conflicts(conflicts), theme.conflict));
    }
    if app.index.is_loading() {
        spans.push(sep());
        spans.push(Span::styled(text::LOADING_RECORDS, theme.warn));
    }
    spans.push(sep());
    spans.push(if app.saving > 0 {
        Span::styled(text::SAVING, theme.warn)
    } else if app.unsaved || app.form_changed() {
        Span::styled(text::UNSAVED, theme.error)
    } else {
        Span::styled(text::SAVED, theme.ok)
    });
    let sync = match &app.sync {
        SyncStatus::Off => None,
        SyncStatus::Syncing => Some(Span::styled(text::SYNCING, theme.warn)),
        SyncStatus::Offline if app.pending > 0 => Some(Span::styled(
            format!("{}, {}", text::OFFLINE, text::pending(app.pending)),
            theme.warn,
        )),
        SyncStatus::Offline => Some(Span::styled(text::OFFLINE, theme.warn)),
        SyncStatus::Failed(reason) => Some(Span::styled(text::sync_error(reason), theme.error)),
        SyncStatus::Synced if app.pending > 0 => {
            Some(Span::styled(text::pending(app.pending), theme.warn))
        }
        SyncStatus::Synced => Some(Span::styled(text::SYNCED, theme.ok)),
    };
    if let Some(sync) = sync {
        spans.push(sep());
        spans.push(sync);
    }
    let set_aside = app.set_aside.undelivered + app.set_aside.quarantined;
    if set_aside > 0 {
        spans.push(sep());
        spans.push(Span::styled(text::set_aside(set_aside), theme.error));
    }
    if app.message.is_none()
        && let Some(help) = app.config.keys.help.0.first()
    {
        // New users find every key from here.
        spans.push(sep());
        spans.push(Span::styled(
            format!("{help} {}", text::HELP_HINT),
            theme.dim,
        ));
    }
    if let Some(message) = &app.message {
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
