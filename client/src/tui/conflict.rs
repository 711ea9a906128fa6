//! Resolving a record's conflicts: fields that people edited offline at the same time
//! and that therefore hold several versions.
//!
//! One conflicted field at a time, two versions side by side with who wrote them and
//! when (with more than two versions, the user cycles through the pairs). The user keeps
//! the left or right version, or edits a merge of both in the [`TextEditor`]. The view
//! never writes: it returns [`ConflictOutcome::Resolve`] and the app commits that value
//! with `Replica::set_op`, which replaces every current version. After committing, the
//! app rebuilds the view from the new state; [`ConflictView::new`] returns `None` when
//! no conflict is left.

use cairn_common::merge::FieldValue;
use cairn_common::model::{FieldSpec, FieldType, RecordKind, spec_of};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;
use crossterm::event::{KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::keys::{KeyBinding, KeyBindings};
use super::layout::centered;
use super::popup::{ConflictOutcome, EditorOutcome, hint_line};
use super::text_editor::TextEditor;
use super::theme::Theme;
use crate::present::timestamp;

/// Marker lines around the versions in a merge text; a merge is only saved once they
/// are gone, so a half-done merge cannot be committed by accident.
const MARK_START: &str = "<<<<<<<";
const MARK_MIDDLE: &str = "=======";
const MARK_END: &str = ">>>>>>>";

#[derive(Clone, Debug)]
struct ConflictField {
    spec: &'static FieldSpec,
    versions: Vec<FieldValue>,
}

/// The merge being edited: for which field and pair, so a draft left with esc comes
/// back when the user presses merge again on the same comparison.
#[derive(Clone, Debug)]
struct Merge {
    field: usize,
    pair: usize,
    editor: TextEditor,
    open: bool,
    /// Neither version ended with a line break: the one the merge text needs after
    /// the last version is not part of the value.
    strip_final_newline: bool,
}

/// The conflict resolver of one record.
#[derive(Clone, Debug)]
pub struct ConflictView {
    record: RecordId,
    kind: RecordKind,
    name: String,
    today: NaiveDate,
    fields: Vec<ConflictField>,
    current: usize,
    /// Index into [`pairs`] of the current field's versions.
    pair: usize,
    /// Lines scrolled in both panes.
    scroll: u16,
    merge: Option<Merge>,
}

/// Every pair `(i, j)`, `i < j`, of `n` versions, in the order they are cycled.
fn pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect()
}

/// `A`, `B`, … for version indexes.
fn letter(i: usize) -> char {
    u8::try_from(i)
        .ok()
        .filter(|i| *i < 26)
        .map_or('?', |i| char::from(b'A' + i))
}

fn describe(version: &FieldValue) -> String {
    format!("by {}, {}", version.author.short(), timestamp(version.at))
}

impl ConflictView {
    /// The resolver for `state`'s conflicted fields (those of its kind's schema), in
    /// form order; `None` if there is nothing to resolve. `today` reads relative dates
    /// typed into a merge.
    #[must_use]
    pub fn new(state: &RecordState, today: NaiveDate) -> Option<Self> {
        let kind = state.kind?;
        let conflicted = state.conflicts();
        let mut fields: Vec<ConflictField> = conflicted
            .iter()
            .filter_map(|key| {
                let spec = spec_of(kind, key).ok()?;
                let versions = state.register(key)?.values().to_vec();
                Some(ConflictField { spec, versions })
            })
            .collect();
        let order = |f: &ConflictField| {
            cairn_common::model::fields_of(kind)
                .iter()
                .position(|s| s.key == f.spec.key)
        };
        fields.sort_by_key(order);
        if fields.is_empty() {
            return None;
        }
        Some(Self {
            record: state.id,
            kind,
            name: state.title().to_owned(),
            today,
            fields,
            current: 0,
            pair: 0,
            scroll: 0,
            merge: None,
        })
    }

    /// The record whose conflicts are shown.
    #[must_use]
    pub fn record_id(&self) -> RecordId {
        self.record
    }

