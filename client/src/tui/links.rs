//! Links between records as people type and read them: a link field takes a full
//! id, the short id that lists show (the last eight digits, or any unique start or
//! end of four or more), or a record's title; and a link is shown as its record's
//! title, not its id. Both go through the in-memory row index, so they cost no
//! disk reads whatever the size.

use cairn_common::RecordId;
use cairn_common::model::{FieldType, RecordKind};

use super::app::App;
use super::index::Index;

/// The record a typed reference names, among `kinds`: a full id, a unique short
/// id, or a unique title (case aside). `None` when nothing or several match.
#[must_use]
pub fn resolve(index: &Index, kinds: &[RecordKind], typed: &str) -> Option<RecordId> {
    let typed = typed.trim();
    if let Ok(id) = typed.parse::<RecordId>() {
        return Some(id);
    }
    let hex: String = typed.to_lowercase().chars().filter(|c| *c != '-').collect();
    let by_id = hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let wanted = typed.to_lowercase();
    let mut found = None;
    for kind in kinds {
        let rows = index.kind(*kind);
        for &i in rows.order() {
            let Some(row) = rows.row(i) else { continue };
            let matches = if by_id {
                let full = row.id.0.simple().to_string();
                full.ends_with(&hex) || full.starts_with(&hex)
            } else {
                row.cell(0).to_lowercase() == wanted
            };
            if matches {
                if found.is_some_and(|f| f != row.id) {
                    return None;
                }
                found = Some(row.id);
            }
        }
    }
    found
}

/// The title of a linked record, if the index has it.
#[must_use]
pub fn title_of(index: &Index, id: &RecordId) -> Option<String> {
    RecordKind::ALL.iter().find_map(|kind| {
        let rows = index.kind(*kind);
        rows.find(id)
            .and_then(|i| rows.row(i))
            .map(|row| row.cell(0).to_owned())
    })
}

/// The kinds a link field may point at.
#[must_use]
pub fn link_kinds(ty: FieldType) -> Option<&'static [RecordKind]> {
    match ty {
        FieldType::Ref(kinds) | FieldType::Refs(kinds) => Some(kinds),
        _ => None,
    }
}

impl App {
    /// Before a form is saved: every link field's typed short ids and titles become
    /// full ids, so the schema's check accepts them. What matches nothing (or more
    /// than one record) is left as typed, and the form says why.
    pub(super) fn resolve_form_links(&mut self) {
        let Some(super::app::Popup::Form(popup)) = &mut self.popup else {
            return;
        };
        for (field, ty, text) in popup.form.link_fields() {
            let Some(kinds) = link_kinds(ty) else {
                continue;
            };
            let parts: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.is_empty() {
                continue;
            }
            let resolved: Option<Vec<String>> = parts
                .iter()
                .map(|p| resolve(&self.index, kinds, p).map(|id| id.to_string()))
                .collect();
            if let Some(ids) = resolved {
                let joined = ids.join(", ");
                if joined != text {
                    popup.form.replace_text(field, &joined);
                }
            }
        }
    }
}
