//! The detail pane: every field of the selected record, conflicts called out, a progress
//! gauge for goals. Only this one record is held in full. The pane scrolls (`}` and
//! `{`) and says when there is more below; a long text is cut at [`MAX_TEXT_LINES`]
//! lines (`v` reads it whole), so a huge note costs little to draw. The files
//! attached to the record are listed under their own heading, each with its size,
//! type and whether its content is on this device.

use cairn_common::model::{FieldType, RecordKind, fields_of};
use cairn_common::{RecordId, RecordState, Value};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use super::index::Index;
use super::links::title_of;
use super::text;
use super::theme::Theme;
use crate::present;

/// Label column width.
const LABEL_WIDTH: usize = 13;
/// Most lines of one long text shown in the pane.
const MAX_TEXT_LINES: usize = 2000;

/// The record shown in the detail pane: only the selected one is held in full.
#[derive(Debug, Default)]
pub struct Detail {
    /// The record the pane is about (the selection).
    pub id: Option<RecordId>,
    /// Its full state once loaded.
    pub state: Option<RecordState>,
    /// Why it could not be loaded.
    pub error: Option<String>,
    /// Lines scrolled past at the top (`}` and `{`); 0 when the selection moves. A
    /// cell: drawing clamps it to the last page, and drawing only reads the app.
    pub scroll: std::cell::Cell<usize>,
    /// Which of the record's attachments the file keys act on (`F` moves it); 0
    /// when the selection moves.
    pub attachment: usize,
    /// Whether files' content is on this device, as last checked.
    pub here: std::collections::HashMap<RecordId, bool>,
    /// The files last asked about (`App::check_files`): asked again when the
    /// files shown differ.
    pub checked: Vec<RecordId>,
}

impl Detail {
    /// The selected record's state, once it is loaded.
    #[must_use]
    pub fn selected(&self) -> Option<&RecordState> {
        self.state.as_ref().filter(|s| Some(s.id) == self.id)
    }
}

/// Draws the pane: `pane` is the selection; links show titles from `index`, and in
/// the trash the pane says how to restore.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    pane: &Detail,
    index: &Index,
    trash: bool,
    theme: &Theme,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(format!(" {} ", text::DETAIL_TITLE)).style(theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(state) = pane.selected() else {
        let message = match (&pane.error, pane.id) {
            (Some(error), _) => Span::styled(error.as_str(), theme.error),
            (None, Some(_)) => Span::styled(text::LOADING, theme.dim),
            (None, None) => Span::styled(text::NO_SELECTION, theme.dim),
        };
        frame.render_widget(Paragraph::new(message).wrap(Wrap { trim: false }), inner);
        return;
    };
    let gauge_height = if state.kind == Some(RecordKind::Goal) {
        2
    } else {
        0
    };
    let [gauge_area, body] =
        Layout::vertical([Constraint::Length(gauge_height), Constraint::Fill(1)]).areas(inner);
    if gauge_height > 0 {
        let progress = present::goal_progress(state);
        let gauge = Gauge::default()
            .gauge_style(theme.chart)
            .percent(u16::from(progress))
            .label(format!("{} {progress}%", text::PROGRESS_LABEL))
            .use_unicode(true);
        frame.render_widget(
            gauge,
            Rect {
                height: 1,
                ..gauge_area
            },
        );
    }
    let lines = lines(state, pane, trash, body.width, theme, index);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = paragraph.line_count(body.width);
    let room = usize::from(body.height);
    let scroll = pane.scroll.get().min(total.saturating_sub(room));
    pane.scroll.set(scroll);
    frame.render_widget(
        paragraph.scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        body,
    );
    // Markers on the bottom border: more below, or scrolled down from the top.
    let marker = match (scroll + room < total, scroll > 0) {
        (true, _) => Some(text::DETAIL_MORE),
        (false, true) => Some(text::DETAIL_SCROLLED),
        (false, false) => None,
    };
    if let Some(marker) = marker {
        let width = u16::try_from(marker.chars().count()).unwrap_or(0);
        let at = Rect {
            x: area.right().saturating_sub(width + 1),
            y: area.bottom().saturating_sub(1),
            width: width.min(area.width),
            height: 1,
        };
        frame.render_widget(Paragraph::new(marker).style(theme.accent), at);
    }
}

