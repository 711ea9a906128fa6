//! Complete deletion, logins and history end to end: the real `cairn` client syncs
//! records with unique markers to the real `cairn-server` binary; `cairn-server
//! purge` (through the running server's control socket, and on a stopped data dir)
//! must leave no byte of them under the data dir or its backups, while everyone
//! else's data still syncs and exports.

use std::process::{Command, Stdio};

use anyhow::Context;
use cairn_tests::client::Device;
use cairn_tests::server::ServerProcess;
use cairn_tests::{binary, files_containing};
use serde_json::Value;

const ANA: &str = "ana@example.com";
const ANA_PW: &str = "ana's long password";
const BEN: &str = "ben@example.com";
const BEN_PW: &str = "ben's long password";
const ANA_MARKER: &str = "MARKER-ANA-PERSONAL-c0ffee42";
const BEN_MARKER: &str = "MARKER-BEN-KEEP-5eed1e55";
const TEAM_MARKER: &str = "MARKER-TEAM-GOAL-0ddba11";

/// Records written through the real client and sync, a kept backup holding them,
/// then `purge --user` on the running server: no marker of the user's in any byte
/// of the data dir or backups; the other user still syncs, sees the shared space
/// (history under a pseudonym) and exports it; logins and history are the user's
/// own; the audit log verifies and records the purge. Then `purge --space` while
/// running and `purge --all` on the stopped data dir.
#[tokio::test(flavor = "multi_thread")]
async fn purge_leaves_no_bytes_and_keeps_the_rest() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server.user(ANA, ANA_PW).await?;
    server.user(BEN, BEN_PW).await?;
    let mut api = server.api().await?;
    assert!(api.login(ANA, "not ana's password").await.is_err());

    let ana = Device::new()?;
    ana.login(&server, ANA, ANA_PW)?;
    ana.ok_with(&["add", "goal", ANA_MARKER], "")?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok_with(&["spaces", "add-member", "Team", BEN], "")?;
    ana.ok_with(&["sync"], "")?;
    ana.ok_with(&["add", "goal", TEAM_MARKER, "--space", "Team"], "")?;
    let team_goal = ana
        .json(&["list", "goal", "--json"])?
        .as_array()
        .context("array")?
        .iter()
        .find(|r| r["fields"]["title"] == TEAM_MARKER)
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .context("the team goal")?;
    ana.ok_with(&["set", &team_goal, "title=Team goal v2"], "")?;
    ana.ok_with(&["sync"], "")?;

    // History: who, when, field, old → new.
    let history = ana.ok_with(&["history", &team_goal], "")?;
    assert!(
        history.contains(&format!("Title: {TEAM_MARKER} → Team goal v2")),
        "{history}"
    );
    assert!(history.contains("you"), "{history}");
    let history = ana.json(&["history", &team_goal, "--json"])?;
    let last = history
        .as_array()
        .context("array")?
        .last()
        .context("last")?;
    assert_eq!(last["old"], serde_json::json!([TEAM_MARKER]));
    assert_eq!(last["new"], "Team goal v2");
    let ana_id = last["author"].as_str().context("author")?.to_owned();

    let ben = Device::new()?;
    ben.login(&server, BEN, BEN_PW)?;
    ben.ok_with(&["add", "goal", BEN_MARKER], "")?;
    ben.ok_with(&["sync"], "")?;
    assert!(ben.goal_titles()?.contains(&"Team goal v2".to_owned()));

    // Logins: ana's own only (the admin's login for her, the failure, cairn login).
    let logins = ana.json(&["account", "logins", "--json"])?;
    let logins = logins.as_array().context("array")?;
    assert_eq!(logins.len(), 3, "{logins:?}");
    assert_eq!(logins.iter().filter(|l| l["success"] == false).count(), 1);
    assert!(
        logins.iter().all(|l| l["address"] == "127.0.0.0/24"),
        "{logins:?}"
    );
    let table = ana.ok_with(&["account", "logins"], "")?;
    assert!(table.contains("failed") && table.contains("ok"), "{table}");

    // A kept backup that holds the marker.
    let backups = server.data_dir().join("backups");
    let out = server.admin(&["backup", "now"], "")?;
    assert!(!files_containing(&backups, ANA_MARKER).is_empty(), "{out}");

    let refused = Command::new(binary("cairn-server")?)
        .args(["purge", "--user", ANA, "--data-dir"])
        .arg(server.data_dir())
        .stdin(Stdio::null())
        .output()?;
    assert!(
        !refused.status.success(),
        "purge without --yes off a terminal"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let out = server.admin(&["purge", "--user", ANA, "--yes"], "")?;
    assert!(out.contains("purged account ana@example.com"), "{out}");
    assert!(out.contains("deleted (it held the purged data)"), "{out}");
    for needle in [ANA_MARKER, ANA] {
        let found = files_containing(server.data_dir(), needle);
        assert!(found.is_empty(), "{needle} still in {found:?}");
    }
    assert!(!files_containing(server.data_dir(), BEN_MARKER).is_empty());

    // Ben's data serves on: his own client syncs, a new one gets everything, and it
    // exports.
    ben.ok_with(&["sync"], "")?;
    let fresh = Device::new()?;
    fresh.login(&server, BEN, BEN_PW)?;
    let mut titles = fresh.goal_titles()?;
    titles.sort();
    assert_eq!(titles, [BEN_MARKER, "Team goal v2"]);
    let export_dir = fresh.home.path().join("export");
    fresh.ok_with(&["export", "--out", &export_dir.to_string_lossy()], "")?;
    assert!(!files_containing(&export_dir, BEN_MARKER).is_empty());
    assert!(!files_containing(&export_dir, "Team goal v2").is_empty());
    let shared_history = fresh.json(&["history", &team_goal, "--json"])?;
    let author = shared_history[0]["author"]
        .as_str()
        .context("author")?
        .to_owned();
    assert_ne!(
        author, ana_id,
        "the history names a pseudonym: {shared_history}"
    );
    let entries = shared_history.as_array().context("array")?;
    assert!(
        entries.iter().all(|e| e["author"] == author.as_str()),
        "one pseudonym for all of ana's changes: {shared_history}"
    );
    let last = entries.last().context("last")?;
    assert_eq!(last["old"], serde_json::json!([TEAM_MARKER]));

    let verify = server.admin(&["audit", "verify"], "")?;
    assert!(verify.contains("intact"), "{verify}");
    let audit: Value = serde_json::from_str(&server.admin(&["audit", "list", "--json"], "")?)?;
    let kinds: Vec<&str> = audit
        .as_array()
        .context("array")?
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in ["account-created", "member-added", "backup", "purge"] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    assert!(!serde_json::to_string(&audit)?.contains(ANA));

    // Purge the shared space while running.
    let spaces = fresh.json(&["spaces", "list", "--json"])?;
    let team = spaces
        .as_array()
        .context("array")?
        .iter()
        .find(|s| s["name"] == "Team")
        .and_then(|s| s["id"].as_str().map(str::to_owned))
        .context("team")?;
    let out = server.admin(&["purge", "--space", &team, "--yes"], "")?;
    assert!(out.contains(&format!("removed space {team}")), "{out}");
    assert!(files_containing(server.data_dir(), "Team goal v2").is_empty());
    fresh.ok_with(&["sync"], "")?;
    assert_eq!(fresh.goal_titles()?, [BEN_MARKER]);

    // Everything, on the stopped data dir.
    server.kill9()?;
    let out = server.admin(&["purge", "--all", "--yes"], "")?;
    assert!(out.contains("purged account ben@example.com"), "{out}");
    for needle in [BEN_MARKER, BEN] {
        assert!(
            files_containing(server.data_dir(), needle).is_empty(),
            "{needle}"
        );
    }
    let users = server.admin(&["user", "list", "--json"], "")?;
    let users: Value = serde_json::from_str(&users)?;
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    server.serve()?;
    let mut api = server.api().await?;
    assert_eq!(api.health().await?, 200);
    Ok(())
}
