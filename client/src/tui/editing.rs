//! Creating, editing and resolving records: opens the form and conflict popups, reads
//! their outcomes, and turns saves into writes for the worker. Part of the pure update.

use cairn_common::RecordState;
use cairn_common::model::RecordKind;
use crossterm::event::KeyEvent;

use super::action::{Command, Effect, RevertWhy, SaveReport, Write, WriteKind};
use super::app::App;
use super::conflict::ConflictView;
use super::form::RecordForm;
use super::popup::{ConflictOutcome, FormOutcome};
use super::popups::{ConflictPopup, FormPopup, Popup};
use super::text;

impl App {
    /// Before a form is saved: every link field's titles, names and short ids
    /// become the ids the schema reads. An entry the form knows (it showed it, or the
    /// picker put it there) keeps its record; others are looked up among the kinds
    /// the field takes. A link to a record must find exactly one; a person field
    /// keeps a name that is no person yet as a name.
    pub(super) fn resolve_form_links(&mut self) {
        let Some(super::popups::Popup::Form(popup)) = &mut self.popup else {
            return;
        };
        for field in popup.form.link_fields() {
            let Some(kinds) = super::form::links::link_kinds(field.ty) else {
                continue;
            };
            let resolved = super::links::resolve_entries(&self.index, kinds, &field);
            popup.form.set_resolved(field.key, resolved);
        }
    }

    /// After a key in a form: the focused link field's picker offers the records
    /// matching what is typed.
    pub(super) fn refresh_picker(&mut self) {
        let Some(super::popups::Popup::Form(popup)) = &mut self.popup else {
            return;
        };
        if let Some((kinds, query)) = popup.form.link_query() {
            let offered = super::picker::suggest(&self.index, kinds, &query);
            popup.form.offer_links(offered);
        }
    }

    /// The names `state`'s person fields hold that are linked to no person record
    /// and match none by name: the people one could create.
    fn names_without_person(&self, state: &RecordState) -> Vec<String> {
        let Some(kind) = state.kind else {
            return Vec::new();
        };
        let mut names = Vec::new();
        for spec in cairn_common::model::fields_of(kind) {
            if !matches!(spec.ty, cairn_common::model::FieldType::Person { .. }) {
                continue;
            }
            let people = state.get(spec.key).and_then(cairn_common::Value::people);
            for person in people.unwrap_or_default() {
                let known = person.id.is_some()
                    || super::links::resolve(&self.index, &[RecordKind::Person], &person.name)
                        .is_some();
                if !known && !names.contains(&person.name) {
                    names.push(person.name);
                }
            }
        }
        names
    }

    /// `u`: the record of the newest change goes back to what it showed before.
    pub(super) fn undo_change(&mut self) -> Vec<Effect> {
        match self.undo.pop_undo() {
            Some(step) => self.write(Write::Revert {
                id: step.id,
                to: step.before,
                why: RevertWhy::Undo,
            }),
            None => {
                self.info(text::NOTHING_TO_UNDO.to_owned());
                Vec::new()
            }
        }
    }

    /// `ctrl-r`: the newest undone change is made again.
    pub(super) fn redo_change(&mut self) -> Vec<Effect> {
        match self.undo.pop_redo() {
            // The step of an undo goes from the changed state back: redo returns to
            // where that undo started.
            Some(step) => self.write(Write::Revert {
                id: step.id,
                to: step.before,
                why: RevertWhy::Redo,
            }),
            None => {
                self.info(text::NOTHING_TO_REDO.to_owned());
                Vec::new()
            }
        }
    }

