//! End-to-end sync: two people, each with an offline `cairn` replica, work on a shared
//! space through the real `cairn-server` and converge.

use cairn_tests::client::Device;
use cairn_tests::server::ServerProcess;
use serde_json::Value;

const PASSWORD: &str = "a long shared-space secret";

fn login(device: &Device, server: &ServerProcess, email: &str) -> anyhow::Result<()> {
    device.login(server, email, PASSWORD).map(drop)
}

/// A record's fields and conflicts as `cairn show --json` prints them.
fn show(device: &Device, id: &str) -> anyhow::Result<Value> {
    let mut record = device.json(&["show", id, "--json"])?;
    // Local bookkeeping that is not part of the shared state.
    if let Some(map) = record.as_object_mut() {
        map.remove("history");
    }
    Ok(record)
}

/// Two clients edit offline, different fields of one goal and the same conversation
/// note text; after both sync, both replicas hold identical records, the field edits
/// are merged, and the note shows a conflict with both texts.
#[tokio::test(flavor = "multi_thread")]
async fn offline_edits_converge_with_a_visible_conflict() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    server.user("ana@example.com", PASSWORD).await?;
    server.user("ben@example.com", PASSWORD).await?;
    let (ana, ben) = (Device::new()?, Device::new()?);
    login(&ana, &server, "ana@example.com")?;
    login(&ben, &server, "ben@example.com")?;

    ana.ok(&["spaces", "create", "Team Nord"])?;
    ana.ok(&[
        "spaces",
        "add-member",
        "Team Nord",
        "ben@example.com",
        "--role",
        "editor",
    ])?;
    // Space commands talk to the server only; a sync brings the new space here.
    ana.ok(&["sync"])?;
    let goal = ana.ok(&[
        "add",
        "goal",
        "Ship the platform",
        "--space",
        "Team Nord",
        "--field",
        "owner=Ana",
    ])?;
    let note = ana.ok(&[
        "add",
        "note",
        "1:1 with Carl",
        "--space",
        "Team Nord",
        "--field",
        "notes=first draft",
    ])?;
    let (goal, note) = (goal.trim().to_owned(), note.trim().to_owned());
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    assert_eq!(show(&ben, &goal)?["fields"]["title"], "Ship the platform");

    // Both offline now: no sync between these edits.
    ana.ok(&["set", &goal, "status=at-risk"])?;
    ben.ok(&["set", &goal, "owner=Ben", "progress=40"])?;
    ana.ok(&[
        "set",
        &note,
        "notes=Ana's version:\nCarl wants to lead the migration.",
    ])?;
    ben.ok(&[
        "set",
        &note,
        "notes=Ben's version:\nCarl asked for a training budget.",
    ])?;

    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    ana.ok(&["sync"])?;

    let (ana_goal, ben_goal) = (show(&ana, &goal)?, show(&ben, &goal)?);
    assert_eq!(ana_goal, ben_goal, "the goal differs between the replicas");
    assert_eq!(ana_goal["fields"]["status"], "at-risk");
    assert_eq!(ana_goal["fields"]["owner"]["name"], "Ben");
    assert_eq!(ana_goal["fields"]["progress"], 40);
    assert!(
        ana_goal["conflicts"]
            .as_object()
            .is_some_and(serde_json::Map::is_empty),
        "{ana_goal}"
    );

    let (ana_note, ben_note) = (show(&ana, &note)?, show(&ben, &note)?);
    assert_eq!(ana_note, ben_note, "the note differs between the replicas");
    let versions: Vec<&str> = ana_note["conflicts"]["notes"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["value"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(versions.len(), 2, "{ana_note}");
    assert!(versions.iter().any(|t| t.contains("lead the migration")));
    assert!(versions.iter().any(|t| t.contains("training budget")));

    // Whole lists agree too (every kind, byte for byte as JSON).
    for kind in ["goal", "note"] {
        assert_eq!(
            ana.json(&["list", kind, "--json"])?,
            ben.json(&["list", kind, "--json"])?
        );
    }

    // Resolving on one side clears the conflict on both after a sync.
    ben.ok(&[
        "set",
        &note,
        "notes=Merged: lead the migration, with a training budget.",
    ])?;
    ben.ok(&["sync"])?;
    ana.ok(&["sync"])?;
    let resolved = show(&ana, &note)?;
    assert!(
        resolved["conflicts"]
            .as_object()
            .is_some_and(serde_json::Map::is_empty)
    );
    assert_eq!(
        resolved["fields"]["notes"],
        "Merged: lead the migration, with a training budget."
    );
    Ok(())
}

/// A client that neither has the CA nor pins the certificate refuses the server,
/// naming the ways to trust it; a wrong pin is refused too.
#[tokio::test(flavor = "multi_thread")]
async fn untrusted_certificates_are_refused_with_the_options() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    server.user("ana@example.com", PASSWORD).await?;
    let device = Device::new()?;
    let stderr = device.fail(
        &[
            "login",
            &server.url(),
            "--email",
            "ana@example.com",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(
        stderr.contains("--ca-file") && stderr.contains("--fingerprint"),
        "{stderr}"
    );
    let wrong = "00".repeat(32);
    let stderr = device.fail(
        &[
            "login",
            &server.url(),
            "--email",
            "ana@example.com",
            "--password-stdin",
            "--fingerprint",
            &wrong,
        ],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(stderr.to_lowercase().contains("fingerprint"), "{stderr}");
    let ca = server.data_dir().join("tls/cert.pem");
    let ca = ca
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("path is not UTF-8"))?;
    device.ok_with(
        &[
            "login",
            &server.url(),
            "--email",
            "ana@example.com",
            "--password-stdin",
            "--ca-file",
            ca,
        ],
        &format!("{PASSWORD}\n"),
    )?;
    Ok(())
}
