//! Admin commands give the same results on a stopped data dir (direct) and on a
//! running server (control socket).

use crate::store::Blocking as _;
use std::os::unix::fs::PermissionsExt;

use super::client::send;
use super::protocol::{AdminRequest, AdminResponse};
use crate::datadir::DataDir;
use crate::settings::Secret;
use crate::store::Store;
use crate::testing::TestServer;

fn add(email: &str, password: Option<&str>) -> AdminRequest {
    AdminRequest::AddUser {
        email: email.into(),
        first_name: "First".into(),
        last_name: "Last".into(),
        password: password.map(|p| Secret(p.into())),
    }
}

fn disable(email: &str, disabled: bool) -> AdminRequest {
    AdminRequest::SetDisabled {
        email: email.into(),
        disabled,
    }
}

/// Every kind of command, including refusals.
fn script() -> Vec<AdminRequest> {
    vec![
        add("alice@example.com", Some("alice-password-1")),
        add("bob@example.com", None),
        add("Alice@Example.com", Some("another-password")),
        add("admin", Some("admin-password-2")),
        add("carol@example.com", Some("short")),
        disable("bob@example.com", true),
        disable("nobody@example.com", true),
        AdminRequest::ResetPassword {
            email: "alice@example.com".into(),
            password: Some(Secret("alice-password-2".into())),
        },
        AdminRequest::ResetPassword {
            email: "bob@example.com".into(),
            password: None,
        },
        disable("bob@example.com", false),
        disable("alice@example.com", true),
        AdminRequest::ListUsers,
    ]
}

/// Blanks what differs between two runs (ids, times, generated passwords) after
/// checking generated passwords look right; returns bob's last generated password.
fn normalize(responses: &mut [AdminResponse]) -> Option<String> {
    let mut bobs = None;
    let mut check = |p: &mut Option<Secret>| {
        if let Some(secret) = p {
            assert_eq!(secret.expose().len(), 20, "generated password length");
            bobs = Some(secret.expose().to_string());
            *secret = Secret("<generated>".into());
        }
    };
    for response in responses.iter_mut() {
        match response {
            AdminResponse::UserAdded {
                user,
                generated_password,
            } => {
                user.id.clear();
                user.created_at_ms = 0;
                check(generated_password);
            }
            AdminResponse::PasswordReset {
                generated_password, ..
            } => check(generated_password),
            AdminResponse::Users(users) => {
                for user in users {
                    user.id.clear();
                    user.created_at_ms = 0;
                }
            }
            _ => {}
        }
    }
    bobs
}

/// The same script gives the same answers on a stopped dir and through a running
/// server's control socket, and both leave working passwords in the store.
#[test]
fn stopped_and_running_give_same_results() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let stopped_dir = tmp.path().join("stopped");
    crate::init::init(&stopped_dir, &[]).expect("init");
    let data = DataDir::new(&stopped_dir);
    let mut direct: Vec<AdminResponse> = script()
        .into_iter()
        .map(|r| send(&data, r).expect("direct command runs"))
        .collect();
    let bob_direct = normalize(&mut direct).expect("bob got a password");

    let server = TestServer::start().expect("server");
    let running_dir = server.data_dir().to_path_buf();
    assert!(
        DataDir::new(&running_dir)
            .try_lock()
            .expect("try")
            .is_none(),
        "server holds the dir"
    );
    let mut through: Vec<AdminResponse> = script()
        .into_iter()
        .map(|r| server.admin(r).expect("socket command runs"))
        .collect();
    let bob_running = normalize(&mut through).expect("bob got a password");
    assert_eq!(direct, through);
    let _kept = server.stop().expect("clean stop");

    let failures = direct
        .iter()
        .filter(|r| matches!(r, AdminResponse::Failed { .. }))
        .count();
    assert_eq!(
        failures, 4,
        "duplicate, reserved, weak, unknown: {direct:#?}"
    );
    let AdminResponse::Users(users) = direct.last().expect("list") else {
        panic!("last answer is the list: {direct:#?}");
    };
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["admin", "alice@example.com", "bob@example.com"]);
    assert!(users[1].disabled && users[1].must_change_password && !users[2].disabled);

    for (dir, bob) in [(&stopped_dir, bob_direct), (&running_dir, bob_running)] {
        let store = Store::open(&DataDir::new(dir).db()).expect("store");
        let record = store
            .user_by_email("bob@example.com")
            .wait()
            .expect("read")
            .expect("bob");
        assert!(
            crate::auth::password::verify(&record.password_hash, &bob),
            "{}",
            dir.display()
        );
    }
}

