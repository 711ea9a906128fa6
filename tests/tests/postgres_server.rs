//! The server's setup on PostgreSQL, below the binaries: `init` onto a shared
//! database, the daily retention sweep claimed once across servers, and two
//! in-process [`TestServer`]s on one database (what the sync bench runs).
//!
//! These live here rather than in the server's unit tests: next to them, the
//! PostgreSQL purge test (`purge_a_user_leaves_no_byte_in_the_tables`) found its
//! marker in the table files in about half the runs, likely because `VACUUM FULL`
//! keeps rows that a connection starting at the same moment may still see.

use cairn_common::api::{Endpoint, PasswordChange, endpoints};
use cairn_common::model::{RecordKind, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use cairn_server::admin::{AdminRequest, AdminResponse};
use cairn_server::init::{InitStore, init_with};
use cairn_server::privacy::retention::sweep_claimed;
use cairn_server::settings::Secret;
use cairn_server::settings::{CONFIG_FILE, RetentionSettings, Settings, StoreBackend};
use cairn_server::store::{PgStore, Store, wait};
use cairn_server::test_postgres::TestPostgres;
use cairn_server::testing::TestServer;
use cairn_tests::server::Api;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// On PostgreSQL: the first init makes the admin in the database and writes
/// `[store]`; a second data dir on the same database joins without a second
/// admin; with `write_url: false` the url stays out of the file.
#[test]
fn init_on_postgres_joins_the_database() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let root = tempfile::tempdir()?;
    let on_db = InitStore::Postgres {
        url: url.clone(),
        write_url: true,
    };
    let first = init_with(&root.path().join("a"), &[], &on_db)?;
    assert!(first.on_postgres && !first.joined && !first.admin_password.is_empty());
    assert!(!root.path().join("a/db").exists());
    let settings = Settings::load(&root.path().join("a"), Vec::new())?;
    assert_eq!(settings.store.backend, StoreBackend::Postgres);
    assert_eq!(settings.store.url.expose(), url);
    let second = init_with(&root.path().join("b"), &[], &on_db)?;
    assert!(second.joined && second.admin_password.is_empty());
    let mut out = Vec::new();
    second.print(&mut out)?;
    let out = String::from_utf8(out)?;
    assert!(!out.contains("initial admin password"), "{out}");
    let hidden = InitStore::Postgres {
        url: url.clone(),
        write_url: false,
    };
    let third = init_with(&root.path().join("c"), &[], &hidden)?;
    assert!(third.joined);
    let text = std::fs::read_to_string(root.path().join("c").join(CONFIG_FILE))?;
    assert!(!text.contains(&url), "{text}");
    let users = wait(async {
        let store = PgStore::connect(&url, 1).await?;
        Store::Postgres(store).list_users().await
    })?;
    assert_eq!(users.len(), 1);
    Ok(())
}

/// Two servers on one PostgreSQL database: the day's sweep runs on the first
/// that claims it, not on the second; the next day's runs again. On sled the
/// claim always succeeds.
#[tokio::test]
async fn the_daily_sweep_runs_once_across_servers() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let a = Store::Postgres(PgStore::connect(&url, 2).await?);
    let b = Store::Postgres(PgStore::connect(&url, 2).await?);
    let settings = RetentionSettings::default();
    let (ha, hb) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let day = 1_700_000_000_000;
    assert!(sweep_claimed(&a, &settings, ha, day).await?.is_some());
    let second = sweep_claimed(&b, &settings, hb, day + 1000).await?;
    assert!(second.is_none(), "b swept the day a had swept");
    assert!(
        sweep_claimed(&b, &settings, hb, day + DAY_MS)
            .await?
            .is_some()
    );
    let dir = tempfile::tempdir()?;
    let sled = Store::open(&dir.path().join("db"))?;
    for _ in 0..2 {
        assert!(sweep_claimed(&sled, &settings, ha, day).await?.is_some());
    }
    Ok(())
}

/// Two in-process test servers on one database: the first makes the admin, the
/// second joins; an account added through the first's control socket logs in on
/// the second, and what is pushed through one is pulled through the other.
#[test]
fn two_test_servers_share_one_database() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let a = TestServer::start_on_postgres(&url, |_| {})?;
    let b = TestServer::start_on_postgres(&url, |_| {})?;
    assert!(!a.admin_password.is_empty(), "the first server makes admin");
    assert!(b.admin_password.is_empty(), "the second joins");
    assert!(a.store().is_shared() && b.store().is_shared());
    let added = a.admin(AdminRequest::AddUser {
        email: "ana@example.com".into(),
        first_name: "Ana".into(),
        last_name: "Test".into(),
        password: Some(Secret("ana's first password".into())),
    })?;
    assert!(!matches!(added, AdminResponse::Failed { .. }), "{added:?}");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let mut on_b = Api::connect(b.addr, &b.cert_der).await?;
        let first = on_b
            .login("ana@example.com", "ana's first password")
            .await?;
        let change = PasswordChange {
            current: "ana's first password".into(),
            new: "ana's long password".into(),
        };
        let (status, _) = on_b
            .call(endpoints::Password::PATH, Some(&first.token), &change)
            .await?;
        assert!(status.is_success(), "password change: {status}");
        let token = on_b
            .login("ana@example.com", "ana's long password")
            .await?
            .token;
        on_b.accept_notice(&token).await?;
        let (space, record) = (first.personal_space, cairn_common::RecordId::new());
        let op = |change| Op {
            id: OpId::new(),
            space,
            record,
            at: Hlc {
                wall_ms: cairn_server::clock::now_ms(),
                counter: 0,
                node: NodeId(3),
            },
            author: first.user.id,
            change,
        };
        let ops = vec![
            op(Change::Create {
                kind: RecordKind::Goal,
            }),
            op(Change::Set {
                field: "title".into(),
                value: Value::Text("Grow the team".into()),
                replaces: vec![],
            }),
        ];
        assert_eq!(on_b.push(&token, ops.clone()).await?.stored, 2);
        let mut on_a = Api::connect(a.addr, &a.cert_der).await?;
        let pulled = on_a.pull_all(&token).await?;
        let got: Vec<OpId> = pulled
            .batches
            .iter()
            .flat_map(|b| &b.ops)
            .map(|o| o.id)
            .collect();
        assert_eq!(got, ops.iter().map(|o| o.id).collect::<Vec<_>>());
        anyhow::Ok(())
    })?;
    Ok(())
}