/// The pane's lines: each field as `Label  value`, long texts below their label
/// (at most [`MAX_TEXT_LINES`]), the backlinks and attachments, then the record's
/// id and last change.
fn lines<'a>(
    state: &'a RecordState,
    pane: &Detail,
    trash: bool,
    width: u16,
    theme: &Theme,
    index: &super::index::Index,
) -> Vec<Line<'a>> {
    let room = MAX_TEXT_LINES;
    let mut out = Vec::new();
    if trash || state.is_deleted() {
        out.push(Line::from(text::IN_TRASH).style(theme.warn));
    }
    let Some(kind) = state.kind else {
        return out;
    };
    for spec in fields_of(kind) {
        let conflict = state
            .register(spec.key)
            .filter(|r| r.is_conflict())
            .map(|r| r.values().len());
        let label_style = if conflict.is_some() {
            theme.conflict
        } else {
            theme.dim
        };
        let label = Span::styled(format!("{:<LABEL_WIDTH$} ", spec.label), label_style);
        let value = state.get(spec.key);
        if spec.ty == FieldType::LongText {
            let Some(body) = value.and_then(|v| v.as_text()) else {
                continue;
            };
            out.push(Line::from(label));
            // Never more lines than fit: the rest would be cut anyway.
            out.extend(
                body.lines()
                    .take(room)
                    .map(|l| Line::from(format!("  {l}"))),
            );
        } else {
            let shown = match value {
                // A goal's progress comes from its key results when it has any.
                _ if kind == RecordKind::Goal && spec.key == "progress" => {
                    Span::raw(format!("{}%", present::goal_progress(state)))
                }
                None => Span::styled(text::EMPTY_VALUE, theme.dim),
                // Links show their records' titles (the short id if unknown here).
                Some(Value::Ref(id)) => Span::raw(link_text(index, id)),
                Some(Value::Refs(ids)) => Span::raw(
                    ids.iter()
                        .map(|id| link_text(index, id))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                // People show their person record's current name when linked.
                Some(Value::People(people)) => Span::raw(
                    people
                        .iter()
                        .map(|p| {
                            p.id.and_then(|id| title_of(index, &id))
                                .unwrap_or_else(|| p.name.clone())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Some(v) => Span::raw(present::short_text(spec.key, v)),
            };
            out.push(Line::from(vec![label, shown]));
        }
        if let Some(values) = conflict {
            out.push(Line::from(Span::styled(
                format!("{:LABEL_WIDTH$}  {}", "", text::field_conflict(values)),
                theme.conflict,
            )));
        }
    }
    if kind == RecordKind::File {
        out.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_WIDTH$} ", text::CONTENT_LABEL), theme.dim),
            Span::raw(text::on_device(pane.here.get(&state.id).copied())),
        ]));
    }
    // Files attached are listed below as attachments, not as links.
    let files = index.kind(RecordKind::File);
    let backlinks: Vec<&RecordId> = index
        .links
        .backlinks(&state.id)
        .iter()
        .filter(|source| files.find(source).is_none())
        .collect();
    if !backlinks.is_empty() {
        let label = format!("{:<LABEL_WIDTH$} ", text::LINKED_FROM);
        for (i, source) in backlinks.into_iter().enumerate() {
            let first = if i == 0 {
                Span::styled(label.clone(), theme.dim)
            } else {
                Span::raw(" ".repeat(LABEL_WIDTH + 1))
            };
            out.push(Line::from(vec![first, Span::raw(link_text(index, source))]));
        }
    }
    out.extend(attachment_lines(pane, index, &state.id, width, theme));
    out.push(Line::from(""));
    let updated = present::timestamp(state.updated);
    let updated = updated.get(..16).unwrap_or(&updated).replace('T', " ");
    out.push(Line::from(Span::styled(
        format!("{} · {updated}", state.id.short()),
        theme.dim,
    )));
    out
}

/// The record's attachments: each file's name (marked when it is the one the file
/// keys act on, if there are several), and below it its size, type and whether it
/// is on this device, indented under the name and broken between those parts to
/// fit `width`.
fn attachment_lines(
    pane: &Detail,
    index: &Index,
    record: &RecordId,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let files = super::attachments::attached_files(index, record);
    // With one file there is nothing to choose, and no mark.
    let selected = (files.len() > 1).then(|| pane.attachment.min(files.len() - 1));
    let indent = " ".repeat(LABEL_WIDTH + 1);
    let mut out = Vec::with_capacity(files.len() * 2);
    for (i, file) in files.into_iter().enumerate() {
        let first = if i == 0 {
            Span::styled(format!("{:<LABEL_WIDTH$} ", text::ATTACHMENTS), theme.dim)
        } else {
            Span::raw(indent.clone())
        };
        let marker = if selected == Some(i) { "▸ " } else { "  " };
        out.push(Line::from(vec![
            first,
            Span::styled(marker, theme.accent),
            Span::raw(file.name),
        ]));
        let here = text::on_device(pane.here.get(&file.id).copied());
        let about = [file.size.as_str(), file.content_type.as_str(), here];
        for line in wrap_parts(&about, &format!("{indent}  "), usize::from(width)) {
            out.push(Line::styled(line, theme.dim));
        }
    }
    out
}

/// `parts` joined by ` · ` after `indent`, a new line (indented again) where the
/// next part would not fit in `width`; empty parts are left out.
fn wrap_parts(parts: &[&str], indent: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        let used = line.chars().count();
        if line.is_empty() {
            line = format!("{indent}{part}");
        } else if used + 3 + part.chars().count() <= width {
            line.push_str(" · ");
            line.push_str(part);
        } else {
            lines.push(std::mem::replace(&mut line, format!("{indent}{part}")));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A link as people read it: the linked record's title, or its short id when this
/// replica does not have it.
fn link_text(index: &super::index::Index, id: &RecordId) -> String {
    super::links::title_of(index, id).unwrap_or_else(|| id.short())
}

#[cfg(test)]
mod tests {
    /// Parts go on one line while they fit, then on indented lines of their own.
    #[test]
    fn parts_wrap_between_parts() {
        let parts = ["20 B", "text/plain", "", "on this device"];
        assert_eq!(
            super::wrap_parts(&parts, "  ", 40),
            ["  20 B · text/plain · on this device"]
        );
        assert_eq!(
            super::wrap_parts(&parts, "  ", 24),
            ["  20 B · text/plain", "  on this device"]
        );
        assert!(super::wrap_parts(&[""], "  ", 10).is_empty());
    }
}
