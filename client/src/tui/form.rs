//! The create/edit form of a record of any kind, built from the schema
//! (`cairn_common::model::fields_of`): labels, hints, required marks.
//!
//! One-line fields are typed in place; choice fields (statuses, note kind, rating,
//! yes/no) can also be cycled with ←/→/space; long texts open the multi-line
//! [`TextEditor`] inside the form. Saving parses every field with `FieldSpec::parse`;
//! if any is wrong the form stays open with the reason under the field, and nothing
//! typed is lost. The form never writes: it returns [`FormOutcome::Save`] and the app
//! commits.

use cairn_common::model::{
    CommitmentStatus, FieldSpec, FieldType, GoalStatus, NoteKind, Rating, RecordKind, fields_of,
    is_from_content,
};
use cairn_common::{RecordId, RecordState, Value};
use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};
use unicode_width::UnicodeWidthStr;

use super::keys::KeyBindings;
use super::layout::centered;
use super::line_input::LineInput;
use super::picker::{Picker, PickerKey};
use super::popup::{EditorOutcome, FormOutcome, hint_line};
use super::text_editor::TextEditor;
use super::theme::Theme;
use crate::replica::defaults;

/// What a field holds while it is edited.
#[derive(Clone, Debug)]
enum Input {
    Line(LineInput),
    Long(String),
}

#[derive(Clone, Debug)]
struct Field {
    spec: &'static FieldSpec,
    /// The text the form opened with: only fields whose text differs from it are saved
    /// when editing, so untouched fields (and untouched conflicts) stay as they are.
    initial: String,
    input: Input,
    /// Why the last save refused this field.
    error: Option<String>,
    /// How many versions the field has when it is in conflict (0 otherwise).
    versions: usize,
    /// Focus just came here and nothing was typed yet: the first character typed
    /// replaces the prefilled text (as in a selected text box); moving the cursor
    /// keeps it for editing.
    fresh: bool,
    /// A link field's titles (or names) with the records they stand for: what the
    /// form showed or the picker put in, so the link holds even if titles repeat.
    known: Vec<(String, RecordId)>,
    /// A link field's text with every record written as the schema reads it (ids),
    /// or why it cannot be: set by the app just before a save.
    resolved: Option<Result<String, String>>,
    /// A link field's drop-down of matching records.
    picker: Picker,
}

impl Field {
    fn new(spec: &'static FieldSpec, text: String, versions: usize) -> Self {
        let input = if matches!(spec.ty, FieldType::LongText) {
            Input::Long(text.clone())
        } else {
            Input::Line(LineInput::new(&text))
        };
        Self {
            spec,
            initial: text,
            input,
            error: None,
            versions,
            fresh: true,
            known: Vec::new(),
            resolved: None,
            picker: Picker::default(),
        }
    }

    fn text(&self) -> String {
        match &self.input {
            Input::Line(line) => line.text(),
            Input::Long(text) => text.clone(),
        }
    }

    fn changed(&self) -> bool {
        self.text() != self.initial
    }
}

/// The accepted keys of a choice field, in cycling order; `None` for other fields.
fn choices(ty: FieldType) -> Option<Vec<&'static str>> {
    let keys = match ty {
        FieldType::GoalStatus => GoalStatus::ALL.iter().map(|s| s.key()).collect(),
        FieldType::CommitmentStatus => CommitmentStatus::ALL.iter().map(|s| s.key()).collect(),
        FieldType::NoteKind => NoteKind::ALL.iter().map(|s| s.key()).collect(),
        FieldType::Rating => Rating::ALL.iter().map(|s| s.key()).collect(),
        FieldType::Bool => vec!["yes", "no"],
        _ => return None,
    };
    Some(keys)
}

