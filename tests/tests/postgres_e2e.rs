//! Real `cairn-server` processes on a throwaway PostgreSQL database.
//!
//! Two servers on one database, each inited onto it (only the first makes
//! `admin`), each with its own data dir and certificate: records synced through
//! one reach a client of the other, a session made on one works on the other, what
//! one decides about accounts holds on the other, and when one is killed the other
//! serves on (and the killed one's data dir still runs admin commands on the
//! database). And the DBA's restore from a `pg_dump`, followed by `renew-epoch`.

use anyhow::Context;
use cairn_common::api::endpoints;
use cairn_common::api::{
    Endpoint, ErrorResponse, LoginRequest, PasswordChange, PullRequest, codes,
};
use cairn_common::codec;
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

const BEN: &str = "ben@example.com";
const BEN_PW: &str = "ben's long password";
const GUESSER: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
const BURST: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3));

/// A login attempt through `server`'s API: its status and error code, if any.
async fn attempt(
    server: &ServerProcess,
    email: &str,
    password: &str,
) -> anyhow::Result<(u16, String)> {
    let request = LoginRequest {
        email: email.into(),
        password: password.into(),
        device: "e2e".into(),
    };
    let (status, body) = server
        .api_from(GUESSER)
        .await?
        .call(endpoints::Login::PATH, None, &request)
        .await?;
    let code = codec::decode::<ErrorResponse>(&body).map_or_else(|_| String::new(), |e| e.code);
    Ok((status.as_u16(), code))
}

/// The names of the spaces a pull through `server` with `token` lists.
async fn spaces_seen(server: &ServerProcess, token: &str) -> anyhow::Result<Vec<String>> {
    let pulled = server.api().await?.pull_all(token).await?;
    let mut names: Vec<String> = pulled.spaces.into_iter().map(|s| s.space.name).collect();
    names.sort();
    Ok(names)
}

/// What one server decides about accounts holds on the other: failed logins
/// through both count together (a burst spread over both gets no more password
/// checks than one server would give), the must-change gate of a new account
/// holds on both, a membership given or taken through one shows on the other, and
/// an account disabled through one loses its sessions on both.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_and_memberships_hold_across_servers() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let a = ServerProcess::start_with_init(&["--store-url", &url])?;
    let b = ServerProcess::start_with_init(&["--store-url", &url])?;
    a.user(ANA, ANA_PW).await?;

    // Failures alternate between the servers: the sixth waits on either.
    for n in 0..5 {
        let server = if n % 2 == 0 { &a } else { &b };
        let (status, code) = attempt(server, ANA, "a wrong guess").await?;
        assert_eq!(
            (status, code.as_str()),
            (401, codes::LOGIN_FAILED),
            "failure {n}"
        );
    }
    for server in [&a, &b] {
        let (status, code) = attempt(server, ANA, "a wrong guess").await?;
        assert_eq!((status, code.as_str()), (429, codes::THROTTLED));
    }
    // A burst at both for another account: one server alone would check five
    // passwords, and two that did not share would check ten.
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..20 {
        let server = if n % 2 == 0 { a.url() } else { b.url() };
        let target = if n % 2 == 0 { &a } else { &b };
        let mut api = target.api_from(BURST).await?;
        burst.spawn(async move {
            let request = LoginRequest {
                email: "nobody@example.com".into(),
                password: "a guess".into(),
                device: server,
            };
            let (status, _) = api.call(endpoints::Login::PATH, None, &request).await?;
            Ok::<_, anyhow::Error>(status.as_u16())
        });
    }
    let mut checked = 0;
    while let Some(status) = burst.join_next().await {
        let status = status??;
        assert!(status == 401 || status == 429, "{status}");
        checked += usize::from(status == 401);
    }
    // Five, plus one for each doubling delay (1 s, 2 s) that ran out mid-burst.
    assert!((5..=7).contains(&checked), "{checked} passwords checked");

    // A new account must change its password first, whichever server it uses.
    a.admin(
        &["user", "add", BEN, "--password-stdin"],
        "ben's first password\n",
    )?;
    let first = b.api().await?.login(BEN, "ben's first password").await?;
    assert!(first.must_change_password);
    let (status, body) = a
        .api()
        .await?
        .call(
            endpoints::Pull::PATH,
            Some(&first.token),
            &PullRequest {
                epoch: None,
                cursors: vec![],
                max_ops: 0,
            },
        )
        .await?;
    let refusal: ErrorResponse = codec::decode(&body)?;
    assert_eq!(
        (status.as_u16(), refusal.code.as_str()),
        (403, codes::PASSWORD_CHANGE_REQUIRED)
    );
    let (status, _) = a
        .api()
        .await?
        .call(
            endpoints::Password::PATH,
            Some(&first.token),
            &PasswordChange {
                current: "ben's first password".into(),
                new: BEN_PW.into(),
            },
        )
        .await?;
    assert!(status.is_success(), "{status}");
    let ben = b.api().await?.login(BEN, BEN_PW).await?;
    assert!(!ben.must_change_password);
    // Then the privacy notice, accepted through B, holds on A too.
    let (status, body) = a
        .api()
        .await?
        .call(
            endpoints::Spaces::PATH,
            Some(&ben.token),
            &cairn_common::api::Empty,
        )
        .await?;
    let refusal: ErrorResponse = codec::decode(&body)?;
    assert_eq!(
        (status.as_u16(), refusal.code.as_str()),
        (403, codes::CONSENT_REQUIRED)
    );
    b.api().await?.accept_notice(&ben.token).await?;

    // Ana (on A) shares a space with Ben; Ben (on B) sees it, then loses it.
    let ana = Device::new()?;
    ana.login(&a, ANA, ANA_PW)?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok_with(&["spaces", "add-member", "Team", BEN], "")?;
    assert!(
        spaces_seen(&b, &ben.token)
            .await?
            .contains(&"Team".to_owned())
    );
    ana.ok_with(&["spaces", "remove-member", "Team", BEN], "")?;
    assert!(
        !spaces_seen(&b, &ben.token)
            .await?
            .contains(&"Team".to_owned())
    );

    // Disabled through A's data dir: Ben's session made on B ends on both.
    a.admin(&["user", "disable", BEN], "")?;
    for server in [&a, &b] {
        let (status, _) = server
            .api()
            .await?
            .call(
                endpoints::Pull::PATH,
                Some(&ben.token),
                &PullRequest {
                    epoch: None,
                    cursors: vec![],
                    max_ops: 0,
                },
            )
            .await?;
        assert_eq!(status.as_u16(), 401);
    }
    Ok(())
}

