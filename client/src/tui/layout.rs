//! The geometry of the screen, in one place: where the tabs, the list, the side pane
//! and the status bar go, the parts of the list pane, and where a popup sits. Drawing
//! and paging (how many rows a page has, which row a click hits) both read it here.

use ratatui::layout::{Constraint, Layout, Rect};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A popup is centred, keeps a margin to the screen's edges, and is never
    /// larger than the screen it sits on.
    #[test]
    fn centered_fits_and_centres() {
        let area = Rect::new(0, 0, 80, 24);
        assert_eq!(centered(area, 60, 20), Rect::new(10, 2, 60, 20));
        assert_eq!(centered(area, 200, 100), Rect::new(2, 1, 76, 22));
        let small = Rect::new(5, 3, 10, 4);
        let inside = centered(small, 4, 2);
        assert!(inside.width <= small.width && inside.height <= small.height);
        assert!(inside.x >= small.x && inside.y >= small.y);
    }

    /// Narrow screens have no side pane; the list body is inside the list's border.
    #[test]
    fn areas_and_list_parts() {
        let wide = areas(Rect::new(0, 0, 120, 40));
        assert!(wide.side.is_some());
        let narrow = areas(Rect::new(0, 0, 60, 40));
        assert!(narrow.side.is_none());
        let body = list_body(Rect::new(0, 0, 120, 40), true);
        assert_eq!(body.y, 1 + 1 + 1 + 1, "tabs, border, filter, header");
    }
}
