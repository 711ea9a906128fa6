//! The sync commands, run as the real `cairn` binary against the real server
//! (`cairn_server::testing::TestServer` on 127.0.0.1, port 0, in a temp dir), one
//! process per command, each person in their own `CAIRN_HOME`.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cairn_server::admin::AdminRequest;
use cairn_server::settings::Secret;
use cairn_server::testing::TestServer;
use serde_json::Value;

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .env("CAIRN_HOME", self.dir.path())
            .env_remove("XDG_DATA_HOME")
            // No system roots influence the outcome of the trust tests.
            .env("SSL_CERT_FILE", self.dir.path().join("no-such-roots.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run cairn");
        let written = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes());
        // A command that fails before reading its input closes the pipe early.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
        child.wait_with_output().expect("wait for cairn")
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, "")
    }

    fn ok_with(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "cairn {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// A command that must fail; its stderr.
    fn fail(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(!out.status.success(), "cairn {args:?} should fail");
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    fn login(&self, server: &TestServer, email: &str, password: &str) -> String {
        self.ok_with(
            &[
                "login",
                &server.url(),
                "--email",
                email,
                "--password-stdin",
                "--fingerprint",
                &server.fingerprint,
            ],
            &format!("{password}\n"),
        )
    }

    fn titles(&self) -> Vec<String> {
        let json: Value =
            serde_json::from_str(&self.ok(&["list", "goal", "--json"])).expect("json");
        json.as_array()
            .expect("array")
            .iter()
            .map(|r| r["fields"]["title"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

const ANA_PW: &str = "a long new password for ana";
const BEN_FIRST: &str = "the initial password of ben";
const BEN_PW: &str = "a long new password for ben";

/// Login (https only, untrusted certificates explained, the password gate), a record
/// made before the login reaching the server, passwd, sync --json, spaces with
/// members and roles, a second user receiving and then losing a shared space, and
/// logout online and offline.
#[test]
fn login_sync_spaces_passwd_logout() {
    let server = TestServer::start().expect("server");
    let ana = Home::new();
    ana.ok(&["add", "goal", "Before login"]);

    let err = ana.fail(
        &[
            "login",
            "http://127.0.0.1:9",
            "--email",
            "admin",
            "--password-stdin",
        ],
        "x\n",
    );
    assert!(err.contains("https://127.0.0.1:9"), "{err}");
    let err = ana.fail(
        &[
            "login",
            &server.url(),
            "--email",
            "admin",
            "--password-stdin",
        ],
        &format!("{}\n", server.admin_password),
    );
    assert!(
        err.contains("--fingerprint") && err.contains("--ca-file"),
        "{err}"
    );

    let out = ana.login(&server, "admin", &server.admin_password);
    assert!(out.contains("cairn passwd"), "{out}");
    assert!(out.contains("1 record(s)"), "{out}");
    let err = ana.fail(&["sync"], "");
    assert!(err.contains("cairn passwd"), "{err}");
    let out = ana.ok_with(
        &["passwd", "--password-stdin"],
        &format!("{}\n{ANA_PW}\n", server.admin_password),
    );
    assert!(out.contains("Password changed"), "{out}");
    // Then the privacy notice: sync says how to accept it; `--show` reads it,
    // accepting without a terminal needs `--yes`.
    let err = ana.fail(&["sync"], "");
    assert!(err.contains("cairn account consent"), "{err}");
    let notice = ana.ok(&["account", "consent", "--show"]);
    assert!(notice.contains("withdraw"), "{notice}");
    let err = ana.fail(&["account", "consent"], "");
    assert!(err.contains("--yes"), "{err}");
    let out = ana.ok(&["account", "consent", "--yes"]);
    assert!(out.contains("Accepted the privacy notice"), "{out}");
    let summary: Value = serde_json::from_str(&ana.ok(&["sync", "--json"])).expect("json");
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(
        summary["pushed"].as_u64().expect("pushed") >= 2,
        "{summary}"
    );
    assert_eq!(summary["pending"], 0);

    server
        .admin(AdminRequest::AddUser {
            email: "ben@example.com".into(),
            first_name: "Ben".into(),
            last_name: "Ode".into(),
            password: Some(Secret(BEN_FIRST.into())),
        })
        .expect("add ben");
    let out = ana.ok(&["spaces", "create", "Team Nord"]);
    assert!(out.contains("Team Nord"), "{out}");
    let out = ana.ok(&["spaces", "add-member", "team nord", "ben@example.com"]);
    assert!(out.contains("ben@example.com is now editor"), "{out}");
    let spaces: Value = serde_json::from_str(&ana.ok(&["spaces", "list", "--json"])).expect("json");
    assert_eq!(spaces.as_array().expect("array").len(), 2, "{spaces}");
    let out = ana.ok(&["sync"]);
    assert!(out.contains("new spaces: Team Nord"), "{out}");
    ana.ok(&["add", "goal", "Shared plan", "--space", "Team Nord"]);
    ana.ok(&["sync"]);

    let ben = Home::new();
    ben.login(&server, "ben@example.com", BEN_FIRST);
    ben.ok_with(
        &["passwd", "--password-stdin"],
        &format!("{BEN_FIRST}\n{BEN_PW}\n"),
    );
    ben.ok(&["account", "consent", "--yes"]);
    ben.ok(&["sync"]);
    assert_eq!(ben.titles(), vec!["Shared plan".to_owned()]);

    let out = ana.ok(&["spaces", "role", "Team Nord", "ben@example.com", "viewer"]);
    assert!(out.contains("viewer"), "{out}");
    // Written while ben still thinks he is an editor: held back, not lost, and the
    // rest of the outbox goes out.
    ben.ok(&["add", "goal", "Written too late", "--space", "Team Nord"]);
    ben.ok(&["add", "goal", "Ben's own"]);
    let summary: Value = serde_json::from_str(&ben.ok(&["sync", "--json"])).expect("json");
    let held = summary["held"].as_u64().expect("held");
    assert!(held > 0, "{summary}");
    assert!(summary["pushed"].as_u64().expect("pushed") > 0, "{summary}");
    assert_eq!(summary["pending"].as_u64(), Some(held), "{summary}");
    let out = ben.ok(&["sync"]);
    assert!(out.contains("in spaces you can now only read"), "{out}");
    let err = ben.fail(&["add", "goal", "Not mine", "--space", "Team Nord"], "");
    assert!(err.contains("only read"), "{err}");
    ana.ok(&["spaces", "remove-member", "Team Nord", "ben@example.com"]);
    let out = ben.ok(&["sync"]);
    assert!(out.contains("removed here: Team Nord"), "{out}");
    assert_eq!(ben.titles(), vec!["Ben's own".to_owned()]);

    let out = ana.ok(&["logout"]);
    assert!(out.contains("Logged out of"), "{out}");
    let err = ana.fail(&["sync"], "");
    assert!(err.contains("cairn login"), "{err}");
    assert_eq!(ana.titles().len(), 2, "local data stays after logout");

    drop(server);
    let out = ben.ok(&["logout"]);
    assert!(out.contains("could not be reached"), "{out}");
    assert!(!ben.data_dir().join("session.toml").exists());
}

/// With the replica held by a running TUI (its sync thread here), `cairn sync` asks
/// it over `tui.sock` and prints its answer; with nobody answering it fails clearly.
#[test]
fn sync_while_the_tui_holds_the_replica() {
    let server = TestServer::start().expect("server");
    let home = Home::new();
    home.login(&server, "admin", &server.admin_password);
    home.ok_with(
        &["passwd", "--password-stdin"],
        &format!("{}\n{ANA_PW}\n", server.admin_password),
    );
    home.ok(&["account", "consent", "--yes"]);
    home.ok(&["add", "goal", "Queued"]);
    let replica = cairn_client::replica::Replica::open(&home.data_dir()).expect("open");
    let background =
        cairn_client::sync::Background::start(replica.clone(), Duration::from_secs(3600), |_| {});
    let paths = cairn_client::paths::Paths::under(home.dir.path().to_owned());
    let served =
        cairn_client::cli::Served::new(paths, replica.clone(), background.handle(), |_| {});
    let listener =
        cairn_client::socket::Listener::start(&home.data_dir(), std::sync::Arc::new(served))
            .expect("listen");
    let summary: Value = serde_json::from_str(&home.ok(&["sync", "--json"])).expect("json");
    assert_eq!(summary["ok"], true, "{summary}");
    assert_eq!(summary["pending"], 0);
    assert_eq!(replica.outbox_len(), 0);
    drop(listener);
    background.stop(Duration::from_secs(5));
    let err = home.fail(&["sync"], "");
    assert!(err.contains("no TUI answered"), "{err}");
}

/// Logged in, `cairn export` fetches what the server holds about the user (records
/// synced from elsewhere included) in the chosen format and nothing of other users;
/// `--local` exports the replica instead.
#[test]
fn export_over_the_api_holds_only_the_users_data() {
    let server = TestServer::start().expect("server");
    let mut homes = Vec::new();
    for name in ["ann", "eve"] {
        let first = format!("the initial password of {name}");
        let new = format!("a long new password for {name}");
        server
            .admin(AdminRequest::AddUser {
                email: format!("{name}@example.com"),
                first_name: name.into(),
                last_name: "Test".into(),
                password: Some(Secret(first.clone())),
            })
            .expect("add user");
        let home = Home::new();
        home.login(&server, &format!("{name}@example.com"), &first);
        home.ok_with(
            &["passwd", "--password-stdin"],
            &format!("{first}\n{new}\n"),
        );
        home.ok(&["account", "consent", "--yes"]);
        home.ok(&["add", "goal", &format!("{}-MARKER", name.to_uppercase())]);
        home.ok(&["sync"]);
        homes.push(home);
    }
    let ann = &homes[0];
    let out = ann.dir.path().join("export");
    let printed = ann.ok(&["export", "--out", out.to_str().expect("utf-8")]);
    assert!(printed.contains("README.txt"), "{printed}");
    let mut text = String::new();
    let mut names = Vec::new();
    let mut todo = vec![out.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                names.push(
                    path.file_name()
                        .expect("name")
                        .to_string_lossy()
                        .into_owned(),
                );
                text.push_str(&std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    assert!(names.iter().any(|n| n == "manifest.json") && names.iter().any(|n| n == "user.json"));
    assert!(
        names.iter().all(|n| n == "README.txt"
            || n.ends_with(".json")
            || n.ends_with(".csv")
            || n.ends_with(".md")),
        "{names:?}"
    );
    assert!(text.contains("ANN-MARKER") && text.contains("\"by_you\": true"));
    assert!(!text.contains("EVE-MARKER") && !text.contains("eve@example.com"));

    let space_dirs: Vec<_> = std::fs::read_dir(out.join("spaces"))
        .expect("spaces dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(space_dirs.len(), 1, "ann's personal space only");
    let goals = std::fs::read_to_string(space_dirs[0].join("goal.csv")).expect("goal.csv");
    assert!(
        goals.starts_with("id,title,") && goals.contains("ANN-MARKER"),
        "{goals}"
    );

    let local = ann.dir.path().join("export-local");
    ann.ok(&["export", "--local", "--out", local.to_str().expect("utf-8")]);
    let manifest = std::fs::read_to_string(local.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"device\""), "{manifest}");
}
