//! Tests of the app: the pure state machine (`update.rs`) and rendering snapshots
//! (`render.rs`), on a real replica filled with a fixed set of records.

mod account;
mod files;
mod index;
mod links;
mod navigate;
mod people;
mod progress;
mod render;
mod sync;
mod update;

use cairn_common::RecordId;
use cairn_common::UserId;
use cairn_common::model::{RecordKind, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tempfile::TempDir;

use super::action::{Action, Effect, Write};
use super::app::App;
use super::config::Config;
use super::file_jobs;
use super::worker;
use crate::replica::Replica;

/// The day every fixture treats as today (a Sunday, ISO week 47).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date")
}

/// A replica with records of every kind, one in the trash and one in conflict, and an
/// app on it.
pub struct Fixture {
    pub replica: Replica,
    pub app: App,
    _dir: TempDir,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn parse(kind: RecordKind, field: &str, typed: &str) -> Value {
    cairn_common::model::spec_of(kind, field)
        .expect("field")
        .parse(typed, today())
        .expect("valid value")
}

/// 2026-11-01 09:00 UTC: fixture ops are stamped from here on, one minute apart.
const T0_MS: u64 = 1_793_523_600_000;

/// An op with a fixed id, clock and author, so that what is drawn is the same on
/// every run: the `n`th op of the fixture.
fn fixed_op(replica: &Replica, record: RecordId, change: Change) -> Op {
    let n = replica.ops().count() as u64 + 1;
    let mut id = [0x0f; 16];
    id[8..].copy_from_slice(&n.to_be_bytes());
    Op {
        id: OpId(uuid::Uuid::from_bytes(id)),
        space: replica.identity().personal_space,
        record,
        at: Hlc {
            wall_ms: T0_MS + n * 60_000,
            counter: 0,
            node: NodeId(1),
        },
        author: UserId::from_bytes([0xa1; 16]),
        change,
    }
}

/// Creates one record from `(field, typed text)` pairs, with the defaults a new record
/// gets, from fixed ops; returns its id (its short form is `000000nn`).
pub fn create(replica: &Replica, kind: RecordKind, fields: &[(&str, &str)]) -> RecordId {
    let n = replica.records().count() as u64 + 1;
    let mut id = [0; 16];
    id[8..].copy_from_slice(&n.to_be_bytes());
    let id = RecordId::from_bytes(id);
    let mut values = crate::replica::defaults(kind, today());
    for (field, typed) in fields {
        values.retain(|(f, _)| f != field);
        values.push(((*field).to_owned(), parse(kind, field, typed)));
    }
    replica
        .commit(&[fixed_op(replica, id, Change::Create { kind })])
        .expect("create");
    for (field, value) in values {
        set(replica, id, &field, value, None);
    }
    id
}

/// Sets a field from a fixed op that replaces `replaces`, or everything current when
/// `None`. Replacing less than is current is an edit made elsewhere without seeing
/// the rest: a conflict.
pub fn set(
    replica: &Replica,
    id: RecordId,
    field: &str,
    value: Value,
    replaces: Option<Vec<OpId>>,
) {
    let state = replica.record(&id).expect("read").expect("present");
    let replaces = replaces.unwrap_or_else(|| state.heads(field));
    let change = Change::Set {
        field: field.to_owned(),
        value,
        replaces,
    };
    replica
        .commit(&[fixed_op(replica, id, change)])
        .expect("set");
}

impl Fixture {
    /// The standard fixture, with the app's colours as `config` says.
    pub fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let replica = Replica::open(dir.path()).expect("open replica");
        fill(&replica);
        let app = App::new(&replica, config, today()).expect("app");
        Self {
            replica,
            app,
            _dir: dir,
        }
    }

    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// An app on a replica with no records at all.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let replica = Replica::open(dir.path()).expect("open replica");
        let app = App::new(&replica, Config::default(), today()).expect("app");
        Self {
            replica,
            app,
            _dir: dir,
        }
    }

    /// A fresh app over the same replica (after records were written into it).
    pub fn reopen(fixture: Self) -> Self {
        let app = App::new(&fixture.replica, Config::default(), today()).expect("app");
        Self { app, ..fixture }
    }

    /// Applies an action and runs its effects the way the driver does, but on this
    /// thread (writes included), until nothing is left to do. Returns every effect seen.
    pub fn drive(&mut self, action: Action) -> Vec<Effect> {
        let mut seen = Vec::new();
        let mut queue = vec![action];
        while let Some(action) = queue.pop() {
            for effect in self.app.update(action) {
                match &effect {
                    Effect::Load(id) => queue.push(worker::load(&self.replica, *id)),
                    Effect::LoadHistory(id) => queue.push(worker::load_history(&self.replica, *id)),
                    Effect::LoadPerson(id) => {
                        queue.push(worker::load_person(&self.replica, *id, today()));
                    }
                    Effect::Write(write) => {
                        queue.push(Action::Saved(worker::perform_write(&self.replica, write)));
                    }
                    Effect::Search(request) => {
                        queue.extend(
                            crate::tui::search::search_now(&self.replica, request)
                                .into_iter()
                                .map(Action::SearchResults),
                        );
                    }
                    Effect::ListDir { dir } => queue.push(Action::DirListed {
                        dir: dir.clone(),
                        result: file_jobs::list_dir(dir),
                    }),
                    Effect::CheckFiles(ids) => queue.push(Action::FilesChecked(
                        file_jobs::check_files(&self.replica, ids),
                    )),
                    Effect::FileJob(job) => queue.push(Action::FileJobDone(file_jobs::perform(
                        &self.job_context(),
                        job,
                    ))),
                    // No server, editor or opener here: tests hand the app its answers
                    // themselves.
                    Effect::OpenEditor { .. }
                    | Effect::Quit
                    | Effect::Sync
                    | Effect::Server(_)
                    | Effect::RunOpener { .. } => {}
                }
                seen.push(effect);
            }
        }
        seen
    }

    /// What file jobs run with here: no session (nothing to download from), copies
    /// to open next to the replica, and `$OPENER` as `true`, which is never run
    /// (it needs the terminal, which only the driver hands over).
    pub fn job_context(&self) -> file_jobs::JobContext {
        file_jobs::JobContext {
            replica: self.replica.clone(),
            data_dir: self._dir.path().to_owned(),
            open_dir: Some(self._dir.path().join("opened")),
            opener: crate::tui::opener::Opener::Terminal(vec!["true".to_owned()]),
            replies: None,
        }
    }

    /// Commits `write` as the worker would and hands the report to the app; the
    /// record it changed.
    pub fn commit_write(&mut self, write: Write) -> RecordId {
        let report = worker::perform_write(&self.replica, &write);
        let id = report
            .step
            .as_ref()
            .map(|s| s.id)
            .expect("one record changed");
        self.app.saving += 1;
        self.drive(Action::Saved(report));
        id
    }

    /// The focused field of the open form, if a form is open.
    pub fn app_form_focus(&self) -> Option<&'static str> {
        match &self.app.popup {
            Some(crate::tui::popups::Popup::Form(popup)) => popup.form.focused_field(),
            _ => None,
        }
    }

    /// Presses a key (see [`key`]) and runs the effects.
    pub fn press(&mut self, spec: &str) -> Vec<Effect> {
        self.drive(Action::Key(key(spec)))
    }

    /// Types each character as a key press.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.drive(Action::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
    }

    /// The titles of the rows shown, in order.
    pub fn titles(&self) -> Vec<String> {
        self.app
            .visible_ids()
            .iter()
            .map(|id| {
                self.replica
                    .record(id)
                    .expect("read")
                    .expect("present")
                    .title()
                    .to_owned()
            })
            .collect()
    }

    /// Selects the row titled `title` in the current list.
    pub fn select(&mut self, title: &str) {
        let pos = self
            .titles()
            .iter()
            .position(|t| t == title)
            .unwrap_or_else(|| panic!("{title:?} is not shown: {:?}", self.titles()));
        self.press("g");
        for _ in 0..pos {
            self.press("j");
        }
    }
}

