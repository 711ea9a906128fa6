//! End-to-end: the sync core against the people the brief says to distrust, with the
//! real `cairn` and `cairn-server` binaries: a server restored from last night's
//! backup, a co-member who forges ops, a member removed while his changes are unsent,
//! one editor who writes more than readers can take, and forged clocks.

use std::time::Duration;

use cairn_common::api::RefusalReason;
use cairn_common::model::{RecordId, RecordKind, SpaceId, UserId};
use cairn_common::op::{Change, NodeId};
use cairn_tests::client::Device;
use cairn_tests::forge::{op, set_text};
use cairn_tests::server::{Api, ServerProcess};
use serde_json::Value as Json;

const PASSWORD: &str = "a long shared-space secret";

fn login(device: &Device, server: &ServerProcess, email: &str) -> anyhow::Result<()> {
    device.login(server, email, PASSWORD).map(drop)
}

/// Ana owns "Team" with Ben as an editor; both are logged in and synced.
async fn team(server: &ServerProcess) -> anyhow::Result<(Device, Device)> {
    server.user("ana@example.com", PASSWORD).await?;
    server.user("ben@example.com", PASSWORD).await?;
    let (ana, ben) = (Device::new()?, Device::new()?);
    login(&ana, server, "ana@example.com")?;
    login(&ben, server, "ben@example.com")?;
    ana.ok(&["spaces", "create", "Team"])?;
    ana.ok(&[
        "spaces",
        "add-member",
        "Team",
        "ben@example.com",
        "--role",
        "editor",
    ])?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    Ok((ana, ben))
}

/// Issue 1: after a restore from last night's backup, nothing any replica still
/// holds is lost and the replicas do not drift apart: A's two goals (pushed after the
/// backup) come back from A, B's new goal reaches A, and a fresh device sees all.
#[tokio::test(flavor = "multi_thread")]
async fn restore_loses_nothing_a_replica_holds() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    let (ana, ben) = team(&server).await?;
    server.admin(&["backup", "now"], "")?;
    let list: Json = serde_json::from_str(&server.admin(&["backup", "list", "--json"], "")?)?;
    let backup = list[0]["id"].as_str().unwrap_or_default().to_owned();

    ana.ok(&["add", "goal", "Hire two engineers", "--space", "Team"])?;
    ana.ok(&["add", "goal", "Ship the platform", "--space", "Team"])?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;

    server.signal("TERM")?;
    assert!(server.wait_exit(Duration::from_secs(30))?);
    server.admin(&["backup", "restore", &backup], "")?;
    server.serve_again()?;

    // Sessions are not backed up: everyone logs in again, and login syncs once.
    ben.ok(&["add", "goal", "Train the new team", "--space", "Team"])?;
    let ben_login = ben.login(&server, "ben@example.com", PASSWORD)?;
    assert!(ben_login.contains("data was replaced"), "{ben_login}");
    let ana_login = ana.login(&server, "ana@example.com", PASSWORD)?;
    let restored: usize = ana_login
        .split("sent again ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        restored >= 4,
        "ana's two goals were not sent again: {ana_login}"
    );
    ben.ok(&["sync"])?;

    let expected = vec![
        "Hire two engineers".to_owned(),
        "Ship the platform".to_owned(),
        "Train the new team".to_owned(),
    ];
    assert_eq!(ana.goal_titles()?, expected);
    assert_eq!(ben.goal_titles()?, expected);
    let fresh = Device::new()?;
    login(&fresh, &server, "ana@example.com")?;
    fresh.ok(&["sync"])?;
    assert_eq!(
        fresh.goal_titles()?,
        expected,
        "the server lost data for good"
    );
    // Calm again: another round has nothing to recover.
    let again = ana.json(&["sync", "--json"])?;
    assert!(again["recovery"].is_null(), "{again}");
    Ok(())
}

