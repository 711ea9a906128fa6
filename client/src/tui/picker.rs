//! The record picker of a link field: as a person types into a field that links to
//! records (a goal's parent, a commitment's source, an owner, participants), the
//! records of the kinds it takes are matched fuzzily against what is typed since
//! the last comma, and the best few drop down under the field. ↓/↑ choose, Enter
//! takes one, Esc closes the list. The form keeps the title it put in the field
//! with the record's id, so the link holds even when two records share a title.
//!
//! Matching runs over the in-memory row index (no disk reads) with helix's fuzzy
//! matcher (`nucleo-matcher`); an id's short form (four or more hex digits from
//! its start or end) also matches.

use cairn_common::RecordId;
use cairn_common::model::RecordKind;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::text::{Line, Span};

use super::index::Index;
use super::theme::Theme;

/// How many records the list shows at most.
pub const SHOWN: usize = 6;

/// A record offered for a link field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub id: RecordId,
    pub kind: RecordKind,
    pub title: String,
}

/// The records of `kinds` that best match `query`, best first, at most [`SHOWN`].
/// Records in the trash are not offered.
#[must_use]
pub fn suggest(index: &Index, kinds: &[RecordKind], query: &str) -> Vec<Suggestion> {
    let query = query.trim();
    if query.is_empty() {
        return Vec::new();
    }
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let hex: String = query.to_lowercase().chars().filter(|c| *c != '-').collect();
    let by_id = hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let mut buf = Vec::new();
    // (score, title length, title, kind, id): higher score first, then shorter titles.
    let mut scored: Vec<(u32, usize, Suggestion)> = Vec::new();
    for kind in kinds {
        let rows = index.kind(*kind);
        for &i in rows.order() {
            let Some(row) = rows.row(i) else { continue };
            if row.is_deleted() {
                continue;
            }
            let title = row.cell(0);
            let id_score = by_id
                .then(|| {
                    let full = row.id.0.simple().to_string();
                    (full.ends_with(&hex) || full.starts_with(&hex)).then_some(u32::MAX)
                })
                .flatten();
            let score =
                id_score.or_else(|| pattern.score(Utf32Str::new(title, &mut buf), &mut matcher));
            if let Some(score) = score {
                scored.push((
                    score,
                    title.chars().count(),
                    Suggestion {
                        id: row.id,
                        kind: *kind,
                        title: title.to_owned(),
                    },
                ));
            }
        }
    }
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.title.cmp(&b.2.title))
    });
    scored.truncate(SHOWN);
    scored.into_iter().map(|(_, _, s)| s).collect()
}

/// What a key did to an open picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerKey {
    /// The key moved the choice or closed the list.
    Consumed,
    /// Enter: this record was taken.
    Take(Suggestion),
    /// Not a picker key: the field or the form handles it.
    NotMine,
}

/// The drop-down of one link field.
#[derive(Clone, Debug, Default)]
pub struct Picker {
    suggestions: Vec<Suggestion>,
    selected: usize,
    /// Esc closed it or a record was just taken: nothing is offered until the next
    /// change to what is typed.
    closed: bool,
}

impl Picker {
    /// Offers these records (ignored while closed).
    pub fn offer(&mut self, suggestions: Vec<Suggestion>) {
        if self.closed {
            return;
        }
        if self.suggestions != suggestions {
            self.selected = 0;
        }
        self.suggestions = suggestions;
    }

    /// What is typed changed: offer again.
    pub fn reopen(&mut self) {
        self.closed = false;
    }

    /// Empties and closes the list until the next typed change.
    pub fn close(&mut self) {
        self.suggestions.clear();
        self.selected = 0;
        self.closed = true;
    }

    /// Whether the list is shown.
    #[must_use]
    pub fn is_open(&self) -> bool {
        !self.closed && !self.suggestions.is_empty()
    }

    /// Whether it may offer records (it is not closed).
    #[must_use]
    pub fn is_offering(&self) -> bool {
        !self.closed
    }

    /// ↓/↑ (or ctrl-n/ctrl-p) choose, Enter takes, Esc closes.
    pub fn handle_key(&mut self, key: &KeyEvent) -> PickerKey {
        if !self.is_open() {
            return PickerKey::NotMine;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Down => self.step(1),
            KeyCode::Char('n') if ctrl => self.step(1),
            KeyCode::Up => self.step(-1),
            KeyCode::Char('p') if ctrl => self.step(-1),
            KeyCode::Enter => {
                let taken = self.suggestions.get(self.selected).cloned();
                self.close();
                return taken.map_or(PickerKey::Consumed, PickerKey::Take);
            }
            KeyCode::Esc => self.close(),
            _ => return PickerKey::NotMine,
        }
        PickerKey::Consumed
    }

    fn step(&mut self, delta: isize) {
        let last = self.suggestions.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// The list's lines, indented under the field's value by `indent` columns.
    #[must_use]
    pub fn lines(&self, theme: &Theme, indent: usize) -> Vec<Line<'static>> {
        if !self.is_open() {
            return Vec::new();
        }
        self.suggestions
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (marker, style) = if i == self.selected {
                    ("▸ ", theme.selected)
                } else {
                    ("  ", theme.text)
                };
                Line::from(vec![
                    Span::raw(" ".repeat(indent)),
                    Span::styled(marker, theme.accent),
                    Span::styled(s.title.clone(), style),
                    Span::styled(format!("  {} {}", s.kind.key(), s.id.short()), theme.dim),
                ])
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEvent;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn offer(n: usize) -> Vec<Suggestion> {
        (0..n)
            .map(|i| Suggestion {
                id: RecordId::new(),
                kind: RecordKind::Goal,
                title: format!("Goal {i}"),
            })
            .collect()
    }

    /// ↓ and ↑ stay within the list, Enter takes the chosen record and closes the
    /// list until what is typed changes; Esc closes without taking.
    #[test]
    fn keys_choose_take_and_close() {
        let mut picker = Picker::default();
        let records = offer(3);
        picker.offer(records.clone());
        assert!(picker.is_open());
        assert_eq!(picker.handle_key(&key(KeyCode::Up)), PickerKey::Consumed);
        for _ in 0..5 {
            picker.handle_key(&key(KeyCode::Down));
        }
        assert_eq!(
            picker.handle_key(&key(KeyCode::Enter)),
            PickerKey::Take(records[2].clone())
        );
        assert!(!picker.is_open());
        picker.offer(records.clone());
        assert!(!picker.is_open(), "closed until the text changes");
        assert_eq!(picker.handle_key(&key(KeyCode::Down)), PickerKey::NotMine);
        picker.reopen();
        picker.offer(records);
        assert_eq!(picker.handle_key(&key(KeyCode::Esc)), PickerKey::Consumed);
        assert!(!picker.is_open());
        assert_eq!(
            picker.handle_key(&key(KeyCode::Char('x'))),
            PickerKey::NotMine
        );
    }
}
