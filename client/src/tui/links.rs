//! Links between records as people type and read them: a link field takes a full
//! id, the short id that lists show (the last eight digits, or any unique start or
//! end of four or more), or a record's title; and a link is shown as its record's
//! title, not its id. Both go through the in-memory row index, so they cost no
//! disk reads whatever the size.

use std::collections::HashMap;

use cairn_common::model::{FieldType, RecordKind};
use cairn_common::{RecordId, RecordState, Value};

use super::form::links::LinkField;
use super::index::Index;

/// The record a typed reference names, among `kinds`: a full id, a unique title
/// (case aside), or else a unique short id. `None` when nothing or several match.
/// Titles come first so that a name such as "Abba" is not read as an id.
#[must_use]
pub fn resolve(index: &Index, kinds: &[RecordKind], typed: &str) -> Option<RecordId> {
    let typed = typed.trim();
    if let Ok(id) = typed.parse::<RecordId>() {
        return Some(id);
    }
    let wanted = typed.to_lowercase();
    let hex: String = wanted.chars().filter(|c| *c != '-').collect();
    let by_title = unique(index, kinds, |row| row.cell(0).to_lowercase() == wanted);
    match by_title {
        Unique::One(id) => Some(id),
        Unique::Several => None,
        Unique::None if hex.len() >= 4 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            match unique(index, kinds, |row| {
                let full = row.id.0.simple().to_string();
                full.ends_with(&hex) || full.starts_with(&hex)
            }) {
                Unique::One(id) => Some(id),
                _ => None,
            }
        }
        Unique::None => None,
    }
}

enum Unique {
    None,
    One(RecordId),
    Several,
}

