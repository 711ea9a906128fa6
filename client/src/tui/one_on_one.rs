//! The work around a person: `p` opens the person screen (of the selected person,
//! or of the first person a record names), `n` there starts the next 1:1 note with
//! its agenda prepared, and `C` on a conversation records a commitment agreed in it.

use super::text;

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
        self.popup = Some(super::popups::Popup::Form(Box::new(
            super::popups::FormPopup {
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
        self.popup = Some(super::popups::Popup::Form(Box::new(
            super::popups::FormPopup {
                form,
                base: None,
                link_to: Some((note.id, note.space)),
            },
        )));
    }
}
