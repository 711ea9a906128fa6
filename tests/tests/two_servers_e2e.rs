//! Two real `cairn-server` processes on one throwaway PostgreSQL database: each
//! inited onto it (only the first makes `admin`), each with its own data dir and
//! certificate. Records synced through one reach a client of the other, a session
//! made on one works on the other, and when one is killed the other serves on
//! (and the killed one's data dir still runs admin commands on the database).

use anyhow::Context;
use cairn_server::test_postgres::TestPostgres;
use cairn_tests::client::Device;
use cairn_tests::server::ServerProcess;

const ANA: &str = "ana@example.com";
const ANA_PW: &str = "ana's long password";

/// Two servers share one database: sync through either reaches the other's
/// clients, a session is valid on both, and B keeps serving after A is killed.
#[tokio::test(flavor = "multi_thread")]
async fn two_servers_share_one_database() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let mut a = ServerProcess::start_with_init(&["--store-url", &url])?;
    assert!(!a.admin_password.is_empty(), "the first init makes admin");
    let b = ServerProcess::start_with_init(&["--store-url", &url])?;
    assert!(b.admin_password.is_empty(), "the second init joins");
    assert!(
        !a.data_dir().join("db").exists(),
        "no sled store on PostgreSQL"
    );

    // The account made through A's control socket exists for B too.
    a.user(ANA, ANA_PW).await?;
    let on_a = Device::new()?;
    on_a.login(&a, ANA, ANA_PW)?;
    on_a.ok_with(&["add", "goal", "Grow the team"], "")?;
    on_a.ok_with(&["sync"], "")?;

    let on_b = Device::new()?;
    on_b.login(&b, ANA, ANA_PW)?;
    assert_eq!(on_b.goal_titles()?, ["Grow the team"]);
    on_b.ok_with(&["add", "goal", "Hire two engineers"], "")?;
    on_b.ok_with(&["sync"], "")?;
    on_a.ok_with(&["sync"], "")?;
    assert_eq!(on_a.goal_titles()?, ["Grow the team", "Hire two engineers"]);

    // A session made on A is valid on B: sessions live in the database.
    let login = a.api().await?.login(ANA, ANA_PW).await?;
    let pulled = b.api().await?.pull_all(&login.token).await?;
    assert!(
        !pulled.spaces.is_empty(),
        "B serves A's session: {pulled:?}"
    );

    // No cairn backups on PostgreSQL: health is ok, `backup now` says why.
    let (status, body) = b.api().await?.health_body().await?;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let refused = b
        .admin(&["backup", "now"], "")
        .err()
        .context("backup now on PostgreSQL is refused")?;
    assert!(
        refused.to_string().contains("docs/POSTGRES.md"),
        "{refused}"
    );

    a.kill9()?;
    // A's data dir, its server gone, runs admin commands on the database itself.
    let users = a.admin(&["user", "list"], "")?;
    assert!(users.contains(ANA) && users.contains("admin"), "{users}");
    on_b.ok_with(&["add", "goal", "Keep serving"], "")?;
    on_b.ok_with(&["sync"], "")?;
    let late = Device::new()?;
    late.login(&b, ANA, ANA_PW)?;
    assert_eq!(
        late.goal_titles()?,
        ["Grow the team", "Hire two engineers", "Keep serving"]
    );
    Ok(())
}
