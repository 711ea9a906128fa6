//! The application state. [`App::new`] reads the replica once to build the row index;
//! from then on [`App::update`](super::update) changes the state without I/O and
//! [`App::draw`](super::draw) only reads it.

use cairn_common::model::{RecordKind, SpaceId};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;

use super::charts::WeekTotals;
use super::config::Config;
use super::detail::Detail;
use super::index::Index;
use super::popups::Popup;
use super::potential_grid::Grid;
pub use super::status_bar::{Message, SyncStatus};
use super::view::ListView;
use crate::replica::{KnownSpace, Replica};

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    pub(super) config: Config,
    pub(super) today: NaiveDate,
    /// Where new records go.
    pub(super) space: SpaceId,
    pub(super) space_name: String,
    pub(super) index: Index,
    pub(super) tab: RecordKind,
    pub(super) trash: bool,
    pub(super) views: [ListView; RecordKind::ALL.len()],
    pub(super) detail: Detail,
    pub(super) popup: Option<Popup>,
    /// A form or conflict popup whose save is in flight (see `popups::FormPopup`).
    pub(super) parked: Option<Popup>,
    /// Writes sent to the worker and not answered yet.
    pub(super) saving: usize,
    /// Record changes made here that `u` undoes and `ctrl-r` redoes.
    pub(super) undo: super::undo::UndoStacks,
    /// The last write failed: what the person asked for is not on disk.
    pub(super) unsaved: bool,
    pub(super) message: Option<Message>,
    /// Terminal size, for paging and scrolling.
    pub(super) size: (u16, u16),
    /// Pictures of the current view (activities per week, the potential grid).
    pub(super) weeks: WeekTotals,
    pub(super) grid: Grid,
    /// The activities list generation and day the weeks were summed for, and the
    /// potentials list generation the grid was counted for: a key that only moves
    /// the selection must not go over every row again.
    weeks_of: Option<(u64, NaiveDate)>,
    grid_of: Option<u64>,
    pub(super) quitting: bool,
    /// The replica is still being opened ([`App::opening`]).
    pub(super) opening: bool,
    pub(super) sync: SyncStatus,
    /// Local changes not pushed yet.
    pub(super) pending: usize,
    /// Changes kept out of sync (shown until `cairn undelivered discard`).
    pub(super) set_aside: crate::replica::SetAsideCounts,
    /// The known spaces with the role in each (new records go to one of them).
    pub(super) spaces: Vec<KnownSpace>,
    /// The last search, its hits and whether `n`/`N` step through them.
    pub(super) search: super::search_view::SearchView,
    /// The privacy notice between the calls that fetch and accept it.
    pub(super) account: super::account::AccountState,
}

/// The user's personal space (where new records go at first) and its name.
fn personal_space(replica: &Replica) -> anyhow::Result<(SpaceId, String)> {
    let personal = replica.identity().personal_space;
    let name = replica
        .spaces()?
        .into_iter()
        .find(|s| s.id == personal)
        .map_or_else(|| "Personal".to_owned(), |s| s.name);
    Ok((personal, name))
}

