//! Files in the TUI: the attachments in the details, attaching by a path typed with
//! completion, opening and saving elsewhere; on the fixture replica and real files
//! in temporary folders.

use std::path::Path;

use cairn_common::RecordId;
use cairn_common::model::{RecordKind, Value};

use super::Fixture;
use crate::tui::action::{Action, Effect, FileJob, Write};
use crate::tui::attachments::attached_files;
use crate::tui::path_input::PathInput;
use crate::tui::path_popup::{self, PathPopup};
use crate::tui::popups::Popup;
use crate::tui::test_support::render;
use crate::tui::theme::Theme;

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

fn path_popup(f: &Fixture) -> &PathPopup {
    match f.app.popup() {
        Some(Popup::Path(popup)) => popup,
        other => panic!("no path popup: {other:?}"),
    }
}

fn message(f: &Fixture) -> String {
    f.app.message().map(|m| m.text.clone()).unwrap_or_default()
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
    f.press("F");
    assert_eq!(f.app.detail.attachment, 1);
    assert!(
        message(&f).contains("budget.pdf (2 of 2)"),
        "{}",
        message(&f)
    );
    f.press("F");
    assert_eq!(f.app.detail.attachment, 0, "wraps to the first");
}

/// `f` on a record, a path typed with Tab completion, Enter: the file is copied
/// in, attached through the worker (so undo takes it back) and listed; its
/// content is on this device.
#[test]
fn attach_with_completion_and_undo() {
    let mut f = on_the_note();
    let note = f.app.selected_id().expect("note");
    let dir = folder();
    f.press("f");
    assert!(path_popup(&f).attaching_to() == Some(note));
    f.type_text(&format!("{}/ag", dir.path().display()));
    f.press("tab");
    let typed = path_popup(&f).input.text();
    assert_eq!(typed, format!("{}/agenda.txt", dir.path().display()));
    let effects = f.press("enter");
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::Write(Write::AddFile { record: Some(r), .. }) if *r == note)
        ),
        "{effects:?}"
    );
    assert!(f.app.popup().is_none(), "closed once added");
    let files = attached_files(&f.app.index, &note);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "agenda.txt");
    assert_eq!(files[0].content_type, "text/plain");
    assert_eq!(f.app.detail.here.get(&files[0].id), Some(&true));
    assert!(message(&f).contains("File added"), "{}", message(&f));
    f.press("u");
    assert!(attached_files(&f.app.index, &note).is_empty(), "undone");
}

/// Several candidates complete as far as they agree and are listed; Tab cycles;
/// a folder completes with its slash.
#[test]
fn completion_lists_and_cycles_in_the_popup() {
    let mut f = on_the_note();
    let dir = folder();
    let base = dir.path().display().to_string();
    f.press("f");
    f.type_text(&format!("{base}/no"));
    f.press("tab");
    assert_eq!(path_popup(&f).input.text(), format!("{base}/notes-"));
    assert_eq!(path_popup(&f).input.candidates().0.len(), 2);
    f.press("tab");
    assert_eq!(path_popup(&f).input.text(), format!("{base}/notes-a.md"));
    f.press("tab");
    assert_eq!(path_popup(&f).input.text(), format!("{base}/notes-b.md"));
    f.press("ctrl-u");
    f.type_text(&format!("{base}/ph"));
    f.press("tab");
    assert_eq!(path_popup(&f).input.text(), format!("{base}/photos/"));
    f.press("esc");
    assert!(f.app.popup().is_none());
}

/// A folder, a missing file or nothing typed: the popup stays with the path and
/// says why, and no file record is made.
#[test]
fn bad_paths_are_explained_and_nothing_is_saved() {
    let mut f = on_the_note();
    let dir = folder();
    f.press("f");
    f.press("enter");
    assert_eq!(
        path_popup(&f).problem.as_deref(),
        Some(crate::tui::text::PATH_EMPTY)
    );
    f.type_text(&format!("{}/photos", dir.path().display()));
    f.press("enter");
    let popup = path_popup(&f);
    assert!(!popup.busy);
    let problem = popup.problem.clone().unwrap_or_default();
    assert!(problem.contains("not a file"), "{problem}");
    f.press("ctrl-u");
    f.type_text(&format!("{}/missing.pdf", dir.path().display()));
    f.press("enter");
    let problem = path_popup(&f).problem.clone().unwrap_or_default();
    assert!(problem.contains("cannot read"), "{problem}");
    assert!(!f.app.unsaved, "nothing the person typed was lost");
    assert!(crate::files::all(&f.replica).expect("files").is_empty());
}

/// On the Files tab `n` adds a file by path (no empty form), to the current space,
/// and selects it.
#[test]
fn new_on_the_files_tab_adds_by_path() {
    let mut f = Fixture::new();
    let dir = folder();
    f.press("8");
    f.press("n");
    let popup = path_popup(&f);
    assert_eq!(popup.attaching_to(), None);
    f.type_text(&format!("{}/agenda.txt", dir.path().display()));
    f.press("enter");
    let added = crate::files::all(&f.replica).expect("files");
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].record, None);
    assert_eq!(added[0].space, f.app.space());
    assert_eq!(f.app.tab(), RecordKind::File);
    assert_eq!(f.app.selected_id(), Some(added[0].id));
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let screen = render(120, 30, |frame| f.app.draw(frame)).to_string();
    assert!(
        screen.contains("Content       on this device"),
        "the details say the content is here:\n{screen}"
    );
}

