//! Export and import on real data dirs: a stopped one (direct store) and a running
//! server's (through its control socket).

use crate::store::Blocking as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_common::model::{
    GoalStatus, KeyResult, NoteKind, Rating, RecordId, RecordKind, Recurrence, Role, SpaceId,
    UserId, Value,
};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use chrono::NaiveDate;

use crate::admin::{AdminRequest, AdminResponse, ExportScope};
use crate::datadir::DataDir;
use crate::store::Store;
use crate::testing::TestServer;

/// What the fixture wrote, to look for in the files.
struct Fixture {
    team: SpaceId,
    note: RecordId,
}

const NOTES_TEXT: &str = "Ana wants to lead the NOTES-MARKER project.";
/// The content of the fixture's one file.
const FILE_TEXT: &str = "The site plan: FILE-CONTENT-MARKER.";

fn new_user(store: &Store, name: &str) -> UserId {
    crate::store::test_support::facade_user(store, name).id
}

/// Ann and Bob share "Team" with a record of every kind and a conflict; Eve has a
/// goal of her own in her personal space.
fn populate(store: &Store) -> Fixture {
    let ann = new_user(store, "ann");
    new_user(store, "bob");
    let eve = new_user(store, "eve");
    let bob = store
        .user_by_email("bob@example.com")
        .wait()
        .expect("get")
        .expect("bob")
        .profile
        .id;
    let team = store
        .create_space(ann, "Team")
        .wait()
        .expect("space")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Editor))
        .wait()
        .expect("add bob");
    let mut clock = 1_790_000_000_000;
    let mut op = |space, record, author, change| {
        clock += 1_000;
        Op {
            id: OpId::new(),
            space,
            record,
            at: Hlc {
                wall_ms: clock,
                counter: 0,
                node: NodeId(3),
            },
            author,
            change,
        }
    };
    let set = |field: &str, value| Change::Set {
        field: field.into(),
        value,
        replaces: vec![],
    };
    let date = |d| Value::Date(NaiveDate::from_ymd_opt(2026, 11, d).expect("date"));
    let records: Vec<(RecordKind, Vec<(&str, Value)>)> = vec![
        (
            RecordKind::Goal,
            vec![
                ("title", Value::Text("ANN-GOAL-MARKER".into())),
                ("status", Value::GoalStatus(GoalStatus::ALL[1])),
                // Entered 10%, but the key results (40% and 80%) make it 60%.
                ("progress", Value::Int(10)),
                (
                    "key_results",
                    Value::KeyResults(vec![
                        KeyResult {
                            name: "hires".into(),
                            current: 1.5,
                            target: 3.75,
                            unit: "people".into(),
                        },
                        KeyResult {
                            name: "budget".into(),
                            current: 8.0,
                            target: 10.0,
                            unit: "k€".into(),
                        },
                    ]),
                ),
                ("tags", Value::List(vec!["a".into(), "b c".into()])),
            ],
        ),
        (
            RecordKind::Commitment,
            vec![
                ("title", Value::Text("Send the plan".into())),
                ("due", date(30)),
            ],
        ),
        (
            RecordKind::Task,
            vec![
                ("title", Value::Text("Weekly report".into())),
                ("recurrence", Value::Recurrence(Recurrence::Weeks(2))),
                (
                    "history",
                    Value::Dates(vec![NaiveDate::from_ymd_opt(2026, 11, 1).expect("d")]),
                ),
            ],
        ),
        (
            RecordKind::Activity,
            vec![
                ("title", Value::Text("Workshop".into())),
                ("date", date(2)),
                ("duration", Value::Int(90)),
            ],
        ),
        (
            RecordKind::Note,
            vec![
                ("title", Value::Text("1:1 with Ana".into())),
                ("kind", Value::NoteKind(NoteKind::ALL[0])),
                ("date", date(3)),
                ("participants", Value::List(vec!["Ana".into()])),
                ("private", Value::Bool(true)),
                ("notes", Value::Text(NOTES_TEXT.into())),
            ],
        ),
        (
            RecordKind::Potential,
            vec![
                ("person", Value::Text("Ana".into())),
                ("performance", Value::Rating(Rating::ALL[2])),
            ],
        ),
        (
            RecordKind::File,
            vec![
                ("name", Value::Text("site-plan.txt".into())),
                (
                    "sha256",
                    Value::Text(cairn_common::api::files::sha256_hex(FILE_TEXT.as_bytes())),
                ),
                ("size", Value::Int(FILE_TEXT.len() as i64)),
                ("type", Value::Text("text/plain".into())),
            ],
        ),
    ];
    let mut ops = Vec::new();
    let mut note = None;
    for (kind, fields) in records {
        let record = RecordId::new();
        if kind == RecordKind::Note {
            note = Some(record);
        }
        ops.push(op(team, record, ann, Change::Create { kind }));
        for (field, value) in fields {
            ops.push(op(team, record, ann, set(field, value)));
        }
    }
    let note = note.expect("a note");
    // Ann and Bob both change the note's title without seeing each other: a conflict.
    let title_op = ops
        .iter()
        .find(|o| {
            o.record == note && matches!(&o.change, Change::Set { field, .. } if field == "title")
        })
        .expect("title op")
        .id;
    let retitle = |text: &str| Change::Set {
        field: "title".into(),
        value: Value::Text(text.into()),
        replaces: vec![title_op],
    };
    ops.push(op(team, note, ann, retitle("1:1 with Ana (ann)")));
    ops.push(op(team, note, bob, retitle("1:1 with Ana (bob)")));
    let goal = ops[0].record;
    ops.push(op(team, goal, bob, Change::Delete));
    ops.push(op(team, goal, ann, Change::Restore));
    store
        .append_ops(&ops, &crate::store::RecordLimits::NONE)
        .wait()
        .expect("team ops");
    let eve_space = store
        .user(eve)
        .wait()
        .expect("get")
        .expect("eve")
        .personal_space;
    let eve_goal = RecordId::new();
    store
        .append_ops(
            &[
                op(
                    eve_space,
                    eve_goal,
                    eve,
                    Change::Create {
                        kind: RecordKind::Goal,
                    },
                ),
                op(
                    eve_space,
                    eve_goal,
                    eve,
                    set("title", Value::Text("EVE-MARKER".into())),
                ),
            ],
            &crate::store::RecordLimits::NONE,
        )
        .wait()
        .expect("eve's goal");
    store.flush().wait().expect("flush");
    Fixture { team, note }
}

