//! The notifications popup: the three kinds of mail the server can send, each on or
//! off as the server last said, toggled with space or enter. It shows only what the
//! server answered: a toggle is a request, and the row changes when the answer comes.

use cairn_common::api::notifications::{NotificationSettings, SetNotifications};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

use super::keys::{KeyBinding, KeyBindings};
use super::text;
use super::theme::Theme;

pub use cairn_common::api::notifications::NotificationKind as Kind;

/// Where the talk with the server stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exchange {
    /// The settings were asked for.
    Loading,
    /// The server's answer is shown.
    Ready,
    /// A change is on its way.
    Saving,
    /// The last call failed: what to tell the user.
    Failed(String),
}

/// What a key did to the popup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationsOutcome {
    Consumed,
    Close,
    /// Send this change to the server.
    Set(SetNotifications),
}

/// The settings as the server last told them, and the selected kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationsView {
    /// `None` until the server first answered.
    settings: Option<NotificationSettings>,
    selected: usize,
    exchange: Exchange,
}

impl Default for NotificationsView {
    fn default() -> Self {
        Self {
            settings: None,
            selected: 0,
            exchange: Exchange::Loading,
        }
    }
}

impl NotificationsView {
    #[must_use]
    pub fn settings(&self) -> Option<NotificationSettings> {
        self.settings
    }

    #[must_use]
    pub fn exchange(&self) -> &Exchange {
        &self.exchange
    }

    /// The server's answer to a load or a change: the settings it now holds, or why
    /// there are none (the last settings it told stay shown).
    pub fn answered(&mut self, answer: Result<NotificationSettings, String>) {
        match answer {
            Ok(settings) => {
                self.settings = Some(settings);
                self.exchange = Exchange::Ready;
            }
            Err(message) => self.exchange = Exchange::Failed(message),
        }
    }

    /// Reads one key. A toggle while a change is on its way waits for its answer:
    /// the next one is worked out from what the server then says.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> NotificationsOutcome {
        if keys.cancel.matches(key) || keys.quit.matches(key) {
            return NotificationsOutcome::Close;
        }
        if keys.down.matches(key) {
            self.selected = (self.selected + 1).min(Kind::ALL.len() - 1);
        } else if keys.up.matches(key) {
            self.selected = self.selected.saturating_sub(1);
        } else if keys.toggle.matches(key)
            && let Some(settings) = self.settings
            && matches!(self.exchange, Exchange::Ready | Exchange::Failed(_))
        {
            let kind = Kind::ALL[self.selected];
            self.exchange = Exchange::Saving;
            return NotificationsOutcome::Set(kind.set(!kind.is_on(settings)));
        }
        NotificationsOutcome::Consumed
    }
}

