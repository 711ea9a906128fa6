//! The screen layout and the top-level [`App::draw`]. Drawing only reads the app; every
//! component formats only what is on screen, so a frame costs the same for ten records
//! or a hundred thousand.

use cairn_common::model::RecordKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Popup};
use super::{charts, detail, help, history, list, palette, potential_grid, status_bar, tabs};

/// Narrower than this, the detail pane is left out and the list takes the width.
const SIDE_PANE_MIN_WIDTH: u16 = 70;

/// Where each part of the main screen goes.
pub struct Areas {
    pub tabs: Rect,
    pub list: Rect,
    pub side: Option<Rect>,
    pub status: Rect,
}

/// Splits the screen: tabs on top, status at the bottom, list and side pane between.
#[must_use]
pub fn areas(area: Rect) -> Areas {
    let [tabs, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if main.width < SIDE_PANE_MIN_WIDTH {
        return Areas {
            tabs,
            list: main,
            side: None,
            status,
        };
    }
    let [list, side] =
        Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main);
    Areas {
        tabs,
        list,
        side: Some(side),
        status,
    }
}

/// The parts of the list pane: the filter line (if shown), the header, the rows.
#[must_use]
pub fn list_parts(list: Rect, filter_line: bool) -> (Option<Rect>, Rect, Rect) {
    let inner = Rect {
        x: list.x.saturating_add(1),
        y: list.y.saturating_add(1),
        width: list.width.saturating_sub(2),
        height: list.height.saturating_sub(2),
    };
    let filter_height = u16::from(filter_line);
    let [filter, header, body] = Layout::vertical([
        Constraint::Length(filter_height),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    (filter_line.then_some(filter), header, body)
}

/// The rows of the list on a screen of `area`: what paging and scrolling use.
#[must_use]
pub fn list_body(area: Rect, filter_line: bool) -> Rect {
    list_parts(areas(area).list, filter_line).2
}

/// A box at most `max_width` wide and `height` high, centred in `area`.
#[must_use]
pub fn centered(area: Rect, max_width: u16, height: u16) -> Rect {
    let width = max_width
        .min(area.width.saturating_sub(4))
        .max(area.width.min(20));
    let height = height
        .min(area.height.saturating_sub(2))
        .max(area.height.min(3));
    Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    }
}

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
        list::draw(frame, parts.list, self);
        if let Some(side) = parts.side {
            self.draw_side(frame, side);
        }
        status_bar::draw(frame, parts.status, self);
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
        detail::draw(frame, rest, self);
    }
}