/// A stopped data dir from `init`, populated.
fn populated_dir() -> (tempfile::TempDir, DataDir, Fixture) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = DataDir::new(dir.path().join("data"));
    crate::init::init(data.root(), &[]).expect("init");
    let store = Store::open(&data.db()).expect("open");
    let fixture = populate(&store);
    drop(store);
    let content = crate::files::FilesSettings::default()
        .dir_in(data.root())
        .join(fixture.team.to_string());
    std::fs::create_dir_all(&content).expect("content dir");
    std::fs::write(
        content.join(cairn_common::api::files::sha256_hex(FILE_TEXT.as_bytes())),
        FILE_TEXT,
    )
    .expect("content");
    (dir, data, fixture)
}

fn export(data: &DataDir, out: &Path, scope: ExportScope) -> AdminResponse {
    crate::admin::client::send(
        data,
        AdminRequest::Export {
            out: out.to_owned(),
            scope,
        },
    )
    .expect("send export")
}

/// Every file under `dir` by relative path.
fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let text = std::fs::read_to_string(&path).expect("utf-8 file");
                out.insert(path.strip_prefix(dir).expect("inside").to_owned(), text);
            }
        }
    }
    out
}

fn all_text(files: &BTreeMap<PathBuf, String>) -> String {
    files.values().map(String::as_str).collect()
}

/// The file in the repo is what the model says; `CAIRN_WRITE_SCHEMA=1` rewrites it.
#[test]
fn export_schema_file_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(cairn_common::export::schema::PATH);
    let text = cairn_common::export::schema::text();
    if std::env::var_os("CAIRN_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &text).expect("write schema");
    }
    let stored = std::fs::read_to_string(&path).expect("docs/export.schema.json exists");
    assert!(
        stored == text,
        "docs/export.schema.json is out of date; run CAIRN_WRITE_SCHEMA=1 cargo test -p cairn-server export_schema"
    );
}