/// Runs one of PostgreSQL's programs against the test server; fails with its output.
fn pg_tool(pg: &TestPostgres, program: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = std::process::Command::new(pg.program(program))
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{program} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The DBA's restore: the database is dumped with `pg_dump`, a goal is synced
/// after the dump, the dump is restored with `pg_restore`, and `cairn-server
/// renew-epoch` tells clients: the client that synced the lost goal sends it
/// again, and a new device gets both goals. (Without the new epoch the lost goal
/// stays lost: the client believes the server has it.)
#[tokio::test(flavor = "multi_thread")]
async fn a_database_restored_from_a_dump_gets_back_what_clients_hold() -> anyhow::Result<()> {
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let mut server = ServerProcess::start_with_init(&["--store-url", &url])?;
    server.user(ANA, ANA_PW).await?;
    let ana = Device::new()?;
    ana.login(&server, ANA, ANA_PW)?;
    ana.ok_with(&["add", "goal", "Before the dump"], "")?;
    ana.ok_with(&["sync"], "")?;
    let dump = server.dir.path().join("cairn.dump");
    let dump = dump.to_str().context("temp path is not UTF-8")?;
    pg_tool(&pg, "pg_dump", &["--format=custom", "--file", dump, &url])?;
    ana.ok_with(&["add", "goal", "Synced after the dump"], "")?;
    ana.ok_with(&["sync"], "")?;

    server.kill9()?;
    pg_tool(
        &pg,
        "pg_restore",
        &["--clean", "--if-exists", "--dbname", &url, dump],
    )?;
    let renewed = server.admin(&["renew-epoch"], "")?;
    assert!(renewed.contains("new epoch"), "{renewed}");
    server.serve_again()?;

    let synced = ana.json(&["sync", "--json"])?;
    assert_eq!(synced["ok"], true, "{synced}");
    let fresh = Device::new()?;
    fresh.login(&server, ANA, ANA_PW)?;
    assert_eq!(
        fresh.goal_titles()?,
        ["Before the dump", "Synced after the dump"]
    );
    let audit = server.admin(&["audit", "list"], "")?;
    assert!(audit.contains("restored by other means"), "{audit}");
    Ok(())
}
