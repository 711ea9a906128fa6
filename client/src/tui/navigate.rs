//! Going to a record from elsewhere: the agenda and the search results jump to a
//! record (its tab, selected), and after a jump from the search `n` / `N` step to the
//! next and previous hit. The glue between those screens and the app lives here, so
//! the components themselves (`agenda.rs`, `search_view.rs`) never see the app.

use cairn_common::RecordId;
use cairn_common::model::RecordKind;
use crossterm::event::{KeyCode, KeyEvent};

use super::action::Effect;
use super::agenda::AgendaView;
use super::app::App;
use super::popups::Popup;
use super::search::SearchBatch;
use super::text;

impl App {
    /// Shows record `id` of `kind` selected in its tab: the trash side it is on, the
    /// list's filter cleared and done records shown if they hide the record. `false` if the record is not
    /// in the index (gone since the list was made).
    pub(super) fn select_record(&mut self, kind: RecordKind, id: RecordId) -> bool {
        let index = self.index.kind(kind);
        let Some(at) = index.find(&id) else {
            return false;
        };
        let deleted = index.row(at).is_some_and(super::index::Row::is_deleted);
        self.trash = deleted;
        self.tab = kind;
        let view = &mut self.views[kind.index()];
        view.editing = false;
        view.ensure_fresh(index, deleted);
        if !view.visible().contains(&at) {
            view.set_filter("", index);
        }
        if !view.visible().contains(&at) && index.row(at).is_some_and(super::index::Row::is_done) {
            // A done record asked for by name is shown with the other done ones.
            view.show_done = true;
            view.refresh(index, deleted);
        }
        if let Some(pos) = view.visible().iter().position(|&i| i == at) {
            view.selected = pos;
        }
        self.refresh_view();
        true
    }

    /// `A`: the agenda of every open, dated record.
    pub(super) fn open_agenda(&mut self) {
        self.popup = Some(Popup::Agenda(AgendaView::build(&self.index, self.today)));
    }

    pub(super) fn on_agenda_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let page = isize::try_from(self.list_rows().max(1)).unwrap_or(10);
        let keys = &self.config.keys;
        let Some(Popup::Agenda(agenda)) = &mut self.popup else {
            return Vec::new();
        };
        if keys.cancel.matches(key) || keys.quit.matches(key) || keys.agenda.matches(key) {
            self.popup = None;
        } else if key.code == KeyCode::Enter {
            if let Some(entry) = agenda.selected().copied() {
                self.popup = None;
                if !self.select_record(entry.kind, entry.id) {
                    self.error(text::GONE.to_owned());
                }
            }
        } else if keys.down.matches(key) {
            agenda.move_by(1);
        } else if keys.up.matches(key) {
            agenda.move_by(-1);
        } else if keys.page_down.matches(key) {
            agenda.move_by(page);
        } else if keys.page_up.matches(key) {
            agenda.move_by(-page);
        } else if keys.top.matches(key) {
            agenda.select_first();
        } else if keys.bottom.matches(key) {
            agenda.select_last();
        }
        Vec::new()
    }

    /// `ctrl-f` / `S`: the search popup, with the last query and its hits.
    pub(super) fn open_search(&mut self) {
        self.search.stepping = false;
        self.popup = Some(Popup::Search);
    }

    pub(super) fn on_search_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let keys = &self.config.keys;
        if keys.cancel.matches(key) {
            self.popup = None;
            return Vec::new();
        }
        match key.code {
            KeyCode::Enter => {
                if let Some(hit) = self.search.selected() {
                    let (kind, id) = (hit.kind, hit.id);
                    self.popup = None;
                    self.search.stepping = true;
                    self.show_hit(kind, id);
                }
            }
            KeyCode::Up | KeyCode::BackTab => {
                self.search.move_by(-1);
            }
            KeyCode::Down | KeyCode::Tab => {
                self.search.move_by(1);
            }
            KeyCode::PageUp => {
                self.search.move_by(-10);
            }
            KeyCode::PageDown => {
                self.search.move_by(10);
            }
            _ => {
                let before = self.search.input.text();
                if self.search.input.handle_key(key) && self.search.input.text() != before {
                    return self.restart_search();
                }
            }
        }
        Vec::new()
    }

    /// Text pasted while the search popup is open goes into the query.
    pub(super) fn paste_into_search(&mut self, pasted: &str) -> Vec<Effect> {
        self.search.input.paste(pasted);
        self.restart_search()
    }

    fn restart_search(&mut self) -> Vec<Effect> {
        let people = self.index.kind(RecordKind::Person);
        let named = people
            .order()
            .iter()
            .filter_map(|&i| people.row(i))
            .filter(|row| !row.is_deleted())
            .map(|row| (row.id, row.cell(0)));
        vec![Effect::Search(self.search.restart(self.today, named))]
    }

    /// Hits of the search in progress (stale ones are dropped by the view).
    pub(super) fn on_search_results(&mut self, batch: SearchBatch) {
        self.search.take(batch);
    }

    /// On the main screen after a jump from the search: `n` / `N` step through the
    /// hits, esc stops stepping (so `n` adds a record again). `None`: not such a key.
    pub(super) fn on_step_key(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        if !self.search.stepping {
            return None;
        }
        let keys = &self.config.keys;
        let delta = if keys.next_result.matches(key) {
            1
        } else if keys.prev_result.matches(key) {
            -1
        } else {
            if keys.cancel.matches(key) && self.view().filter().is_empty() {
                self.search.stepping = false;
                self.info(text::SEARCH_STEPPING_ENDED.to_owned());
                return Some(Vec::new());
            }
            return None;
        };
        if !self.search.move_by(delta) {
            let edge = if delta > 0 {
                text::SEARCH_LAST
            } else {
                text::SEARCH_FIRST
            };
            self.info(edge.to_owned());
            return Some(Vec::new());
        }
        if let Some(hit) = self.search.selected() {
            let (kind, id) = (hit.kind, hit.id);
            self.show_hit(kind, id);
        }
        Some(Vec::new())
    }

    /// Jumps to a hit and says where in the hits it is.
    fn show_hit(&mut self, kind: RecordKind, id: RecordId) {
        if self.select_record(kind, id) {
            let (at, total, done) = (
                self.search.position(),
                self.search.hits().len(),
                self.search.is_done(),
            );
            self.info(text::search_stepping(at, total, done));
        } else {
            self.error(text::GONE.to_owned());
        }
    }
}