/// The create or edit form of one record.
#[derive(Clone, Debug)]
pub struct RecordForm {
    kind: RecordKind,
    /// `None` for a new record.
    record: Option<RecordId>,
    /// What the title says after "Edit": the record's name when the form opened.
    name: String,
    today: NaiveDate,
    fields: Vec<Field>,
    focus: usize,
    /// The long-text editor, open on the focused field.
    editor: Option<TextEditor>,
    /// Esc was pressed with unsaved changes: the next esc or `y` discards them.
    confirm_discard: bool,
}

impl RecordForm {
    /// An empty form for a new record of `kind`, prefilled with the defaults a new
    /// record gets anyway (status open, date today, …). `today` resolves `+2w` etc.
    #[must_use]
    pub fn new_record(kind: RecordKind, today: NaiveDate) -> Self {
        let prefill = defaults(kind, today);
        let fields = fields_of(kind)
            .iter()
            .map(|spec| {
                let text = prefill
                    .iter()
                    .find(|(key, _)| key == spec.key)
                    .map(|(_, value)| value.to_text())
                    .unwrap_or_default();
                Field::new(spec, text, 0)
            })
            .collect();
        Self::with_fields(kind, None, String::new(), today, fields)
    }

    /// A form for editing `state`, prefilled with its current values (for a field in
    /// conflict, the newest version, with a note that saving a change replaces them all).
    /// A record whose `Create` has not arrived has no kind and so no fields: its form is
    /// empty and saving it changes nothing.
    #[must_use]
    pub fn edit(state: &RecordState, today: NaiveDate) -> Self {
        let kind = state.kind.unwrap_or(RecordKind::Note);
        let specs: &'static [FieldSpec] = if state.kind.is_some() {
            fields_of(kind)
        } else {
            &[]
        };
        let fields = specs
            .iter()
            .filter(|spec| !is_from_content(kind, spec.key))
            .map(|spec| {
                let value = state.get(spec.key);
                let versions = state
                    .register(spec.key)
                    .filter(|r| r.is_conflict())
                    .map_or(0, |r| r.values().len());
                // People read by name; the ids behind them are kept aside.
                let people = matches!(spec.ty, FieldType::Person { .. })
                    .then(|| value.and_then(Value::people))
                    .flatten();
                match people {
                    Some(people) => {
                        let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
                        let mut field = Field::new(spec, names.join(", "), versions);
                        field.known = people
                            .iter()
                            .filter_map(|p| Some((p.name.clone(), p.id?)))
                            .collect();
                        field
                    }
                    None => Field::new(
                        spec,
                        value.map(Value::to_text).unwrap_or_default(),
                        versions,
                    ),
                }
            })
            .collect();
        Self::with_fields(
            kind,
            Some(state.id),
            state.title().to_owned(),
            today,
            fields,
        )
    }

    fn with_fields(
        kind: RecordKind,
        record: Option<RecordId>,
        name: String,
        today: NaiveDate,
        fields: Vec<Field>,
    ) -> Self {
        Self {
            kind,
            record,
            name,
            today,
            fields,
            focus: 0,
            editor: None,
            confirm_discard: false,
        }
    }

    /// The kind of record the form is for.
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The record being edited; `None` for a new record.
    #[must_use]
    pub fn record_id(&self) -> Option<RecordId> {
        self.record
    }

    /// The key of the focused field.
    #[must_use]
    pub fn focused_field(&self) -> Option<&'static str> {
        self.fields.get(self.focus).map(|f| f.spec.key)
    }

    /// Puts `text` into `field` as if it had been the record's value (a new 1:1
    /// note starts with its title, participant and agenda); unknown fields are
    /// ignored.
    pub fn prefill(&mut self, field: &str, text: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.spec.key == field) {
            *f = Field::new(f.spec, String::new(), 0);
            match &mut f.input {
                Input::Line(line) => line.set_text(text),
                Input::Long(long) => *long = text.to_owned(),
            }
        }
    }

    /// The text currently typed into `field`, if the form has it.
    #[must_use]
    pub fn field_text(&self, field: &str) -> Option<String> {
        if let (Some(editor), Some(focused)) = (&self.editor, self.fields.get(self.focus))
            && focused.spec.key == field
        {
            return Some(editor.text());
        }
        self.fields
            .iter()
            .find(|f| f.spec.key == field)
            .map(Field::text)
    }

    /// The error shown under `field` since the last save attempt.
    #[must_use]
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.spec.key == field)
            .and_then(|f| f.error.as_deref())
    }

    /// Whether anything differs from what the form opened with.
    #[must_use]
    pub fn is_changed(&self) -> bool {
        self.editor.as_ref().is_some_and(|e| {
            self.fields
                .get(self.focus)
                .is_some_and(|f| e.text() != f.initial)
        }) || self.fields.iter().any(Field::changed)
    }

    /// Whether the multi-line editor is open on a long-text field.
    #[must_use]
    pub fn is_editing_text(&self) -> bool {
        self.editor.is_some()
    }

    /// The focused long-text field's label and text, for `$EDITOR`; `None` when the
    /// focused field is not a long text.
    #[must_use]
    pub fn external_editor_text(&self) -> Option<(&'static str, String)> {
        let field = self.fields.get(self.focus)?;
        match (&self.editor, &field.input) {
            (Some(editor), _) => Some((field.spec.label, editor.text())),
            (None, Input::Long(text)) => Some((field.spec.label, text.clone())),
            (None, Input::Line(_)) => None,
        }
    }

    /// Puts the text `$EDITOR` returned into the focused long-text field (undoable when
    /// the multi-line editor is open). Does nothing if the focus is not a long text.
    pub fn set_external_text(&mut self, text: String) {
        if let Some(editor) = &mut self.editor {
            editor.set_text(&text);
        } else if let Some(field) = self.fields.get_mut(self.focus)
            && let Input::Long(long) = &mut field.input
        {
            *long = text;
            field.error = None;
        }
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> FormOutcome {
        if key.kind == KeyEventKind::Release {
            return FormOutcome::Ignored;
        }
        if let Some(editor) = &mut self.editor {
            return match editor.handle_key(key, keys) {
                // Both close the editor and keep the text: the form's own save and
                // cancel (with its confirmation) decide what happens to it.
                EditorOutcome::Save | EditorOutcome::Cancelled => {
                    self.close_editor();
                    FormOutcome::Consumed
                }
                EditorOutcome::OpenExternalEditor => FormOutcome::OpenExternalEditor,
                EditorOutcome::Consumed | EditorOutcome::Ignored => FormOutcome::Consumed,
            };
        }
        if self.confirm_discard {
            self.confirm_discard = false;
            let yes = matches!(key.code, KeyCode::Char('y' | 'Y'))
                && !key.modifiers.contains(KeyModifiers::CONTROL);
            if yes || keys.cancel.matches(key) {
                return FormOutcome::Cancelled;
            }
            // Any other key just keeps editing; it is not typed, so an answer like `n`
            // does not end up in a field.
            return FormOutcome::Consumed;
        }
        // An open picker has ↓/↑, Enter and Esc (Esc closes it, not the form).
        let picked = self
            .fields
            .get_mut(self.focus)
            .map_or(PickerKey::NotMine, |f| f.picker.handle_key(key));
        match picked {
            PickerKey::Consumed => return FormOutcome::Consumed,
            PickerKey::Take(record) => {
                self.take_link(&record);
                return FormOutcome::Consumed;
            }
            PickerKey::NotMine => {}
        }
        if keys.save.matches(key) {
            return self.save();
        }
        if keys.cancel.matches(key) {
            if self.is_changed() {
                self.confirm_discard = true;
                return FormOutcome::Consumed;
            }
            return FormOutcome::Cancelled;
        }
        if self.fields.is_empty() {
            return FormOutcome::Ignored;
        }
        if keys.next_field.matches(key) || key.code == KeyCode::Enter && !self.focused_is_long() {
            self.focus_on((self.focus + 1) % self.fields.len());
            return FormOutcome::Consumed;
        }
        if keys.prev_field.matches(key) {
            self.focus_on((self.focus + self.fields.len() - 1) % self.fields.len());
            return FormOutcome::Consumed;
        }
        if self.focused_is_long() {
            return self.long_field_key(key, keys);
        }
        if keys.open_editor.matches(key) {
            // `$EDITOR` is for long texts; a one-line field is typed in place.
            return FormOutcome::Consumed;
        }
        let field = &mut self.fields[self.focus];
        let Input::Line(line) = &mut field.input else {
            return FormOutcome::Ignored;
        };
        if let Some(choices) = choices(field.spec.ty) {
            // A selector: ←/→/space cycle, a letter picks the next choice starting
            // with it, backspace/delete clear an optional one; nothing is typed in.
            if key.modifiers - KeyModifiers::SHIFT != KeyModifiers::NONE {
                return FormOutcome::Ignored;
            }
            let current = line.text();
            let text = match key.code {
                KeyCode::Right | KeyCode::Char(' ') => {
                    cycle(&choices, &current, 1, !field.spec.required)
                }
                KeyCode::Left => cycle(&choices, &current, -1, !field.spec.required),
                KeyCode::Char(c) => pick(&choices, &current, c).unwrap_or(current),
                KeyCode::Backspace | KeyCode::Delete if !field.spec.required => String::new(),
                _ => return FormOutcome::Ignored,
            };
            line.set_text(&text);
            field.error = None;
            field.fresh = false;
            return FormOutcome::Consumed;
        }
        let typed = matches!(key.code, KeyCode::Char(_))
            && !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if field.fresh && (typed || matches!(key.code, KeyCode::Backspace | KeyCode::Delete)) {
            // Typing over a prefilled value replaces it; backspace clears it.
            line.set_text("");
        }
        let before = line.text();
        if line.handle_key(key) {
            field.error = None;
            field.fresh = false;
            if line.text() != before {
                field.picker.reopen();
            }
            FormOutcome::Consumed
        } else {
            FormOutcome::Ignored
        }
    }

    /// Moves the focus to field `index`; its prefilled text is replaced by typing.
    fn focus_on(&mut self, index: usize) {
        if let Some(left) = self.fields.get_mut(self.focus) {
            left.picker = Picker::default();
        }
        self.focus = index;
        if let Some(field) = self.fields.get_mut(index) {
            field.fresh = true;
        }
    }

    /// Pastes text (a bracketed paste) into the focused field: line breaks stay in
    /// a long text and become spaces in a one-line field; a choice field takes the
    /// choice the text names, if any.
    pub fn paste(&mut self, text: &str) {
        if let Some(editor) = &mut self.editor {
            editor.paste(text);
            return;
        }
        let Some(field) = self.fields.get_mut(self.focus) else {
            return;
        };
        match &mut field.input {
            Input::Long(current) => {
                let mut editor = TextEditor::new(field.spec.label, current);
                editor.move_to_end();
                editor.paste(text);
                self.editor = Some(editor);
            }
            Input::Line(line) => {
                if let Some(choices) = choices(field.spec.ty) {
                    let wanted = text.trim().to_lowercase();
                    if let Some(choice) = choices.iter().find(|c| **c == wanted) {
                        line.set_text(choice);
                    }
                } else {
                    if field.fresh {
                        line.set_text("");
                    }
                    line.paste(text);
                    field.picker.reopen();
                }
                field.fresh = false;
                field.error = None;
            }
        }
    }

    fn focused_is_long(&self) -> bool {
        self.fields
            .get(self.focus)
            .is_some_and(|f| matches!(f.input, Input::Long(_)))
    }

    fn long_field_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> FormOutcome {
        if keys.open_editor.matches(key) {
            return FormOutcome::OpenExternalEditor;
        }
        let typed = matches!(key.code, KeyCode::Char(_))
            && !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if key.code == KeyCode::Enter || typed {
            let field = &self.fields[self.focus];
            let mut editor = TextEditor::new(field.spec.label, &field.text());
            if typed {
                // Starting to type on a long text opens the editor with that character,
                // rather than the key falling through to the app (where `q` quits).
                editor.handle_key(key, keys);
            }
            self.editor = Some(editor);
            return FormOutcome::Consumed;
        }
        FormOutcome::Ignored
    }

    fn close_editor(&mut self) {
        if let Some(editor) = self.editor.take()
            && let Some(field) = self.fields.get_mut(self.focus)
            && let Input::Long(text) = &mut field.input
        {
            let new = editor.text();
            if *text != new {
                field.error = None;
            }
            *text = new;
        }
    }

    /// Parses every field; on any error the form stays open with the errors shown and
    /// the first bad field focused.
    fn save(&mut self) -> FormOutcome {
        let is_new = self.record.is_none();
        let mut values = Vec::new();
        let mut first_bad = None;
        for (i, field) in self.fields.iter_mut().enumerate() {
            let text = field.text();
            let parsed = match field.resolved.take() {
                Some(Err(reason)) => Err(cairn_common::model::ModelError::Invalid {
                    field: field.spec.label,
                    reason,
                }),
                Some(Ok(canonical)) => field.spec.parse(&canonical, self.today),
                None => field.spec.parse(&text, self.today),
            };
            match parsed {
                Ok(value) => {
                    field.error = None;
                    let wanted = if is_new {
                        !text.trim().is_empty()
                    } else {
                        field.changed()
                    };
                    if wanted {
                        values.push((field.spec.key.to_owned(), value));
                    }
                }
                Err(error) => {
                    field.error = Some(error.to_string());
                    first_bad.get_or_insert(i);
                }
            }
        }
        if let Some(i) = first_bad {
            self.focus = i;
            return FormOutcome::Consumed;
        }
        if values.is_empty() && !is_new {
            // Nothing changed: there is nothing to commit, so saving just closes.
            return FormOutcome::Cancelled;
        }
        FormOutcome::Save(values)
    }

    /// Draws the form as a centred popup in `area`; with the multi-line editor open,
    /// the editor fills the popup instead.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: &KeyBindings) {
        let width = area.width.saturating_sub(4).clamp(20, 90);
        if let Some(editor) = &self.editor {
            let popup = centered(area, width, area.height.saturating_sub(2).max(6));
            frame.render_widget(Clear, popup);
            editor.draw(frame, popup, theme, keys);
            return;
        }
        let label_width = self
            .fields
            .iter()
            .map(|f| f.spec.label.width() + 2)
            .max()
            .unwrap_or(0)
            + 2;
        let inner_width = usize::from(width.saturating_sub(2));
        let value_width = inner_width.saturating_sub(label_width + 1).max(8);
        let (lines, focus_range) = self.lines(theme, label_width, value_width);
        let chrome = 2 + 1 + u16::from(self.confirm_discard);
        let wanted = u16::try_from(lines.len())
            .unwrap_or(u16::MAX)
            .saturating_add(chrome);
        let popup = centered(
            area,
            width,
            wanted.min(area.height.saturating_sub(2)).max(chrome + 1),
        );
        let title = match self.record {
            None => format!(" New {} ", self.kind.key()),
            Some(_) => format!(" Edit {}: {} ", self.kind.key(), self.name),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Line::styled(title, theme.accent));
        let inner = block.inner(popup);
        frame.render_widget(Clear, popup);
        frame.render_widget(block, popup);
        let [body, confirm, hints] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(u16::from(self.confirm_discard)),
            Constraint::Length(1),
        ])
        .areas(inner);
        let height = usize::from(body.height);
        // Scroll just enough that the focused field with its notes is in view.
        let offset = focus_range.1.saturating_sub(height).min(focus_range.0);
        let total = lines.len();
        frame.render_widget(
            Paragraph::new(lines).scroll((u16::try_from(offset).unwrap_or(0), 0)),
            body,
        );
        if total > height {
            let mut state = ScrollbarState::new(total.saturating_sub(height)).position(offset);
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight),
                popup.inner(Margin::new(0, 1)),
                &mut state,
            );
        }
        if self.confirm_discard {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(
                        "Discard your changes? {} or y discards, any other key keeps editing",
                        keys.cancel
                    ),
                    theme.warn,
                )),
                confirm,
            );
        }
        let mut line = hint_line(
            theme,
            &[
                (&keys.save, "save"),
                (&keys.cancel, "cancel"),
                // Previous field is left out to keep the line within 80 columns;
                // the help overlay lists it.
                (&keys.next_field, "next field"),
            ],
        );
        let focused = self.fields.get(self.focus);
        match focused.map(|f| (&f.input, choices(f.spec.ty).is_some())) {
            Some((Input::Long(_), _)) => {
                line.spans.push(Span::styled(" · ", theme.dim));
                line.spans.push(Span::styled("enter", theme.accent));
                line.spans.push(Span::styled(" write", theme.dim));
                line.spans.push(Span::styled(" · ", theme.dim));
                line.spans
                    .push(Span::styled(keys.open_editor.to_string(), theme.accent));
                line.spans.push(Span::styled(" $EDITOR", theme.dim));
            }
            Some((Input::Line(_), true)) => {
                line.spans.push(Span::styled(" · ", theme.dim));
                line.spans.push(Span::styled("←/→/space", theme.accent));
                line.spans.push(Span::styled(" choose", theme.dim));
            }
            _ => {}
        }
        frame.render_widget(Paragraph::new(line), hints);
    }

    /// The body lines and the range of lines of the focused field.
    fn lines(
        &self,
        theme: &Theme,
        label_width: usize,
        value_width: usize,
    ) -> (Vec<Line<'static>>, (usize, usize)) {
        let mut lines = Vec::new();
        let mut focus_range = (0, 0);
        let indent = " ".repeat(label_width + 1);
        for (i, field) in self.fields.iter().enumerate() {
            let focused = i == self.focus;
            let start = lines.len();
            let mark = if field.spec.required { " *" } else { "" };
            let label = format!("{}{mark}", field.spec.label);
            let pad = label_width.saturating_sub(label.width() + 2);
            let label_style = if focused { theme.selected } else { theme.text };
            let mut spans = vec![
                Span::styled(if focused { "› " } else { "  " }, theme.accent),
                Span::styled(label, label_style),
                Span::raw(" ".repeat(pad + 1)),
            ];
            let width = u16::try_from(value_width).unwrap_or(u16::MAX);
            match &field.input {
                Input::Line(line) if choices(field.spec.ty).is_some() => {
                    // A selector: the choice between arrows when focused.
                    let text = line.text();
                    let shown = if text.is_empty() {
                        "—".to_owned()
                    } else {
                        text
                    };
                    if focused {
                        spans.push(Span::styled("◀ ", theme.dim));
                        spans.push(Span::styled(shown, theme.selected));
                        spans.push(Span::styled(" ▶", theme.dim));
                    } else {
                        spans.push(Span::styled(shown, theme.text));
                    }
                }
                Input::Line(line) if focused && field.fresh && !line.text().is_empty() => {
                    // Shown as selected: typing replaces it, ←/→ edit it.
                    spans.extend(line.line(width, theme.selected, None).spans);
                }
                Input::Line(line) => {
                    let cursor = focused.then(|| theme.text.add_modifier(Modifier::REVERSED));
                    spans.extend(line.line(width, theme.text, cursor).spans);
                }
                Input::Long(text) => spans.extend(long_summary(text, value_width, theme)),
            }
            lines.push(Line::from(spans));
            if focused {
                lines.extend(field.picker.lines(theme, label_width + 1));
            }
            if focused {
                let hint = match choices(field.spec.ty) {
                    Some(choices) => format!("←/→ or a letter chooses: {}", choices.join(", ")),
                    None if field.picker.is_open() => {
                        "↓/↑ choose, enter takes it, esc closes the list".to_owned()
                    }
                    None if links::link_kinds(field.spec.ty).is_some() && field.fresh => {
                        format!("{} — type to pick from matching records", field.spec.hint)
                    }
                    None if field.fresh && !field.text().is_empty() => {
                        format!("{} (typing replaces it, ← → edit it)", field.spec.hint)
                    }
                    None => field.spec.hint.to_owned(),
                };
                for part in wrap(&hint, value_width) {
                    lines.push(Line::styled(format!("{indent}{part}"), theme.dim));
                }
            }
            if field.versions > 1 {
                let note = format!(
                    "⚠ {} versions in conflict; saving a change here replaces them all",
                    field.versions
                );
                for part in wrap(&note, value_width) {
                    lines.push(Line::styled(format!("{indent}{part}"), theme.conflict));
                }
            }
            if let Some(error) = &field.error {
                for part in wrap(&format!("✗ {error}"), value_width) {
                    lines.push(Line::styled(format!("{indent}{part}"), theme.error));
                }
            }
            if focused {
                focus_range = (start, lines.len());
            }
        }
        (lines, focus_range)
    }
}

