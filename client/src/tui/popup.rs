//! What the popups (record form, text editor, conflict view) tell the app after a key,
//! and the key-hint line they share.
//!
//! Popups never touch the replica: they return an outcome and the app decides what to
//! commit. `Consumed` means "redraw, nothing else to do"; `Ignored` means the popup had
//! no use for the key and a parent may handle it.

use cairn_common::Value;
use ratatui::text::{Line, Span};

use super::keys::KeyBinding;
use super::theme::Theme;

/// What a [`RecordForm`](super::form::RecordForm) asks of the app.
#[derive(Clone, Debug, PartialEq)]
pub enum FormOutcome {
    /// The key changed the form (or did nothing visible); just redraw.
    Consumed,
    /// The form has no use for the key.
    Ignored,
    /// Close the form without saving (the user confirmed if anything had changed).
    Cancelled,
    /// Commit these fields, parsed and checked against the schema: for a new record
    /// every non-empty field, for an edit only the fields whose text changed.
    Save(Vec<(String, Value)>),
    /// Suspend the terminal, run `$EDITOR` on
    /// [`RecordForm::external_editor_text`](super::form::RecordForm::external_editor_text)
    /// and hand the result to `set_external_text`.
    OpenExternalEditor,
}

/// What a [`ConflictView`](super::conflict::ConflictView) asks of the app.
#[derive(Clone, Debug, PartialEq)]
pub enum ConflictOutcome {
    /// Just redraw.
    Consumed,
    /// The view has no use for the key.
    Ignored,
    /// Close the view; nothing is resolved.
    Cancelled,
    /// Commit `value` as the field's only value with `Replica::set_op`, which replaces
    /// every current version and so resolves this field's conflict.
    Resolve { field: String, value: Value },
    /// Suspend the terminal and run `$EDITOR` on the merge text, as for forms.
    OpenExternalEditor,
}

/// What a [`TextEditor`](super::text_editor::TextEditor) tells its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditorOutcome {
    /// Just redraw.
    Consumed,
    /// The editor has no use for the key (e.g. a key release).
    Ignored,
    /// The save binding: the owner takes [`text`](super::text_editor::TextEditor::text).
    Save,
    /// The cancel binding: the owner decides whether the text is kept or dropped.
    Cancelled,
    /// The user asked for `$EDITOR` on this text.
    OpenExternalEditor,
}

/// The key-hint line at the bottom of a popup: `ctrl-s save · esc cancel · …`.
#[must_use]
pub fn hint_line<'a>(theme: &Theme, hints: &[(&KeyBinding, &'a str)]) -> Line<'a> {
    let mut spans = Vec::with_capacity(hints.len() * 3);
    for (i, (binding, what)) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        spans.push(Span::styled(binding.to_string(), theme.accent));
        spans.push(Span::styled(format!(" {what}"), theme.dim));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keys::KeyBindings;

    /// The hint line names each binding's keys and what they do, in order.
    #[test]
    fn hint_line_lists_keys() {
        let keys = KeyBindings::default();
        let theme = Theme::no_color();
        let line = hint_line(&theme, &[(&keys.save, "save"), (&keys.cancel, "cancel")]);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "ctrl-s save · esc cancel");
    }
}
