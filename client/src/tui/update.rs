//! The state machine: [`App::update`] takes an [`Action`] and returns the [`Effect`]s
//! the driver must run. Pure: no I/O, no clock; it reads only the in-memory index.

use cairn_common::model::RecordKind;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};

use super::action::{Action, Command, Effect, SaveReport, Write};
use super::app::{App, Message};
use super::help::HelpView;
use super::history::HistoryView;
use super::palette::{Palette, PaletteOutcome};
use super::popups::Popup;
use super::text;

impl App {
    /// Applies one action and returns the effects to run, in order.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = match action {
            Action::Key(key) => self.on_key(key),
            Action::Mouse(mouse) => self.on_mouse(mouse),
            Action::Resize { width, height } => {
                self.size = (width, height);
                self.refresh_view();
                Vec::new()
            }
            Action::FilterChar(c) => {
                self.views[self.tab.index()].editing = true;
                self.edit_filter(|view, index| view.push_filter(c, index));
                Vec::new()
            }
            Action::Paste(text) if matches!(self.popup, Some(Popup::Search)) => {
                self.paste_into_search(&text)
            }
            Action::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Action::Run(command) => self.run(command),
            Action::Loaded { id, result } => {
                if self.detail.id == Some(id) {
                    match result {
                        Ok(state) => {
                            self.detail.state = state;
                            self.detail.error = None;
                        }
                        Err(e) => {
                            self.detail.error = Some(text::load_failed(&e));
                        }
                    }
                }
                Vec::new()
            }
            Action::HistoryLoaded { id, result } => {
                match result {
                    Ok(lines) if self.selected_id() == Some(id) => {
                        self.popup = Some(Popup::History(HistoryView::new(lines)));
                    }
                    Ok(_) => {}
                    Err(e) => self.error(text::load_failed(&e)),
                }
                Vec::new()
            }
            Action::PersonLoaded(result) => {
                match result {
                    Ok(overview) => {
                        let view = super::person::PersonView::new(overview);
                        self.popup = Some(Popup::Person(Box::new(view)));
                    }
                    Err(e) => self.error(text::load_failed(&e)),
                }
                Vec::new()
            }
            Action::IndexChunk(states) => {
                self.index.load_chunk(states);
                for view in &mut self.views {
                    view.stale = true;
                }
                self.refresh_view();
                Vec::new()
            }
            Action::IndexLoaded(result) => {
                self.index.finish_loading();
                if let Err(e) = result {
                    self.error(text::load_failed(&e));
                }
                self.refresh_view();
                // An agenda opened while records streamed in missed some of them.
                if matches!(self.popup, Some(Popup::Agenda(_))) {
                    self.open_agenda();
                }
                Vec::new()
            }
            Action::Saved(report) => self.on_saved(report),
            Action::EditorClosed(result) => {
                self.on_editor_closed(result);
                Vec::new()
            }
            Action::NewDay(today) => {
                self.today = today;
                self.update_pictures();
                Vec::new()
            }
            Action::SyncStarted => {
                self.on_sync_started();
                Vec::new()
            }
            Action::Synced(report) => self.on_synced(report),
            Action::Pending(count) => {
                self.pending = count;
                Vec::new()
            }
            Action::SearchResults(batch) => {
                self.on_search_results(batch);
                Vec::new()
            }
            Action::RecordsChanged(states) => {
                self.on_records_changed(&states);
                Vec::new()
            }
            Action::Server(answer) => self.on_server_answer(answer),
            Action::DirListed { dir, result } => {
                self.on_dir_listed(&dir, result);
                Vec::new()
            }
            Action::FilesChecked(found) => {
                self.detail.here.extend(found);
                Vec::new()
            }
            Action::FileJobDone(report) => self.on_file_job(report),
            Action::OpenerClosed { name, result } => {
                self.on_opener_closed(&name, result);
                Vec::new()
            }
        };
        effects.extend(self.follow_selection());
        effects.extend(self.check_files());
        self.show_waiting_notice();
        effects
    }

    /// Asks for the selected record's full state when the selection moved.
    fn follow_selection(&mut self) -> Option<Effect> {
        let id = self.selected_id();
        if id == self.detail.id {
            return None;
        }
        self.detail.id = id;
        self.detail.error = None;
        self.detail.scroll.set(0);
        self.detail.attachment = 0;
        if self.detail.state.as_ref().map(|s| s.id) == id {
            return None;
        }
        self.detail.state = None;
        id.map(Effect::Load)
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if self.popup.is_some() {
            return self.on_popup_key(key);
        }
        if self.view().editing {
            return self.on_filter_key(key);
        }
        if let Some(effects) = self.on_step_key(&key) {
            return effects;
        }
        match self.command_for(&key) {
            Some(command) => self.run(command),
            None => Vec::new(),
        }
    }

    /// The main screen's reading of a key. Bindings are tried in this order, so one
    /// that shadows another (`tab` is also next field in forms) acts here as listed.
    fn command_for(&self, key: &KeyEvent) -> Option<Command> {
        let k = &self.config.keys;
        let table = [
            (&k.quit, Command::Quit),
            (&k.help, Command::Help),
            (&k.palette, Command::Palette),
            (&k.filter, Command::Filter),
            (&k.next_tab, Command::NextTab),
            (&k.prev_tab, Command::PrevTab),
            (&k.tab_goals, Command::GoTo(RecordKind::Goal)),
            (&k.tab_commitments, Command::GoTo(RecordKind::Commitment)),
            (&k.tab_tasks, Command::GoTo(RecordKind::Task)),
            (&k.tab_activities, Command::GoTo(RecordKind::Activity)),
            (&k.tab_notes, Command::GoTo(RecordKind::Note)),
            (&k.tab_potentials, Command::GoTo(RecordKind::Potential)),
            (&k.tab_people, Command::GoTo(RecordKind::Person)),
            (&k.tab_files, Command::GoTo(RecordKind::File)),
            (&k.up, Command::Up),
            (&k.down, Command::Down),
            (&k.page_up, Command::PageUp),
            (&k.page_down, Command::PageDown),
            (&k.top, Command::Top),
            (&k.bottom, Command::Bottom),
            (&k.new, Command::New),
            (&k.edit, Command::Edit),
            (&k.delete, Command::Delete),
            (&k.restore, Command::Restore),
            (&k.done, Command::Done),
            (&k.trash, Command::ToggleTrash),
            (&k.show_done, Command::ToggleDone),
            (&k.grid_box, Command::NextGridBox),
            (&k.sort, Command::SortNext),
            (&k.reverse, Command::SortReverse),
            (&k.sync, Command::Sync),
            (&k.space, Command::NextSpace),
            (&k.conflicts, Command::Conflicts),
            (&k.history, Command::History),
            (&k.read, Command::Read),
            (&k.links, Command::Links),
            (&k.person, Command::Person),
            (&k.commitment_from_note, Command::CommitmentFromNote),
            (&k.detail_down, Command::DetailDown),
            (&k.detail_up, Command::DetailUp),
            (&k.undo_change, Command::UndoChange),
            (&k.redo_change, Command::RedoChange),
            (&k.cancel, Command::ClearFilter),
            (&k.agenda, Command::Agenda),
            (&k.search, Command::Search),
            (&k.attach, Command::Attach),
            (&k.next_attachment, Command::NextAttachment),
            (&k.open_file, Command::OpenFile),
            (&k.save_file, Command::SaveFile),
        ];
        table
            .into_iter()
            .find(|(binding, _)| binding.matches(key))
            .map(|(_, command)| command)
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let keys = &self.config.keys;
        if keys.cancel.matches(&key) {
            return self.run(Command::ClearFilter);
        }
        match key.code {
            KeyCode::Enter => {
                self.views[self.tab.index()].editing = false;
                self.refresh_view();
            }
            KeyCode::Backspace => self.edit_filter(|view, index| view.pop_filter(index)),
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .contains(crossterm::event::KeyModifiers::CONTROL) =>
            {
                self.edit_filter(|view, index| view.push_filter(c, index));
            }
            // Arrows and other non-character keys still move through the matches.
            _ => {
                if let Some(
                    command @ (Command::Up
                    | Command::Down
                    | Command::PageUp
                    | Command::PageDown
                    | Command::Top
                    | Command::Bottom
                    | Command::Quit),
                ) = self.command_for(&key)
                    && !matches!(key.code, KeyCode::Char(_))
                {
                    return self.run(command);
                }
            }
        }
        Vec::new()
    }

    /// Changes the filter of the current list and recomputes what depends on it.
    fn edit_filter(
        &mut self,
        change: impl FnOnce(&mut super::view::ListView, &super::index::KindIndex),
    ) {
        let kind = self.tab;
        let view = &mut self.views[kind.index()];
        view.ensure_fresh(self.index.kind(kind), self.trash);
        change(view, self.index.kind(kind));
        view.select_first();
        self.refresh_view();
    }

    fn on_popup_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let page = isize::try_from(self.list_rows().max(1)).unwrap_or(10);
        let keys = &self.config.keys;
        match &mut self.popup {
            Some(Popup::Help(help)) => {
                if keys.cancel.matches(&key) || keys.help.matches(&key) || keys.quit.matches(&key) {
                    self.popup = None;
                } else if keys.down.matches(&key) || keys.page_down.matches(&key) {
                    help.scroll_by(if keys.down.matches(&key) { 1 } else { 10 });
                } else if keys.up.matches(&key) || keys.page_up.matches(&key) {
                    help.scroll_by(if keys.up.matches(&key) { -1 } else { -10 });
                }
                Vec::new()
            }
            Some(Popup::History(history)) => {
                if keys.cancel.matches(&key)
                    || keys.quit.matches(&key)
                    || keys.history.matches(&key)
                {
                    self.popup = None;
                } else if keys.down.matches(&key) {
                    history.scroll_by(1);
                } else if keys.up.matches(&key) {
                    history.scroll_by(-1);
                } else if keys.revert_version.matches(&key)
                    && let (Some(version), Some(id)) = (history.selected_op(), self.selected_id())
                {
                    self.popup = None;
                    return self.write(Write::RevertTo { id, version });
                }
                Vec::new()
            }
            Some(Popup::Palette(palette)) => match palette.handle_key(&key, keys) {
                PaletteOutcome::Consumed => Vec::new(),
                PaletteOutcome::Cancelled => {
                    self.popup = None;
                    Vec::new()
                }
                PaletteOutcome::Run(command) => {
                    self.popup = None;
                    self.run(command)
                }
            },
            Some(Popup::Reader(reader)) => {
                if keys.cancel.matches(&key) || keys.quit.matches(&key) || keys.read.matches(&key) {
                    self.popup = None;
                } else if keys.down.matches(&key) {
                    reader.scroll_by(1);
                } else if keys.up.matches(&key) {
                    reader.scroll_by(-1);
                } else if keys.page_down.matches(&key) || key.code == KeyCode::Char(' ') {
                    reader.scroll_by(page);
                } else if keys.page_up.matches(&key) {
                    reader.scroll_by(-page);
                } else if keys.top.matches(&key) {
                    reader.scroll_to_top();
                } else if keys.bottom.matches(&key) {
                    reader.scroll_to_bottom();
                }
                Vec::new()
            }
            Some(Popup::Person(person)) => {
                if keys.cancel.matches(&key) || keys.quit.matches(&key) || keys.person.matches(&key)
                {
                    self.popup = None;
                } else if keys.down.matches(&key) {
                    person.move_by(1);
                } else if keys.up.matches(&key) {
                    person.move_by(-1);
                } else if key.code == KeyCode::Enter {
                    if let Some(item) = person.selected().cloned() {
                        self.popup = None;
                        self.select_record(item.kind, item.id);
                    }
                } else if keys.new.matches(&key) {
                    let overview = person.overview.clone();
                    self.start_one_on_one(&overview);
                }
                Vec::new()
            }
            Some(Popup::Links(links)) => {
                if keys.cancel.matches(&key) || keys.quit.matches(&key) || keys.links.matches(&key)
                {
                    self.popup = None;
                } else if keys.down.matches(&key) {
                    links.move_by(1);
                } else if keys.up.matches(&key) {
                    links.move_by(-1);
                } else if key.code == KeyCode::Enter
                    && let Some((kind, id)) = links.selected()
                {
                    self.popup = None;
                    self.select_record(kind, id);
                }
                Vec::new()
            }
            Some(Popup::Form(_)) => self.on_form_key(&key),
            Some(Popup::Conflict(_)) => self.on_conflict_key(&key),
            Some(Popup::Agenda(_)) => self.on_agenda_key(&key),
            Some(Popup::Search) => self.on_search_key(&key),
            Some(Popup::Notice(_)) => self.on_notice_key(&key),
            Some(Popup::Notifications(_)) => self.on_notifications_key(&key),
            Some(Popup::Path(_)) => self.on_path_key(&key),
            None => Vec::new(),
        }
    }

    fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        if self.popup.is_some() {
            return Vec::new();
        }
        match mouse.kind {
            MouseEventKind::ScrollDown => self.run(Command::Down),
            MouseEventKind::ScrollUp => self.run(Command::Up),
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                self.click(mouse.column, mouse.row);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// `b` on the potentials: the list shows the next box of the grid only (Star
    /// first, then down the grid), and after the last box every box again.
    fn next_grid_box(&mut self) {
        if self.tab != RecordKind::Potential {
            self.go_to(RecordKind::Potential);
        }
        // High potential and performance first: the boxes people look for.
        let order: Vec<(usize, usize)> = (0..3)
            .rev()
            .flat_map(|pot| (0..3).rev().map(move |perf| (pot, perf)))
            .collect();
        let view = &mut self.views[RecordKind::Potential.index()];
        let next = match view.grid_box {
            None => order.first().copied(),
            Some(now) => order
                .iter()
                .position(|b| *b == now)
                .and_then(|i| order.get(i + 1).copied()),
        };
        view.grid_box = next;
        view.stale = true;
        self.refresh_view();
        let name = next.map(|(pot, perf)| text::GRID_BOXES[pot][perf]);
        self.info(text::grid_box_filter(name));
    }

    /// A left click: on a tab goes there, on a row of the list selects it.
    fn click(&mut self, column: u16, row: u16) {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let parts = super::layout::areas(area);
        if row == parts.tabs.y {
            let clicked = super::tabs::tab_at(column, parts.tabs, &self.index, &self.config.keys);
            if let Some(kind) = clicked {
                self.go_to(kind);
            }
            return;
        }
        let filter_line = self.view().editing || !self.view().filter().is_empty();
        let body = super::layout::list_body(area, filter_line);
        let inside =
            (body.x..body.right()).contains(&column) && (body.y..body.bottom()).contains(&row);
        if !inside {
            return;
        }
        let view = &mut self.views[self.tab.index()];
        let at = view.offset + usize::from(row - body.y);
        if at < view.visible().len() {
            view.selected = at;
            self.refresh_view();
        }
    }

    /// Runs a command on the main screen.
    pub(super) fn run(&mut self, command: Command) -> Vec<Effect> {
        let page = isize::try_from(self.list_rows().max(1)).unwrap_or(1);
        match command {
            Command::Quit => {
                self.quitting = true;
                return vec![Effect::Quit];
            }
            Command::Help => self.popup = Some(Popup::Help(HelpView::default())),
            Command::Palette => {
                let spaces = self.writable_spaces();
                self.popup = Some(Popup::Palette(Palette::with_spaces(&spaces)));
            }
            Command::Filter => self.views[self.tab.index()].editing = true,
            Command::ClearFilter => {
                let view = &mut self.views[self.tab.index()];
                view.editing = false;
                if !view.filter().is_empty() {
                    self.edit_filter(|view, index| view.set_filter("", index));
                }
            }
            Command::NextTab => {
                let n = RecordKind::ALL.len();
                self.go_to(RecordKind::ALL[(self.tab.index() + 1) % n]);
            }
            Command::PrevTab => {
                let n = RecordKind::ALL.len();
                self.go_to(RecordKind::ALL[(self.tab.index() + n - 1) % n]);
            }
            Command::GoTo(kind) => self.go_to(kind),
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-page),
            Command::PageDown => self.move_by(page),
            Command::Top => {
                self.views[self.tab.index()].select_first();
                self.refresh_view();
            }
            Command::Bottom => {
                self.views[self.tab.index()].select_last();
                self.refresh_view();
            }
            Command::ToggleTrash => {
                self.trash = !self.trash;
                self.refresh_view();
            }
            Command::NextGridBox => self.next_grid_box(),
            Command::ToggleDone => {
                let show = !self.views[0].show_done;
                for view in &mut self.views {
                    view.show_done = show;
                    view.stale = true;
                }
                self.refresh_view();
                self.info(text::done_shown(show).to_owned());
            }
            Command::SortNext | Command::SortReverse => self.sort(command),
            Command::Delete => return self.delete(),
            Command::Restore => return self.restore(),
            Command::Done => return self.done(),
            Command::History => {
                if let Some(id) = self.selected_id() {
                    return vec![Effect::LoadHistory(id)];
                }
            }
            Command::New if self.tab == RecordKind::File => return self.add_file(),
            Command::NewOf(RecordKind::File) => return self.add_file(),
            Command::New | Command::NewOf(_) | Command::Edit | Command::Conflicts => {
                return self.open_editor_popup(command);
            }
            Command::Sync => return self.request_sync(),
            Command::UndoChange => return self.undo_change(),
            Command::Read => self.open_reader(),
            Command::Links => {
                if let Some(state) = self.detail() {
                    let view = super::links::LinksView::of(state, &self.index);
                    self.popup = Some(Popup::Links(view));
                }
            }
            Command::Person => return self.open_person(),
            Command::CommitmentFromNote => self.commitment_from_note(),
            Command::DetailDown | Command::DetailUp => {
                let half = self.list_rows().max(2) / 2;
                let scroll = &self.detail.scroll;
                scroll.set(if command == Command::DetailDown {
                    scroll.get().saturating_add(half)
                } else {
                    scroll.get().saturating_sub(half)
                });
            }
            Command::RedoChange => return self.redo_change(),
            Command::NextSpace => self.next_space(),
            Command::Space(space) => self.choose_space(space),
            Command::Agenda => self.open_agenda(),
            Command::Search => self.open_search(),
            Command::PrivacyNotice => return self.fetch_notice(true),
            Command::Notifications => return self.open_notifications(),
            Command::Attach => return self.attach_file(),
            Command::NextAttachment => self.next_attachment(),
            Command::OpenFile => return self.open_selected_file(),
            Command::SaveFile => self.save_selected_file(),
        }
        Vec::new()
    }

    pub(super) fn go_to(&mut self, kind: RecordKind) {
        self.tab = kind;
        self.refresh_view();
    }

    fn move_by(&mut self, delta: isize) {
        self.views[self.tab.index()].move_by(delta);
        self.refresh_view();
    }

    fn sort(&mut self, command: Command) {
        let kind = self.tab;
        let columns = crate::present::columns(kind);
        let index = self.index.kind_mut(kind);
        let mut sort = index.sort;
        if command == Command::SortNext {
            sort.column = (sort.column + 1) % columns.len();
            sort.reverse = false;
        } else {
            sort.reverse = !sort.reverse;
        }
        index.set_sort(sort);
        self.views[kind.index()].stale = true;
        self.refresh_view();
        let label = columns.get(sort.column).map_or("", |c| c.label);
        self.info(text::sorted_by(label, sort.reverse));
    }

    fn delete(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
        if self.trash {
            self.info(text::ALREADY_IN_TRASH.to_owned());
            return Vec::new();
        }
        self.write(Write::Delete { id })
    }

    fn restore(&mut self) -> Vec<Effect> {
        if !self.trash {
            self.info(text::NOTHING_TO_RESTORE.to_owned());
            return Vec::new();
        }
        match self.selected_id() {
            Some(id) => self.write(Write::Restore { id }),
            None => Vec::new(),
        }
    }

    fn done(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected_id() else {
            return Vec::new();
        };
        if !matches!(
            self.tab,
            RecordKind::Goal | RecordKind::Commitment | RecordKind::Task
        ) {
            self.error(text::cannot_be_done(self.tab));
            return Vec::new();
        }
        if self.trash {
            self.info(text::EDIT_IN_TRASH.to_owned());
            return Vec::new();
        }
        self.write(Write::Done {
            id,
            today: self.today,
        })
    }

    /// Sends a write to the worker; the status shows "saving…" until it answers.
    pub(super) fn write(&mut self, write: Write) -> Vec<Effect> {
        self.saving += 1;
        vec![Effect::Write(write)]
    }

    fn on_saved(&mut self, report: SaveReport) -> Vec<Effect> {
        self.saving = self.saving.saturating_sub(1);
        self.undo.remember(report.write, report.step.clone());
        match &report.result {
            Ok(states) => {
                self.unsaved = false;
                for state in states {
                    self.index.update(state);
                    if let Some(kind) = state.kind {
                        self.views[kind.index()].stale = true;
                    }
                    if self.detail.id == Some(state.id) {
                        self.detail.state = Some(state.clone());
                    }
                }
                self.refresh_view();
                self.info(text::saved(report.write).to_owned());
            }
            // A file not added keeps its popup, which says why: nothing is lost.
            Err(e) if self.file_not_added(report.write, e) => {}
            Err(e) => {
                self.unsaved = true;
                self.error(text::save_failed(e));
            }
        }
        self.file_added(&report);
        self.after_popup_save(&report)
    }

    /// `v`: the selected record's long texts in the full-screen reader.
    fn open_reader(&mut self) {
        let Some(state) = self.detail() else {
            self.info(text::NO_SELECTION.to_owned());
            return;
        };
        let Some(kind) = state.kind else {
            return;
        };
        let sections = cairn_common::model::fields_of(kind)
            .iter()
            .filter(|spec| spec.ty == cairn_common::model::FieldType::LongText)
            .filter_map(|spec| {
                let text = state.get(spec.key)?.as_text()?.to_owned();
                Some((spec.label.to_owned(), text))
            })
            .collect();
        let title = state.title().to_owned();
        self.popup = Some(Popup::Reader(super::reader::ReaderView::new(
            title, sections,
        )));
    }

    /// A paste goes to the open form or path, or into the filter while it is being
    /// typed; elsewhere it is ignored (its characters are no commands).
    fn on_paste(&mut self, text: &str) {
        let filtering = self.popup.is_none() && self.view().editing;
        if matches!(self.popup, Some(Popup::Path(_))) {
            self.paste_into_path(text);
        } else if let Some(Popup::Form(popup)) = &mut self.popup {
            popup.form.paste(text);
            self.refresh_picker();
        } else if filtering {
            for c in text.chars() {
                let c = if c.is_control() { ' ' } else { c };
                self.edit_filter(|view, index| view.push_filter(c, index));
            }
        }
    }

    pub(super) fn info(&mut self, text: String) {
        self.message = Some(Message { text, error: false });
    }

    pub(super) fn error(&mut self, text: String) {
        self.message = Some(Message { text, error: true });
    }
}
