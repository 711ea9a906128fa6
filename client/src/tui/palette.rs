//! The command palette: every command by name, narrowed as you type (substring matches
//! first, then the letters in order), Enter runs the highlighted one. Each space one
//! may write to is a command too: `space <name>` makes new records go there.

use cairn_common::model::{RecordKind, SpaceId};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table};

use super::action::Command;
use super::keys::{KeyBinding, KeyBindings};
use super::text;
use super::theme::Theme;

/// Every command the palette offers, in the order shown for an empty query.
#[must_use]
pub fn commands() -> Vec<Command> {
    let mut all = Vec::with_capacity(40);
    all.extend(RecordKind::ALL.map(Command::NewOf));
    all.extend(RecordKind::ALL.map(Command::GoTo));
    all.extend([
        Command::Edit,
        Command::Done,
        Command::Delete,
        Command::ToggleTrash,
        Command::ToggleDone,
        Command::NextGridBox,
        Command::Restore,
        Command::Conflicts,
        Command::History,
        Command::Person,
        Command::Links,
        Command::CommitmentFromNote,
        Command::Read,
        Command::UndoChange,
        Command::RedoChange,
        Command::Sync,
        Command::Notifications,
        Command::PrivacyNotice,
        Command::NextSpace,
        Command::Filter,
        Command::ClearFilter,
        Command::SortNext,
        Command::SortReverse,
        Command::NextTab,
        Command::PrevTab,
        Command::Top,
        Command::Bottom,
        Command::Help,
        Command::Quit,
        Command::Agenda,
        Command::Search,
        Command::Attach,
        Command::NextAttachment,
        Command::OpenFile,
        Command::SaveFile,
    ]);
    all
}

/// The key that runs a command on the main screen, for the palette's hints.
#[must_use]
pub fn binding_for(command: Command, keys: &KeyBindings) -> Option<&KeyBinding> {
    Some(match command {
        Command::Quit => &keys.quit,
        Command::Help => &keys.help,
        Command::Palette => &keys.palette,
        Command::Filter => &keys.filter,
        Command::ClearFilter => &keys.cancel,
        Command::NextTab => &keys.next_tab,
        Command::PrevTab => &keys.prev_tab,
        Command::GoTo(RecordKind::Goal) => &keys.tab_goals,
        Command::GoTo(RecordKind::Commitment) => &keys.tab_commitments,
        Command::GoTo(RecordKind::Task) => &keys.tab_tasks,
        Command::GoTo(RecordKind::Activity) => &keys.tab_activities,
        Command::GoTo(RecordKind::Note) => &keys.tab_notes,
        Command::GoTo(RecordKind::Potential) => &keys.tab_potentials,
        Command::GoTo(RecordKind::Person) => &keys.tab_people,
        Command::GoTo(RecordKind::File) => &keys.tab_files,
        Command::Up => &keys.up,
        Command::Down => &keys.down,
        Command::PageUp => &keys.page_up,
        Command::PageDown => &keys.page_down,
        Command::Top => &keys.top,
        Command::Bottom => &keys.bottom,
        Command::New => &keys.new,
        Command::NewOf(_) => return None,
        Command::Edit => &keys.edit,
        Command::Delete => &keys.delete,
        Command::Restore => &keys.restore,
        Command::Done => &keys.done,
        Command::ToggleTrash => &keys.trash,
        Command::ToggleDone => &keys.show_done,
        Command::NextGridBox => &keys.grid_box,
        Command::SortNext => &keys.sort,
        Command::SortReverse => &keys.reverse,
        Command::Conflicts => &keys.conflicts,
        Command::History => &keys.history,
        Command::Read => &keys.read,
        Command::Person => &keys.person,
        Command::Links => &keys.links,
        Command::CommitmentFromNote => &keys.commitment_from_note,
        Command::DetailDown => &keys.detail_down,
        Command::DetailUp => &keys.detail_up,
        Command::UndoChange => &keys.undo_change,
        Command::RedoChange => &keys.redo_change,
        Command::Sync => &keys.sync,
        Command::NextSpace => &keys.space,
        Command::Space(_) => return None,
        Command::Agenda => &keys.agenda,
        Command::Search => &keys.search,
        Command::Attach => &keys.attach,
        Command::NextAttachment => &keys.next_attachment,
        Command::OpenFile => &keys.open_file,
        Command::SaveFile => &keys.save_file,
        // Reached through the palette only.
        Command::PrivacyNotice | Command::Notifications => return None,
    })
}

/// What a key did to the palette.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaletteOutcome {
    Consumed,
    Cancelled,
    Run(Command),
}

/// The palette's query and matches.
#[derive(Debug, PartialEq, Eq)]
pub struct Palette {
    query: String,
    /// `(command, label)` of every command, labels from [`text::command`].
    all: Vec<(Command, String)>,
    /// Indices into `all` that match the query, best first.
    matches: Vec<usize>,
    selected: usize,
}

impl Default for Palette {
    fn default() -> Self {
        Self::new()
    }
}

impl Palette {
    #[must_use]
    pub fn new() -> Self {
        Self::with_spaces(&[])
    }

