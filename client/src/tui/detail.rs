//! The detail pane: every field of the selected record, conflicts called out, a progress
//! gauge for goals. Only this one record is held in full; long texts are cut to what
//! the pane can show, so a huge note costs no more to draw than a short one.

use cairn_common::RecordState;
use cairn_common::model::{FieldType, RecordKind, fields_of};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use super::app::App;
use super::text;
use super::theme::Theme;
use crate::present;

/// Label column width.
const LABEL_WIDTH: usize = 13;

/// Draws the pane for the app's selection.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.config.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(format!(" {} ", text::DETAIL_TITLE)).style(theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(state) = app.detail() else {
        let message = match (&app.detail.error, app.detail.id) {
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
    let lines = lines(state, app.trash, usize::from(body.height), theme);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}

/// The pane's lines: each field as `Label  value`, long texts below their label, then
/// the record's id and last change.
fn lines<'a>(state: &'a RecordState, trash: bool, room: usize, theme: &Theme) -> Vec<Line<'a>> {
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
    out.push(Line::from(""));
    let updated = present::timestamp(state.updated);
    let updated = updated.get(..16).unwrap_or(&updated).replace('T', " ");
    out.push(Line::from(Span::styled(
        format!("{} · {updated}", state.id.short()),
        theme.dim,
    )));
    out
}
