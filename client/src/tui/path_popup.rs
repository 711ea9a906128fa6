//! The popup that asks for a path: the file to attach (or to add on the Files
//! tab), or where to save a file elsewhere. It holds a [`PathInput`] (completion)
//! and what Enter does; while the work runs it stays open, says so, and shows why
//! if it failed, so nothing typed is lost.

use cairn_common::RecordId;
use cairn_common::model::SpaceId;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::keys::KeyBindings;
use super::path_input::PathInput;
use super::text;
use super::theme::Theme;

/// Most candidates listed under the input; the rest are counted.
const MAX_CANDIDATES: usize = 10;

/// What Enter does with the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathPurpose {
    /// Add the file at the path to `space`, attached to `record` (its id and
    /// title) if given.
    Attach {
        record: Option<(RecordId, String)>,
        space: SpaceId,
        space_name: String,
    },
    /// Save the content of `file` (named `name`) at the path.
    SaveAs { file: RecordId, name: String },
}

/// The popup's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPopup {
    pub input: PathInput,
    pub purpose: PathPurpose,
    /// Why the last Enter did not go through.
    pub problem: Option<String>,
    /// Saving: the path the person was told exists; Enter on the same text again
    /// overwrites it.
    pub overwrite_ok: Option<String>,
    /// Enter was pressed and the work runs; keys other than Esc wait.
    pub busy: bool,
}

impl PathPopup {
    /// Asks for the path of a file to add.
    #[must_use]
    pub fn attach(record: Option<(RecordId, String)>, space: SpaceId, space_name: String) -> Self {
        Self::new(
            PathInput::default(),
            PathPurpose::Attach {
                record,
                space,
                space_name,
            },
        )
    }

    /// Asks where to save `file`, offering its name (in the current folder).
    #[must_use]
    pub fn save_as(file: RecordId, name: String) -> Self {
        let input = PathInput::new(&crate::files::safe_name(&name));
        Self::new(input, PathPurpose::SaveAs { file, name })
    }

    fn new(input: PathInput, purpose: PathPurpose) -> Self {
        Self {
            input,
            purpose,
            problem: None,
            overwrite_ok: None,
            busy: false,
        }
    }

    /// The record a file is being attached to.
    #[must_use]
    pub fn attaching_to(&self) -> Option<RecordId> {
        match &self.purpose {
            PathPurpose::Attach { record, .. } => record.as_ref().map(|(id, _)| *id),
            PathPurpose::SaveAs { .. } => None,
        }
    }
}

/// Draws the popup centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, popup: &PathPopup, keys: &KeyBindings, theme: &Theme) {
    let (candidates, shown) = popup.input.candidates();
    let listed = candidates.len().min(MAX_CANDIDATES);
    let overflow = usize::from(candidates.len() > MAX_CANDIDATES);
    // Prompt, input, candidates, two lines of status (a long path wraps), the
    // hints, and the borders.
    let height = u16::try_from(listed + overflow + 7).unwrap_or(u16::MAX);
    let rect = super::layout::centered(area, 80, height);
    let (title, prompt, enter_does) = match &popup.purpose {
        PathPurpose::Attach {
            record: Some((_, title)),
            space_name,
            ..
        } => (
            text::attach_title(title),
            text::attach_prompt(space_name),
            text::ATTACH_HINT,
        ),
        PathPurpose::Attach {
            record: None,
            space_name,
            ..
        } => (
            text::ADD_FILE_TITLE.to_owned(),
            text::attach_prompt(space_name),
            text::ATTACH_HINT,
        ),
        PathPurpose::SaveAs { name, .. } => (
            text::save_title(name),
            text::SAVE_PROMPT.to_owned(),
            text::SAVE_HINT,
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title).style(theme.accent));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let [prompt_area, input_area, list_area, status_area, hint_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(prompt).style(theme.dim), prompt_area);
    let mut input = vec![Span::styled("> ", theme.accent)];
    input.extend(
        popup
            .input
            .line(
                input_area.width.saturating_sub(2),
                theme.text,
                theme.selected,
            )
            .spans,
    );
    frame.render_widget(Paragraph::new(Line::from(input)), input_area);
    let mut lines: Vec<Line<'_>> = candidates
        .iter()
        .take(listed)
        .enumerate()
        .map(|(i, name)| {
            // Marked as well as styled: the cycle shows without colour too.
            let (marker, style) = if Some(i) == shown {
                ("▸ ", theme.selected)
            } else {
                ("  ", theme.text)
            };
            Line::from(vec![
                Span::styled(marker, theme.accent),
                Span::styled(name.as_str(), style),
            ])
        })
        .collect();
    if overflow > 0 {
        lines.push(Line::styled(
            format!("  {}", text::more_candidates(candidates.len() - listed)),
            theme.dim,
        ));
    }
    frame.render_widget(Paragraph::new(lines), list_area);
    let status = if popup.busy {
        let doing = match popup.purpose {
            PathPurpose::Attach { .. } => text::ADDING,
            PathPurpose::SaveAs { .. } => text::SAVING_FILE,
        };
        Line::styled(doing, theme.accent)
    } else if let Some(problem) = &popup.problem {
        Line::styled(problem.as_str(), theme.error)
    } else if let Some(note) = popup.input.note() {
        Line::styled(note, theme.dim)
    } else {
        Line::default()
    };
    frame.render_widget(
        Paragraph::new(status).wrap(Wrap { trim: false }),
        status_area,
    );
    let enter = super::keys::KeyBinding(vec![super::keys::KeyPress {
        code: crossterm::event::KeyCode::Enter,
        modifiers: crossterm::event::KeyModifiers::NONE,
    }]);
    let hints = super::popup::hint_line(
        theme,
        &[
            (&keys.complete, text::COMPLETE_HINT),
            (&enter, enter_does),
            (&keys.cancel, text::CANCEL_HINT),
        ],
    );
    frame.render_widget(Paragraph::new(hints), hint_area);
}