impl App {
    /// Builds the app from every record of the replica: the row index of all kinds and
    /// the full state of the first selected record. This is the only place the app
    /// reads the replica; afterwards it asks for reads through effects.
    ///
    /// # Errors
    /// When the replica cannot be read (the message says what to do).
    pub fn new(replica: &Replica, config: Config, today: NaiveDate) -> anyhow::Result<Self> {
        let (personal_space, space_name) = personal_space(replica)?;
        // Records stream into the index one by one: the full states of 100,000 records
        // would not fit the memory budget, their rows do.
        let mut failed = None;
        let states = replica.records().map_while(|state| match state {
            Ok(state) => Some(state),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let mut app = Self::from_states(states, config, today, personal_space, space_name);
        if let Some(e) = failed {
            return Err(e.into());
        }
        app.set_spaces(replica.known_spaces()?);
        app.pending = replica.outbox_len();
        if let Some(id) = app.detail.id {
            app.detail.state = replica.record(&id)?;
        }
        Ok(app)
    }

    /// The app as the TUI starts it, before its replica is open: every tab, an empty
    /// index that the records will stream into ([`Action::IndexChunk`]
    /// (super::Action::IndexChunk)) from a reader thread, and "opening" in the status
    /// bar. The first frame is drawn from this while the replica opens on another
    /// thread; [`App::opened`] then takes in the spaces and the outbox.
    #[must_use]
    pub fn opening(config: Config, today: NaiveDate) -> Self {
        // No space is known until the replica is open; nothing is written before that.
        let mut app = Self::from_states(
            std::iter::empty(),
            config,
            today,
            SpaceId::from_bytes([0; 16]),
            String::new(),
        );
        app.index = Index::loading();
        app.opening = true;
        app
    }

    /// Takes in what the app needs of the replica once it is open: the personal space
    /// (where new records go), the known spaces and the number of changes not pushed.
    ///
    /// # Errors
    /// A storage or decode error of the replica's spaces.
    pub fn opened(&mut self, replica: &Replica) -> anyhow::Result<()> {
        let (personal_space, space_name) = personal_space(replica)?;
        self.space = personal_space;
        self.space_name = space_name;
        self.set_spaces(replica.known_spaces()?);
        self.pending = replica.outbox_len();
        self.opening = false;
        Ok(())
    }

    /// Builds the app from record states already in memory (tests, benches). The
    /// detail pane of the first selection stays empty until an [`Action::Loaded`]
    /// (super::Action::Loaded) arrives.
    #[must_use]
    pub fn from_states(
        states: impl IntoIterator<Item = RecordState>,
        config: Config,
        today: NaiveDate,
        space: SpaceId,
        space_name: String,
    ) -> Self {
        let index = Index::build(states);
        let mut app = Self {
            config,
            today,
            space,
            space_name,
            index,
            tab: RecordKind::Goal,
            trash: false,
            views: std::array::from_fn(|_| ListView::new()),
            detail: Detail::default(),
            popup: None,
            parked: None,
            saving: 0,
            undo: super::undo::UndoStacks::default(),
            unsaved: false,
            message: None,
            size: (80, 24),
            weeks: WeekTotals::default(),
            grid: Grid::default(),
            weeks_of: None,
            grid_of: None,
            quitting: false,
            opening: false,
            sync: SyncStatus::Off,
            pending: 0,
            set_aside: crate::replica::SetAsideCounts::default(),
            spaces: Vec::new(),
            search: super::search_view::SearchView::default(),
            account: super::account::AccountState::default(),
        };
        app.refresh_view();
        app.detail.id = app.selected_id();
        app
    }

    /// The kind whose tab is open.
    #[must_use]
    pub fn tab(&self) -> RecordKind {
        self.tab
    }

    /// Whether the trash of the current kind is shown.
    #[must_use]
    pub fn in_trash(&self) -> bool {
        self.trash
    }

    /// Whether the user asked to leave.
    #[must_use]
    pub fn is_quitting(&self) -> bool {
        self.quitting
    }

    /// The key bindings and theme in effect.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where sync stands.
    #[must_use]
    pub fn sync_status(&self) -> &SyncStatus {
        &self.sync
    }

    /// The space new records go to.
    #[must_use]
    pub fn space(&self) -> SpaceId {
        self.space
    }

    /// Replaces the known spaces (what a sync round or the replica says); if the
    /// current space is gone, new records go to the personal space again.
    pub fn set_spaces(&mut self, spaces: Vec<KnownSpace>) {
        self.spaces = spaces;
        let current = self.spaces.iter().find(|k| k.space.id == self.space);
        match current {
            Some(known) => self.space_name.clone_from(&known.space.name),
            None => {
                if let Some(personal) = self.spaces.iter().find(|k| k.space.personal) {
                    self.space = personal.space.id;
                    self.space_name.clone_from(&personal.space.name);
                }
            }
        }
    }

    /// The status message, if any.
    #[must_use]
    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// The open popup, if any.
    #[must_use]
    pub fn popup(&self) -> Option<&Popup> {
        self.popup.as_ref()
    }

    /// The current list.
    pub(super) fn view(&self) -> &ListView {
        &self.views[self.tab.index()]
    }

    /// The records shown in the current list, in order.
    #[must_use]
    pub fn visible_ids(&self) -> Vec<RecordId> {
        let index = self.index.kind(self.tab);
        self.view()
            .visible()
            .iter()
            .filter_map(|&i| index.row(i).map(|r| r.id))
            .collect()
    }

    /// The selected record, if the list is not empty.
    #[must_use]
    pub fn selected_id(&self) -> Option<RecordId> {
        self.view().selected_id(self.index.kind(self.tab))
    }

    /// The filter of the current list.
    #[must_use]
    pub fn filter(&self) -> &str {
        self.view().filter()
    }

    /// The loaded state of the selected record.
    #[must_use]
    pub fn detail(&self) -> Option<&RecordState> {
        self.detail.selected()
    }

    /// Rows of the list that fit on screen (the layout decides).
    pub(super) fn list_rows(&self) -> usize {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        let filter_line = self.view().editing || !self.view().filter().is_empty();
        usize::from(super::layout::list_body(area, filter_line).height)
    }

    /// Brings the current list and its pictures up to date.
    pub(super) fn refresh_view(&mut self) {
        let kind = self.tab;
        let index = self.index.kind(kind);
        self.views[kind.index()].ensure_fresh(index, self.trash);
        self.update_pictures();
        let rows = self.list_rows();
        self.views[kind.index()].scroll_to_selection(rows);
    }

    /// Recomputes the pictures from the rows shown (they follow the filter), when
    /// those rows or the day changed since they were last computed.
    pub(super) fn update_pictures(&mut self) {
        let view = &self.views[self.tab.index()];
        let generation = view.generation();
        let index = self.index.kind(self.tab);
        let rows = || view.visible().iter().filter_map(|&i| index.row(i));
        match self.tab {
            RecordKind::Activity if self.weeks_of != Some((generation, self.today)) => {
                self.weeks = WeekTotals::of(rows(), self.today);
                self.weeks_of = Some((generation, self.today));
            }
            RecordKind::Potential => {
                if self.grid_of != Some(generation) {
                    self.grid = Grid::of(rows());
                    self.grid_of = Some(generation);
                }
                self.grid.selected = view.grid_box;
            }
            _ => {}
        }
    }
}
