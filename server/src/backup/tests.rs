//! Backups against a real server (TestServer over TLS, temp dirs): consistent cuts
//! under pushes, backup → restore → the same pulls, damage detection, failure
//! reporting, refusal on a running server, retention and the scheduler.

use crate::store::Blocking as _;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use cairn_common::api::{
    CONTENT_TYPE, Cursor, Endpoint, LoginRequest, LoginResponse, PROTOCOL_HEADER, PROTOCOL_VERSION,
    PullRequest, PullResponse, PushRequest, PushResponse, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{RecordId, RecordKind, Role, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use cairn_common::progress::Quiet;
use http_body_util::Full;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::verify::{self, Checked};
use super::{BackupError, Backups, create, format::Manifest};
use crate::admin::{AdminRequest, AdminResponse};
use crate::admin::{BackupRequest, BackupResponse};
use crate::datadir::DataDir;
use crate::store::Store;
use crate::testing::{Conn, Http, TestServer};

fn add_user(store: &Store, name: &str) -> UserId {
    let profile = crate::store::test_support::facade_user(store, name);
    crate::store::test_support::accept_built_in_notice(store, &profile);
    profile.id
}

async fn call<Req: Serialize, Res: DeserializeOwned>(
    conn: &mut Conn,
    path: &str,
    token: Option<&str>,
    body: &Req,
) -> Res {
    let mut request = hyper::Request::post(format!("https://localhost{path}"))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("content-type", CONTENT_TYPE);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(codec::encode(body).expect("encode"))))
        .expect("request");
    let (status, body) = conn.send(request).await.expect("send");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    codec::decode(&body).expect("decode answer")
}

async fn login(conn: &mut Conn, name: &str) -> String {
    let response: LoginResponse = call(
        conn,
        endpoints::Login::PATH,
        None,
        &LoginRequest {
            email: format!("{name}@example.com"),
            password: format!("password-of-{name}"),
            device: "backup-test".into(),
        },
    )
    .await;
    response.token
}

/// Every op the user can pull, per space in seq order, and the spaces listed.
async fn pull_all(conn: &mut Conn, token: &str) -> (Vec<String>, BTreeMap<SpaceId, Vec<Op>>) {
    let mut cursors: HashMap<SpaceId, u64> = HashMap::new();
    let mut ops: BTreeMap<SpaceId, Vec<Op>> = BTreeMap::new();
    loop {
        let request = PullRequest {
            epoch: None,
            cursors: cursors
                .iter()
                .map(|(&space, &seq)| Cursor { space, seq })
                .collect(),
            max_ops: 500,
        };
        let page: PullResponse = call(conn, endpoints::Pull::PATH, Some(token), &request).await;
        for batch in page.batches {
            cursors.insert(batch.space, batch.cursor);
            ops.entry(batch.space).or_default().extend(batch.ops);
        }
        if !page.more {
            let mut spaces: Vec<String> = page
                .spaces
                .iter()
                .map(|s| {
                    format!(
                        "{} {} {:?} {}",
                        s.space.id, s.space.name, s.role, s.space.personal
                    )
                })
                .collect();
            spaces.sort();
            return (spaces, ops);
        }
    }
}

fn op(space: SpaceId, record: RecordId, author: UserId, change: Change) -> Op {
    Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms: crate::clock::now_ms(),
            counter: 0,
            node: NodeId(3),
        },
        author,
        change,
    }
}

fn goal(space: SpaceId, author: UserId, title: &str) -> Vec<Op> {
    let record = RecordId::new();
    vec![
        op(
            space,
            record,
            author,
            Change::Create {
                kind: RecordKind::Goal,
            },
        ),
        op(
            space,
            record,
            author,
            Change::Set {
                field: "title".into(),
                value: Value::Text(title.into()),
                replaces: vec![],
            },
        ),
    ]
}

fn backup_now(server: &TestServer) -> BackupResponse {
    match server
        .admin(AdminRequest::Backup(BackupRequest::Now))
        .expect("admin")
    {
        AdminResponse::Backup(response) => response,
        other => panic!("backup now failed: {other:?}"),
    }
}