/// A key from its config spelling: `j`, `ctrl-s`, `enter`, `shift-tab`.
pub fn key(spec: &str) -> KeyEvent {
    let press = super::keys::KeyPress::parse(spec).expect("key spelling");
    KeyEvent::new(press.code, press.modifiers)
}

fn fill(replica: &Replica) {
    use RecordKind::{Activity, Commitment, Goal, Note, Potential, Task};
    create(
        replica,
        Goal,
        &[
            ("title", "Hire two engineers"),
            ("owner", "Ana"),
            ("due", "2026-12-31"),
            ("progress", "40"),
            ("tags", "hiring"),
        ],
    );
    create(
        replica,
        Goal,
        &[
            ("title", "Ship the v2 API"),
            ("status", "at-risk"),
            ("owner", "Ben"),
            ("due", "2026-11-01"),
            ("key_results", "Endpoints: 6/8; Docs: 1/4 pages"),
            (
                "description",
                "Migrate the **clients** first.\nThen retire v1.",
            ),
        ],
    );
    let trashed = create(
        replica,
        Goal,
        &[("title", "Old reorg plan"), ("due", "2026-06-30")],
    );
    replica
        .commit(&[fixed_op(replica, trashed, Change::Delete)])
        .expect("delete");
    create(
        replica,
        Commitment,
        &[
            ("title", "Send review notes to Ben"),
            ("by", "Ana"),
            ("to", "Ben"),
            ("due", "2026-11-20"),
        ],
    );
    let offsite = create(
        replica,
        Commitment,
        &[
            ("title", "Book the offsite"),
            ("by", "Ana"),
            ("to", "Team"),
            ("due", "2026-12-05"),
        ],
    );
    // Two edits of the title made without seeing each other: a conflict.
    let seen = replica
        .record(&offsite)
        .expect("read")
        .expect("present")
        .heads("title");
    set(
        replica,
        offsite,
        "title",
        text("Book the offsite venue"),
        None,
    );
    set(
        replica,
        offsite,
        "title",
        text("Book the offsite (Lisbon)"),
        Some(seen),
    );
    create(
        replica,
        Task,
        &[
            ("title", "Weekly status report"),
            ("owner", "Ana"),
            ("recurrence", "weekly"),
            ("next_due", "2026-11-20"),
        ],
    );
    create(
        replica,
        Task,
        &[
            ("title", "Budget review"),
            ("recurrence", "monthly"),
            ("next_due", "2026-12-01"),
        ],
    );
    for (title, date, duration) in [
        ("Interview: backend", "2026-11-18", "1h"),
        ("Roadmap workshop", "2026-11-16", "3h"),
        ("Team retro", "2026-11-10", "90m"),
        ("Planning", "2026-10-27", "2h"),
        ("Offsite prep", "2026-09-08", "45m"),
    ] {
        create(
            replica,
            Activity,
            &[("title", title), ("date", date), ("duration", duration)],
        );
    }
    create(
        replica,
        Note,
        &[
            ("title", "1:1 with Ana"),
            ("kind", "1:1"),
            ("date", "2026-11-19"),
            ("participants", "Ana, Me"),
            ("follow_up", "2026-12-03"),
            (
                "notes",
                "Wants to lead the migration.\nAgreed: pair with Ben first.",
            ),
        ],
    );
    create(
        replica,
        Note,
        &[
            ("title", "Feedback for Ben"),
            ("kind", "feedback"),
            ("date", "2026-11-12"),
            ("participants", "Ben"),
        ],
    );
    for (person, performance, potential) in [
        ("Ana Alves", "high", "high"),
        ("Ben Brandt", "medium", "high"),
        ("Cy Chen", "low", "medium"),
        ("Dee Diaz", "high", "medium"),
    ] {
        create(
            replica,
            Potential,
            &[
                ("person", person),
                ("performance", performance),
                ("potential", potential),
                ("review", "2027-01-15"),
            ],
        );
    }
    create(replica, Potential, &[("person", "Eve Evans")]);
}
