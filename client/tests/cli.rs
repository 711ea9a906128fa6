//! The headless `cairn` commands, run as the real binary against a temporary
//! `CAIRN_HOME`, one process per command.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{Days, Local, NaiveDate};
use serde_json::Value;

const KINDS: [&str; 6] = [
    "goal",
    "commitment",
    "task",
    "activity",
    "note",
    "potential",
];

/// A temporary Cairn home and a way to run `cairn` in it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env("CAIRN_HOME", self.dir.path())
            .env_remove("XDG_DATA_HOME")
            .output()
            .expect("run cairn")
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cairn {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail; its exit code and stderr.
    fn fail(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(!out.status.success(), "cairn {args:?} should fail");
        assert!(out.stdout.is_empty(), "cairn {args:?} printed on stdout");
        (
            out.status.code().expect("exit code"),
            String::from_utf8(out.stderr).expect("utf-8 stderr"),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Adds a record; its full id.
    fn add(&self, args: &[&str]) -> String {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        self.ok(&all).trim().to_owned()
    }

    /// Every record of every kind, live and in the trash, as JSON.
    fn everything(&self) -> Vec<Value> {
        let mut all = Vec::new();
        for kind in KINDS {
            for trash in [false, true] {
                let mut args = vec!["list", kind, "--json"];
                if trash {
                    args.push("--trash");
                }
                all.extend(self.json(&args).as_array().expect("array").clone());
            }
        }
        all
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn today() -> NaiveDate {
    Local::now().date_naive()
}

fn short(id: &str) -> &str {
    &id[id.len() - 8..]
}

fn read_json(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).expect("read export file");
    serde_json::from_str(&text).expect("export file is JSON")
}

/// The records of an export directory (every space, every kind, each with its
/// `kind`), in id order.
fn exported_records(dir: &Path) -> Vec<Value> {
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["format"], "cairn-export");
    assert!(manifest["exported_at"].is_string());
    let mut records = Vec::new();
    for space in manifest["spaces"].as_array().expect("spaces") {
        let file = read_json(
            &dir.join(space["dir"].as_str().expect("dir"))
                .join("space.json"),
        );
        for (kind, list) in file["records"].as_object().expect("records") {
            for record in list.as_array().expect("list") {
                let mut record = record.clone();
                record["kind"] = Value::String(kind.clone());
                records.push(record);
            }
        }
    }
    records.sort_by_key(|r| r["id"].as_str().unwrap_or_default().to_owned());
    records
}

/// The directory of the one space of an export that holds changes (a home that
/// imported another's export also has its own, empty, personal space).
fn space_dir(dir: &Path) -> std::path::PathBuf {
    let manifest = read_json(&dir.join("manifest.json"));
    let with_ops: Vec<_> = manifest["spaces"]
        .as_array()
        .expect("spaces")
        .iter()
        .map(|s| dir.join(s["dir"].as_str().expect("dir")))
        .filter(|d| {
            !read_json(&d.join("history.json"))["ops"]
                .as_array()
                .expect("ops")
                .is_empty()
        })
        .collect();
    assert_eq!(with_ops.len(), 1, "{manifest}");
    with_ops[0].clone()
}

/// One record of each kind with a typical set of fields.
fn add_one_of_each(home: &Home) -> Vec<String> {
    let goal = home.add(&["goal", "Grow the team", "-f", "due=2099-12-31"]);
    let note = home.add(&[
        "note",
        "1:1 with Ana",
        "--field",
        "participants=Ana, Ben",
        "--field",
        "notes=Talked about goals.\nShe wants to lead, \"soon\".",
        "--field",
        "follow_up=+2w",
    ]);
    let commitment = home.add(&[
        "commitment",
        "Send the offer",
        "-f",
        "to=Ana",
        "-f",
        &format!("source={}", short(&note)),
    ]);
    let task = home.add(&["task", "Weekly report", "-f", "recurrence=every 3 days"]);
    let activity = home.add(&[
        "activity",
        "Hiring fair",
        "-f",
        "duration=1h30m",
        "-f",
        &format!("goal={}", short(&goal)),
    ]);
    let potential = home.add(&["potential", "Ana Lopez", "-f", "performance=high"]);
    vec![goal, commitment, task, activity, note, potential]
}

/// Each kind can be added, listed by short id and title, and shown with its labelled fields.
#[test]
fn add_list_show_every_kind() {
    let home = Home::new();
    let ids = add_one_of_each(&home);
    let titles = [
        "Grow the team",
        "Send the offer",
        "Weekly report",
        "Hiring fair",
        "1:1 with Ana",
        "Ana Lopez",
    ];
    for ((kind, id), title) in KINDS.iter().zip(&ids).zip(titles) {
        assert_eq!(id.len(), 36, "full id: {id}");
        let list = home.ok(&["list", &format!("{kind}s")]);
        assert!(list.starts_with("ID"), "{list}");
        assert!(list.contains(short(id)) && list.contains(title), "{list}");
        let show = home.ok(&["show", short(id)]);
        assert!(show.contains(id) && show.contains(title), "{show}");
    }
    let note = home.ok(&["show", &ids[4]]);
    assert!(note.contains("Participants: Ana, Ben"), "{note}");
    assert!(
        note.contains("Talked about goals.") && note.contains("She wants to lead, \"soon\"."),
        "long text in full: {note}"
    );
    let commitment = home.ok(&["show", &ids[1]]);
    assert!(
        commitment.contains(&format!("From:         {} (1:1 with Ana)", short(&ids[4]))),
        "{commitment}"
    );
    let activity = home.json(&["show", &ids[3], "--json"]);
    assert_eq!(activity["fields"]["duration"], 90);
    assert_eq!(activity["fields"]["goal"], ids[0].as_str());
}

/// `--json` of add, list and show parses and carries id, kind and typed fields.
#[test]
fn json_output_has_the_fields() {
    let home = Home::new();
    let added = home.json(&[
        "add",
        "goal",
        "Ship",
        "-f",
        "progress=40",
        "-f",
        "tags=a, b",
        "--json",
    ]);
    let id = added["id"].as_str().expect("id").to_owned();
    assert_eq!(added["kind"], "goal");
    assert_eq!(added["deleted"], false);
    assert_eq!(added["fields"]["title"], "Ship");
    assert_eq!(added["fields"]["progress"], 40);
    assert_eq!(added["fields"]["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(added["fields"]["due"], Value::Null);
    let list = home.json(&["list", "goals", "--json"]);
    assert_eq!(list.as_array().expect("array").len(), 1);
    assert_eq!(list[0], added);
    assert_eq!(home.json(&["show", &id, "--json"]), added);
}

/// A long text given with Windows line endings (`-f` and `set`) is stored with
/// plain newlines instead of being refused.
#[test]
fn windows_line_endings_in_fields_become_newlines() {
    let home = Home::new();
    let id = home.add(&["goal", "Plan", "-f", "description=one\r\ntwo\r\n"]);
    let goal = home.json(&["show", &id, "--json"]);
    assert_eq!(goal["fields"]["description"], "one\ntwo\n");
    home.ok(&["set", &id, "description=three\r\nfour"]);
    let goal = home.json(&["show", &id, "--json"]);
    assert_eq!(goal["fields"]["description"], "three\nfour");
}

/// `set` changes fields, clears with an empty value, and reports an unchanged set.
#[test]
fn set_changes_fields() {
    let home = Home::new();
    let id = home.add(&["goal", "Ship", "-f", "due=2099-01-01"]);
    let out = home.ok(&["set", short(&id), "status=at risk", "due=", "owner=Ana"]);
    assert!(out.contains("set status, due, owner"), "{out}");
    let goal = home.json(&["show", &id, "--json"]);
    assert_eq!(goal["fields"]["status"], "at-risk");
    assert_eq!(goal["fields"]["due"], Value::Null);
    assert_eq!(goal["fields"]["owner"]["name"], "Ana");
    let again = home.ok(&["set", &id, "owner=Ana"]);
    assert!(again.contains("nothing changed"), "{again}");
    let json = home.json(&["set", &id, "progress=50", "--json"]);
    assert_eq!(json["fields"]["progress"], 50);
}

/// `done` on a task records today and schedules the next due date by its rule.
#[test]
fn done_schedules_the_next_task() {
    let home = Home::new();
    let id = home.add(&["task", "Weekly report", "-f", "recurrence=every 3 days"]);
    let out = home.ok(&["done", short(&id)]);
    let task = home.json(&["show", &id, "--json"]);
    let next = today().checked_add_days(Days::new(3)).expect("date");
    assert_eq!(task["fields"]["next_due"], next.to_string(), "{out}");
    assert_eq!(
        task["fields"]["history"],
        serde_json::json!([today().to_string()])
    );
    assert!(out.contains(&format!("next due {next}")), "{out}");
    let goal = home.add(&["goal", "Ship"]);
    let done = home.json(&["done", &goal, "--json"]);
    assert_eq!(done["fields"]["status"], "achieved");
}

/// A record moved to the trash leaves the list, shows in `--trash`, and comes back.
#[test]
fn trash_and_restore() {
    let home = Home::new();
    let id = home.add(&["note", "1:1 with Ben"]);
    home.ok(&["rm", short(&id)]);
    let list = home.ok(&["list", "notes"]);
    assert!(!list.contains(short(&id)), "{list}");
    let json = home.json(&["list", "notes", "--json"]);
    assert_eq!(json, serde_json::json!([]));
    let trash = home.ok(&["list", "notes", "--trash"]);
    assert!(
        trash.contains(short(&id)) && trash.contains("1:1 with Ben"),
        "{trash}"
    );
    assert!(home.ok(&["show", &id]).contains("in the trash"));
    let restored = home.json(&["restore", short(&id), "--json"]);
    assert_eq!(restored["deleted"], false);
    assert!(home.ok(&["list", "notes"]).contains(short(&id)));
    assert_eq!(
        home.json(&["list", "notes", "--trash", "--json"]),
        serde_json::json!([])
    );
}

/// Bad input fails with exit 1 or 2 and a message that says what to do, and saves nothing.
#[test]
fn errors_explain_and_change_nothing() {
    let home = Home::new();
    let goal = home.add(&["goal", "Ship"]);
    let task = home.add(&["task", "Report", "-f", "recurrence=weekly"]);
    let before = home.everything();
    let cases: &[(&[&str], i32, &[&str])] = &[
        (&["add", "gaol", "X"], 2, &["goal, commitment, task"]),
        (
            &["add", "goal", "X", "-f", "colour=red"],
            1,
            &["colour", "title, status, owner"],
        ),
        (
            &["add", "goal", "X", "-f", "due=31.12.2026"],
            1,
            &["Due", "YYYY-MM-DD", "+3d"],
        ),
        (&["add", "goal"], 2, &["<TITLE>"]),
        (&["add", "goal", " "], 1, &["title cannot be empty"]),
        (
            &["add", "task", "Report"],
            1,
            &["recurrence", "--field recurrence="],
        ),
        (&["add", "goal", "X", "-f", "due"], 1, &["key=value"]),
        (
            &["add", "goal", "X", "-f", "parent=ffffffff"],
            1,
            &["cairn list"],
        ),
        (
            &[
                "add",
                "goal",
                "X",
                "-f",
                &format!("parent={}", short(&task)),
            ],
            1,
            &["must name a goal", "is a task"],
        ),
        (&["show", "deadbeef"], 1, &["deadbeef", "cairn list <kind>"]),
        (&["set", "deadbeef", "title=X"], 1, &["cairn list <kind>"]),
        (&["set", &goal, "progress=140"], 1, &["Progress", "0–100"]),
        (&["done", "deadbeef"], 1, &["cairn list <kind>"]),
        (&["rm", "deadbeef"], 1, &["cairn list <kind>"]),
        (&["restore", "deadbeef"], 1, &["cairn list <kind>"]),
        (&["list", "things"], 2, &["use one of goal"]),
    ];
    for (args, code, hints) in cases {
        let (got, stderr) = home.fail(args);
        assert_eq!(got, *code, "cairn {args:?}: {stderr}");
        for hint in *hints {
            assert!(
                stderr.contains(hint),
                "cairn {args:?}: {stderr:?} lacks {hint:?}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(home.everything(), before);
}

/// Export writes the one format (manifest, records, history, CSV, Markdown) with
/// the expected content, and will not write into a non-empty directory without
/// --force.
#[test]
fn export_writes_every_part() {
    let home = Home::new();
    let ids = add_one_of_each(&home);
    home.ok(&["rm", &ids[5]]);
    let out = home.path().join("out");
    let out_str = out.to_str().expect("utf-8 path");

    let summary = home.json(&["export", "--out", out_str, "--json"]);
    assert_eq!(summary["records"], 6, "{summary}");
    assert_eq!(summary["source"], "this device", "{summary}");
    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(manifest["scope"]["kind"], "device", "{manifest}");
    assert!(out.join("README.txt").exists());
    let records = exported_records(&out);
    assert_eq!(records.len(), 6);
    let potential = records
        .iter()
        .find(|r| r["id"] == ids[5].as_str())
        .expect("trash exported");
    assert_eq!(potential["deleted"], true);
    let space = space_dir(&out);
    let history = read_json(&space.join("history.json"));
    let ops = history["ops"].as_array().expect("ops");
    assert!(
        ops.iter()
            .filter(|op| op["record"] == ids[5].as_str())
            .count()
            >= 3
    );
    let seqs: Vec<u64> = ops
        .iter()
        .map(|op| op["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=ops.len() as u64).collect::<Vec<_>>());

    let note = std::fs::read_to_string(space.join("conversations").join(format!("{}.md", ids[4])))
        .expect("note file");
    assert!(note.starts_with("---\n"), "{note}");
    assert!(note.contains(&format!("date: \"{}\"", today())), "{note}");
    assert!(note.contains("participants: \"Ana, Ben\""), "{note}");
    assert!(
        note.contains("## Notes\n\nTalked about goals.\nShe wants to lead, \"soon\"."),
        "{note}"
    );

    let csv_text = std::fs::read_to_string(space.join("note.csv")).expect("note.csv");
    assert!(csv_text.starts_with(
        "id,title,kind,date,participants,follow_up,private,commitments,agenda,notes,deleted,created,updated,conflicts\n"
    ), "{csv_text}");
    let mut reader = csv::Reader::from_path(space.join("note.csv")).expect("csv");
    let row = reader
        .records()
        .next()
        .expect("one row")
        .expect("valid row");
    assert_eq!(&row[0], ids[4]);
    assert_eq!(&row[9], "Talked about goals.\nShe wants to lead, \"soon\".");
    for file in [
        "goal",
        "commitment",
        "task",
        "activity",
        "potential",
        "history",
    ] {
        assert!(space.join(format!("{file}.csv")).exists(), "{file}.csv");
    }

    let (code, stderr) = home.fail(&["export", "--out", out_str]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--force"), "{stderr}");
    home.ok(&["export", "--out", out_str, "--force"]);
}

/// A goal with key results at 40% and 80% and 10% entered shows 60% in `show` (text
/// and JSON), `list --json` and the export's JSON and CSV; the 10 stays readable as
/// `progress_entered`.
#[test]
fn goal_progress_is_the_mean_of_its_key_results_everywhere() {
    let home = Home::new();
    let id = home.add(&[
        "goal",
        "Grow the team",
        "-f",
        "progress=10",
        "-f",
        "key_results=Hires: 4/10 people; Budget: 8/10",
    ]);
    let shown = home.json(&["show", &id, "--json"]);
    assert_eq!(shown["fields"]["progress"], 60, "{shown}");
    assert_eq!(shown["fields"]["progress_entered"], 10, "{shown}");
    let list = home.json(&["list", "goal", "--json"]);
    assert_eq!(list[0]["fields"]["progress"], 60, "{list}");
    let text = home.ok(&["show", &id]);
    assert!(
        text.contains("Progress:    60% (mean of 2 key results; 10% entered)"),
        "{text}"
    );
    let table = home.ok(&["list", "goal"]);
    assert!(table.contains("60%") && !table.contains("10%"), "{table}");

    let out = home.path().join("out");
    let out_str = out.to_str().expect("utf-8 path");
    home.ok(&["export", "--out", out_str]);
    let records = exported_records(&out);
    assert_eq!(records[0]["fields"]["progress"]["Int"], 60);
    assert_eq!(records[0]["fields"]["progress_entered"]["Int"], 10);
    let mut reader = csv::Reader::from_path(space_dir(&out).join("goal.csv")).expect("csv");
    let header = reader.headers().expect("header").clone();
    let row = reader.records().next().expect("a goal").expect("valid row");
    let cell = |name: &str| {
        let at = header.iter().position(|h| h == name).expect(name);
        row[at].to_owned()
    };
    assert_eq!(cell("progress"), "60");
    assert_eq!(cell("progress_entered"), "10");
}

/// Export, import into a fresh home and export again gives the same records; a second
/// import changes nothing.
#[test]
fn export_import_round_trip() {
    let source = Home::new();
    let ids = add_one_of_each(&source);
    source.ok(&["done", &ids[2]]);
    source.ok(&[
        "set",
        &ids[0],
        "key_results=Hires: 0.1/0.3 people; NPS: 30.5/50",
    ]);
    source.ok(&["rm", &ids[3]]);
    let first = source.path().join("first");
    source.ok(&["export", "--out", first.to_str().expect("path")]);
    let file = first.clone();

    let target = Home::new();
    let summary = target.json(&["import", file.to_str().expect("path"), "--json"]);
    assert_eq!(summary["records"], 6);
    assert!(summary["new_ops"].as_u64().expect("count") > 6);
    let after_first = target.everything();
    let again = target.json(&["import", file.to_str().expect("path"), "--json"]);
    assert_eq!(again["new_ops"], 0);
    assert_eq!(target.everything(), after_first);

    let second = target.path().join("second");
    target.ok(&["export", "--out", second.to_str().expect("path")]);
    assert_eq!(exported_records(&second), exported_records(&file));
    assert_eq!(
        read_json(&space_dir(&second).join("history.json")),
        read_json(&space_dir(&first).join("history.json"))
    );
    assert_eq!(source.everything(), after_first);
}

/// Edits of one field on two homes become a conflict showing both versions; `set` resolves it.
#[test]
fn conflicts_show_every_version_and_set_resolves() {
    let a = Home::new();
    let b = Home::new();
    let id = a.add(&["note", "1:1", "-f", "notes=base"]);
    let export = |home: &Home, name: &str| {
        let dir = home.path().join(name);
        home.ok(&["export", "--out", dir.to_str().expect("path")]);
        dir.to_str().expect("path").to_owned()
    };
    b.ok(&["import", &export(&a, "base")]);
    a.ok(&["set", &id, "notes=from A"]);
    b.ok(&["set", &id, "notes=from B"]);
    a.ok(&["import", &export(&b, "theirs")]);

    let show = a.ok(&["show", &id]);
    assert!(show.contains("Conflict in Notes: 2 versions"), "{show}");
    assert!(show.contains("from A") && show.contains("from B"), "{show}");
    assert!(a.ok(&["list", "notes"]).contains("conflict: notes"));
    let json = a.json(&["show", &id, "--json"]);
    assert_eq!(
        json["conflicts"]["notes"]
            .as_array()
            .expect("versions")
            .len(),
        2
    );
    let md = a.path().join("md");
    a.ok(&["export", "--out", md.to_str().expect("path")]);
    let note_dir = space_dir(&md).join("conversations");
    let file = std::fs::read_dir(&note_dir)
        .expect("dir")
        .next()
        .expect("file")
        .expect("entry");
    let text = std::fs::read_to_string(file.path()).expect("note");
    assert!(
        text.contains("## Conflicting versions of notes") && text.contains("from B"),
        "{text}"
    );

    a.ok(&["set", &id, "notes=merged"]);
    let json = a.json(&["show", &id, "--json"]);
    assert_eq!(json["conflicts"], serde_json::json!({}));
    assert_eq!(json["fields"]["notes"], "merged");
}

/// A file's content goes into a local export, listed with its SHA-256; importing
/// the export elsewhere puts it into that device's cache, so it opens offline; an
/// export whose content was changed is refused as a whole.
#[test]
fn export_and_import_carry_file_content() {
    let source = Home::new();
    let photo = source.path().join("photo.jpg");
    std::fs::write(&photo, b"PHOTO-CONTENT-MARKER and more bytes").expect("write photo");
    let added = source.json(&["files", "add", photo.to_str().expect("path"), "--json"]);
    let id = added["id"].as_str().expect("id").to_owned();
    let out = source.path().join("out");
    let summary = source.json(&["export", "--out", out.to_str().expect("path"), "--json"]);
    assert_eq!(summary["contents"]["copied"], 1, "{summary}");
    let manifest = read_json(&out.join("manifest.json"));
    let entry = &manifest["contents"][0];
    let sha = entry["sha256"].as_str().expect("sha256");
    assert_eq!(entry["names"][0], "photo.jpg", "{manifest}");
    assert_eq!(entry["records"][0], id.as_str(), "{manifest}");
    let content = out.join(entry["file"].as_str().expect("file"));
    assert!(content.ends_with(sha), "{}", content.display());
    assert_eq!(
        std::fs::read(&content).expect("content"),
        b"PHOTO-CONTENT-MARKER and more bytes"
    );

    let target = Home::new();
    let imported = target.json(&["import", out.to_str().expect("path"), "--json"]);
    assert_eq!(imported["contents"], 1, "{imported}");
    let got = target.path().join("got.jpg");
    target.ok(&["files", "get", &id, "--out", got.to_str().expect("path")]);
    assert_eq!(
        std::fs::read(&got).expect("got"),
        b"PHOTO-CONTENT-MARKER and more bytes"
    );

    std::fs::write(&content, b"something else entirely").expect("tamper");
    let other = Home::new();
    let before = other.everything();
    let (code, stderr) = other.fail(&["import", out.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("damaged") && stderr.contains(sha),
        "{stderr}"
    );
    assert_eq!(other.everything(), before);
}

/// Without a server, the first command of the day makes a local backup; `backup
/// now` makes another; `backup restore` puts one back after saying what it replaces
/// (only at a terminal or with --yes), and the data from before is kept aside.
#[test]
fn local_backups_are_made_daily_and_restore() {
    let home = Home::new();
    home.add(&["goal", "Before the backup"]);
    let daily = home.json(&["backup", "list", "--json"]);
    let daily = daily.as_array().expect("list");
    assert_eq!(daily.len(), 1, "the daily backup: {daily:?}");
    assert_eq!(daily[0]["records"], 1);
    let first = daily[0]["id"].as_str().expect("id").to_owned();
    home.add(&["goal", "After the backup"]);
    assert_eq!(
        home.json(&["backup", "list", "--json"])
            .as_array()
            .expect("list")
            .len(),
        1,
        "one a day"
    );
    let now = home.json(&["backup", "now", "--json"]);
    assert_eq!(now["records"], 2, "{now}");
    assert_eq!(
        home.json(&["backup", "list", "--json"])
            .as_array()
            .expect("list")
            .len(),
        2,
        "today's backups all stay"
    );
    let (code, stderr) = home.fail(&["backup", "restore", &first]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--yes"), "{stderr}");
    let restored = home.ok(&["backup", "restore", &first, "--yes"]);
    assert!(restored.contains("replica.before-restore"), "{restored}");
    let goals = home.ok(&["list", "goals"]);
    assert!(
        goals.contains("Before the backup") && !goals.contains("After the backup"),
        "{goals}"
    );
    let (_, stderr) = home.fail(&["backup", "restore", "1999-01-01T000000.000Z", "--yes"]);
    assert!(stderr.contains("cairn backup list"), "{stderr}");
}

/// A malformed or foreign import file is refused by name, and nothing is written.
#[test]
fn bad_import_files_are_refused() {
    let home = Home::new();
    home.add(&["goal", "Keep me"]);
    let before = home.everything();
    let bad = home.path().join("bad.json");
    let cases = [
        ("{\"format\": \"cairn-export\", ", "not JSON"),
        ("{\"name\": \"something else\"}", "not a Cairn export"),
        (
            "{\"format\": \"cairn-export\", \"format_version\": 7, \"records\": []}",
            "upgrade cairn",
        ),
        (
            "{\"format\": \"cairn-export\", \"format_version\": 1, \"records\": [{\"id\": 3}]}",
            "damaged",
        ),
    ];
    for (text, hint) in cases {
        std::fs::write(&bad, text).expect("write");
        let (code, stderr) = home.fail(&["import", bad.to_str().expect("path")]);
        assert_eq!(code, 1);
        assert!(
            stderr.contains("bad.json") && stderr.contains(hint),
            "{stderr}"
        );
    }
    let (_, stderr) = home.fail(&["import", "/nonexistent/cairn-export.json"]);
    assert!(stderr.contains("cannot read"), "{stderr}");

    // An export directory of another format version, and a directory that is no export.
    let dir = home.path().join("exp");
    home.ok(&["export", "--out", dir.to_str().expect("path")]);
    let manifest = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        text.replace("\"format_version\": 2", "\"format_version\": 9"),
    )
    .expect("write");
    let (_, stderr) = home.fail(&["import", dir.to_str().expect("path")]);
    assert!(stderr.contains("version 9"), "{stderr}");
    let (_, stderr) = home.fail(&["import", home.path().to_str().expect("path")]);
    assert!(stderr.contains("not a Cairn export"), "{stderr}");
    assert_eq!(home.everything(), before);
}

/// A second cairn on the same data directory gets a clear error instead of waiting or corrupting.
#[test]
fn locked_replica_is_reported() {
    let home = Home::new();
    let paths = cairn_client::paths::Paths::under(home.path().to_owned());
    let _held = cairn_client::replica::Replica::open(&paths.data_dir).expect("open replica");
    let (code, stderr) = home.fail(&["list", "goals"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("another cairn is already using"),
        "{stderr}"
    );
}

/// With the replica held by a running TUI (its socket served here as the TUI does),
/// commands still work: their output, errors and exit codes are those of a direct run,
/// relative paths start in the caller's directory, and the TUI hears which records
/// changed.
#[test]
fn commands_work_while_a_tui_holds_the_replica() {
    let home = Home::new();
    let paths = cairn_client::paths::Paths::under(home.path().to_owned());
    let replica = cairn_client::replica::Replica::open(&paths.data_dir).expect("open replica");
    let background = cairn_client::sync::Background::start(
        replica.clone(),
        std::time::Duration::from_secs(3600),
        |_| {},
    );
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let tui = std::sync::Arc::clone(&heard);
    let served = cairn_client::cli::Served::new(
        paths.clone(),
        replica.clone(),
        background.handle(),
        move |ids| tui.lock().expect("lock").extend(ids),
    );
    let listener =
        cairn_client::socket::Listener::start(&paths.data_dir, std::sync::Arc::new(served))
            .expect("listen");

    let added = home.json(&["add", "goal", "From the shell", "--json"]);
    let id = added["id"].as_str().expect("id").to_owned();
    assert_eq!(heard.lock().expect("lock").len(), 1);
    assert_eq!(heard.lock().expect("lock")[0].to_string(), id);
    assert_eq!(home.json(&["list", "goal", "--json"])[0]["id"], id.as_str());
    let set = home.ok(&["set", short(&id), "status=at-risk"]);
    assert!(set.contains("set status"), "{set}");
    assert_eq!(heard.lock().expect("lock").len(), 2);

    let (code, stderr) = home.fail(&["show", "ffffffff"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("cairn: error: no record matches \"ffffffff\""),
        "{stderr}"
    );
    let (code, stderr) = home.fail(&["add", "planet", "Pluto"]);
    assert_eq!(code, 2, "usage errors stay clap's: {stderr}");
    let (code, stderr) = home.fail(&["login", "https://cairn.example", "--email", "a@b.c"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("close it and run `cairn login` again"),
        "{stderr}"
    );

    let work = home.path().join("work");
    std::fs::create_dir(&work).expect("work dir");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["export", "--out", "backup"])
        .current_dir(&work)
        .env("CAIRN_HOME", home.path())
        .output()
        .expect("run cairn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert!(printed.contains("to backup ("), "{printed}");
    assert!(work.join("backup/manifest.json").exists());

    drop(listener);
    background.stop(std::time::Duration::from_secs(5));
}

/// `--help` of add and set lists every kind's fields with their hints.
#[test]
fn help_lists_fields() {
    let home = Home::new();
    for command in ["add", "set"] {
        let help = home.ok(&[command, "--help"]);
        assert!(
            help.contains("recurrence*") && help.contains("every 2 weeks"),
            "{help}"
        );
        assert!(help.contains("Examples:"), "{help}");
    }
}

/// `cairn people suggest` lists the names records use for people that have no person
/// record (case and spaces aside, most used first); `--create` makes them people,
/// after which nothing is left to suggest.
#[test]
fn people_suggest_offers_names_in_use() {
    let home = Home::new();
    home.ok(&["add", "goal", "Hire", "--field", "owner=Ana Lind"]);
    home.ok(&[
        "add",
        "commitment",
        "Guide",
        "--field",
        "by=ana  lind",
        "--field",
        "to=Ben",
    ]);
    home.ok(&["add", "person", "Ben"]);
    let listed = home.ok(&["people", "suggest"]);
    assert!(listed.contains("Ana Lind  2"), "{listed}");
    assert!(!listed.contains("Ben"), "{listed}");
    let created: serde_json::Value =
        serde_json::from_str(&home.ok(&["people", "suggest", "--create", "--json"])).expect("json");
    assert_eq!(created["created"].as_array().map(Vec::len), Some(1));
    let people: serde_json::Value =
        serde_json::from_str(&home.ok(&["list", "people", "--json"])).expect("json");
    assert_eq!(people.as_array().map(Vec::len), Some(2));
    assert!(home.ok(&["people", "suggest"]).contains("Every name"));
    assert_eq!(created["linked_records"], 2, "{created}");
    let ana = created["created"][0].as_str().expect("id");
    let goals = home.json(&["list", "goal", "--json"]);
    assert_eq!(goals[0]["fields"]["owner"]["id"], ana, "{goals}");
}

/// A person field given on the command line links the person it names (by name,
/// case and spaces aside, or by short id) and keeps any other name as a name;
/// two people of one name need the short id.
#[test]
fn person_fields_link_people_by_name_or_id() {
    let home = Home::new();
    let ana = home.add(&["person", "Ana Lind"]);
    let by_name = home.add(&["goal", "Hire", "--field", "owner=ana  lind"]);
    let goal = home.json(&["show", &by_name, "--json"]);
    assert_eq!(goal["fields"]["owner"]["id"], ana.as_str(), "{goal}");
    assert_eq!(goal["fields"]["owner"]["name"], "Ana Lind", "{goal}");
    let by_id = home.add(&[
        "note",
        "1:1",
        "--field",
        &format!("participants={}, Zed", short(&ana)),
    ]);
    let note = home.json(&["show", &by_id, "--json"]);
    assert_eq!(
        note["fields"]["participants"][0]["id"],
        ana.as_str(),
        "{note}"
    );
    assert_eq!(note["fields"]["participants"][1]["name"], "Zed", "{note}");
    assert_eq!(
        note["fields"]["participants"][1]["id"],
        Value::Null,
        "{note}"
    );
    let shown = home.ok(&["show", &by_id]);
    assert!(shown.contains("Ana Lind ("), "{shown}");
    assert!(
        shown.contains(", Zed") && !shown.contains("Zed ("),
        "{shown}"
    );
    home.add(&["person", "Ana Lind"]);
    let (_, err) = home.fail(&["add", "goal", "Two", "--field", "owner=Ana Lind"]);
    assert!(
        err.contains("2 people are named") && err.contains("short id"),
        "{err}"
    );
}