/// The control socket is 0600 while the server runs, a stale socket file is
/// replaced at start, and the file is gone after shutdown.
#[test]
fn control_socket_lifecycle() {
    let server = TestServer::start().expect("server");
    let socket = DataDir::new(server.data_dir()).control_socket();
    let mode = std::fs::metadata(&socket)
        .expect("socket exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir = server.data_dir().to_path_buf();
    let _kept = server.stop().expect("stop");
    assert!(!socket.exists(), "socket removed at shutdown");

    // A server killed without cleanup leaves the file behind.
    std::fs::write(&socket, b"stale").expect("stale file");
    let settings = crate::settings::Settings::load(&dir, []).expect("settings");
    let instance = crate::serve::Instance::open(settings).expect("open");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let data = DataDir::new(&dir);
            // Asked only once the socket listens: before, the stale file is there.
            let (asked, ask) = tokio::sync::oneshot::channel();
            let ready = move || {
                let _ = asked.send(tokio::task::spawn_blocking(move || {
                    send(&data, AdminRequest::ListUsers)
                }));
            };
            instance
                .serve_and_notify(listener, ready, async move {
                    let ask = ask.await.expect("ready");
                    let answer = ask.await.expect("no panic").expect("answered");
                    assert!(
                        matches!(answer, AdminResponse::Users(ref u) if u.len() == 1),
                        "{answer:?}"
                    );
                })
                .await
        })
        .expect("serve with a stale socket file");
}

/// A data dir locked by a process without a control socket gives an error that
/// says so, and a dir that was never set up says to run init.
#[test]
fn unreachable_and_uninitialized_dirs_explain() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let err = send(&DataDir::new(tmp.path()), AdminRequest::ListUsers).expect_err("not set up");
    assert!(err.to_string().contains("cairn-server init"), "{err}");

    let dir = tmp.path().join("data");
    crate::init::init(&dir, &[]).expect("init");
    let data = DataDir::new(&dir);
    let _held = data.lock().expect("lock");
    let err = send(&data, AdminRequest::ListUsers).expect_err("locked, no socket");
    assert!(format!("{err:#}").contains("does not answer"), "{err:#}");
}

/// Account commands land in the audit log, which lists and verifies through the
/// same commands.
#[test]
fn account_commands_are_audited() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    crate::init::init(&dir, &[]).expect("init");
    let data = DataDir::new(&dir);
    for request in [
        add("dora@example.com", Some("dora-password-1")),
        disable("dora@example.com", true),
        disable("dora@example.com", false),
        AdminRequest::ResetPassword {
            email: "dora@example.com".into(),
            password: None,
        },
    ] {
        send(&data, request).expect("command");
    }
    let AdminResponse::AuditEntries(entries) = send(&data, AdminRequest::AuditList).expect("list")
    else {
        panic!("not a list");
    };
    let kinds: Vec<(&str, Option<&str>)> = entries
        .iter()
        .map(|e| (e.kind.as_str(), e.subject.as_deref()))
        .collect();
    let dora = Some("dora@example.com");
    assert_eq!(
        kinds,
        [
            ("account-created", dora),
            ("account-disabled", dora),
            ("account-enabled", dora),
            ("password-reset", dora),
        ]
    );
    assert!(matches!(
        send(&data, AdminRequest::AuditVerify).expect("verify"),
        AdminResponse::AuditVerified(crate::store::AuditVerification::Intact { entries: 4, .. })
    ));
}
