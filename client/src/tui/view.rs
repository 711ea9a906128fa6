//! The list view of one kind: the filter, the rows it lets through (in sorted order),
//! the selection and the scroll offset. Filtering reuses one buffer and, while the
//! filter only grows, searches only the rows that matched before.

use cairn_common::RecordId;

use super::index::KindIndex;

/// What the list of one kind shows.
#[derive(Debug, Default)]
pub struct ListView {
    /// The filter as typed.
    filter: String,
    /// The filter in lowercase: what rows are searched for.
    needle: String,
    /// Whether keys go to the filter line.
    pub editing: bool,
    /// Row indices shown, in sorted order.
    visible: Vec<u32>,
    pub selected: usize,
    /// First row on screen.
    pub offset: usize,
    /// Set when the index changed under this view; the next refresh recomputes.
    pub stale: bool,
    /// Whether `visible` was computed for the trash.
    trash: bool,
    /// Whether done records (achieved goals, kept commitments …) are listed.
    pub show_done: bool,
    /// Potentials: only the grid box `(potential, performance)` is listed.
    pub grid_box: Option<(usize, usize)>,
    /// Changes whenever `visible` does, so what is computed from the visible rows
    /// (the pictures) is recomputed then and not on every key.
    generation: u64,
}

impl ListView {
    #[must_use]
    pub fn new() -> Self {
        Self {
            stale: true,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn filter(&self) -> &str {
        &self.filter
    }

    #[must_use]
    pub fn visible(&self) -> &[u32] {
        &self.visible
    }

    /// A number that changes whenever the visible rows (or what they hold) may have.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The selected record's id.
    #[must_use]
    pub fn selected_id(&self, index: &KindIndex) -> Option<RecordId> {
        let row = *self.visible.get(self.selected)?;
        index.row(row).map(|r| r.id)
    }

    /// Recomputes the visible rows from scratch, keeping the selected record selected
    /// if it is still shown.
    pub fn refresh(&mut self, index: &KindIndex, trash: bool) {
        let keep = self.selected_id(index);
        self.trash = trash;
        self.generation = self.generation.wrapping_add(1);
        self.visible.clear();
        for &i in index.order() {
            if let Some(row) = index.row(i)
                && row.is_deleted() == trash
                && (trash || self.show_done || !row.is_done())
                && self.grid_box.is_none_or(|(pot, perf)| {
                    row.potential.map(|r| r.index()) == Some(pot)
                        && row.performance.map(|r| r.index()) == Some(perf)
                })
                && row.matches(&self.needle)
            {
                self.visible.push(i);
            }
        }
        self.stale = false;
        self.reselect(index, keep);
    }

    /// Brings the view up to date if it is stale or shows the other side of the trash.
    pub fn ensure_fresh(&mut self, index: &KindIndex, trash: bool) {
        if self.stale || self.trash != trash {
            self.refresh(index, trash);
        }
    }

    fn reselect(&mut self, index: &KindIndex, keep: Option<RecordId>) {
        if let Some(id) = keep
            && let Some(at) = index.find(&id)
            && let Some(pos) = self.visible.iter().position(|&i| i == at)
        {
            self.selected = pos;
        } else {
            self.selected = self.selected.min(self.visible.len().saturating_sub(1));
        }
    }

    /// Sets the filter. A filter that extends the last one searches only the rows that
    /// matched before, so typing stays fast on large lists.
    pub fn set_filter(&mut self, filter: &str, index: &KindIndex) {
        let needle = filter.to_lowercase();
        let narrowing = !self.stale && needle.starts_with(&self.needle);
        self.filter.clear();
        self.filter.push_str(filter);
        self.needle = needle;
        if narrowing {
            self.generation = self.generation.wrapping_add(1);
            let keep = self.selected_id(index);
            let needle = &self.needle;
            self.visible
                .retain(|&i| index.row(i).is_some_and(|row| row.matches(needle)));
            self.reselect(index, keep);
        } else {
            self.refresh(index, self.trash);
        }
    }

    /// Appends one character to the filter.
    pub fn push_filter(&mut self, c: char, index: &KindIndex) {
        let mut filter = std::mem::take(&mut self.filter);
        filter.push(c);
        self.set_filter(&filter, index);
        // Hand the buffer back so its capacity is reused by the next keystroke.
        self.filter = filter;
    }

    /// Removes the last character of the filter.
    pub fn pop_filter(&mut self, index: &KindIndex) {
        let mut filter = std::mem::take(&mut self.filter);
        filter.pop();
        self.set_filter(&filter, index);
        self.filter = filter;
    }

    /// Moves the selection by `delta` rows, clamped to the list.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
    }

    pub fn select_last(&mut self) {
        self.selected = self.visible.len().saturating_sub(1);
    }

    /// Scrolls so the selection is on screen with `rows` rows visible.
    pub fn scroll_to_selection(&mut self, rows: usize) {
        self.offset = window_offset(self.offset, self.selected, rows);
    }
}

/// The first row to show so that `selected` is visible, moving `offset` as little as
/// possible.
#[must_use]
pub fn window_offset(offset: usize, selected: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + rows {
        selected + 1 - rows
    } else {
        offset
    }
}
