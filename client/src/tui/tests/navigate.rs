//! The agenda and the search over every record: what they list, and that Enter, `n`
//! and `N` land on the right record in its tab.

use std::sync::mpsc::channel;
use std::time::Duration;

use cairn_common::RecordId;
use cairn_common::model::RecordKind;

use super::{Fixture, create, today};
use crate::tui::action::{Action, Effect};
use crate::tui::agenda::AgendaEntry;
use crate::tui::popups::Popup;
use crate::tui::query::Query;
use crate::tui::search::{SearchRequest, Searcher, scan};

/// The agenda's entries as (kind, title, date) in order.
fn agenda(f: &Fixture) -> Vec<(RecordKind, String, String)> {
    let Some(Popup::Agenda(view)) = f.app.popup() else {
        panic!("the agenda is not open");
    };
    view.entries()
        .iter()
        .map(|e: &AgendaEntry| {
            let state = f.replica.record(&e.id).expect("read").expect("present");
            (e.kind, state.title().to_owned(), e.date.to_string())
        })
        .collect()
}

/// An agenda opened while the records still stream in at start is built again once
/// they are all in.
#[test]
fn agenda_opened_while_loading_fills_in() {
    let mut f = Fixture::new();
    f.press("A");
    let expected = agenda(&f);
    f.press("esc");
    let states: Vec<cairn_common::RecordState> =
        f.replica.records().map(|r| r.expect("record")).collect();
    f.app = crate::tui::App::opening(crate::tui::Config::default(), today());
    f.app.opened(&f.replica).expect("opened");
    f.press("A");
    assert!(agenda(&f).is_empty(), "nothing is in yet");
    f.drive(Action::IndexChunk(
        states
            .iter()
            .map(crate::tui::index::IndexEntry::of)
            .collect(),
    ));
    f.drive(Action::IndexLoaded(Ok(())));
    assert_eq!(agenda(&f), expected);
    assert!(!expected.is_empty());
}

fn search_hits(f: &Fixture) -> Vec<(RecordKind, String, &'static str)> {
    f.app
        .search
        .hits()
        .iter()
        .map(|h| (h.kind, h.title.clone(), h.found.field))
        .collect()
}

fn title_of(f: &Fixture, id: Option<RecordId>) -> String {
    let id = id.expect("a selection");
    f.replica
        .record(&id)
        .expect("read")
        .expect("present")
        .title()
        .to_owned()
}

/// `A` lists open, dated records of every kind by date; done, deleted, undated left out.
#[test]
fn agenda_lists_open_dated_records_by_date() {
    let f = Fixture::new();
    create(
        &f.replica,
        RecordKind::Commitment,
        &[("title", "Call the recruiter"), ("due", "2026-11-22")],
    );
    create(
        &f.replica,
        RecordKind::Task,
        &[("title", "Expense report"), ("next_due", "2026-11-25")],
    );
    create(
        &f.replica,
        RecordKind::Goal,
        &[
            ("title", "Finished goal"),
            ("status", "achieved"),
            ("due", "2026-11-02"),
        ],
    );
    create(
        &f.replica,
        RecordKind::Commitment,
        &[
            ("title", "Kept promise"),
            ("status", "kept"),
            ("due", "2026-11-23"),
        ],
    );
    let mut f = Fixture::reopen(f);
    f.press("A");
    let entries = agenda(&f);
    let titles: Vec<&str> = entries.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Ship the v2 API",
            "Send review notes to Ben",
            "Weekly status report",
            "Call the recruiter",
            "Expense report",
            "Budget review",
            "1:1 with Ana",
            "Book the offsite (Lisbon)",
            "Hire two engineers",
            "Ana Alves",
            "Ben Brandt",
            "Cy Chen",
            "Dee Diaz",
        ]
    );
    let Some(Popup::Agenda(view)) = f.app.popup() else {
        panic!("agenda closed");
    };
    assert_eq!(view.counts(), [3, 1, 1, 8]);
    assert!(
        !titles.contains(&"Old reorg plan"),
        "records in the trash are left out"
    );
    f.press("esc");
    assert!(f.app.popup().is_none());
}