    /// The palette with a `space <name>` command for each of `spaces`.
    #[must_use]
    pub fn with_spaces(spaces: &[(SpaceId, String)]) -> Self {
        let mut all: Vec<(Command, String)> = commands()
            .into_iter()
            .map(|c| (c, text::command(c)))
            .collect();
        all.extend(
            spaces
                .iter()
                .map(|(id, name)| (Command::Space(*id), format!("space {name}"))),
        );
        let matches = (0..all.len()).collect();
        Self {
            query: String::new(),
            all,
            matches,
            selected: 0,
        }
    }

    #[must_use]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The matching commands, best first.
    pub fn matches(&self) -> impl Iterator<Item = Command> + '_ {
        self.matches.iter().map(|&i| self.all[i].0)
    }

    /// Replaces the query and recomputes the matches.
    pub fn set_query(&mut self, query: &str) {
        self.query = query.to_owned();
        let q = query.trim().to_lowercase();
        let mut scored: Vec<((u8, usize), usize)> = self
            .all
            .iter()
            .enumerate()
            .filter_map(|(i, (_, label))| score(&q, label).map(|s| (s, i)))
            .collect();
        scored.sort_by_key(|&(s, i)| (s, i));
        self.matches = scored.into_iter().map(|(_, i)| i).collect();
        self.selected = 0;
    }

    /// Reads one key.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> PaletteOutcome {
        if keys.cancel.matches(key) {
            return PaletteOutcome::Cancelled;
        }
        match key.code {
            KeyCode::Enter => match self.matches.get(self.selected) {
                Some(&i) => PaletteOutcome::Run(self.all[i].0),
                None => PaletteOutcome::Consumed,
            },
            KeyCode::Up | KeyCode::BackTab => {
                self.selected = self.selected.saturating_sub(1);
                PaletteOutcome::Consumed
            }
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(self.matches.len().saturating_sub(1));
                PaletteOutcome::Consumed
            }
            KeyCode::Backspace => {
                let mut query = self.query.clone();
                query.pop();
                self.set_query(&query);
                PaletteOutcome::Consumed
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                let query = format!("{}{c}", self.query);
                self.set_query(&query);
                PaletteOutcome::Consumed
            }
            _ => PaletteOutcome::Consumed,
        }
    }
}

/// How well `label` matches the lowercase `query`, lower is better: starts with it,
/// then contains it (earlier is better), then has its letters in order (closer
/// together is better); `None` otherwise.
fn score(query: &str, label: &str) -> Option<(u8, usize)> {
    let label = label.to_lowercase();
    if label.starts_with(query) {
        return Some((0, 0));
    }
    if let Some(at) = label.find(query) {
        return Some((1, at));
    }
    let mut letters = label.char_indices();
    let mut first = None;
    let mut last = 0;
    for q in query.chars().filter(|c| !c.is_whitespace()) {
        let (at, _) = letters.find(|&(_, l)| l == q)?;
        first.get_or_insert(at);
        last = at;
    }
    Some((2, last - first.unwrap_or(0)))
}

/// Draws the palette near the top of `area`.
pub fn draw(frame: &mut Frame, area: Rect, palette: &Palette, keys: &KeyBindings, theme: &Theme) {
    let wanted = u16::try_from(palette.matches.len().clamp(1, 14) + 4).unwrap_or(18);
    let popup = super::layout::centered(area, 64, wanted);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(text::PALETTE_TITLE).style(theme.accent));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [input, list] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("> ", theme.accent),
            Span::raw(palette.query.as_str()),
            Span::styled("▏", theme.dim),
        ])),
        input,
    );
    if palette.matches.is_empty() {
        frame.render_widget(Paragraph::new(text::PALETTE_EMPTY).style(theme.dim), list);
        return;
    }
    let height = usize::from(list.height.max(1));
    let offset = super::view::window_offset(0, palette.selected, height);
    let rows = palette
        .matches
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(pos, &i)| {
            let (command, label) = &palette.all[i];
            let hint = binding_for(*command, keys).map(ToString::to_string);
            let row = Row::new([
                Cell::from(label.as_str()),
                Cell::from(hint.unwrap_or_default()).style(theme.dim),
            ]);
            if pos == palette.selected {
                row.style(theme.selected)
            } else {
                row
            }
        });
    frame.render_widget(
        Table::new(rows, [Constraint::Fill(1), Constraint::Length(16)]).style(theme.text),
        list,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Typing narrows the list, best matches first; Enter runs the highlighted command.
    #[test]
    fn typing_narrows_and_enter_runs() {
        let keys = KeyBindings::default();
        let mut palette = Palette::new();
        for c in "new go".chars() {
            palette.handle_key(&KeyEvent::from(KeyCode::Char(c)), &keys);
        }
        assert_eq!(
            palette.matches().next(),
            Some(Command::NewOf(RecordKind::Goal))
        );
        let run = palette.handle_key(&KeyEvent::from(KeyCode::Enter), &keys);
        assert_eq!(run, PaletteOutcome::Run(Command::NewOf(RecordKind::Goal)));
        palette.set_query("trsh");
        assert_eq!(palette.matches().next(), Some(Command::ToggleTrash));
        let team = SpaceId::new();
        let mut palette = Palette::with_spaces(&[(team, "Team Nord".into())]);
        palette.set_query("space nord");
        assert_eq!(palette.matches().next(), Some(Command::Space(team)));
        palette.set_query("zzzz");
        assert_eq!(palette.matches().count(), 0);
        assert_eq!(
            palette.handle_key(&KeyEvent::from(KeyCode::Esc), &keys),
            PaletteOutcome::Cancelled
        );
    }
}
