//! The person screen (`p`): everything about one person in the groups a 1:1 is
//! prepared from: open commitments both ways, goals with progress, follow-ups due,
//! the potential assessment, and conversations newest first. j/k move, Enter jumps
//! to the record, `n` starts the next 1:1 note with an agenda built from it all.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::text;
use super::theme::Theme;
use crate::people::{Item, Overview};

/// The loaded overview and the selected row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonView {
    pub overview: Overview,
    /// `(section title, item)` in screen order.
    rows: Vec<(&'static str, Item)>,
    selected: usize,
}

impl PersonView {
    #[must_use]
    pub fn new(overview: Overview) -> Self {
        let mut rows = Vec::new();
        let sections: [(&'static str, &Vec<Item>); 5] = [
            (text::PERSON_COMMITMENTS_BY, &overview.commitments_by),
            (text::PERSON_COMMITMENTS_TO, &overview.commitments_to),
            (text::PERSON_GOALS, &overview.goals),
            (text::PERSON_FOLLOW_UPS, &overview.follow_ups),
            (text::PERSON_CONVERSATIONS, &overview.conversations),
        ];
        for (title, items) in sections {
            rows.extend(items.iter().map(|i| (title, i.clone())));
        }
        if let Some(potential) = &overview.potential {
            rows.push((text::PERSON_POTENTIAL, potential.clone()));
        }
        Self {
            overview,
            rows,
            selected: 0,
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.rows.len().saturating_sub(1));
    }

    /// The record of the selected row.
    #[must_use]
    pub fn selected(&self) -> Option<&Item> {
        self.rows.get(self.selected).map(|(_, item)| item)
    }
}

/// Draws the screen over `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &PersonView, theme: &Theme) {
    let o = &view.overview;
    let title = if o.about.is_empty() {
        format!(" {} — {} ", o.name, text::PERSON_KEYS)
    } else {
        format!(" {} ({}) — {} ", o.name, o.about, text::PERSON_KEYS)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title).style(theme.accent));
    let inner = block.inner(area);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut selected_line = 0;
    let mut section = "";
    for (i, (title, item)) in view.rows.iter().enumerate() {
        if *title != section {
            if !lines.is_empty() {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(title.to_string(), theme.accent));
            section = title;
        }
        if i == view.selected {
            selected_line = lines.len();
        }
        let style = if i == view.selected {
            theme.selected
        } else if item.overdue {
            theme.overdue
        } else {
            theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {}", item.title), style),
            Span::styled(
                if item.detail.is_empty() {
                    String::new()
                } else {
                    format!("  {}", item.detail)
                },
                theme.dim,
            ),
        ]));
    }
    if view.rows.is_empty() {
        lines.push(Line::styled(text::PERSON_NOTHING, theme.dim));
    }
    if !o.open_points.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::styled(text::PERSON_OPEN_POINTS, theme.accent));
        lines.extend(
            o.open_points
                .iter()
                .map(|p| Line::styled(format!("  {p}"), theme.text)),
        );
    }
    let room = usize::from(inner.height);
    let scroll = selected_line.saturating_sub(room.saturating_sub(2));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

impl super::app::App {
    /// `p`: the person screen of the selected person; on other kinds, of the first
    /// person the selected record names (owner, by, to, participant, person).
    pub(super) fn open_person(&mut self) -> Vec<super::action::Effect> {
        use cairn_common::model::RecordKind;
        if self.tab == RecordKind::Person {
            return match self.selected_id() {
                Some(id) => vec![super::action::Effect::LoadPerson(id)],
                None => {
                    self.info(text::no_person(""));
                    Vec::new()
                }
            };
        }
        let name = self.detail().and_then(|state| {
            ["owner", "by", "to", "person", "participants"]
                .iter()
                .find_map(|field| state.get(field)?.people()?.into_iter().next())
        });
        let linked = name.as_ref().and_then(|p| p.id).filter(|id| {
            self.index
                .kind(cairn_common::model::RecordKind::Person)
                .find(id)
                .is_some()
        });
        let name = name.map(|p| p.name).unwrap_or_default();
        match linked.or_else(|| self.person_named(&name)) {
            Some(id) => vec![super::action::Effect::LoadPerson(id)],
            None => {
                self.info(text::no_person(&name));
                Vec::new()
            }
        }
    }

    /// The live person whose name is `name` (case and spaces aside).
    fn person_named(&self, name: &str) -> Option<cairn_common::RecordId> {
        let wanted = name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if wanted.is_empty() {
            return None;
        }
        let people = self.index.kind(cairn_common::model::RecordKind::Person);
        people.order().iter().find_map(|&i| {
            let row = people.row(i)?;
            let title = row.cell(0).split_whitespace().collect::<Vec<_>>().join(" ");
            (!row.is_deleted() && title.to_lowercase() == wanted).then_some(row.id)
        })
    }

    /// `n` on the person screen: the form of a new 1:1 note with them, its agenda
    /// built from what is open (commitments, overdue goals, follow-ups, the last
    /// conversation's open points).
    pub(super) fn start_one_on_one(&mut self, overview: &crate::people::Overview) {
        use cairn_common::model::RecordKind;
        self.popup = None;
        self.trash = false;
        self.go_to(RecordKind::Note);
        let mut form = super::form::RecordForm::new_record(RecordKind::Note, self.today);
        form.prefill("title", &text::one_on_one_title(&overview.name));
        form.prefill_link("participants", &overview.name, overview.person);
        form.prefill("agenda", &crate::people::one_on_one_agenda(overview));
        self.popup = Some(super::app::Popup::Form(Box::new(
            super::editing::FormPopup {
                form,
                base: None,
                link_to: None,
            },
        )));
    }

    /// `C` on a conversation: the form of a new commitment agreed in it, made to its
    /// first participant, with the note as its source; once saved it is added to the
    /// note's commitments.
    pub(super) fn commitment_from_note(&mut self) {
        use cairn_common::model::RecordKind;
        let Some(note) = self
            .detail()
            .filter(|s| s.kind == Some(RecordKind::Note))
            .cloned()
        else {
            self.info(text::COMMITMENT_NEEDS_NOTE.to_owned());
            return;
        };
        let to = note
            .get("participants")
            .and_then(cairn_common::Value::people)
            .and_then(|people| people.into_iter().next());
        let mut form = super::form::RecordForm::new_record(RecordKind::Commitment, self.today);
        match to {
            Some(cairn_common::model::PersonRef { name, id: Some(id) }) => {
                let name = super::links::title_of(&self.index, &id).unwrap_or(name);
                form.prefill_link("to", &name, id);
            }
            Some(person) => form.prefill("to", &person.name),
            None => {}
        }
        form.prefill_link("source", note.title(), note.id);
        self.popup = Some(super::app::Popup::Form(Box::new(
            super::editing::FormPopup {
                form,
                base: None,
                link_to: Some((note.id, note.space)),
            },
        )));
    }
}