/// Enter on an agenda row selects the record in its tab, clearing a filter that hid it.
#[test]
fn agenda_enter_jumps_to_the_record() {
    let mut f = Fixture::new();
    f.press("5");
    f.press("/");
    f.type_text("feedback");
    f.press("enter");
    f.press("1");
    f.press("A");
    // Overdue: the v2 goal, the review notes, the weekly report; later: budget, 1:1.
    for _ in 0..4 {
        f.press("j");
    }
    f.press("k");
    f.press("j");
    f.press("enter");
    assert!(f.app.popup().is_none(), "the agenda closes");
    assert_eq!(f.app.tab(), RecordKind::Note);
    assert_eq!(title_of(&f, f.app.selected_id()), "1:1 with Ana");
    assert_eq!(f.app.filter(), "", "the filter that hid it is cleared");
    assert_eq!(f.app.detail().map(|s| s.title()), Some("1:1 with Ana"));

    f.press("A");
    f.press("g");
    f.press("j");
    f.press("enter");
    assert_eq!(f.app.tab(), RecordKind::Commitment);
    assert_eq!(
        title_of(&f, f.app.selected_id()),
        "Send review notes to Ben"
    );
}

/// The agenda and the search are in the palette.
#[test]
fn palette_opens_agenda_and_search() {
    let mut f = Fixture::new();
    f.press(":");
    f.type_text("agenda");
    f.press("enter");
    assert!(matches!(f.app.popup(), Some(Popup::Agenda(_))));
    f.press("esc");
    f.press(":");
    f.type_text("search every");
    f.press("enter");
    assert!(matches!(f.app.popup(), Some(Popup::Search)));
}

/// The search finds a word in a long text and a tag; Enter jumps to the hit in its tab.
#[test]
fn search_finds_long_text_and_tags_and_jumps() {
    let mut f = Fixture::new();
    f.press("ctrl-f");
    f.type_text("migration");
    assert_eq!(
        search_hits(&f),
        [(RecordKind::Note, "1:1 with Ana".to_owned(), "notes")]
    );
    f.press("enter");
    assert!(f.app.popup().is_none());
    assert_eq!(f.app.tab(), RecordKind::Note);
    assert_eq!(title_of(&f, f.app.selected_id()), "1:1 with Ana");

    f.press("S");
    for _ in 0.."migration".len() {
        f.press("backspace");
    }
    f.type_text("tags:hiring");
    assert_eq!(
        search_hits(&f),
        [(RecordKind::Goal, "Hire two engineers".to_owned(), "tags")]
    );
    f.press("enter");
    assert_eq!(f.app.tab(), RecordKind::Goal);
    assert_eq!(title_of(&f, f.app.selected_id()), "Hire two engineers");
}

/// After a jump `n`/`N` step through the hits to the ends; esc makes `n` a new record again.
#[test]
fn n_and_shift_n_step_through_hits() {
    let mut f = Fixture::new();
    f.press("ctrl-f");
    f.type_text("@ben -is:note");
    let hits = search_hits(&f);
    assert_eq!(
        hits.iter()
            .map(|(k, t, _)| (*k, t.as_str()))
            .collect::<Vec<_>>(),
        [
            (RecordKind::Goal, "Ship the v2 API"),
            (RecordKind::Commitment, "Send review notes to Ben"),
            (RecordKind::Potential, "Ben Brandt"),
        ]
    );
    f.press("enter");
    assert_eq!(title_of(&f, f.app.selected_id()), "Ship the v2 API");
    f.press("n");
    assert!(f.app.popup().is_none(), "n steps, it does not open a form");
    assert_eq!(f.app.tab(), RecordKind::Commitment);
    assert_eq!(
        title_of(&f, f.app.selected_id()),
        "Send review notes to Ben"
    );
    f.press("n");
    assert_eq!(f.app.tab(), RecordKind::Potential);
    assert_eq!(title_of(&f, f.app.selected_id()), "Ben Brandt");
    f.press("n");
    assert_eq!(title_of(&f, f.app.selected_id()), "Ben Brandt");
    assert!(
        f.app
            .message()
            .is_some_and(|m| m.text.contains("last result"))
    );
    f.press("N");
    f.press("N");
    assert_eq!(f.app.tab(), RecordKind::Goal);
    assert_eq!(title_of(&f, f.app.selected_id()), "Ship the v2 API");
    f.press("esc");
    f.press("n");
    assert!(
        matches!(f.app.popup(), Some(Popup::Form(_))),
        "after esc, n is a new record again"
    );
}