/// Issue 2: a co-member who knows a record's id cannot move it into a space he
/// shares with its owner, change its kind, or block the owner's sync: the server
/// refuses the forged ops, and the owner's later edits stay in the owner's space.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_id_cannot_be_reused_in_another_space() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let (ana, _ben) = team(&server).await?;
    let note = ana
        .ok(&[
            "add",
            "note",
            "Appraisal of Carl",
            "--field",
            "notes=private",
        ])?
        .trim()
        .to_owned();
    ana.ok(&["sync"])?;
    let full = ana.json(&["show", &note, "--json"])?;
    let record: RecordId = full["id"].as_str().unwrap_or_default().parse()?;
    let home: SpaceId = full["space"].as_str().unwrap_or_default().parse()?;

    let mut api = server.api().await?;
    let mallory = api.login("ben@example.com", PASSWORD).await?;
    let shared = api.pull_all(&mallory.token).await?;
    let team_id = shared
        .spaces
        .iter()
        .find(|s| s.space.name == "Team")
        .map(|s| s.space.id)
        .ok_or_else(|| anyhow::anyhow!("no Team"))?;
    let author = mallory.user.id;
    let forged = vec![
        op(
            author,
            team_id,
            record,
            Change::Create {
                kind: RecordKind::Goal,
            },
        ),
        op(author, team_id, record, set_text("title", "moved")),
    ];
    let answer = api.push(&mallory.token, forged).await?;
    assert_eq!(answer.stored, 0);
    assert_eq!(answer.refused[0].reason, RefusalReason::Invalid);
    assert!(answer.refused[0].message.contains("another space"));
    // In the owner's own space: not a member, whatever the id.
    let answer = api
        .push(
            &mallory.token,
            vec![op(author, home, record, set_text("notes", "mine"))],
        )
        .await?;
    assert_eq!(answer.refused[0].reason, RefusalReason::NotMember);

    ana.ok(&["set", &note, "notes=the real text"])?;
    let synced = ana.json(&["sync", "--json"])?;
    assert_eq!(synced["undelivered"], 0, "{synced}");
    let shown = ana.json(&["show", &note, "--json"])?;
    assert_eq!(shown["space"], full["space"]);
    assert_eq!(shown["kind"], "note");
    assert_eq!(shown["fields"]["notes"], "the real text");
    let seen = api.pull_all(&mallory.token).await?;
    assert!(
        seen.batches
            .iter()
            .flat_map(|b| &b.ops)
            .all(|o| o.record != record),
        "the record leaked into a space the attacker sees"
    );
    Ok(())
}

/// Issue 3: a member removed from a space while a change to it is unsent keeps
/// syncing: the change is set aside (listed, exportable) and his personal space
/// syncs as before, with no owner having to re-add him.
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_member_keeps_syncing() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let (ana, ben) = team(&server).await?;
    ben.ok(&["add", "goal", "Team plan", "--space", "Team"])?;
    ben.ok(&["add", "goal", "My own plan"])?;
    ana.ok(&["spaces", "remove-member", "Team", "ben@example.com"])?;

    let synced = ben.json(&["sync", "--json"])?;
    assert_eq!(synced["ok"], true, "{synced}");
    assert_eq!(synced["pending"], 0, "{synced}");
    assert!(synced["undelivered"].as_u64().unwrap_or(0) >= 1, "{synced}");
    assert_eq!(ben.goal_titles()?, vec!["My own plan".to_owned()]);
    let aside = ben.json(&["undelivered", "--json"])?;
    let items = aside.as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| {
        i["kind"] == "undelivered"
            && i["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no longer a member of Team"))
            && i["record_title"] == "Team plan"
    }));
    let file = ben.home.path().join("kept.json");
    ben.ok(&["undelivered", "export", &file.to_string_lossy()])?;
    let exported: Json = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    assert!(exported.to_string().contains("Team plan"));
    // Later rounds are clean, and the personal goal reached the server.
    let again = ben.json(&["sync", "--json"])?;
    assert_eq!(
        (again["ok"].clone(), again["undelivered"].clone()),
        (Json::Bool(true), Json::from(0))
    );
    let fresh = Device::new()?;
    login(&fresh, &server, "ben@example.com")?;
    fresh.ok(&["sync"])?;
    assert_eq!(fresh.goal_titles()?, vec!["My own plan".to_owned()]);
    ben.ok(&["undelivered", "discard", "--all"])?;
    assert_eq!(ben.json(&["undelivered", "--json"])?, Json::Array(vec![]));
    Ok(())
}

/// The note a hostile editor floods, with its create pushed.
async fn flooded_note(api: &mut Api, token: &str, author: UserId, space: SpaceId) -> RecordId {
    let record = RecordId::new();
    let mut create = op(
        author,
        space,
        record,
        Change::Create {
            kind: RecordKind::Note,
        },
    );
    create.at.wall_ms -= 1000;
    let mut title = op(author, space, record, set_text("title", "Flooded"));
    title.at.wall_ms -= 999;
    let answer = api.push(token, vec![create, title]).await;
    assert!(answer.is_ok_and(|a| a.stored == 2));
    record
}

