//! The top-level [`App::draw`] (where things go is in [`layout`](super::layout)). Drawing only reads the app; every
//! component formats only what is on screen, so a frame costs the same for ten records
//! or a hundred thousand.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::App;
use super::layout::areas;
use super::popups::Popup;
use super::{charts, detail, help, history, list, palette, potential_grid, status_bar, tabs};

impl App {
    /// Draws the whole screen. Reads the app only.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        let theme = &self.config.theme;
        let parts = areas(area);
        tabs::draw(
            frame,
            parts.tabs,
            self.tab,
            &self.index,
            &self.config.keys,
            theme,
        );
        list::draw(
            frame,
            parts.list,
            &list::ListProps {
                kind: self.tab,
                index: self.index.kind(self.tab),
                view: self.view(),
                loading: self.index.is_loading(),
                trash: self.trash,
                today: self.today,
                theme,
            },
        );
        if let Some(side) = parts.side {
            self.draw_side(frame, side);
        }
        let kind_index = self.index.kind(self.tab);
        status_bar::draw(
            frame,
            parts.status,
            &status_bar::StatusProps {
                opening: self.opening,
                space_name: &self.space_name,
                kind: self.tab,
                visible: self.view().visible().len(),
                total: if self.trash {
                    kind_index.trashed()
                } else {
                    kind_index.live()
                },
                trash: self.trash,
                conflicts: self.index.conflicts(),
                loading: self.index.is_loading(),
                saving: self.saving,
                unsaved: self.unsaved || self.form_changed(),
                sync: &self.sync,
                pending: self.pending,
                set_aside: self.set_aside.undelivered + self.set_aside.quarantined,
                help_key: self.config.keys.help.0.first(),
                message: self.message.as_ref(),
                theme,
            },
        );
        match &self.popup {
            None => {}
            Some(Popup::Help(view)) => help::draw(frame, area, view, &self.config.keys, theme),
            Some(Popup::Palette(p)) => palette::draw(frame, area, p, &self.config.keys, theme),
            Some(Popup::History(view)) => history::draw(frame, area, view, theme),
            Some(Popup::Form(popup)) => popup.form.draw(frame, area, theme, &self.config.keys),
            Some(Popup::Conflict(popup)) => popup.view.draw(frame, area, theme, &self.config.keys),
            Some(Popup::Reader(view)) => super::reader::draw(frame, area, view, theme),
            Some(Popup::Agenda(view)) => {
                super::agenda::draw(frame, area, view, &self.index, theme);
            }
            Some(Popup::Search) => super::search_view::draw(frame, area, &self.search, theme),
            Some(Popup::Person(view)) => super::person::draw(frame, area, view, theme),
            Some(Popup::Links(view)) => super::links::draw(frame, area, view, theme),
            Some(Popup::Notice(view)) => {
                super::notice::draw(frame, area, view, &self.config.keys, theme);
            }
            Some(Popup::Notifications(view)) => {
                super::notifications::draw(frame, area, view, &self.config.keys, theme);
            }
            Some(Popup::Path(popup)) => {
                super::path_popup::draw(frame, area, popup, &self.config.keys, theme);
            }
        }
    }

    /// The side pane: a picture for activities and potentials, then the details.
    fn draw_side(&self, frame: &mut Frame, side: Rect) {
        let theme = &self.config.theme;
        let picture_height = match self.tab {
            RecordKind::Activity if !self.trash => 10,
            RecordKind::Potential if !self.trash => (side.height / 2).clamp(11, 20),
            _ => 0,
        }
        .min(side.height / 2);
        let [picture, rest] =
            Layout::vertical([Constraint::Length(picture_height), Constraint::Fill(1)]).areas(side);
        if picture_height > 0 {
            match self.tab {
                RecordKind::Activity => charts::draw(frame, picture, &self.weeks, theme),
                RecordKind::Potential => potential_grid::draw(frame, picture, &self.grid, theme),
                _ => {}
            }
        }
        detail::draw(frame, rest, &self.detail, &self.index, self.trash, theme);
    }
}