fn created_id(response: &BackupResponse) -> String {
    match response {
        BackupResponse::Created { backup, .. } => backup.id.clone(),
        other => panic!("not a new backup: {other:?}"),
    }
}

/// The ops of a backup per space (seq → op), after a full verify.
fn backup_ops(dir: &Path, id: &str) -> (Manifest, HashMap<SpaceId, BTreeMap<u64, Op>>) {
    let path = dir.join(id);
    let manifest = verify::verify_dir(&path, id, &Quiet).expect("backup verifies");
    let mut ops: HashMap<SpaceId, BTreeMap<u64, Op>> = HashMap::new();
    verify::walk(&path, &manifest, "walking", &Quiet, |record| {
        if let Checked::Op { seq, op, .. } = record {
            ops.entry(op.space).or_default().insert(seq, op);
        }
        Ok(())
    })
    .expect("walk");
    (manifest, ops)
}

/// Backups taken while two clients push ops into two spaces at once (one op in
/// each space per push) are consistent cuts: every space holds exactly seqs
/// 1..=its cut, equal to what the server holds there, and each push is in the
/// backup with both its ops or with neither.
#[test]
fn backup_during_pushes_is_a_consistent_cut() {
    let server = TestServer::start().expect("server");
    let store = server.store().clone();
    let ann = add_user(&store, "ann");
    let bob = add_user(&store, "bob");
    let team = store
        .create_space(ann, "Team")
        .wait()
        .expect("space")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Editor))
        .wait()
        .expect("member");
    let personal = |u| {
        store
            .user(u)
            .wait()
            .expect("user")
            .expect("exists")
            .personal_space
    };
    let (ann_home, bob_home) = (personal(ann), personal(bob));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let mut pushers = Vec::new();
    for (name, user, home) in [("ann", ann, ann_home), ("bob", bob, bob_home)] {
        let stop = stop.clone();
        let (addr, der) = (server.addr, server.cert_der.clone());
        pushers.push(runtime.spawn(async move {
            let mut conn = Conn::connect(addr, &der, Http::Two).await.expect("connect");
            let token = login(&mut conn, name).await;
            let mut pairs = Vec::new();
            while !stop.load(Ordering::Acquire) {
                // One record created in each space in one push: atomic across spaces.
                let a = goal(home, user, "home");
                let b = goal(team, user, "team");
                let ops: Vec<Op> = a.iter().chain(&b).cloned().collect();
                let done: PushResponse = call(
                    &mut conn,
                    endpoints::Push::PATH,
                    Some(&token),
                    &PushRequest { ops },
                )
                .await;
                assert_eq!(done.stored, 4);
                pairs.push((a[0].id, b[0].id));
            }
            pairs
        }));
    }
    let wait_for_ops = |n: u64| {
        while store.last_seq(team).wait().expect("seq") < n {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    // Read back at once: retention keeps only the newest backup of a day.
    let dir = DataDir::new(server.data_dir()).backups();
    let mut backups = Vec::new();
    for round in 1..=3u64 {
        wait_for_ops(round * 40);
        let id = created_id(&backup_now(&server));
        backups.push((id.clone(), backup_ops(&dir, &id)));
    }
    stop.store(true, Ordering::Release);
    let pairs: Vec<(OpId, OpId)> = runtime.block_on(async {
        let mut all = Vec::new();
        for p in pushers {
            all.extend(p.await.expect("pusher"));
        }
        all
    });

    for (id, (manifest, ops)) in backups {
        assert!(manifest.ops > 0);
        for cut in &manifest.spaces {
            let held = ops.get(&cut.space).cloned().unwrap_or_default();
            let seqs: Vec<u64> = held.keys().copied().collect();
            assert_eq!(
                seqs,
                (1..=cut.seq).collect::<Vec<_>>(),
                "space {}",
                cut.space
            );
            let live = store
                .ops_after(cut.space, 0, usize::MAX, usize::MAX, true)
                .wait()
                .expect("live ops");
            assert_eq!(
                held.into_values().collect::<Vec<_>>(),
                live.ops[..cut.seq as usize]
            );
        }
        let in_backup: HashSet<OpId> = ops
            .values()
            .flat_map(|m| m.values().map(|o| o.id))
            .collect();
        for (a, b) in &pairs {
            assert_eq!(
                in_backup.contains(a),
                in_backup.contains(b),
                "a push split by backup {id}"
            );
        }
    }
}

/// Backup, stop, restore into a fresh data dir: the restored server gives every
/// user the same pull (spaces, roles, ops with their seqs) and the same accounts,
/// and continues the seqs where the backup ended.
#[test]
fn backup_then_restore_serves_the_same_data() {
    let server = TestServer::start().expect("server");
    let store = server.store().clone();
    let ann = add_user(&store, "ann");
    add_user(&store, "bob");
    let team = store
        .create_space(ann, "Team")
        .wait()
        .expect("space")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Viewer))
        .wait()
        .expect("member");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let before = runtime.block_on(async {
        let mut conn = server.connect(Http::One).await.expect("connect");
        let token = login(&mut conn, "ann").await;
        let home = store
            .user(ann)
            .await
            .expect("user")
            .expect("ann")
            .personal_space;
        for i in 0..30 {
            let ops = [
                goal(home, ann, &format!("home {i}")),
                goal(team, ann, &format!("team {i}")),
            ]
            .concat();
            let _: PushResponse = call(
                &mut conn,
                endpoints::Push::PATH,
                Some(&token),
                &PushRequest { ops },
            )
            .await;
        }
        let bob_token = login(&mut conn, "bob").await;
        (
            pull_all(&mut conn, &token).await,
            pull_all(&mut conn, &bob_token).await,
        )
    });
    let users = server.admin(AdminRequest::ListUsers).expect("users");
    store
        .audit(
            crate::store::AuditEvent::new(crate::store::AuditKind::AccountDisabled)
                .subject("bob@example.com"),
        )
        .wait();
    let id = created_id(&backup_now(&server));
    // The audit log as of the backup (its last entry is the backup itself).
    let audit_before = store.audit_entries().wait().expect("audit entries");
    assert!(audit_before.len() >= 2, "{audit_before:?}");
    let old_dir = server.stop().expect("stop");
    let backups = old_dir.path().join("data").join("backups");

    let fresh = tempfile::tempdir().expect("temp dir");
    let data_dir = fresh.path().join("data");
    crate::init::init(&data_dir, &[]).expect("init");
    let restored =
        super::restore::restore(&DataDir::new(&data_dir), &backups, &id, &Quiet).expect("restore");
    assert!(restored.replaced);
    assert!(
        !data_dir.join("db.before-restore").exists() && !data_dir.join("db.restoring").exists()
    );

    let server = TestServer::start_existing(fresh, data_dir).expect("restored server");
    assert_eq!(server.admin(AdminRequest::ListUsers).expect("users"), users);
    let store = server.store().clone();
    // The administrative history comes back with its hash chain intact.
    let audit_after = store.audit_entries().wait().expect("audit entries");
    assert!(
        audit_after.starts_with(&audit_before[..audit_before.len() - 1]),
        "audit entries before the backup are missing after the restore"
    );
    assert!(matches!(
        store.audit_verify().wait().expect("verify"),
        crate::store::AuditVerification::Intact { .. }
    ));
    let after = runtime.block_on(async {
        let mut conn = server.connect(Http::Two).await.expect("connect");
        let token = login(&mut conn, "ann").await;
        let bob_token = login(&mut conn, "bob").await;
        let pulled = (
            pull_all(&mut conn, &token).await,
            pull_all(&mut conn, &bob_token).await,
        );
        let more = goal(team, ann, "after restore");
        let _: PushResponse = call(
            &mut conn,
            endpoints::Push::PATH,
            Some(&token),
            &PushRequest { ops: more },
        )
        .await;
        pulled
    });
    assert_eq!(after, before);
    assert_eq!(before.1.1[&team].len(), 60, "bob sees the team's ops");
    assert_eq!(
        store.last_seq(team).wait().expect("seq"),
        62,
        "seqs continue after the backup's"
    );
}

