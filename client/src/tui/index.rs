//! The in-memory row index: one compact row per record, built once from the replica
//! and updated per committed record, so that listing, sorting and filtering never
//! touch the disk and drawing costs the same whatever the data size.
//!
//! A row holds the cell texts of its kind's columns in one string (cells separated by
//! a control character nobody can type), a lowercase copy as the filter haystack, and
//! the few numbers the pictures need (progress, ratings, date and minutes).

use std::cmp::Ordering;
use std::collections::HashMap;

use cairn_common::model::{Rating, RecordKind, Value};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;

use crate::present;

/// Cells are cut to this many characters: wider than any column, and it bounds memory.
const MAX_CELL_CHARS: usize = 120;
/// Separates cells inside a row's text; a control character, so a filter cannot span cells.
const SEP: char = '\u{1f}';
/// From this many records on, taking them in sorts each kind once instead of
/// inserting each record in order.
const BULK: usize = 256;

const OPEN: u8 = 1;
const CONFLICT: u8 = 2;
const DELETED: u8 = 4;
/// Achieved or dropped goals, kept or broken commitments: hidden until shown (`H`).
const DONE: u8 = 8;

/// One record as the list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: RecordId,
    /// The cells of the kind's columns joined by [`SEP`], then the same in lowercase
    /// (what the filter searches). One allocation per row instead of two: at 100,000
    /// rows that is memory, and fewer holes left between the records decoded at start.
    text: Box<str>,
    /// Where the lowercase half of `text` starts.
    split: u32,
    flags: u8,
    /// The date that makes the record due (see `present::due_date`).
    due: Option<NaiveDate>,
    /// Goals: progress 0–100.
    pub progress: u8,
    /// Potentials: the two axes of the 3×3 grid.
    pub performance: Option<Rating>,
    pub potential: Option<Rating>,
    /// Activities: when and how long.
    pub date: Option<NaiveDate>,
    pub minutes: u32,
}

