//! The privacy-notice popup: the server's notice (Markdown, rendered and wrapped as in
//! the reader), its version, and the choice: accept it, or close it for now. It
//! scrolls with j/k, arrows, pages and g/G. It only reports what was chosen; the app
//! makes the call to the server and tells the popup how that went.

use std::cell::Cell;

use cairn_common::api::consent::Notice;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

use super::keys::{KeyBinding, KeyBindings};
use super::text;
use super::theme::Theme;

/// Where an acceptance stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Nothing asked yet.
    Reading,
    /// The acceptance is on its way to the server.
    Sending,
    /// The server did not take it (or could not be reached): why.
    Failed(String),
}

/// What a key did to the popup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticeOutcome {
    Consumed,
    /// Accept the notice of this version.
    Accept(String),
    /// Close without accepting.
    Close,
}

/// The notice shown and where it is scrolled to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeView {
    notice: Notice,
    /// Sync is stopped until this notice is accepted (the popup says so).
    blocking: bool,
    acceptance: Acceptance,
    /// Cells: drawing clamps the scroll to the last page and learns the page's
    /// height, and drawing only reads the app.
    scroll: Cell<usize>,
    page: Cell<usize>,
}

impl NoticeView {
    #[must_use]
    pub fn new(notice: Notice, blocking: bool) -> Self {
        Self {
            notice,
            blocking,
            acceptance: Acceptance::Reading,
            scroll: Cell::new(0),
            page: Cell::new(10),
        }
    }

    #[must_use]
    pub fn version(&self) -> &str {
        &self.notice.version
    }

    /// Whether it is shown because sync waits for it.
    #[must_use]
    pub fn is_blocking(&self) -> bool {
        self.blocking
    }

    #[must_use]
    pub fn acceptance(&self) -> &Acceptance {
        &self.acceptance
    }

    pub fn set_acceptance(&mut self, acceptance: Acceptance) {
        self.acceptance = acceptance;
    }

    /// Shows `notice` instead (a newer version, after an acceptance of the old one
    /// was refused); what went wrong stays on screen. Scrolls back to the top when
    /// the text changed.
    pub fn replace(&mut self, notice: Notice) {
        if notice != self.notice {
            self.scroll.set(0);
        }
        self.notice = notice;
    }

    /// Reads one key.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> NoticeOutcome {
        let page = isize::try_from(self.page.get().max(1)).unwrap_or(10);
        if keys.accept.matches(key) {
            if self.acceptance == Acceptance::Sending {
                return NoticeOutcome::Consumed;
            }
            return NoticeOutcome::Accept(self.notice.version.clone());
        }
        if keys.decline.matches(key) || keys.cancel.matches(key) || keys.quit.matches(key) {
            return NoticeOutcome::Close;
        }
        if keys.down.matches(key) {
            self.scroll_by(1);
        } else if keys.up.matches(key) {
            self.scroll_by(-1);
        } else if keys.page_down.matches(key) {
            self.scroll_by(page);
        } else if keys.page_up.matches(key) {
            self.scroll_by(-page);
        } else if keys.top.matches(key) {
            self.scroll.set(0);
        } else if keys.bottom.matches(key) {
            self.scroll.set(usize::MAX);
        }
        NoticeOutcome::Consumed
    }

    fn scroll_by(&mut self, delta: isize) {
        self.scroll
            .set(self.scroll.get().saturating_add_signed(delta));
    }
}