    /// The key of the field shown.
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.fields[self.current].spec.key
    }

    /// The versions compared, as indexes into the field's current values (oldest first).
    #[must_use]
    pub fn shown_pair(&self) -> (usize, usize) {
        let n = self.fields[self.current].versions.len();
        pairs(n).get(self.pair).copied().unwrap_or((0, 1))
    }

    /// Whether the merge editor is open.
    #[must_use]
    pub fn is_merging(&self) -> bool {
        self.merge.as_ref().is_some_and(|m| m.open)
    }

    /// The merge text and the field's label, for `$EDITOR`; `None` unless merging.
    #[must_use]
    pub fn external_editor_text(&self) -> Option<(&'static str, String)> {
        let merge = self.merge.as_ref().filter(|m| m.open)?;
        Some((self.fields[merge.field].spec.label, merge.editor.text()))
    }

    /// Puts the text `$EDITOR` returned into the merge editor (undoable).
    pub fn set_external_text(&mut self, text: String) {
        if let Some(merge) = self.merge.as_mut().filter(|m| m.open) {
            merge.editor.set_text(&text);
        }
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> ConflictOutcome {
        if key.kind == KeyEventKind::Release {
            return ConflictOutcome::Ignored;
        }
        if self.is_merging() {
            return self.merge_key(key, keys);
        }
        let field = &self.fields[self.current];
        let (left, right) = self.shown_pair();
        if keys.cancel.matches(key) {
            return ConflictOutcome::Cancelled;
        }
        if keys.take_left.matches(key) || keys.take_right.matches(key) {
            let side = if keys.take_left.matches(key) {
                left
            } else {
                right
            };
            return match field.versions.get(side) {
                Some(version) => ConflictOutcome::Resolve {
                    field: field.spec.key.to_owned(),
                    value: version.value.clone(),
                },
                None => ConflictOutcome::Consumed,
            };
        }
        if keys.merge.matches(key) {
            self.open_merge();
            return ConflictOutcome::Consumed;
        }
        if keys.next_pair.matches(key) {
            let count = pairs(field.versions.len()).len().max(1);
            self.pair = (self.pair + 1) % count;
            self.scroll = 0;
            return ConflictOutcome::Consumed;
        }
        // Scrolling first: `down` is also a next-field key in forms, but here the
        // arrows scroll and tab moves between fields.
        let step = if keys.down.matches(key) {
            1
        } else if keys.up.matches(key) {
            -1
        } else if keys.page_down.matches(key) {
            10
        } else if keys.page_up.matches(key) {
            -10
        } else {
            0
        };
        if step != 0 {
            self.scroll = self
                .scroll
                .saturating_add_signed(step)
                .min(self.max_scroll());
            return ConflictOutcome::Consumed;
        }
        let n = self.fields.len();
        if keys.next_field.matches(key) || keys.prev_field.matches(key) {
            self.current = if keys.next_field.matches(key) {
                (self.current + 1) % n
            } else {
                (self.current + n - 1) % n
            };
            self.pair = 0;
            self.scroll = 0;
            return ConflictOutcome::Consumed;
        }
        ConflictOutcome::Ignored
    }

    /// How far the panes may scroll: the longer version's lines, each counted as if
    /// wrapped at 10 columns, so every part of it can be reached in any pane width
    /// (scrolling further than needed only shows blank space).
    fn max_scroll(&self) -> u16 {
        let field = &self.fields[self.current];
        let (l, r) = self.shown_pair();
        let lines = |i: usize| {
            field.versions.get(i).map_or(0, |v| {
                v.value
                    .to_text()
                    .lines()
                    .map(|line| line.chars().count().div_ceil(10).max(1))
                    .sum::<usize>()
            })
        };
        u16::try_from(lines(l).max(lines(r))).unwrap_or(u16::MAX)
    }

    fn open_merge(&mut self) {
        let (current, pair) = (self.current, self.pair);
        if let Some(merge) = &mut self.merge
            && merge.field == current
            && merge.pair == pair
        {
            merge.open = true;
            return;
        }
        let field = &self.fields[current];
        let (l, r) = self.shown_pair();
        let block = |i: usize| {
            let text = field
                .versions
                .get(i)
                .map(|v| v.value.to_text())
                .unwrap_or_default();
            if text.is_empty() || text.ends_with('\n') {
                text
            } else {
                format!("{text}\n")
            }
        };
        let who = |i: usize| field.versions.get(i).map(describe).unwrap_or_default();
        let text = format!(
            "{MARK_START} version {} ({})\n{}{MARK_MIDDLE}\n{}{MARK_END} version {} ({})\n",
            letter(l),
            who(l),
            block(l),
            block(r),
            letter(r),
            who(r),
        );
        let strip_final_newline = [l, r].iter().all(|i| {
            field
                .versions
                .get(*i)
                .is_none_or(|v| !v.value.to_text().ends_with('\n'))
        });
        let title = format!("Merge {} of {}", field.spec.label, self.name);
        self.merge = Some(Merge {
            field: current,
            pair,
            editor: TextEditor::new(&title, &text),
            open: true,
            strip_final_newline,
        });
    }

    fn merge_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> ConflictOutcome {
        let Some(merge) = self.merge.as_mut() else {
            return ConflictOutcome::Ignored;
        };
        match merge.editor.handle_key(key, keys) {
            EditorOutcome::Save => {
                let field = &self.fields[merge.field];
                let text = merge.editor.text();
                let text = match text.strip_suffix('\n') {
                    Some(stripped) if merge.strip_final_newline => stripped,
                    _ => &text,
                };
                match parse_merge(field.spec, text, self.today) {
                    Ok(value) => {
                        let field = field.spec.key.to_owned();
                        self.merge = None;
                        ConflictOutcome::Resolve { field, value }
                    }
                    Err(error) => {
                        merge.editor.set_error(Some(error));
                        ConflictOutcome::Consumed
                    }
                }
            }
            // Back to the comparison; the draft is kept for the next merge key.
            EditorOutcome::Cancelled => {
                merge.open = false;
                ConflictOutcome::Consumed
            }
            EditorOutcome::OpenExternalEditor => ConflictOutcome::OpenExternalEditor,
            EditorOutcome::Consumed | EditorOutcome::Ignored => ConflictOutcome::Consumed,
        }
    }

    /// Draws the view as a centred popup in `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: &KeyBindings) {
        let popup = centered(
            area,
            area.width.saturating_sub(4).max(20),
            area.height.saturating_sub(2).max(8),
        );
        frame.render_widget(Clear, popup);
        if let Some(merge) = self.merge.as_ref().filter(|m| m.open) {
            merge.editor.draw(frame, popup, theme, keys);
            return;
        }
        let field = &self.fields[self.current];
        let title = format!(
            " Conflicts in {} {}: field {} of {} ",
            self.kind.key(),
            self.name,
            self.current + 1,
            self.fields.len()
        );
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(title, theme.accent));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        let [heading, panes, hints] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(inner);
        let (l, r) = self.shown_pair();
        let count = field.versions.len();
        let mut head = vec![
            Span::styled(field.spec.label, theme.conflict),
            Span::styled(format!(": {count} versions"), theme.text),
        ];
        if count > 2 {
            head.push(Span::styled(
                format!(
                    ", showing {} and {} ({} for the next pair)",
                    letter(l),
                    letter(r),
                    keys.next_pair
                ),
                theme.dim,
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(head)), heading);
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(panes);
        for (side, index, pane, binding) in [
            ("keep", l, left_area, &keys.take_left),
            ("keep", r, right_area, &keys.take_right),
        ] {
            let Some(version) = field.versions.get(index) else {
                continue;
            };
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Line::styled(
                    format!(" version {} ({binding} {side}) ", letter(index)),
                    theme.accent,
                ));
            let mut text = Text::from(vec![
                Line::styled(format!("by {}", version.author.short()), theme.dim),
                Line::styled(timestamp(version.at), theme.dim),
                Line::raw(""),
            ]);
            let value = version.value.to_text();
            if value.is_empty() {
                text.push_line(Line::styled("(empty)", theme.dim));
            } else {
                for line in value.lines() {
                    text.push_line(Line::styled(line.to_owned(), theme.text));
                }
            }
            frame.render_widget(
                Paragraph::new(text)
                    .block(block)
                    .wrap(Wrap { trim: false })
                    .scroll((self.scroll, 0)),
                pane,
            );
        }
        // Keys that scroll here are not also offered as "next field" (↓ is both).
        let next_field = KeyBinding(
            keys.next_field
                .0
                .iter()
                .filter(|k| !keys.down.0.contains(k))
                .copied()
                .collect(),
        );
        frame.render_widget(
            Paragraph::new(hint_line(
                theme,
                &[
                    (&keys.take_left, "left"),
                    (&keys.take_right, "right"),
                    (&keys.merge, "merge"),
                    (&next_field, "next field"),
                    (&keys.down, "scroll"),
                    (&keys.cancel, "close"),
                ],
            )),
            hints,
        );
    }
}

/// Reads an edited merge: the markers must be gone, then the field's own parser.
fn parse_merge(
    spec: &FieldSpec,
    text: &str,
    today: NaiveDate,
) -> Result<cairn_common::Value, String> {
    let marker = text.lines().find(|line| {
        line.starts_with(MARK_START) || line.starts_with(MARK_END) || line.trim_end() == MARK_MIDDLE
    });
    if let Some(line) = marker {
        let shown: String = line.chars().take(20).collect();
        return Err(format!(
            "remove the marker line {shown:?} (and the other {MARK_START} / {MARK_MIDDLE} / {MARK_END} lines) once the text is as it should be"
        ));
    }
    // A one-line field's text form never ends with a line break; one left over from
    // the merge layout is not something the user means.
    let text = if matches!(spec.ty, FieldType::LongText) {
        text
    } else {
        text.trim_end_matches(['\n', '\r'])
    };
    spec.parse(text, today).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "conflict_tests.rs"]
mod tests;
