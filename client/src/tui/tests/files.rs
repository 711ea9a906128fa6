//! Files in the TUI: the attachments in the details; on the fixture replica and
//! real files in temporary folders.

use std::path::Path;

use cairn_common::RecordId;
use cairn_common::model::{RecordKind, Value};

use super::Fixture;
use crate::tui::action::Action;
use crate::tui::test_support::render;

/// Snapshots live in `tui/snapshots`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(true);
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

/// The fixture on the conversation "1:1 with Ana".
fn on_the_note() -> Fixture {
    let mut f = Fixture::new();
    f.press("5");
    f.select("1:1 with Ana");
    f
}

/// Adds the file at `path` to the replica as `cairn files add` would, attached to
/// `record`, and tells the app.
fn add_file(f: &mut Fixture, path: &Path, record: RecordId) -> RecordId {
    let space = f.replica.identity().personal_space;
    let (id, ops) =
        crate::files::add(&f.replica, path, space, Some(record), super::today()).expect("add");
    f.replica.commit(&ops).expect("commit");
    let state = f.replica.record(&id).expect("read").expect("present");
    f.drive(Action::RecordsChanged(vec![state]));
    id
}

/// A file record whose content is on no device here (made elsewhere, not
/// downloaded), attached to `record`.
fn file_made_elsewhere(f: &mut Fixture, name: &str, record: RecordId) -> RecordId {
    let space = f.replica.identity().personal_space;
    let fields = vec![
        ("name".to_owned(), Value::Text(name.to_owned())),
        ("size".to_owned(), Value::Int(2_500_000)),
        ("sha256".to_owned(), Value::Text("ab".repeat(32))),
        ("type".to_owned(), Value::Text("application/pdf".to_owned())),
        ("record".to_owned(), Value::Ref(record)),
    ];
    let (id, ops) = f
        .replica
        .create_ops(RecordKind::File, space, fields, super::today())
        .expect("ops");
    f.replica.commit(&ops).expect("commit");
    let state = f.replica.record(&id).expect("read").expect("present");
    f.drive(Action::RecordsChanged(vec![state]));
    id
}

/// A folder with a few files to attach.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("agenda.txt"), "1. hiring\n2. budget\n").expect("write");
    std::fs::write(dir.path().join("notes-a.md"), "a").expect("write");
    std::fs::write(dir.path().join("notes-b.md"), "b").expect("write");
    std::fs::create_dir(dir.path().join("photos")).expect("mkdir");
    dir
}

/// The details list the files attached to the record, by name, with size, type
/// and whether the content is here; the files are no longer among "Linked from".
#[test]
fn attachments_in_the_details() {
    let mut f = on_the_note();
    let note = f.app.selected_id().expect("note");
    let dir = folder();
    add_file(&mut f, &dir.path().join("agenda.txt"), note);
    file_made_elsewhere(&mut f, "budget.pdf", note);
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let screen = render(120, 30, |frame| f.app.draw(frame)).to_string();
    assert!(!screen.contains("Linked from"), "{screen}");
    snapshot!("attachments_in_details", screen);
}
