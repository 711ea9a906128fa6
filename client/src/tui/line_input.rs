//! A one-line text input: the value of a form field being typed, with a cursor and the
//! usual readline keys. Small enough that a second text widget crate is not worth it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// One line of text and a cursor (a char index, `0..=len`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineInput {
    chars: Vec<char>,
    cursor: usize,
}

impl LineInput {
    /// An input holding `text` with the cursor at its end.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let cursor = chars.len();
        Self { chars, cursor }
    }

    /// The text typed.
    #[must_use]
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Replaces the text and puts the cursor at its end.
    pub fn set_text(&mut self, text: &str) {
        *self = Self::new(text);
    }

    /// Inserts pasted text at the cursor as one line: each line break (`\r\n`,
    /// `\n`, `\r`) and tab becomes a space, other control characters (terminal
    /// escapes) are dropped.
    pub fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n");
        for c in text.chars() {
            let c = match c {
                '\r' | '\n' | '\t' => ' ',
                c if c.is_control() => continue,
                c => c,
            };
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// The cursor as a char index.
    #[must_use]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Handles an editing key: characters, ←/→, home/end (and ctrl-a), backspace,
    /// delete, ctrl-w (delete the word before the cursor), ctrl-u (delete to the start),
    /// ctrl-k (delete to the end). Returns whether the key was one of these.
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('w') if ctrl => {
                let end = self.cursor;
                let mut start = end;
                while start > 0 && self.chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                while start > 0 && !self.chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                self.chars.drain(start..end);
                self.cursor = start;
            }
            KeyCode::Char('u') if ctrl => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.chars.truncate(self.cursor),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char(c) if !ctrl && !alt && !c.is_control() => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            KeyCode::Left if !ctrl && !alt => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right if !ctrl && !alt => {
                self.cursor = (self.cursor + 1).min(self.chars.len())
            }
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            // At the edges these do nothing, but they are still editing keys.
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }

    /// The visible part of the text in `width` cells. With `cursor_style` (the field
    /// has focus) it is scrolled so the cursor shows and the cell under the cursor gets
    /// that style; without, the text shows from its start.
    #[must_use]
    pub fn line(&self, width: u16, style: Style, cursor_style: Option<Style>) -> Line<'static> {
        let width = usize::from(width.max(1));
        let cell = |c: &char| c.width().unwrap_or(0);
        // Start at the cursor (plus room for the cursor cell) and walk left while the
        // text still fits, so the cursor is always in view and near the right edge.
        // Without a cursor (field not focused) the text simply shows from its start.
        let mut start = if cursor_style.is_some() {
            self.cursor
        } else {
            0
        };
        let mut used = 1;
        while cursor_style.is_some() && start > 0 {
            let w = cell(&self.chars[start - 1]);
            if used + w > width {
                break;
            }
            used += w;
            start -= 1;
        }
        let mut end = start;
        let mut shown = 0;
        while end < self.chars.len() && shown + cell(&self.chars[end]) <= width {
            shown += cell(&self.chars[end]);
            end += 1;
        }
        let Some(cursor_style) = cursor_style else {
            return Line::styled(self.chars[start..end].iter().collect::<String>(), style);
        };
        let before: String = self.chars[start..self.cursor.min(end)].iter().collect();
        let at: String = self
            .chars
            .get(self.cursor)
            .map_or_else(|| " ".to_owned(), ToString::to_string);
        let after: String = self
            .chars
            .get(self.cursor + 1..end.max(self.cursor + 1))
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        Line::from(vec![
            Span::styled(before, style),
            Span::styled(at, cursor_style),
            Span::styled(after, style),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(input: &mut LineInput, text: &str) {
        for c in text.chars() {
            assert!(input.handle_key(&key(KeyCode::Char(c))));
        }
    }

    /// Characters go in at the cursor; arrows, home and end move it.
    #[test]
    fn typing_and_moving() {
        let mut input = LineInput::new("ac");
        input.handle_key(&key(KeyCode::Left));
        typed(&mut input, "b");
        assert_eq!(input.text(), "abc");
        input.handle_key(&key(KeyCode::Home));
        typed(&mut input, ">");
        input.handle_key(&key(KeyCode::End));
        typed(&mut input, "<");
        assert_eq!(input.text(), ">abc<");
        assert_eq!(input.cursor(), 5);
        input.handle_key(&key(KeyCode::Right));
        assert_eq!(input.cursor(), 5);
    }

    /// Backspace, delete, ctrl-w, ctrl-u and ctrl-k delete what they should.
    #[test]
    fn deleting() {
        let mut input = LineInput::new("one two  three");
        input.handle_key(&ctrl('w'));
        assert_eq!(input.text(), "one two  ");
        input.handle_key(&ctrl('w'));
        assert_eq!(input.text(), "one ");
        input.handle_key(&key(KeyCode::Backspace));
        assert_eq!(input.text(), "one");
        input.handle_key(&key(KeyCode::Home));
        input.handle_key(&key(KeyCode::Delete));
        assert_eq!(input.text(), "ne");
        input.handle_key(&key(KeyCode::Right));
        input.handle_key(&ctrl('k'));
        assert_eq!(input.text(), "n");
        input.handle_key(&ctrl('u'));
        assert_eq!(input.text(), "");
        assert!(input.handle_key(&key(KeyCode::Backspace)));
        assert!(!input.handle_key(&key(KeyCode::Tab)));
    }

    /// A text longer than the box scrolls so the cursor stays visible.
    #[test]
    fn scrolls_to_cursor() {
        let input = LineInput::new("abcdefghij");
        let line = input.line(5, Style::new(), Some(Style::new()));
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "ghij ");
        let line = input.line(5, Style::new(), None);
        assert_eq!(line.spans[0].content, "abcde");
    }
}
