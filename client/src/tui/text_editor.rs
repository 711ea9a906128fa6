//! A multi-line text editor for long-text fields and conflict merges: a
//! `ratatui_textarea::TextArea` with word wrapping, scrolling and undo/redo, titled
//! with the field's label. Our bindings (save, cancel, undo, redo, `$EDITOR`) come
//! first; every other key goes to the textarea's own emacs-like keys.

use crossterm::event::{KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use super::keys::KeyBindings;
use super::popup::{EditorOutcome, hint_line};
use super::theme::Theme;

/// The multi-line editor. Its owner decides what save and cancel mean.
#[derive(Clone, Debug)]
pub struct TextEditor {
    area: TextArea<'static>,
    label: String,
    /// Shown under the text, e.g. why a merge cannot be saved yet.
    error: Option<String>,
}

/// Splits text into the textarea's lines; `\r\n` from other systems becomes `\n` so no
/// stray `\r` ends up inside a line.
fn lines_of(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split('\n')
        .map(str::to_owned)
        .collect()
}

impl TextEditor {
    /// An editor titled `label`, holding `text`, the cursor at its start.
    #[must_use]
    pub fn new(label: &str, text: &str) -> Self {
        let mut area = TextArea::new(lines_of(text));
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        // The textarea underlines the cursor line by default; on a wrapped paragraph
        // that underlines half the screen, so keep only the block cursor.
        area.set_cursor_line_style(ratatui::style::Style::new());
        area.set_cursor_style(ratatui::style::Style::new().add_modifier(Modifier::REVERSED));
        Self {
            area,
            label: label.to_owned(),
            error: None,
        }
    }

    /// The text, lines joined with `\n` (a trailing newline is kept as typed).
    #[must_use]
    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// The label shown in the title.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Replaces the whole text (e.g. with what `$EDITOR` wrote) as one edit that undo
    /// can take back.
    pub fn set_text(&mut self, text: &str) {
        self.area.select_all();
        self.area.cut();
        self.area.insert_str(text.replace("\r\n", "\n"));
        self.area.move_cursor(CursorMove::Top);
        self.area.move_cursor(CursorMove::Head);
    }

    /// Puts the cursor after the last character.
    pub fn move_to_end(&mut self) {
        self.area.move_cursor(CursorMove::Bottom);
        self.area.move_cursor(CursorMove::End);
    }

    /// Inserts pasted text at the cursor as one edit (newlines stay newlines).
    pub fn paste(&mut self, text: &str) {
        self.area
            .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
        self.error = None;
    }

    /// Shows `error` under the text until the next edit (or clears it with `None`).
    pub fn set_error(&mut self, error: Option<String>) {
        self.error = error;
    }

    /// The error shown, if any.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Handles one key: our bindings first, everything else edits the text.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> EditorOutcome {
        if key.kind == KeyEventKind::Release {
            return EditorOutcome::Ignored;
        }
        if keys.save.matches(key) {
            return EditorOutcome::Save;
        }
        if keys.cancel.matches(key) {
            return EditorOutcome::Cancelled;
        }
        if keys.open_editor.matches(key) {
            return EditorOutcome::OpenExternalEditor;
        }
        if keys.undo.matches(key) {
            self.area.undo();
            return EditorOutcome::Consumed;
        }
        if keys.redo.matches(key) {
            self.area.redo();
            return EditorOutcome::Consumed;
        }
        if self.area.input(*key) {
            self.error = None;
        }
        EditorOutcome::Consumed
    }

    /// Draws the editor filling `area`: the titled text, an error if any, and the keys.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: &KeyBindings) {
        let error_height = u16::from(self.error.is_some());
        let [text_area, error_area, hint_area] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(error_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(format!(" {} ", self.label), theme.accent));
        let mut textarea = self.area.clone();
        textarea.set_style(theme.text);
        textarea.set_block(block);
        frame.render_widget(&textarea, text_area);
        if let Some(error) = &self.error {
            frame.render_widget(
                Paragraph::new(Line::styled(error.as_str(), theme.error)),
                error_area,
            );
        }
        frame.render_widget(
            Paragraph::new(hint_line(
                theme,
                &[
                    (&keys.save, "done"),
                    (&keys.cancel, "back"),
                    (&keys.undo, "undo"),
                    (&keys.redo, "redo"),
                    (&keys.open_editor, "$EDITOR"),
                ],
            )),
            hint_area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn press(editor: &mut TextEditor, code: KeyCode, modifiers: KeyModifiers) -> EditorOutcome {
        editor.handle_key(&KeyEvent::new(code, modifiers), &KeyBindings::default())
    }

    fn type_str(editor: &mut TextEditor, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            press(editor, code, KeyModifiers::NONE);
        }
    }

    /// Typing edits the text; undo takes edits back and redo puts them back.
    #[test]
    fn undo_and_redo() {
        let mut editor = TextEditor::new("Notes", "");
        type_str(&mut editor, "one\ntwo");
        assert_eq!(editor.text(), "one\ntwo");
        for _ in 0..3 {
            press(&mut editor, KeyCode::Char('z'), KeyModifiers::CONTROL);
        }
        assert_eq!(editor.text(), "one\n");
        press(&mut editor, KeyCode::Char('y'), KeyModifiers::CONTROL);
        assert_eq!(editor.text(), "one\nt");
    }

    /// Save, cancel and `$EDITOR` are reported to the owner, not typed into the text.
    #[test]
    fn bindings_are_reported() {
        let mut editor = TextEditor::new("Notes", "keep");
        assert_eq!(
            press(&mut editor, KeyCode::Char('s'), KeyModifiers::CONTROL),
            EditorOutcome::Save
        );
        assert_eq!(
            press(&mut editor, KeyCode::Esc, KeyModifiers::NONE),
            EditorOutcome::Cancelled
        );
        assert_eq!(
            press(&mut editor, KeyCode::Char('e'), KeyModifiers::CONTROL),
            EditorOutcome::OpenExternalEditor
        );
        assert_eq!(editor.text(), "keep");
    }

    /// Text from `$EDITOR` replaces everything, CRLF becomes LF, and undo restores the old text.
    #[test]
    fn set_text_is_undoable() {
        let mut editor = TextEditor::new("Notes", "old\ntext");
        editor.set_text("new\r\nlines\r\n");
        assert_eq!(editor.text(), "new\nlines\n");
        press(&mut editor, KeyCode::Char('z'), KeyModifiers::CONTROL);
        press(&mut editor, KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(editor.text(), "old\ntext");
    }

    /// A long paragraph wraps at word boundaries inside the titled box.
    #[test]
    fn snapshot_wrapped_text() {
        let text = "Ana wants to lead the migration project next quarter. We agreed she \
                    pairs with Ben on the rollout plan first and presents it at the March \
                    review.\n\n- follow up on training budget\n- ask about conference";
        let editor = TextEditor::new("Notes", text);
        let mut terminal = Terminal::new(TestBackend::new(50, 12)).expect("test terminal");
        terminal
            .draw(|frame| {
                editor.draw(
                    frame,
                    frame.area(),
                    &Theme::no_color(),
                    &KeyBindings::default(),
                );
            })
            .expect("draw");
        insta::assert_snapshot!(terminal.backend());
    }
}