impl Row {
    /// Builds the row of a complete record; `None` for a record whose create is missing.
    #[must_use]
    pub fn of(state: &RecordState) -> Option<Self> {
        let kind = state.kind?;
        let progress = if kind == RecordKind::Goal {
            present::goal_progress(state)
        } else {
            0
        };
        let mut text = String::new();
        for (i, column) in present::columns(kind).iter().enumerate() {
            if i > 0 {
                text.push(SEP);
            }
            let cell = if kind == RecordKind::Goal && column.field == "progress" {
                format!("{progress}%")
            } else {
                present::cell(state, column.field)
            };
            // Cells are one line already; a stray separator or control character
            // would split or garble the row.
            text.extend(
                cell.chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_CELL_CHARS),
            );
        }
        let split = u32::try_from(text.len()).unwrap_or(u32::MAX);
        let lower = text.to_lowercase();
        text.push_str(&lower);
        let mut flags = 0;
        // Overdue is open and past due; keeping both parts lets a new day recompute
        // it without reading the records again.
        let due = present::due_date(state);
        if due.is_some_and(|d| present::is_overdue(state, d.succ_opt().unwrap_or(d))) {
            flags |= OPEN;
        }
        if !state.conflicts().is_empty() {
            flags |= CONFLICT;
        }
        if state.is_deleted() {
            flags |= DELETED;
        }
        let done = match state.get("status") {
            Some(Value::GoalStatus(s)) => s.is_closed(),
            Some(Value::CommitmentStatus(s)) => !s.is_open(),
            _ => false,
        };
        if done {
            flags |= DONE;
        }
        let rating = |field| match state.get(field) {
            Some(Value::Rating(r)) => Some(*r),
            _ => None,
        };
        Some(Self {
            id: state.id,
            text: text.into_boxed_str(),
            split,
            flags,
            due,
            progress,
            performance: rating("performance"),
            potential: rating("potential"),
            date: state.get("date").and_then(Value::as_date),
            minutes: state
                .get("duration")
                .and_then(Value::as_int)
                .and_then(|m| u32::try_from(m).ok())
                .unwrap_or(0),
        })
    }

    /// The cells as shown, joined by [`SEP`].
    fn shown(&self) -> &str {
        self.text.get(..self.split as usize).unwrap_or("")
    }

    /// The cells in lowercase, joined by [`SEP`].
    fn lower(&self) -> &str {
        self.text.get(self.split as usize..).unwrap_or("")
    }

    /// The cell texts, in column order.
    pub fn cells(&self) -> impl Iterator<Item = &str> {
        self.shown().split(SEP)
    }

    /// One cell's text, or `""`.
    #[must_use]
    pub fn cell(&self, column: usize) -> &str {
        self.shown().split(SEP).nth(column).unwrap_or("")
    }

    /// Whether the lowercase `needle` occurs in one of the cells.
    #[must_use]
    pub fn matches(&self, needle: &str) -> bool {
        needle.is_empty() || self.lower().contains(needle)
    }

    /// Whether the record is still open and was due before `today`.
    #[must_use]
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.flags & OPEN != 0 && self.due.is_some_and(|d| d < today)
    }

    /// The due date of a record still open and not in the trash (what the agenda
    /// lists); `None` for undated, done, kept, achieved or deleted records.
    #[must_use]
    pub fn open_due(&self) -> Option<NaiveDate> {
        // OPEN is only set on records with a due date that are not closed.
        (self.flags & OPEN != 0 && !self.is_deleted())
            .then_some(self.due)
            .flatten()
    }

    #[must_use]
    pub fn in_conflict(&self) -> bool {
        self.flags & CONFLICT != 0
    }

    #[must_use]
    pub fn is_done(&self) -> bool {
        self.flags & DONE != 0
    }

    #[must_use]
    pub fn is_deleted(&self) -> bool {
        self.flags & DELETED != 0
    }

    /// What a column sorts by: numbers where the cell text would sort wrongly.
    fn sort_key(&self, kind: RecordKind, column: usize) -> SortKey<'_> {
        let field = present::columns(kind).get(column).map_or("", |c| c.field);
        match field {
            "progress" => SortKey::Num(i64::from(self.progress)),
            "duration" => SortKey::Num(i64::from(self.minutes)),
            "performance" => self
                .performance
                .map_or(SortKey::Missing, |r| SortKey::Num(rank(r))),
            "potential" => self
                .potential
                .map_or(SortKey::Missing, |r| SortKey::Num(rank(r))),
            _ => match self.lower().split(SEP).nth(column) {
                None | Some("") => SortKey::Missing,
                Some(text) => SortKey::Text(text),
            },
        }
    }
}

#[cfg(test)]
impl Row {
    /// An activity row with only a date and a duration.
    pub fn for_test(date: Option<NaiveDate>, minutes: u32) -> Self {
        Self {
            id: RecordId::new(),
            text: "".into(),
            split: 0,
            flags: 0,
            due: None,
            progress: 0,
            performance: None,
            potential: None,
            date,
            minutes,
        }
    }

    /// A potential row: a name and two ratings.
    pub fn for_test_ratings(
        name: &str,
        performance: Option<Rating>,
        potential: Option<Rating>,
    ) -> Self {
        Self {
            text: format!("{name}{}", name.to_lowercase()).into(),
            split: u32::try_from(name.len()).unwrap_or(0),
            performance,
            potential,
            ..Self::for_test(None, 0)
        }
    }
}