/// Draws the popup over most of `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &NoticeView, keys: &KeyBindings, theme: &Theme) {
    let popup = super::layout::centered(area, 84, area.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    let body = Paragraph::new(super::reader::render_markdown(&view.notice.text, theme))
        .wrap(Wrap { trim: false });
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .padding(Padding::horizontal(1))
        .title(Line::from(text::notice_title(&view.notice.version)).style(theme.accent));
    let inner = block.inner(popup);
    // Why it is shown, then a blank line; the answer or error may take two lines.
    let intro_height = if view.blocking { 3 } else { 0 };
    let [intro, text_area, _, status, hints] = Layout::vertical([
        Constraint::Length(intro_height),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    let total = body.line_count(text_area.width);
    let room = usize::from(text_area.height);
    let scroll = view.scroll.get().min(total.saturating_sub(room));
    view.scroll.set(scroll);
    view.page.set(room.saturating_sub(1).max(1));
    let position = if total > room {
        text::lines_shown(scroll + 1, (scroll + room).min(total), total)
    } else {
        String::new()
    };
    frame.render_widget(
        block.title_bottom(Line::from(position).style(theme.dim).right_aligned()),
        popup,
    );
    if view.blocking {
        frame.render_widget(
            Paragraph::new(text::NOTICE_BLOCKING)
                .style(theme.warn)
                .wrap(Wrap { trim: true }),
            intro,
        );
    }
    frame.render_widget(
        body.scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        text_area,
    );
    let status_line = match &view.acceptance {
        Acceptance::Reading => Line::styled(text::notice_question(view.version()), theme.text),
        Acceptance::Sending => Line::styled(text::NOTICE_SENDING, theme.warn),
        Acceptance::Failed(reason) => Line::styled(text::notice_failed(reason), theme.error),
    };
    frame.render_widget(
        Paragraph::new(status_line).wrap(Wrap { trim: true }),
        status,
    );
    // `n` and esc do the same here: one hint for both.
    let close = KeyBinding(
        keys.decline
            .0
            .iter()
            .chain(&keys.cancel.0)
            .copied()
            .collect(),
    );
    let hint = super::popup::hint_line(
        theme,
        &[
            (&keys.accept, text::NOTICE_ACCEPT_HINT),
            (&close, text::NOTICE_CLOSE_HINT),
            (&keys.down, text::SCROLL_HINT),
            (&keys.page_down, text::PAGE_HINT),
        ],
    );
    frame.render_widget(Paragraph::new(hint), hints);
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::tui::tests::key;

    fn notice(lines: usize) -> Notice {
        let mut text = String::from("# Privacy notice\n\nWhat this server keeps about you.\n");
        for n in 1..=lines {
            text.push_str(&format!("\n{n}. A point of the notice, numbered {n}.\n"));
        }
        Notice {
            version: "2".into(),
            text,
        }
    }

    fn render(view: &NoticeView, width: u16, height: u16) -> String {
        let keys = KeyBindings::default();
        crate::tui::test_support::screen_text(width, height, |frame| {
            draw(frame, frame.area(), view, &keys, &Theme::no_color());
        })
    }

    /// `y` accepts the version shown; `n`, esc and q close; while an acceptance is
    /// on its way a second `y` sends nothing.
    #[test]
    fn keys_accept_or_close() {
        let keys = KeyBindings::default();
        let mut view = NoticeView::new(notice(3), true);
        assert_eq!(
            view.handle_key(&key("y"), &keys),
            NoticeOutcome::Accept("2".into())
        );
        view.set_acceptance(Acceptance::Sending);
        assert_eq!(view.handle_key(&key("y"), &keys), NoticeOutcome::Consumed);
        for close in ["n", "esc", "q"] {
            assert_eq!(view.handle_key(&key(close), &keys), NoticeOutcome::Close);
        }
    }

    /// j/k, pages and g/G scroll; the end is clamped when drawn, so scrolling past it
    /// and back up moves at once.
    #[test]
    fn it_scrolls_and_stops_at_the_end() {
        let keys = KeyBindings::default();
        let mut view = NoticeView::new(notice(30), false);
        let top = render(&view, 70, 20);
        assert!(top.contains("Privacy notice"), "{top}");
        view.handle_key(&key("j"), &keys);
        view.handle_key(&key("down"), &keys);
        assert_eq!(view.scroll.get(), 2);
        view.handle_key(&key("pagedown"), &keys);
        assert_eq!(view.scroll.get(), 2 + view.page.get());
        view.handle_key(&key("G"), &keys);
        let bottom = render(&view, 70, 20);
        assert!(bottom.contains("numbered 30."), "{bottom}");
        let end = view.scroll.get();
        view.handle_key(&key("k"), &keys);
        assert_eq!(view.scroll.get(), end - 1);
        view.handle_key(&key("g"), &keys);
        assert_eq!(view.scroll.get(), 0);
    }

    /// The popup as a person sees it: the version in the title, why it is shown, the
    /// wrapped text, the question and the keys; then a refused acceptance.
    #[test]
    fn snapshot_notice() {
        let mut view = NoticeView::new(
            Notice {
                version: "2".into(),
                text: "# Privacy notice, second version\n\nThis server keeps your records, \
                       your e-mail address and the dates you signed in, and nothing else. \
                       It never shares them.\n\n- Backups are kept 30 days.\n- You can \
                       withdraw your consent at any time."
                    .into(),
            },
            true,
        );
        let reading = render(&view, 72, 18);
        view.set_acceptance(Acceptance::Failed(
            "the privacy notice is now version 3; read it again and accept that one".into(),
        ));
        let refused = render(&view, 72, 18);
        insta::assert_snapshot!("notice", format!("{reading}\n\n{refused}"));
    }
}