/// A flipped byte in the data file (or the manifest) makes verify fail with the
/// reason, and a restore from it is refused without touching the data dir.
#[test]
fn verify_detects_a_flipped_byte() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&tmp.path().join("db")).expect("store");
    let ann = add_user(&store, "ann");
    let home = store
        .user(ann)
        .wait()
        .expect("user")
        .expect("ann")
        .personal_space;
    for i in 0..20 {
        store
            .append_ops(
                &goal(home, ann, &format!("goal {i}")),
                &crate::store::RecordLimits::NONE,
            )
            .wait()
            .expect("append");
    }
    let dir = tmp.path().join("backups");
    let backups = Backups::new(dir.clone(), Default::default());
    let id = create::create(&store, &backups, crate::clock::now_ms(), &Quiet)
        .expect("backup")
        .manifest
        .id;
    verify::verify_dir(&dir.join(&id), &id, &Quiet).expect("intact");

    let data = dir.join(&id).join(super::format::DATA_FILE);
    let mut bytes = std::fs::read(&data).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&data, &bytes).expect("write");
    let err = verify::verify_dir(&dir.join(&id), &id, &Quiet).expect_err("damaged");
    assert!(matches!(err, BackupError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");

    let target = tmp.path().join("target");
    crate::init::init(&target, &[]).expect("init");
    let users_before = Store::open(&DataDir::new(&target).db())
        .expect("open")
        .list_users()
        .wait()
        .expect("users");
    let err =
        super::restore::restore(&DataDir::new(&target), &dir, &id, &Quiet).expect_err("refused");
    assert!(err.to_string().contains("checksum"), "{err}");
    let target_store = Store::open(&DataDir::new(&target).db()).expect("open");
    assert_eq!(
        target_store.list_users().wait().expect("users"),
        users_before
    );
    drop(target_store);

    bytes[middle] ^= 0x01;
    std::fs::write(&data, &bytes).expect("write back");
    verify::verify_dir(&dir.join(&id), &id, &Quiet).expect("intact again");
    let manifest = dir.join(&id).join(super::format::MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).expect("read");
    std::fs::write(&manifest, text.replacen("\"ops\": 40", "\"ops\": 41", 1)).expect("write");
    let err = verify::verify_dir(&dir.join(&id), &id, &Quiet).expect_err("manifest edited");
    assert!(err.to_string().contains("41"), "{err}");
}

/// A full disk mid-backup and a backup path that is a file both fail with their
/// reason: /healthz says degraded (without paths), the live data and the older
/// backup are intact, no partial backup is left, and the next good backup clears it.
#[test]
fn failed_backup_is_reported_and_harms_nothing() {
    let server = TestServer::start().expect("server");
    let store = server.store().clone();
    let ann = add_user(&store, "ann");
    let home = store
        .user(ann)
        .wait()
        .expect("user")
        .expect("ann")
        .personal_space;
    for i in 0..50 {
        store
            .append_ops(
                &goal(home, ann, &format!("goal {i}")),
                &crate::store::RecordLimits::NONE,
            )
            .wait()
            .expect("append");
    }
    let first = created_id(&backup_now(&server));
    let dir = DataDir::new(server.data_dir()).backups();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let health = || {
        runtime.block_on(async {
            let mut conn = server.connect(Http::One).await.expect("connect");
            conn.get(endpoints::HEALTHZ).await.expect("healthz")
        })
    };
    assert_eq!(health(), (200, "ok".to_string()));

    server.backups().simulate_disk_full(Some(2_000));
    let answer = server
        .admin(AdminRequest::Backup(BackupRequest::Now))
        .expect("admin");
    let AdminResponse::Failed { message } = answer else {
        panic!("a full disk must fail the backup: {answer:?}");
    };
    assert!(
        message.contains("No space left") || message.contains("space"),
        "{message}"
    );
    assert_eq!(
        health(),
        (
            200,
            "degraded: last backup failed: no space left on the backup disk".to_string()
        )
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        std::slice::from_ref(&first),
        "only the older backup, no leftovers"
    );
    verify::verify_dir(&dir.join(&first), &first, &Quiet).expect("older backup intact");
    assert_eq!(
        store.last_seq(home).wait().expect("seq"),
        100,
        "live data intact"
    );
    match server
        .admin(AdminRequest::Backup(BackupRequest::List))
        .expect("list")
    {
        AdminResponse::Backup(BackupResponse::Listed {
            backups,
            last_failure,
            ..
        }) => {
            assert_eq!(backups.len(), 1);
            assert!(last_failure.is_some_and(|r| r.contains("space")));
        }
        other => panic!("{other:?}"),
    }

    server.backups().simulate_disk_full(None);
    let second = created_id(&backup_now(&server));
    assert_eq!(health(), (200, "ok".to_string()));
    drop(server);

    // A backup directory that cannot be made (a file is in its way).
    let server = TestServer::start_with(|s| s.backup.dir = "not-a-dir".into()).expect("server");
    std::fs::write(server.data_dir().join("not-a-dir"), b"x").expect("file");
    let answer = server
        .admin(AdminRequest::Backup(BackupRequest::Now))
        .expect("admin");
    assert!(
        matches!(answer, AdminResponse::Failed { ref message } if message.contains("not-a-dir")),
        "{answer:?}"
    );
    let (status, body) = runtime.block_on(async {
        let mut conn = server.connect(Http::One).await.expect("connect");
        conn.get(endpoints::HEALTHZ).await.expect("healthz")
    });
    assert_eq!(status, 200);
    assert!(
        body.starts_with("degraded: last backup failed: cannot write the backup directory"),
        "{body}"
    );
    assert!(
        !body.contains("not-a-dir") && !body.contains('/'),
        "no path: {body}"
    );
    assert_ne!(first, second);
}

/// Restore refuses while a server runs on the data dir, and the server keeps
/// serving its data.
#[test]
fn restore_refuses_on_a_running_server() {
    let server = TestServer::start().expect("server");
    let id = created_id(&backup_now(&server));
    let data = DataDir::new(server.data_dir());
    let err = super::restore::restore(&data, &data.backups(), &id, &Quiet).expect_err("refused");
    assert!(err.to_string().contains("stop the server first"), "{err}");
    assert!(!server.data_dir().join("db.restoring").exists());
    match server
        .admin(AdminRequest::ListUsers)
        .expect("still serving")
    {
        AdminResponse::Users(users) => assert_eq!(users.len(), 1),
        other => panic!("{other:?}"),
    }
    match server
        .admin(AdminRequest::Backup(BackupRequest::Verify {
            id: id.clone(),
        }))
        .expect("verify")
    {
        AdminResponse::Backup(BackupResponse::Verified { backup }) => assert_eq!(backup.id, id),
        other => panic!("{other:?}"),
    }
}

/// `backup now|list|verify` on a stopped data dir work directly; retention on
/// disk removes what the policy does not keep, going by the backups' times.
#[test]
fn stopped_dir_commands_and_retention_on_disk() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    crate::init::init(&data_dir, &[]).expect("init");
    let data = DataDir::new(&data_dir);
    let now = match crate::admin::client::send(&data, AdminRequest::Backup(BackupRequest::Now))
        .expect("now")
    {
        AdminResponse::Backup(r) => created_id(&r),
        other => panic!("{other:?}"),
    };
    let listed =
        crate::admin::client::send(&data, AdminRequest::Backup(BackupRequest::List)).expect("list");
    assert!(
        matches!(listed, AdminResponse::Backup(BackupResponse::Listed { ref backups, .. }) if backups.len() == 1 && backups[0].id == now)
    );

    // Three backups on three days, one day apart; keep 2 daily only.
    let store = Store::open(&data.db()).expect("store");
    let dir = tmp.path().join("kept");
    let backups = Backups::new(dir.clone(), Default::default());
    let day = 24 * 3600 * 1000;
    let start = 1_780_000_000_000;
    let ids: Vec<String> = (0..3)
        .map(|i| {
            create::create(&store, &backups, start + i * day, &Quiet)
                .expect("backup")
                .manifest
                .id
        })
        .collect();
    let settings = super::settings::BackupSettings {
        keep_daily: 2,
        keep_weekly: 0,
        keep_monthly: 0,
        ..Default::default()
    };
    let removed = super::retention::prune(&dir, &settings).expect("prune");
    assert_eq!(removed, [ids[0].clone()]);
    let left: Vec<String> = super::list_dir(&dir)
        .expect("list")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(left, ids[1..]);
}