    /// `n`, `e`, `c` and their palette commands.
    pub(super) fn open_editor_popup(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::New => self.open_new(self.tab),
            Command::NewOf(kind) => self.open_new(kind),
            Command::Edit => {
                if let Some(state) = self.editable() {
                    let mut form = RecordForm::edit(&state, self.today);
                    form.show_link_titles(|id| super::links::title_of(&self.index, id));
                    self.popup = Some(Popup::Form(Box::new(FormPopup {
                        form,
                        base: Some(Box::new(state)),
                        link_to: None,
                    })));
                }
            }
            Command::Conflicts => {
                if let Some(state) = self.editable() {
                    match ConflictView::new(&state, self.today) {
                        None => self.info(text::NO_CONFLICTS.to_owned()),
                        Some(view) => {
                            self.popup = Some(Popup::Conflict(Box::new(ConflictPopup {
                                view,
                                base: Box::new(state),
                            })));
                        }
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn open_new(&mut self, kind: RecordKind) {
        self.trash = false;
        self.go_to(kind);
        self.popup = Some(Popup::Form(Box::new(FormPopup {
            form: RecordForm::new_record(kind, self.today),
            base: None,
            link_to: None,
        })));
    }

    /// The selected record's full state, if it can be edited now; otherwise says why.
    pub(super) fn editable(&mut self) -> Option<RecordState> {
        self.selected_id()?;
        if self.trash {
            self.info(text::EDIT_IN_TRASH.to_owned());
            return None;
        }
        match self.detail() {
            Some(state) => Some(state.clone()),
            None => {
                self.info(text::NOT_LOADED.to_owned());
                None
            }
        }
    }

    /// A key for the form popup.
    pub(super) fn on_form_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        if self.config.keys.save.matches(key) {
            self.resolve_form_links();
        }
        let Some(Popup::Form(popup)) = &mut self.popup else {
            return Vec::new();
        };
        match popup.form.handle_key(key, &self.config.keys) {
            FormOutcome::Consumed => {
                self.refresh_picker();
                Vec::new()
            }
            FormOutcome::Ignored => Vec::new(),
            FormOutcome::Cancelled => {
                self.popup = None;
                Vec::new()
            }
            FormOutcome::OpenExternalEditor => editor_effect(popup.form.external_editor_text()),
            FormOutcome::Save(fields) => {
                let write = match &popup.base {
                    None => Write::Create {
                        kind: popup.form.kind(),
                        space: popup.link_to.map_or(self.space, |(_, space)| space),
                        fields,
                        today: self.today,
                    },
                    Some(_) if fields.is_empty() => {
                        self.popup = None;
                        self.info(text::NOTHING_CHANGED.to_owned());
                        return Vec::new();
                    }
                    Some(base) => Write::Update {
                        base: base.clone(),
                        fields,
                    },
                };
                self.parked = self.popup.take();
                self.write(write)
            }
        }
    }

    /// A key for the conflict popup.
    pub(super) fn on_conflict_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(Popup::Conflict(popup)) = &mut self.popup else {
            return Vec::new();
        };
        match popup.view.handle_key(key, &self.config.keys) {
            ConflictOutcome::Consumed | ConflictOutcome::Ignored => Vec::new(),
            ConflictOutcome::Cancelled => {
                self.popup = None;
                Vec::new()
            }
            ConflictOutcome::OpenExternalEditor => editor_effect(popup.view.external_editor_text()),
            ConflictOutcome::Resolve { field, value } => {
                let base = popup.base.clone();
                self.parked = self.popup.take();
                self.write(Write::Resolve { base, field, value })
            }
        }
    }

    /// The external editor's text goes back into the popup that asked for it.
    pub(super) fn on_editor_closed(&mut self, result: Result<String, String>) {
        match (result, &mut self.popup) {
            (Ok(text), Some(Popup::Form(popup))) => popup.form.set_external_text(text),
            (Ok(text), Some(Popup::Conflict(popup))) => popup.view.set_external_text(text),
            (Ok(_), _) => {}
            (Err(e), _) => self.error(text::editor_failed(&e)),
        }
    }

    /// Settles the popup parked while its save ran: after an error it comes back with
    /// everything typed; after resolving one field, the fields still in conflict are
    /// shown.
    pub(super) fn after_popup_save(&mut self, report: &SaveReport) -> Vec<Effect> {
        let from_form = matches!(self.parked, Some(Popup::Form(_)))
            && matches!(report.write, WriteKind::Create | WriteKind::Update);
        let link = match (&self.parked, &report.step) {
            (Some(Popup::Form(popup)), Some(step)) if report.write == WriteKind::Create => {
                popup.link_to.map(|(note, _)| Write::Link {
                    id: note,
                    field: "commitments".to_owned(),
                    target: step.id,
                })
            }
            _ => None,
        };
        let parked = match (&self.parked, report.write) {
            (Some(Popup::Form(_)), WriteKind::Create | WriteKind::Update)
            | (Some(Popup::Conflict(_)), WriteKind::Resolve) => self.parked.take(),
            _ => None,
        };
        match (parked, &report.result) {
            (Some(popup), Err(_)) => self.popup = Some(popup),
            (Some(Popup::Conflict(popup)), Ok(states)) if self.popup.is_none() => {
                let fresh = states.iter().find(|s| s.id == popup.base.id);
                if let Some(state) = fresh
                    && let Some(view) = ConflictView::new(state, self.today)
                {
                    self.popup = Some(Popup::Conflict(Box::new(ConflictPopup {
                        view,
                        base: Box::new(state.clone()),
                    })));
                }
            }
            _ => {}
        }
        if report.write == WriteKind::Create
            && let Ok(states) = &report.result
            && let Some(created) = states.first()
        {
            self.select(created);
        }
        if from_form
            && let Ok(states) = &report.result
            && let Some(saved) = states.first()
        {
            let names = self.names_without_person(saved);
            if !names.is_empty() {
                self.info(text::not_people_yet(text::saved(report.write), &names));
            }
        }
        match link {
            Some(write) => self.write(write),
            None => Vec::new(),
        }
    }

    /// Shows `state`'s tab and selects it.
    pub(super) fn select(&mut self, state: &RecordState) {
        let Some(kind) = state.kind else { return };
        self.trash = state.is_deleted();
        self.go_to(kind);
        let index = self.index.kind(kind);
        let view = &mut self.views[kind.index()];
        if let Some(at) = index.find(&state.id)
            && let Some(pos) = view.visible().iter().position(|&i| i == at)
        {
            view.selected = pos;
        }
        self.refresh_view();
    }

    /// Whether an open form holds changes not yet saved.
    pub(super) fn form_changed(&self) -> bool {
        matches!(&self.popup, Some(Popup::Form(popup)) if popup.form.is_changed())
            || self.parked.is_some()
    }
}

/// The effect that opens `$EDITOR` on what a popup asked to edit externally.
fn editor_effect(request: Option<(&'static str, String)>) -> Vec<Effect> {
    request
        .map(|(label, text)| Effect::OpenEditor {
            label: label.to_owned(),
            text,
        })
        .into_iter()
        .collect()
}