/// An unreadable query lists nothing; late batches of an older query are dropped.
#[test]
fn bad_queries_and_stale_batches() {
    let mut f = Fixture::new();
    f.press("ctrl-f");
    f.type_text("colour:red");
    assert!(f.app.search.hits().is_empty());
    f.press("backspace");
    for _ in 0.."colour:re".len() {
        f.press("backspace");
    }
    f.type_text("ana");
    let found = f.app.search.hits().len();
    assert!(found >= 3, "{:?}", search_hits(&f));
    let stale = crate::tui::search::search_now(
        &f.replica,
        &SearchRequest {
            generation: 1,
            query: Query::parse("offsite").expect("query"),
            today: today(),
        },
    );
    for batch in stale {
        f.drive(Action::SearchResults(batch));
    }
    assert_eq!(
        f.app.search.hits().len(),
        found,
        "an old query's hits are ignored"
    );
}

/// A scan stops as soon as its request is superseded, without a final batch.
#[test]
fn a_superseded_scan_stops() {
    let f = Fixture::new();
    let request = SearchRequest {
        generation: 7,
        query: Query::parse("a").expect("query"),
        today: today(),
    };
    let checks = std::cell::Cell::new(0);
    let mut batches = Vec::new();
    scan(
        &f.replica,
        &request,
        || {
            checks.set(checks.get() + 1);
            checks.get() <= 3
        },
        |batch| {
            batches.push(batch);
            true
        },
    );
    assert!(batches.iter().all(|b| !b.done), "{batches:?}");
    assert!(batches.iter().all(|b| b.scanned <= 3));
    let mut all = Vec::new();
    scan(
        &f.replica,
        &request,
        || true,
        |batch| {
            all.push(batch);
            true
        },
    );
    let records = f.replica.records().count();
    assert!(all.last().is_some_and(|b| b.done && b.scanned == records));
}

/// The search thread answers the newest request with a finished batch.
#[test]
fn searcher_thread_answers_the_newest_request() {
    let f = Fixture::new();
    let (replies, answers) = channel();
    let searcher = Searcher::spawn(f.replica.clone(), move |batch| {
        replies.send(Action::SearchResults(batch)).is_ok()
    });
    for (generation, query) in [(1, "ana"), (2, "offsite")] {
        let request = SearchRequest {
            generation,
            query: Query::parse(query).expect("query"),
            today: today(),
        };
        assert!(searcher.search(&f.replica, request).is_empty());
    }
    let mut hits = Vec::new();
    loop {
        let Ok(Action::SearchResults(batch)) = answers.recv_timeout(Duration::from_secs(10)) else {
            panic!("no answer from the search thread");
        };
        if batch.generation == 2 {
            hits.extend(batch.hits.into_iter().map(|h| h.title));
            if batch.done {
                break;
            }
        }
    }
    searcher.stop();
    assert_eq!(hits, ["Book the offsite (Lisbon)", "Offsite prep"]);
}

/// Every keystroke in the search asks for a search; esc keeps the hits for later.
#[test]
fn typing_asks_for_searches() {
    let mut f = Fixture::new();
    f.press("ctrl-f");
    let effects = f.app.update(Action::Key(super::key("b")));
    assert!(
        matches!(&effects[..], [Effect::Search(r)] if r.query == Query::parse("b").expect("q")),
        "{effects:?}"
    );
    f.type_text("udget");
    f.press("esc");
    f.press("ctrl-f");
    assert_eq!(
        f.app.search.hits().len(),
        1,
        "reopening shows the last hits"
    );
}