/// The scheduler backs up at the daily time and not before, not twice, and after
/// a failure retries `retry_minutes` later, going by the times it is given.
#[test]
fn scheduler_runs_when_due_and_retries() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&tmp.path().join("db")).expect("store");
    let dir = tmp.path().join("backups");
    let backups = Backups::new(dir.clone(), Default::default());
    let start = 1_780_000_000_000;
    let mut scheduler =
        super::schedule::Scheduler::new(store.clone(), backups.clone(), start).expect("scheduler");
    let due = scheduler.next_ms();
    assert!(
        due > start && due <= start + 25 * 3600 * 1000,
        "within a day"
    );
    assert!(scheduler.poll(start).is_none());
    assert!(scheduler.poll(due - 1).is_none());
    assert!(scheduler.poll(due).expect("due").is_ok());
    assert!(scheduler.poll(due + 1).is_none(), "not twice");
    let next = scheduler.next_ms();
    assert!(
        next > due + 22 * 3600 * 1000 && next <= due + 26 * 3600 * 1000,
        "the next day"
    );

    backups.simulate_disk_full(Some(10));
    let failed_at = next;
    assert!(scheduler.poll(failed_at).expect("due").is_err());
    assert!(backups.health().failing.is_some());
    backups.simulate_disk_full(None);
    let hour = 3600 * 1000;
    assert!(
        scheduler.poll(failed_at + hour - 1).is_none(),
        "retry waits"
    );
    assert!(scheduler.poll(failed_at + hour).expect("retry").is_ok());
    assert!(backups.health().failing.is_none());
    assert_eq!(super::list_dir(&dir).expect("list").len(), 2);
}