fn rank(rating: Rating) -> i64 {
    i64::try_from(rating.index()).unwrap_or(0)
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey<'a> {
    Num(i64),
    Text(&'a str),
    /// Empty cells: always last, whatever the direction.
    Missing,
}

/// Orders two rows by key (empty cells last in either direction), then by id.
fn compare_keys(
    (ka, ia): (&SortKey<'_>, &RecordId),
    (kb, ib): (&SortKey<'_>, &RecordId),
    reverse: bool,
) -> Ordering {
    let by_key = match (ka, kb) {
        (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
        (SortKey::Missing, _) => Ordering::Greater,
        (_, SortKey::Missing) => Ordering::Less,
        _ if reverse => kb.cmp(ka),
        _ => ka.cmp(kb),
    };
    by_key.then_with(|| ia.cmp(ib))
}

/// How a kind's list is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub reverse: bool,
}

impl Sort {
    /// The sort a kind starts with: what is due soonest first, the newest activity or
    /// conversation first, people by name.
    #[must_use]
    pub fn default_for(kind: RecordKind) -> Self {
        let (field, reverse) = match kind {
            RecordKind::Goal | RecordKind::Commitment => ("due", false),
            RecordKind::Task => ("next_due", false),
            RecordKind::Activity | RecordKind::Note => ("date", true),
            RecordKind::Potential => ("person", false),
            RecordKind::Person | RecordKind::File => ("name", false),
        };
        let column = present::columns(kind)
            .iter()
            .position(|c| c.field == field)
            .unwrap_or(0);
        Self { column, reverse }
    }
}

/// The rows of one kind, live and in the trash, and their sorted order.
#[derive(Debug)]
pub struct KindIndex {
    pub kind: RecordKind,
    rows: Vec<Row>,
    by_id: HashMap<RecordId, u32>,
    pub sort: Sort,
    /// Every row index, sorted by `sort` (ties by id, so the order is total).
    order: Vec<u32>,
    /// Rows in the trash, kept up to date so counts cost nothing to draw.
    trashed: usize,
}

impl KindIndex {
    fn new(kind: RecordKind) -> Self {
        Self {
            kind,
            rows: Vec::new(),
            by_id: HashMap::new(),
            sort: Sort::default_for(kind),
            order: Vec::new(),
            trashed: 0,
        }
    }

    #[must_use]
    pub fn row(&self, index: u32) -> Option<&Row> {
        self.rows.get(index as usize)
    }

    #[must_use]
    pub fn find(&self, id: &RecordId) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Every row, in sorted order.
    #[must_use]
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Records not in the trash.
    #[must_use]
    pub fn live(&self) -> usize {
        self.rows.len() - self.trashed
    }

    /// Records in the trash.
    #[must_use]
    pub fn trashed(&self) -> usize {
        self.trashed
    }

    fn compare(&self, a: u32, b: u32) -> Ordering {
        let (ra, rb) = (&self.rows[a as usize], &self.rows[b as usize]);
        compare_keys(
            (&ra.sort_key(self.kind, self.sort.column), &ra.id),
            (&rb.sort_key(self.kind, self.sort.column), &rb.id),
            self.sort.reverse,
        )
    }

    /// Sorts every row by `sort`.
    pub fn set_sort(&mut self, sort: Sort) {
        self.sort = sort;
        // Keys are computed once per row, not once per comparison.
        let mut keyed: Vec<(SortKey<'_>, RecordId, u32)> = (0..self.rows.len())
            .map(|i| {
                let row = &self.rows[i];
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                (row.sort_key(self.kind, sort.column), row.id, i)
            })
            .collect();
        keyed.sort_unstable_by(|(ka, ia, _), (kb, ib, _)| {
            compare_keys((ka, ia), (kb, ib), sort.reverse)
        });
        let order: Vec<u32> = keyed.into_iter().map(|(_, _, i)| i).collect();
        self.order = order;
    }

    /// Puts a record's new row in place (added, changed, or gone if `row` is `None`),
    /// keeping the order sorted without sorting everything again.
    pub fn upsert(&mut self, id: RecordId, row: Option<Row>) {
        if let Some(old) = self.find(&id).and_then(|i| self.row(i)) {
            self.trashed -= usize::from(old.is_deleted());
        }
        if let Some(new) = &row {
            self.trashed += usize::from(new.is_deleted());
        }
        match (self.by_id.get(&id).copied(), row) {
            (Some(at), Some(row)) => {
                if let Some(pos) = self.order.iter().position(|&i| i == at) {
                    self.order.remove(pos);
                }
                self.rows[at as usize] = row;
                self.insert_sorted(at);
            }
            (None, Some(row)) => {
                let at = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
                self.rows.push(row);
                self.by_id.insert(id, at);
                self.insert_sorted(at);
            }
            (Some(at), None) => {
                // Swap-remove keeps indices dense; the moved row's index changes.
                self.by_id.remove(&id);
                let last = u32::try_from(self.rows.len() - 1).unwrap_or(u32::MAX);
                self.rows.swap_remove(at as usize);
                self.order.retain(|&i| i != at);
                if at != last {
                    let moved = self.rows[at as usize].id;
                    self.by_id.insert(moved, at);
                    for i in &mut self.order {
                        if *i == last {
                            *i = at;
                        }
                    }
                }
            }
            (None, None) => {}
        }
    }

    fn insert_sorted(&mut self, at: u32) {
        let pos = self
            .order
            .partition_point(|&i| self.compare(i, at) == Ordering::Less);
        self.order.insert(pos, at);
    }
}

/// A record as the index takes it in: its row (`None` for a record whose create is
/// missing) and the records it links to. At start the loader thread builds these
/// from the states it reads, so the UI thread only inserts them and only the rows
/// stay in memory, never a chunk of full states.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    id: RecordId,
    kind: Option<RecordKind>,
    row: Option<Row>,
    links: Vec<RecordId>,
}

impl IndexEntry {
    #[must_use]
    pub fn of(state: &RecordState) -> Self {
        Self {
            id: state.id,
            kind: state.kind,
            row: Row::of(state),
            links: super::links::live_links(state),
        }
    }
}

/// The rows of all six kinds.
#[derive(Debug)]
pub struct Index {
    kinds: [KindIndex; RecordKind::ALL.len()],
    /// Records with at least one field in conflict, over all kinds.
    conflicts: usize,
    /// While records still stream in at start ([`Index::load_chunk`]): the ids
    /// removed meanwhile, so a chunk read before the removal does not bring them back.
    loading: Option<std::collections::HashSet<RecordId>>,
    /// Who links to whom, for the details' backlinks.
    pub links: super::links::LinkMap,
}

impl Index {
    /// Builds the index from every record of the replica (in any order).
    pub fn build(states: impl IntoIterator<Item = RecordState>) -> Self {
        let mut kinds = RecordKind::ALL.map(KindIndex::new);
        let mut conflicts = 0;
        let mut links = super::links::LinkMap::default();
        for state in states {
            links.set(&state);
            let Some(row) = Row::of(&state) else {
                continue;
            };
            let Some(kind) = state.kind else { continue };
            let index = &mut kinds[kind.index()];
            conflicts += usize::from(row.in_conflict());
            let at = u32::try_from(index.rows.len()).unwrap_or(u32::MAX);
            index.trashed += usize::from(row.is_deleted());
            index.by_id.insert(row.id, at);
            index.rows.push(row);
        }
        for index in &mut kinds {
            index.rows.shrink_to_fit();
            index.set_sort(index.sort);
        }
        Self {
            kinds,
            conflicts,
            loading: None,
            links,
        }
    }

    /// An empty index that records will stream into ([`Self::load_chunk`]), so the
    /// first frame does not wait for every record to be read.
    #[must_use]
    pub fn loading() -> Self {
        let mut index = Self::build(std::iter::empty());
        index.loading = Some(std::collections::HashSet::new());
        index
    }

    /// Whether records are still streaming in.
    #[must_use]
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Takes in a chunk of records read at start. A record the index already holds
    /// got there through a save or a sync since reading began, so that state is
    /// newer and stays; one removed since then stays removed.
    pub fn load_chunk(&mut self, mut entries: Vec<IndexEntry>) {
        let Some(gone) = &self.loading else {
            return;
        };
        entries.retain(|e| {
            !gone.contains(&e.id)
                && e.kind
                    .is_none_or(|k| self.kinds[k.index()].find(&e.id).is_none())
        });
        if entries.len() < BULK {
            entries.into_iter().for_each(|e| self.put(e));
        } else {
            self.put_many(entries);
        }
    }

    /// Every record has been read.
    pub fn finish_loading(&mut self) {
        self.loading = None;
        for index in &mut self.kinds {
            index.rows.shrink_to_fit();
        }
    }

    #[must_use]
    pub fn kind(&self, kind: RecordKind) -> &KindIndex {
        &self.kinds[kind.index()]
    }

    pub fn kind_mut(&mut self, kind: RecordKind) -> &mut KindIndex {
        &mut self.kinds[kind.index()]
    }

    /// Records in conflict, over all kinds.
    #[must_use]
    pub fn conflicts(&self) -> usize {
        self.conflicts
    }

    /// Takes in many new states at once (a sync round).
    pub fn update_many(&mut self, states: &[RecordState]) {
        if states.len() < BULK {
            states.iter().for_each(|s| self.update(s));
        } else {
            self.put_many(states.iter().map(IndexEntry::of));
        }
    }

    /// Takes in many entries at once: rows are replaced in place and each kind
    /// touched is sorted once, instead of one sorted insert per record (quadratic for
    /// the first sync of a large space).
    fn put_many(&mut self, entries: impl IntoIterator<Item = IndexEntry>) {
        let mut touched = [false; RecordKind::ALL.len()];
        for entry in entries {
            self.links.set_links(entry.id, entry.links);
            let Some(kind) = entry.kind else { continue };
            let index = &mut self.kinds[kind.index()];
            let was_conflict = index
                .find(&entry.id)
                .and_then(|i| index.row(i))
                .is_some_and(Row::in_conflict);
            let now_conflict = entry.row.as_ref().is_some_and(Row::in_conflict);
            self.conflicts = self.conflicts + usize::from(now_conflict) - usize::from(was_conflict);
            let Some(row) = entry.row else { continue };
            index.trashed += usize::from(row.is_deleted());
            match index.find(&entry.id) {
                Some(at) => {
                    index.trashed -= usize::from(index.rows[at as usize].is_deleted());
                    index.rows[at as usize] = row;
                }
                None => {
                    let at = u32::try_from(index.rows.len()).unwrap_or(u32::MAX);
                    index.by_id.insert(entry.id, at);
                    index.rows.push(row);
                }
            }
            touched[kind.index()] = true;
        }
        for (index, touched) in self.kinds.iter_mut().zip(touched) {
            if touched {
                index.set_sort(index.sort);
            }
        }
    }

    /// Removes a record's row (its space was taken away).
    pub fn remove(&mut self, id: &RecordId) {
        if let Some(gone) = &mut self.loading {
            gone.insert(*id);
        }
        self.links.remove(id);
        for index in &mut self.kinds {
            if let Some(at) = index.find(id) {
                let was_conflict = index.row(at).is_some_and(Row::in_conflict);
                index.upsert(*id, None);
                self.conflicts -= usize::from(was_conflict);
            }
        }
    }

    /// Takes in the new state of a committed (or synced) record.
    pub fn update(&mut self, state: &RecordState) {
        self.put(IndexEntry::of(state));
    }

    /// Takes in one entry, keeping the order sorted with one insert.
    fn put(&mut self, entry: IndexEntry) {
        let Some(kind) = entry.kind else { return };
        self.links.set_links(entry.id, entry.links);
        let index = &mut self.kinds[kind.index()];
        let was_conflict = index
            .find(&entry.id)
            .and_then(|i| index.row(i))
            .is_some_and(Row::in_conflict);
        let now_conflict = entry.row.as_ref().is_some_and(Row::in_conflict);
        index.upsert(entry.id, entry.row);
        self.conflicts = self.conflicts + usize::from(now_conflict) - usize::from(was_conflict);
    }
}