/// Draws the popup centred in `area`.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    view: &NotificationsView,
    keys: &KeyBindings,
    theme: &Theme,
) {
    let mut lines = vec![
        Line::styled(text::NOTIFICATIONS_INTRO, theme.dim),
        Line::raw(""),
    ];
    match view.settings {
        Some(settings) => {
            for (i, kind) in Kind::ALL.into_iter().enumerate() {
                let (name, what) = text::notification_kind(kind);
                let on = kind.is_on(settings);
                let (marker, row_style) = if i == view.selected {
                    ("›", theme.selected)
                } else {
                    (" ", theme.text)
                };
                lines.push(Line::from(vec![
                    Span::styled(marker, theme.accent),
                    Span::styled(format!(" {} {name}", text::switch(on)), row_style),
                ]));
                // Under the name, so that it wraps by itself on a narrow screen.
                lines.push(Line::styled(format!("        {what}"), theme.dim));
            }
        }
        None if view.exchange == Exchange::Loading => {
            lines.push(Line::styled(text::NOTIFICATIONS_LOADING, theme.warn));
        }
        None => {}
    }
    lines.push(Line::raw(""));
    lines.push(match (&view.exchange, view.settings) {
        (Exchange::Failed(message), _) => Line::styled(message.clone(), theme.error),
        (Exchange::Saving, _) => Line::styled(text::NOTIFICATIONS_SAVING, theme.warn),
        (Exchange::Ready, Some(settings)) => {
            Line::styled(text::notifications_summary(settings.any()), theme.dim)
        }
        (Exchange::Ready | Exchange::Loading, _) => Line::raw(""),
    });
    // Down and up move alike: one hint for both.
    let move_keys = KeyBinding(keys.down.0.iter().chain(&keys.up.0).copied().collect());
    let hint = super::popup::hint_line(
        theme,
        &[
            (&move_keys, text::MOVE_HINT),
            (&keys.toggle, text::TOGGLE_HINT),
            (&keys.cancel, text::CLOSE_HINT),
        ],
    );
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    // As high as the wrapped lines need at the width the popup gets.
    let width = super::layout::centered(area, 80, 1).width;
    let lines_needed = paragraph.line_count(width.saturating_sub(4)) + 2;
    let popup = super::layout::centered(area, 80, u16::try_from(lines_needed).unwrap_or(u16::MAX));
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .padding(Padding::horizontal(1))
        .title(Line::from(text::NOTIFICATIONS_TITLE).style(theme.accent))
        .title_bottom(hint);
    frame.render_widget(paragraph.block(block), popup);
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::tui::tests::key;

    fn render(view: &NotificationsView) -> String {
        let keys = KeyBindings::default();
        crate::tui::test_support::screen_text(84, 16, |frame| {
            draw(frame, frame.area(), view, &keys, &Theme::no_color());
        })
    }

    /// A toggle asks for the selected kind only, the opposite of what the server
    /// said; until the answer comes no other toggle is sent; the answer is shown.
    #[test]
    fn a_toggle_sends_only_its_kind() {
        let keys = KeyBindings::default();
        let mut view = NotificationsView::default();
        assert_eq!(
            view.handle_key(&key("space"), &keys),
            NotificationsOutcome::Consumed,
            "nothing to toggle before the server answered"
        );
        view.answered(Ok(NotificationSettings {
            follow_ups: true,
            ..NotificationSettings::default()
        }));
        view.handle_key(&key("j"), &keys);
        let change = SetNotifications {
            follow_ups: Some(false),
            ..SetNotifications::default()
        };
        assert_eq!(
            view.handle_key(&key("enter"), &keys),
            NotificationsOutcome::Set(change)
        );
        assert_eq!(view.exchange(), &Exchange::Saving);
        assert_eq!(
            view.handle_key(&key("space"), &keys),
            NotificationsOutcome::Consumed
        );
        view.answered(Ok(NotificationSettings::default()));
        view.handle_key(&key("down"), &keys);
        view.handle_key(&key("down"), &keys);
        let invitations = SetNotifications {
            invitations: Some(true),
            ..SetNotifications::default()
        };
        assert_eq!(
            view.handle_key(&key("space"), &keys),
            NotificationsOutcome::Set(invitations),
            "the last row stays selected past the end"
        );
        view.answered(Err("offline".into()));
        assert_eq!(view.settings(), Some(NotificationSettings::default()));
        assert_eq!(
            view.handle_key(&key("esc"), &keys),
            NotificationsOutcome::Close
        );
    }

    /// The popup while loading, with the server's settings, while saving, and when
    /// the server cannot be reached before it ever answered.
    #[test]
    fn snapshot_notifications() {
        let mut view = NotificationsView::default();
        let loading = render(&view);
        view.answered(Ok(NotificationSettings {
            due: true,
            ..NotificationSettings::default()
        }));
        view.handle_key(&key("j"), &KeyBindings::default());
        let ready = render(&view);
        let mut offline = NotificationsView::default();
        offline.answered(Err(text::server_problem(
            &crate::tui::SyncProblem::Offline,
            text::NOTIFICATIONS_WHERE,
        )));
        let offline = render(&offline);
        insta::assert_snapshot!("notifications", [loading, ready, offline].join("\n\n"));
    }
}