/// A whole export of a stopped dir has every file, its JSON validates against the
/// schema, the note's Markdown holds its notes, CSVs have headers, and no password
/// hash is in it.
#[test]
fn export_files_follow_the_schema() {
    let (dir, data, fixture) = populated_dir();
    let out = dir.path().join("export");
    let response = export(&data, &out, ExportScope::Server);
    assert!(
        matches!(
            response,
            AdminResponse::Exported {
                users: 4,
                spaces: 5,
                ..
            }
        ),
        "{response:?}"
    );
    let files = read_tree(&out);
    let team = PathBuf::from(format!("spaces/{}", fixture.team));
    for name in [
        "space.json",
        "history.json",
        "history.csv",
        "goal.csv",
        "commitment.csv",
        "task.csv",
        "activity.csv",
        "note.csv",
        "potential.csv",
    ] {
        assert!(files.contains_key(&team.join(name)), "{name} missing");
    }
    assert!(files.contains_key(Path::new("README.txt")));
    assert_eq!(files.keys().filter(|p| p.ends_with("user.json")).count(), 4);
    let sha = cairn_common::api::files::sha256_hex(FILE_TEXT.as_bytes());
    assert_eq!(files[&team.join("files").join(&sha)], FILE_TEXT);
    let manifest: serde_json::Value =
        serde_json::from_str(&files[Path::new("manifest.json")]).expect("manifest");
    assert_eq!(
        manifest["contents"][0]["sha256"],
        sha.as_str(),
        "{manifest}"
    );
    assert_eq!(
        manifest["contents"][0]["file"],
        format!("spaces/{}/files/{sha}", fixture.team)
    );
    let note = &files[&team.join(format!("conversations/{}.md", fixture.note))];
    assert!(note.contains(NOTES_TEXT), "{note}");
    assert!(
        note.contains("(ann)") && note.contains("(bob)"),
        "both conflicting titles: {note}"
    );
    assert!(files[&team.join("goal.csv")].starts_with("id,title,status,owner,due,progress,"));
    assert!(files[&team.join("history.csv")].starts_with("seq,time,author,author_email,"));
    let text = all_text(&files);
    assert!(!text.contains("$argon2"), "no password hash is exported");
    let schema: serde_json::Value =
        serde_json::from_str(&cairn_common::export::schema::text()).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let mut checked = 0;
    for (path, contents) in &files {
        if path.extension().is_some_and(|e| e == "json") {
            let json: serde_json::Value = serde_json::from_str(contents).expect("JSON");
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 1 + 4 + 5 * 2);
    // The schema is not a blank cheque: a field of the wrong type is refused.
    let space_path = team.join("space.json");
    let broken = files[&space_path].replacen("\"Int\": 60", "\"Text\": \"60\"", 1);
    assert_ne!(broken, files[&space_path]);
    let broken: serde_json::Value = serde_json::from_str(&broken).expect("JSON");
    assert!(!validator.is_valid(&broken));
}

/// A goal with key results at 40% and 80% and 10% entered has progress 60 in
/// space.json and goal.csv, with the 10 kept as `progress_entered` in both.
#[test]
fn goal_progress_follows_the_one_rule() {
    let (dir, data, fixture) = populated_dir();
    let out = dir.path().join("export");
    export(&data, &out, ExportScope::Server);
    let files = read_tree(&out);
    let team = PathBuf::from(format!("spaces/{}", fixture.team));
    let space: serde_json::Value =
        serde_json::from_str(&files[&team.join("space.json")]).expect("JSON");
    let fields = &space["records"]["goal"][0]["fields"];
    assert_eq!(fields["title"]["Text"], "ANN-GOAL-MARKER");
    assert_eq!(
        fields["progress"],
        serde_json::json!({"Int": 60}),
        "{fields}"
    );
    assert_eq!(fields["progress_entered"], serde_json::json!({"Int": 10}));
    let mut csv = ::csv::Reader::from_reader(files[&team.join("goal.csv")].as_bytes());
    let header = csv.headers().expect("header").clone();
    let row = csv.records().next().expect("a goal").expect("valid CSV");
    let cell = |name: &str| {
        let at = header.iter().position(|h| h == name).expect(name);
        row.get(at).expect("cell").to_owned()
    };
    assert_eq!(cell("title"), "ANN-GOAL-MARKER");
    assert_eq!(cell("progress"), "60");
    assert_eq!(cell("progress_entered"), "10");
}

/// Export, import into a fresh server, export again: the same files, byte for byte
/// but `exported_at`. Imported accounts have no password until an admin resets it.
#[test]
fn export_import_export_is_identical() {
    let (dir, data, _) = populated_dir();
    let first = dir.path().join("first");
    export(&data, &first, ExportScope::Server);
    let fresh = DataDir::new(dir.path().join("fresh"));
    crate::init::init(fresh.root(), &[]).expect("init fresh");
    let response = crate::admin::client::send(&fresh, AdminRequest::Import { dir: first.clone() })
        .expect("send import");
    let AdminResponse::Imported {
        accounts,
        spaces,
        ops,
    } = response
    else {
        panic!("import failed: {response:?}");
    };
    assert_eq!((accounts.len(), spaces), (4, 5));
    assert!(ops > 20);
    let second = dir.path().join("second");
    export(&fresh, &second, ExportScope::Server);
    let (a, b) = (read_tree(&first), read_tree(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let without_time = |text: &str| {
        text.lines()
            .filter(|l| !l.trim_start().starts_with("\"exported_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (path, text) in &a {
        if path == Path::new("manifest.json") {
            assert_eq!(without_time(text), without_time(&b[path]));
        } else {
            assert!(text == &b[path], "{} differs", path.display());
        }
    }
    let store = Store::open(&fresh.db()).expect("open fresh");
    let ann = store
        .user_by_email("ann@example.com")
        .wait()
        .expect("get")
        .expect("ann");
    assert!(!crate::auth::password::verify(
        &ann.password_hash,
        "password-of-ann"
    ));
    store
        .reset_password(
            "ann@example.com",
            crate::auth::password::hash("a new password").expect("hash"),
        )
        .wait()
        .expect("reset");
    let ann = store
        .user_by_email("ann@example.com")
        .wait()
        .expect("get")
        .expect("ann");
    assert!(crate::auth::password::verify(
        &ann.password_hash,
        "a new password"
    ));
    assert!(ann.must_change_password);
}

/// Importing into a server that holds data is refused with a message saying what to
/// do, and changes nothing.
#[test]
fn import_into_non_empty_server_is_refused() {
    let (dir, data, _) = populated_dir();
    let out = dir.path().join("out");
    export(&data, &out, ExportScope::Server);
    let response = crate::admin::client::send(&data, AdminRequest::Import { dir: out.clone() })
        .expect("send import");
    let AdminResponse::Failed { message } = response else {
        panic!("import into a full server: {response:?}");
    };
    assert!(
        message.contains("not empty") && message.contains("init"),
        "{message}"
    );
    let again = dir.path().join("again");
    export(&data, &again, ExportScope::Server);
    assert_eq!(read_tree(&out).len(), read_tree(&again).len());
    let user_only = dir.path().join("ann-only");
    export(
        &data,
        &user_only,
        ExportScope::User("ann@example.com".into()),
    );
    let fresh = DataDir::new(dir.path().join("fresh"));
    crate::init::init(fresh.root(), &[]).expect("init fresh");
    let response = crate::admin::client::send(&fresh, AdminRequest::Import { dir: user_only })
        .expect("send import");
    assert!(
        matches!(&response, AdminResponse::Failed { message } if message.contains("whole-server")),
        "{response:?}"
    );
}

/// `--user` holds the user, the user's spaces and no one else's data; `--space`
/// holds that space only.
#[test]
fn user_and_space_scopes_hold_only_theirs() {
    let (dir, data, fixture) = populated_dir();
    let ann = dir.path().join("ann");
    export(&data, &ann, ExportScope::User("ann@example.com".into()));
    let text = all_text(&read_tree(&ann));
    assert!(text.contains("ANN-GOAL-MARKER") && text.contains(NOTES_TEXT));
    assert!(text.contains("\"by_you\": true") && text.contains("\"by_you\": false"));
    assert!(!text.contains("EVE-MARKER") && !text.contains("eve@example.com"));
    let eve = dir.path().join("eve");
    export(&data, &eve, ExportScope::User("eve@example.com".into()));
    let text = all_text(&read_tree(&eve));
    assert!(text.contains("EVE-MARKER"));
    assert!(!text.contains("ANN-GOAL-MARKER") && !text.contains("ann@example.com"));
    let space = dir.path().join("space");
    export(&data, &space, ExportScope::Space(fixture.team));
    let files = read_tree(&space);
    assert!(files.keys().all(|p| !p.starts_with("users")));
    let text = all_text(&files);
    assert!(text.contains("ANN-GOAL-MARKER") && !text.contains("EVE-MARKER"));
    let missing = export(
        &data,
        &dir.path().join("x"),
        ExportScope::Space(SpaceId::new()),
    );
    assert!(
        matches!(missing, AdminResponse::Failed { .. }),
        "{missing:?}"
    );
}

/// A running server exports through its control socket, and refuses a non-empty
/// target directory.
#[test]
fn export_through_the_control_socket() {
    let server = TestServer::start_with(|settings| {
        let store = Store::open(&DataDir::new(&settings.data_dir).db()).expect("open");
        populate(&store);
    })
    .expect("server");
    let out = tempfile::tempdir().expect("out");
    let target = out.path().join("export");
    let response = server
        .admin(AdminRequest::Export {
            out: target.clone(),
            scope: ExportScope::Server,
        })
        .expect("through the socket");
    assert!(
        matches!(response, AdminResponse::Exported { users: 4, .. }),
        "{response:?}"
    );
    assert!(all_text(&read_tree(&target)).contains("EVE-MARKER"));
    let again = server
        .admin(AdminRequest::Export {
            out: target,
            scope: ExportScope::Server,
        })
        .expect("through the socket");
    assert!(matches!(again, AdminResponse::Failed { message } if message.contains("not empty")));
}
