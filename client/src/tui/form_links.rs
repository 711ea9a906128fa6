//! The link fields of a form (links to records, and people): they show titles and
//! names, never ids; the picker offers matching records as one types; and just
//! before a save the app turns what is typed into the ids the schema reads
//! ([`RecordForm::link_fields`], [`RecordForm::set_resolved`]).

use cairn_common::RecordId;
use cairn_common::model::{FieldType, RecordKind};

use super::super::picker::Suggestion;
use super::{Input, RecordForm};

/// The kinds a link field may point at: its record kinds, or people.
#[must_use]
pub fn link_kinds(ty: FieldType) -> Option<&'static [RecordKind]> {
    match ty {
        FieldType::Ref(kinds) | FieldType::Refs(kinds) => Some(kinds),
        FieldType::Person { .. } => Some(&[RecordKind::Person]),
        _ => None,
    }
}

/// Whether a field takes more than one record or person.
fn takes_many(ty: FieldType) -> bool {
    matches!(ty, FieldType::Refs(_) | FieldType::Person { many: true })
}

/// A link field as typed, for the app to resolve before a save.
#[derive(Clone, Debug)]
pub struct LinkField {
    pub key: &'static str,
    pub ty: FieldType,
    /// The comma-separated entries, trimmed, empty ones left out.
    pub entries: Vec<String>,
    /// The record each shown title or name stands for, where the form knows it.
    pub known: Vec<(String, RecordId)>,
}

impl LinkField {
    /// The record an entry stands for by what the form showed or the picker took
    /// (case and surrounding spaces aside).
    #[must_use]
    pub fn known_id(&self, entry: &str) -> Option<RecordId> {
        let entry = entry.trim().to_lowercase();
        self.known
            .iter()
            .find(|(title, _)| title.trim().to_lowercase() == entry)
            .map(|(_, id)| *id)
    }
}

impl RecordForm {
    /// The focused link field's kinds and what is typed since its last comma, while
    /// its picker may offer records (something was typed and Esc did not close it).
    #[must_use]
    pub fn link_query(&self) -> Option<(&'static [RecordKind], String)> {
        let field = self.fields.get(self.focus)?;
        let kinds = link_kinds(field.spec.ty)?;
        if field.fresh || !field.picker.is_offering() || self.editor.is_some() {
            return None;
        }
        let text = field.text();
        let last = text.rsplit(',').next().unwrap_or("").trim().to_owned();
        Some((kinds, last))
    }

    /// Offers these records in the focused field's picker.
    pub fn offer_links(&mut self, suggestions: Vec<Suggestion>) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.picker.offer(suggestions);
        }
    }

    /// Puts the picked record's title in place of the entry being typed (after a
    /// comma in a list), remembering which record it is.
    pub(super) fn take_link(&mut self, record: &Suggestion) {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return;
        };
        let Input::Line(line) = &mut field.input else {
            return;
        };
        let text = line.text();
        let new = match text.rfind(',') {
            Some(at) if takes_many(field.spec.ty) => {
                format!("{}, {}", text[..at].trim_end(), record.title)
            }
            _ => record.title.clone(),
        };
        line.set_text(&new);
        field
            .known
            .retain(|(title, _)| !title.eq_ignore_ascii_case(&record.title));
        field.known.push((record.title.clone(), record.id));
        field.error = None;
        field.fresh = false;
    }

    /// Shows every link field's records by title (`title_of` gives the current
    /// one; an id it does not know stays as it is), and people by their person
    /// record's current name. What is shown counts as unchanged.
    pub fn show_link_titles(&mut self, title_of: impl Fn(&RecordId) -> Option<String>) {
        for field in &mut self.fields {
            let Some(_) = link_kinds(field.spec.ty) else {
                continue;
            };
            let mut known = std::mem::take(&mut field.known);
            let entries: Vec<String> = field
                .text()
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|entry| {
                    // An id (a link field as stored) or a linked name: the title now.
                    let id = entry.parse::<RecordId>().ok().or_else(|| {
                        known
                            .iter()
                            .find(|(name, _)| name == entry)
                            .map(|(_, id)| *id)
                    });
                    match id.and_then(|id| Some((id, title_of(&id)?))) {
                        Some((id, title)) => {
                            known.push((title.clone(), id));
                            title
                        }
                        None => entry.to_owned(),
                    }
                })
                .collect();
            let text = entries.join(", ");
            field.known = known;
            field.initial.clone_from(&text);
            if let Input::Line(line) = &mut field.input {
                line.set_text(&text);
            }
        }
    }

    /// Puts one linked record into `field` by its title (a new commitment's source,
    /// a new note's participant); unknown fields are ignored.
    pub fn prefill_link(&mut self, field: &str, title: &str, id: RecordId) {
        self.prefill(field, title);
        if let Some(f) = self.fields.iter_mut().find(|f| f.spec.key == field) {
            f.known.push((title.to_owned(), id));
        }
    }

    /// Every non-empty link field as typed, for the app to resolve.
    #[must_use]
    pub fn link_fields(&self) -> Vec<LinkField> {
        self.fields
            .iter()
            .filter(|f| link_kinds(f.spec.ty).is_some())
            .map(|f| LinkField {
                key: f.spec.key,
                ty: f.spec.ty,
                entries: f
                    .text()
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect(),
                known: f.known.clone(),
            })
            .filter(|f| !f.entries.is_empty())
            .collect()
    }

    /// What the next save reads for `field` instead of its shown text: the same
    /// entries as ids (or why one names no record). Typing in between has no
    /// effect on it since it is set right before the save.
    pub fn set_resolved(&mut self, field: &str, resolved: Result<String, String>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.spec.key == field) {
            f.resolved = Some(resolved);
        }
    }
}