/// The next (`step` 1) or previous (`-1`) choice after `current`; with `allow_empty`,
/// the empty text is one of the stops so an optional field can be cleared again.
/// The choice after `current` (round the end) that starts with `letter`, so pressing
/// a letter again steps through the choices that start with it.
fn pick(choices: &[&'static str], current: &str, letter: char) -> Option<String> {
    let letter = letter.to_ascii_lowercase();
    let at = choices
        .iter()
        .position(|c| *c == current)
        .map_or(0, |i| i + 1);
    (0..choices.len())
        .map(|i| choices[(at + i) % choices.len()])
        .find(|c| c.starts_with(letter))
        .map(str::to_owned)
}

fn cycle(choices: &[&'static str], current: &str, step: isize, allow_empty: bool) -> String {
    let mut stops: Vec<&str> = choices.to_vec();
    if allow_empty {
        stops.push("");
    }
    let norm = |s: &str| s.trim().to_lowercase();
    let len = stops.len().cast_signed();
    let next = match stops.iter().position(|c| norm(c) == norm(current)) {
        Some(at) => (at.cast_signed() + step).rem_euclid(len),
        // Something unknown was typed: start from the first choice (or the last going back).
        None if step > 0 => 0,
        None => len - 1,
    };
    stops[next.cast_unsigned()].to_owned()
}

/// A long text in one line: its first line and how many lines it has.
fn long_summary(text: &str, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    if text.trim().is_empty() {
        return vec![Span::styled("(empty)", theme.dim)];
    }
    let count = text.lines().count();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let more = if count > 1 {
        format!(" … ({count} lines)")
    } else {
        String::new()
    };
    let room = width.saturating_sub(more.width());
    let mut shown = String::new();
    for c in first.chars() {
        if shown.width() + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) > room {
            break;
        }
        shown.push(c);
    }
    vec![
        Span::styled(shown, theme.text),
        Span::styled(more, theme.dim),
    ]
}

/// Word-wraps `text` into lines of at most `width` cells (longer words are cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if !line.is_empty() && line.width() + sep + word.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.width() > width {
            let cut: String = line.chars().take(width).collect();
            let rest: String = line.chars().skip(width).collect();
            lines.push(cut);
            line = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[path = "form_links.rs"]
pub mod links;

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