/// Every file under `dir` by relative path.
fn read_tree(dir: &Path) -> BTreeMap<std::path::PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let text = std::fs::read_to_string(&path).expect("utf-8 file");
                // The export's own time is the one thing allowed to differ.
                let text: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("\"exported_at\""))
                    .collect();
                out.insert(
                    path.strip_prefix(dir).expect("inside").to_owned(),
                    text.join("\n"),
                );
            }
        }
    }
    out
}

/// Backup → restore into a fresh data dir → `cairn-server export` gives the same
/// files as the export of the original (but the export time).
#[test]
fn backup_restore_export_equality() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = DataDir::new(tmp.path().join("data"));
    crate::init::init(data.root(), &[]).expect("init");
    let store = Store::open(&data.db()).expect("store");
    let ann = add_user(&store, "ann");
    add_user(&store, "bob");
    let team = store
        .create_space(ann, "Team")
        .wait()
        .expect("space")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Editor))
        .wait()
        .expect("member");
    let home = store
        .user(ann)
        .wait()
        .expect("user")
        .expect("ann")
        .personal_space;
    for i in 0..10 {
        store
            .append_ops(
                &[
                    goal(home, ann, &format!("home {i}")),
                    goal(team, ann, &format!("team {i}")),
                ]
                .concat(),
                &crate::store::RecordLimits::NONE,
            )
            .wait()
            .expect("append");
    }
    store.flush().wait().expect("flush");
    drop(store);
    let export = |data: &DataDir, out: &Path| {
        let answer = crate::admin::client::send(
            data,
            AdminRequest::Export {
                out: out.to_owned(),
                scope: crate::admin::protocol::ExportScope::Server,
            },
        )
        .expect("export");
        assert!(
            matches!(answer, AdminResponse::Exported { .. }),
            "{answer:?}"
        );
    };
    let first = tmp.path().join("first");
    export(&data, &first);
    let id = match crate::admin::client::send(&data, AdminRequest::Backup(BackupRequest::Now))
        .expect("now")
    {
        AdminResponse::Backup(r) => created_id(&r),
        other => panic!("{other:?}"),
    };
    let fresh = DataDir::new(tmp.path().join("fresh"));
    crate::init::init(fresh.root(), &[]).expect("init fresh");
    super::restore::restore(&fresh, &data.backups(), &id, &Quiet).expect("restore");
    let second = tmp.path().join("second");
    export(&fresh, &second);
    let (a, b) = (read_tree(&first), read_tree(&second));
    assert!(a.len() > 5, "{} files", a.len());
    assert_eq!(a, b);
}