/// The one live row of `kinds` that `matches`, if exactly one does.
fn unique(
    index: &Index,
    kinds: &[RecordKind],
    matches: impl Fn(&super::index::Row) -> bool,
) -> Unique {
    let mut found = Unique::None;
    for kind in kinds {
        let rows = index.kind(*kind);
        for &i in rows.order() {
            let Some(row) = rows.row(i) else { continue };
            if row.is_deleted() || !matches(row) {
                continue;
            }
            match found {
                Unique::One(id) if id != row.id => return Unique::Several,
                _ => found = Unique::One(row.id),
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

/// The records `state` links to through any link field (every current value, so a
/// link in conflict counts too), each once, itself left out.
fn links_of(state: &RecordState) -> Vec<RecordId> {
    let mut targets: Vec<RecordId> = Vec::new();
    for register in state.fields.values() {
        for value in register.values() {
            match &value.value {
                Value::Ref(id) => targets.push(*id),
                Value::Refs(ids) => targets.extend(ids.iter().copied()),
                Value::People(people) => targets.extend(people.iter().filter_map(|p| p.id)),
                _ => {}
            }
        }
    }
    targets.sort_unstable();
    targets.dedup();
    targets.retain(|t| *t != state.id);
    targets
}

/// Which records link to which, kept with the row index: the links of each live
/// record (any link field) and, the other way round, who links to a record (its
/// backlinks). Only records with links take room.
#[derive(Debug, Default)]
pub struct LinkMap {
    outgoing: HashMap<RecordId, Vec<RecordId>>,
    incoming: HashMap<RecordId, Vec<RecordId>>,
}

/// The links a record counts for in the map: none while it is in the trash.
#[must_use]
pub fn live_links(state: &RecordState) -> Vec<RecordId> {
    if state.is_deleted() {
        Vec::new()
    } else {
        links_of(state)
    }
}

impl LinkMap {
    /// Takes in a record's links as they are now (none if it is in the trash).
    pub fn set(&mut self, state: &RecordState) {
        self.set_links(state.id, live_links(state));
    }

    /// Takes in the links of record `id` as [`live_links`] gave them.
    pub fn set_links(&mut self, id: RecordId, targets: Vec<RecordId>) {
        self.remove(&id);
        if targets.is_empty() {
            return;
        }
        for target in &targets {
            self.incoming.entry(*target).or_default().push(id);
        }
        self.outgoing.insert(id, targets);
    }

    /// Forgets a record's links (it was removed).
    pub fn remove(&mut self, id: &RecordId) {
        let Some(targets) = self.outgoing.remove(id) else {
            return;
        };
        for target in targets {
            if let Some(sources) = self.incoming.get_mut(&target) {
                sources.retain(|s| s != id);
                if sources.is_empty() {
                    self.incoming.remove(&target);
                }
            }
        }
    }

    /// The records that link to `id`.
    #[must_use]
    pub fn backlinks(&self, id: &RecordId) -> &[RecordId] {
        self.incoming.get(id).map_or(&[], Vec::as_slice)
    }
}

/// A link field's entries written as the schema reads them, or why one cannot be.
pub fn resolve_entries(
    index: &Index,
    kinds: &[RecordKind],
    field: &LinkField,
) -> Result<String, String> {
    let people = matches!(field.ty, FieldType::Person { .. });
    let mut out = Vec::new();
    for entry in &field.entries {
        let id = field
            .known_id(entry)
            .or_else(|| resolve(index, kinds, entry));
        if people {
            // `Name <id>` as typed stays; a name that is no person stays a name.
            let written = match id {
                _ if entry.ends_with('>') => entry.clone(),
                Some(id) => {
                    let name = title_of(index, &id).unwrap_or_else(|| entry.clone());
                    format!("{name} <{id}>")
                }
                None => entry.clone(),
            };
            out.push(written);
        } else {
            let id = id.ok_or_else(|| {
                let wanted = kinds
                    .iter()
                    .map(|k| k.key())
                    .collect::<Vec<_>>()
                    .join(" or ");
                format!(
                    "{entry:?} names no {wanted}, or more than one; \
                     pick one from the list as you type, or give its short id"
                )
            })?;
            out.push(id.to_string());
        }
    }
    Ok(out.join(", "))
}

/// The links popup (`L`): the selected record's links and backlinks, one per line;
/// j/k move, Enter follows the selected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinksView {
    /// `(kind, id, title, how)`: how is "links to" or "linked from".
    rows: Vec<(RecordKind, RecordId, String, &'static str)>,
    selected: usize,
}

impl LinksView {
    /// The links of `state` and the records that link to it, with their titles.
    #[must_use]
    pub fn of(state: &RecordState, index: &Index) -> Self {
        let kind_of = |id: &RecordId| {
            RecordKind::ALL
                .iter()
                .copied()
                .find(|k| index.kind(*k).find(id).is_some())
        };
        let mut rows = Vec::new();
        for target in links_of(state) {
            if let Some(kind) = kind_of(&target) {
                let title = title_of(index, &target).unwrap_or_default();
                rows.push((kind, target, title, super::text::LINKS_TO));
            }
        }
        for source in index.links.backlinks(&state.id) {
            if let Some(kind) = kind_of(source) {
                let title = title_of(index, source).unwrap_or_default();
                rows.push((kind, *source, title, super::text::LINKED_FROM));
            }
        }
        // Links, then backlinks; each by kind in tab order, then by title.
        let tab = |k: &RecordKind| RecordKind::ALL.iter().position(|a| a == k);
        rows.sort_by(|a, b| {
            (a.3 != super::text::LINKS_TO, tab(&a.0), &a.2).cmp(&(
                b.3 != super::text::LINKS_TO,
                tab(&b.0),
                &b.2,
            ))
        });
        Self { rows, selected: 0 }
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.rows.len().saturating_sub(1));
    }

    /// The record of the selected line.
    #[must_use]
    pub fn selected(&self) -> Option<(RecordKind, RecordId)> {
        self.rows.get(self.selected).map(|(k, id, _, _)| (*k, *id))
    }
}

/// Draws the popup centred in `area`.
pub fn draw(
    frame: &mut ratatui::Frame,
    area: ratatui::layout::Rect,
    view: &LinksView,
    theme: &super::theme::Theme,
) {
    use ratatui::text::{Line, Span};
    use ratatui::widgets::{Block, Borders, Clear, Paragraph};
    let height = u16::try_from(view.rows.len().max(1) + 2).unwrap_or(u16::MAX);
    let popup = super::layout::centered(area, 80, height);
    let lines: Vec<Line<'_>> = if view.rows.is_empty() {
        vec![Line::styled(super::text::NO_LINKS, theme.dim)]
    } else {
        view.rows
            .iter()
            .enumerate()
            .map(|(i, (kind, _, title, how))| {
                let style = if i == view.selected {
                    theme.selected
                } else {
                    theme.text
                };
                Line::from(vec![
                    Span::styled(format!("{how:<12}"), theme.dim),
                    Span::styled(format!("{:<11}", kind.key()), theme.dim),
                    Span::styled(title.clone(), style),
                ])
            })
            .collect()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(super::text::LINKS_TITLE).style(theme.accent));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
