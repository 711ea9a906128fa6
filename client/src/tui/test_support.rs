//! Records built from fixed ops for component tests and snapshots: fixed ids, authors
//! and clocks, so what is drawn is the same on every run.

use cairn_common::model::{RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use cairn_common::{RecordId, RecordState};
use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// 2026-03-02 09:00:00 UTC, the time of the first op of every test record.
pub const T0_MS: u64 = 1_772_442_000_000;

/// The day tests treat as today.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).expect("valid date")
}

/// A fixed author: `n` in every byte.
pub fn author(n: u8) -> UserId {
    UserId::from_bytes([n; 16])
}

/// Builds one record from ops with fixed ids, in the order given.
pub struct Builder {
    state: RecordState,
    seq: u8,
}

impl Builder {
    /// A record of `kind` created by author 1 at [`T0_MS`].
    pub fn new(kind: RecordKind) -> Self {
        let create = Op {
            id: OpId(uuid::Uuid::from_bytes([0xee; 16])),
            space: SpaceId::from_bytes([0x5a; 16]),
            record: RecordId::from_bytes([0xab; 16]),
            at: Hlc {
                wall_ms: T0_MS,
                counter: 0,
                node: NodeId(1),
            },
            author: author(1),
            change: Change::Create { kind },
        };
        let mut state = RecordState::empty(&create);
        state.apply(&create);
        Self { state, seq: 0 }
    }

    /// Sets `field` by author `who`, `minutes` after [`T0_MS`], replacing the earlier
    /// sets `replaces` (ids as returned by this method). Returns this set's op id.
    pub fn set(
        &mut self,
        who: u8,
        minutes: u64,
        field: &str,
        value: Value,
        replaces: &[OpId],
    ) -> OpId {
        self.seq += 1;
        let id = OpId(uuid::Uuid::from_bytes([self.seq; 16]));
        let op = Op {
            id,
            space: self.state.space,
            record: self.state.id,
            at: Hlc {
                wall_ms: T0_MS + minutes * 60_000,
                counter: 0,
                node: NodeId(u64::from(who)),
            },
            author: author(who),
            change: Change::Set {
                field: field.to_owned(),
                value,
                replaces: replaces.to_vec(),
            },
        };
        self.state.apply(&op);
        id
    }

    /// The record as built so far.
    pub fn state(&self) -> RecordState {
        self.state.clone()
    }
}

/// Draws with `draw` on a `width`×`height` test terminal and returns the backend for a
/// snapshot.
pub fn render(width: u16, height: u16, draw: impl FnOnce(&mut ratatui::Frame)) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(draw).expect("draw");
    terminal.backend().clone()
}

/// The text `draw` puts on a `width`×`height` test terminal, line by line, without
/// trailing blanks.
pub fn screen_text(width: u16, height: u16, draw: impl FnOnce(&mut ratatui::Frame)) -> String {
    let backend = render(width, height, draw);
    let buffer = backend.buffer();
    (0..height)
        .map(|y| {
            let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
            line.trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