/// Issue 5: one editor writing 17 values of 1 MiB into one field with
/// `replaces: []` is refused once the record reaches its limit (a clear message to
/// him); the readers' sync goes on and shows the record.
#[tokio::test(flavor = "multi_thread")]
async fn one_editor_cannot_stop_everyones_sync() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let (ana, _ben) = team(&server).await?;
    let mut api = server.api().await?;
    let hostile = api.login("ben@example.com", PASSWORD).await?;
    let team_id = api
        .pull_all(&hostile.token)
        .await?
        .spaces
        .iter()
        .find(|s| s.space.name == "Team")
        .map(|s| s.space.id)
        .ok_or_else(|| anyhow::anyhow!("no Team"))?;
    let author = hostile.user.id;
    let record = flooded_note(&mut api, &hostile.token, author, team_id).await;
    let mebibyte = "x".repeat(1 << 20);
    let (mut stored, mut refused) = (0, Vec::new());
    for _ in 0..17 {
        let answer = api
            .push(
                &hostile.token,
                vec![op(author, team_id, record, set_text("notes", &mebibyte))],
            )
            .await?;
        stored += answer.stored;
        refused.extend(answer.refused);
    }
    assert!((1..17).contains(&stored), "stored {stored} of 17");
    assert!(refused.iter().all(|r| r.reason == RefusalReason::Invalid
        && r.record == Some(record)
        && r.message.contains("KiB")));

    let synced = ana.json(&["sync", "--json"])?;
    assert_eq!(synced["ok"], true, "{synced}");
    assert_eq!(synced["quarantined"], 0, "{synced}");
    let notes = ana.json(&["list", "note", "--json"])?;
    assert!(
        notes
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x["fields"]["title"] == "Flooded")),
        "{notes}"
    );
    // A later change by ana still syncs.
    ana.ok(&["add", "goal", "Still syncing", "--space", "Team"])?;
    let synced = ana.json(&["sync", "--json"])?;
    assert_eq!(
        (synced["ok"].clone(), synced["pending"].clone()),
        (Json::Bool(true), Json::from(0))
    );
    Ok(())
}

/// Issue 6: clocks are bounded: a Delete stamped a day ahead, or with a maximal
/// counter or node id, is refused, so it cannot outrank every Restore; the goal stays
/// as its owner left it.
#[tokio::test(flavor = "multi_thread")]
async fn forged_clocks_are_refused() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let (ana, ben) = team(&server).await?;
    let goal = ana
        .ok(&["add", "goal", "Keep me", "--space", "Team"])?
        .trim()
        .to_owned();
    ana.ok(&["sync"])?;
    let record: RecordId = ana.json(&["show", &goal, "--json"])?["id"]
        .as_str()
        .unwrap_or_default()
        .parse()?;
    ben.ok(&["sync"])?;

    let mut api = server.api().await?;
    let hostile = api.login("ben@example.com", PASSWORD).await?;
    let team_id = ana.json(&["show", &goal, "--json"])?["space"]
        .as_str()
        .unwrap_or_default()
        .parse()?;
    let delete = || op(hostile.user.id, team_id, record, Change::Delete);
    let mut ahead = delete();
    ahead.at.wall_ms += 24 * 3600 * 1000;
    let mut counter = delete();
    counter.at.counter = u32::MAX;
    let mut node = delete();
    node.at.node = NodeId(u64::MAX);
    for (forged, reason) in [
        (ahead, RefusalReason::ClockAhead),
        (counter, RefusalReason::Invalid),
        (node, RefusalReason::Invalid),
    ] {
        let answer = api.push(&hostile.token, vec![forged]).await?;
        assert_eq!(answer.stored, 0);
        assert_eq!(answer.refused[0].reason, reason, "{:?}", answer.refused);
    }
    let ahead_message = {
        let mut ahead = delete();
        ahead.at.wall_ms += 3600 * 1000;
        api.push(&hostile.token, vec![ahead]).await?.refused[0]
            .message
            .clone()
    };
    assert!(ahead_message.contains("clock"), "{ahead_message}");
    ana.ok(&["sync"])?;
    let shown = ana.json(&["show", &goal, "--json"])?;
    assert_eq!(shown["deleted"], false, "{shown}");
    Ok(())
}
