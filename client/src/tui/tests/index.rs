//! The row index and list view on their own: build, upsert, filter reuse.

use cairn_common::model::RecordKind;

use super::{Fixture, create};
use crate::tui::index::{Index, Sort};
use crate::tui::view::ListView;

/// Upserting keeps the order equal to a full sort, through adds, edits and removals.
#[test]
fn upsert_keeps_the_order_sorted() {
    let f = Fixture::new();
    let states: Vec<_> = f.replica.records().map(|s| s.expect("read")).collect();
    let mut index = Index::build(states.clone());
    let kind = RecordKind::Activity;
    let id = create(
        &f.replica,
        kind,
        &[("title", "Aaa first"), ("date", "2026-11-01")],
    );
    let state = f.replica.record(&id).expect("read").expect("there");
    index.update(&state);
    let mut full = Index::build(f.replica.records().map(|s| s.expect("read")));
    let ids = |i: &Index| -> Vec<_> {
        let k = i.kind(kind);
        k.order()
            .iter()
            .map(|&r| k.row(r).expect("row").id)
            .collect()
    };
    assert_eq!(ids(&index), ids(&full));
    index.kind_mut(kind).set_sort(Sort {
        column: 0,
        reverse: false,
    });
    full.kind_mut(kind).set_sort(Sort {
        column: 0,
        reverse: false,
    });
    assert_eq!(ids(&index), ids(&full));
    // Removing a row (swap-remove inside) keeps the rest in order.
    let first = ids(&index)[0];
    index.kind_mut(kind).upsert(first, None);
    assert_eq!(ids(&index), ids(&full)[1..]);
    assert!(index.kind(kind).find(&first).is_none());
    for id in ids(&index) {
        let at = index.kind(kind).find(&id).expect("found");
        assert_eq!(index.kind(kind).row(at).expect("row").id, id);
    }
}

/// A filter that extends the last one narrows the rows already shown; a shorter one
/// searches everything again; the selection stays on its record when it is still shown.
#[test]
fn filter_narrows_and_widens() {
    let f = Fixture::new();
    let index = Index::build(f.replica.records().map(|s| s.expect("read")));
    let kind = index.kind(RecordKind::Activity);
    let mut view = ListView::new();
    view.refresh(kind, false);
    assert_eq!(view.visible().len(), 5);
    view.selected = 2;
    let selected = view.selected_id(kind);
    view.push_filter('t', kind);
    assert_eq!(
        view.selected_id(kind),
        selected,
        "still shown, still selected"
    );
    view.push_filter('e', kind);
    let narrowed = view.visible().len();
    view.pop_filter(kind);
    assert!(view.visible().len() >= narrowed);
    view.set_filter("", kind);
    assert_eq!(view.visible().len(), 5);
    view.set_filter("zzz", kind);
    assert!(view.visible().is_empty());
    assert_eq!(view.selected_id(kind), None);
}