/// `W` saves the selected attachment where asked (into a folder under its
/// name), refuses to overwrite until Enter is pressed again on the same path.
#[test]
fn save_elsewhere_asks_before_overwriting() {
    let mut f = on_the_note();
    let note = f.app.selected_id().expect("note");
    let dir = folder();
    add_file(&mut f, &dir.path().join("agenda.txt"), note);
    let out = tempfile::tempdir().expect("out");
    f.press("W");
    assert_eq!(path_popup(&f).input.text(), "agenda.txt");
    f.press("ctrl-u");
    f.type_text(&format!("{}/", out.path().display()));
    f.press("enter");
    let saved = out.path().join("agenda.txt");
    assert_eq!(
        std::fs::read_to_string(&saved).expect("saved"),
        "1. hiring\n2. budget\n"
    );
    assert!(f.app.popup().is_none());
    assert!(message(&f).contains("Saved agenda.txt"), "{}", message(&f));

    std::fs::write(&saved, "mine").expect("write");
    f.press("W");
    f.press("ctrl-u");
    f.type_text(&saved.display().to_string());
    f.press("enter");
    let problem = path_popup(&f).problem.clone().unwrap_or_default();
    assert!(problem.contains("exists"), "{problem}");
    assert_eq!(std::fs::read_to_string(&saved).expect("kept"), "mine");
    f.press("enter");
    assert!(f.app.popup().is_none());
    assert_eq!(
        std::fs::read_to_string(&saved).expect("overwritten"),
        "1. hiring\n2. budget\n"
    );
}

/// `ctrl-o` fetches the attachment and hands a copy under its own name to the
/// terminal opener; a file not on this device without a session says to log in.
#[test]
fn open_hands_a_named_copy_to_the_opener() {
    let mut f = on_the_note();
    let note = f.app.selected_id().expect("note");
    let dir = folder();
    let file = add_file(&mut f, &dir.path().join("agenda.txt"), note);
    let effects = f.press("ctrl-o");
    assert!(effects.contains(&Effect::FileJob(FileJob::Open { file })));
    let Some(Effect::RunOpener {
        name,
        command,
        path,
    }) = effects
        .iter()
        .find(|e| matches!(e, Effect::RunOpener { .. }))
    else {
        panic!("no opener run: {effects:?}");
    };
    assert_eq!(name, "agenda.txt");
    assert_eq!(command, &["true".to_owned()]);
    assert!(path.ends_with("agenda.txt"), "{}", path.display());
    assert_eq!(
        std::fs::read_to_string(path).expect("copy"),
        "1. hiring\n2. budget\n"
    );

    file_made_elsewhere(&mut f, "budget.pdf", note);
    f.press("F");
    f.press("ctrl-o");
    let shown = message(&f);
    assert!(
        shown.contains("budget.pdf") && shown.contains("cairn login"),
        "{shown}"
    );
}

/// The file keys say what to do where there is no file: no attachments, the
/// trash.
#[test]
fn file_keys_without_a_file() {
    let mut f = Fixture::new();
    let effects = f.press("ctrl-o");
    assert!(effects.is_empty());
    assert_eq!(message(&f), crate::tui::text::NO_ATTACHMENTS);
    f.press("W");
    assert!(f.app.popup().is_none());
    f.press("t");
    f.press("f");
    assert!(f.app.popup().is_none());
    assert_eq!(message(&f), crate::tui::text::EDIT_IN_TRASH);
}

/// A record in a space one may only read gets no attachment: the popup does
/// not open and the message says why.
#[test]
fn no_attaching_in_a_read_only_space() {
    use crate::replica::KnownSpace;
    let mut f = on_the_note();
    let space = cairn_common::model::Space {
        id: f.app.space(),
        name: "Board".into(),
        personal: false,
    };
    f.app.set_spaces(vec![KnownSpace {
        space,
        role: cairn_common::model::Role::Viewer,
    }]);
    f.press("f");
    assert!(f.app.popup().is_none());
    assert!(
        message(&f).contains("only read the space Board"),
        "{}",
        message(&f)
    );
}

/// The path popup: the prompt, the input with its cursor, the candidates with the
/// one cycled to, the note, and the keys.
#[test]
fn path_popup_snapshot() {
    let mut popup = PathPopup::attach(
        Some((RecordId::new(), "1:1 with Ana".into())),
        cairn_common::model::SpaceId::new(),
        "Personal".into(),
    );
    popup.input = PathInput::new("~/plans/no");
    let names = ["notes-a.md", "notes-b.md", "notebook/"];
    popup.input.complete(
        "~/plans/",
        Ok(names
            .iter()
            .map(|n| crate::tui::path_input::DirEntry {
                name: n.trim_end_matches('/').into(),
                is_dir: n.ends_with('/'),
            })
            .collect()),
    );
    let keys = crate::tui::keys::KeyBindings::default();
    popup.input.handle_key(&super::key("tab"), &keys);
    let theme = Theme::no_color();
    let shown = render(90, 14, |frame| {
        path_popup::draw(frame, frame.area(), &popup, &keys, &theme);
    });
    snapshot!("path_popup", shown.to_string());
}

/// The save popup after Enter found a file in the way: the reason, wrapped when
/// the path is long, and what Enter does now.
#[test]
fn save_popup_with_a_problem_snapshot() {
    let mut popup = PathPopup::save_as(RecordId::new(), "site-plan.pdf".into());
    let path = Path::new("/home/ana/Documents/projects/offsite-2027/lisbon/site-plan.pdf");
    popup.problem = Some(crate::tui::text::exists(path));
    let keys = crate::tui::keys::KeyBindings::default();
    let theme = Theme::no_color();
    let shown = render(90, 10, |frame| {
        path_popup::draw(frame, frame.area(), &popup, &keys, &theme);
    });
    snapshot!("save_popup_problem", shown.to_string());
}
