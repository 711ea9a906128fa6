//! One export format end to end, with the real binaries: a member's export from the
//! server (`cairn export`), his device's (`cairn export --local`) and the admin's
//! (`cairn-server export`) write the same files for a space, file content included;
//! the admin's export imports into a new server that exports the same files again,
//! and the member's export imports into a new device, whose file opens offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, cairn_server};
use cairn_tests::{export_tree, files_containing};
use serde_json::Value;

const ANA: &str = "ana@example.com";
const BEN: &str = "ben@example.com";
const PW: &str = "a long enough password";
const PHOTO: &[u8] = b"\xFF\xD8\xFF\xE0 JFIF EXPORT-PHOTO-MARKER the rest of a photo";

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    Ok(serde_json::from_str(&text)?)
}

/// The directory of the space named `name` in the export in `dir`.
fn space_dir(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let manifest = read_json(&dir.join("manifest.json"))?;
    assert_eq!(manifest["format"], "cairn-export", "{manifest}");
    assert_eq!(manifest["format_version"], 2, "{manifest}");
    let space = manifest["spaces"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .with_context(|| format!("no space {name} in {manifest}"))?;
    Ok(dir.join(space["dir"].as_str().context("dir")?))
}

/// The changes of a space's history.json by op id, without what only a server
/// knows (its seqs and everyone's e-mail) or what depends on who exports (`by_you`).
fn changes(space: &Path) -> anyhow::Result<BTreeMap<String, Value>> {
    let history = read_json(&space.join("history.json"))?;
    let mut out = BTreeMap::new();
    for op in history["ops"].as_array().context("ops")? {
        let mut op = op.clone();
        let object = op.as_object_mut().context("op")?;
        for key in ["seq", "author_email", "by_you"] {
            object.remove(key);
        }
        out.insert(op["op"].as_str().context("op id")?.to_owned(), op);
    }
    Ok(out)
}

/// The files of a space's directory that do not depend on who exports: the record
/// tables, the conversations and the file content.
fn same_everywhere(space: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    Ok(export_tree(space)?
        .into_iter()
        .filter(|(name, _)| {
            name.ends_with(".md")
                || name.starts_with("files/")
                || (name.ends_with(".csv") && name != "history.csv")
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_and_server_write_one_format_that_round_trips() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server.user(ANA, PW).await?;
    server.user(BEN, PW).await?;
    let (ana, ben) = (Device::new()?, Device::new()?);
    ana.login(&server, ANA, PW)?;
    ben.login(&server, BEN, PW)?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok(&["spaces", "add-member", "Team", BEN])?;
    ana.ok(&["sync"])?;
    ana.ok(&[
        "add",
        "note",
        "1:1 with Ben",
        "--space",
        "Team",
        "--field",
        "notes=He wants to \"lead\": EXPORT-NOTE-MARKER",
    ])?;
    ana.ok(&["add", "goal", "Ship the plan", "--space", "Team"])?;
    let photo = ana.home.path().join("site.jpg");
    std::fs::write(&photo, PHOTO)?;
    ana.ok(&["files", "add", &photo.to_string_lossy(), "--space", "Team"])?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    ben.ok(&["add", "commitment", "Send the plan", "--space", "Team"])?;
    ben.ok(&["sync"])?;
    ana.ok(&["sync"])?;

    // Three exports: Ana's from the server, Ana's device's, the admin's.
    let dir = |name: &str| ana.home.path().join(name);
    let from_server = ana.json(&["export", "--out", &dir("user").to_string_lossy(), "--json"])?;
    assert_eq!(
        from_server["contents"]["downloaded"].as_u64().unwrap_or(0)
            + from_server["contents"]["copied"].as_u64().unwrap_or(0),
        1,
        "{from_server}"
    );
    let local = ana.json(&[
        "export",
        "--local",
        "--out",
        &dir("local").to_string_lossy(),
        "--json",
    ])?;
    assert_eq!(local["source"], "this device", "{local}");
    server.signal("TERM")?;
    assert!(
        server.wait_exit(Duration::from_secs(30))?,
        "the server stops"
    );
    server.admin(&["export", "--out", &dir("whole").to_string_lossy()], "")?;

    let scopes: Vec<Value> = ["user", "local", "whole"]
        .iter()
        .map(|d| Ok(read_json(&dir(d).join("manifest.json"))?["scope"]["kind"].clone()))
        .collect::<anyhow::Result<_>>()?;
    assert_eq!(scopes, ["user", "device", "server"]);
    let teams = ["user", "local", "whole"]
        .iter()
        .map(|d| space_dir(&dir(d), "Team"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (first, rest) = teams.split_first().context("three")?;
    let files = same_everywhere(first)?;
    assert!(
        files.keys().any(|k| k.starts_with("files/")) && files.contains_key("note.csv"),
        "{:?}",
        files.keys()
    );
    for other in rest {
        assert_eq!(same_everywhere(other)?, files, "{}", other.display());
        assert_eq!(changes(other)?, changes(first)?, "{}", other.display());
        assert_eq!(
            read_json(&other.join("space.json"))?["records"],
            read_json(&first.join("space.json"))?["records"]
        );
    }
    let content = files
        .iter()
        .find(|(k, _)| k.starts_with("files/"))
        .map(|(_, v)| v.clone())
        .context("content")?;
    assert_eq!(content, PHOTO);
    let manifest = read_json(&dir("whole").join("manifest.json"))?;
    let listed = manifest["contents"].as_array().context("contents")?;
    assert_eq!(listed.len(), 1, "{manifest}");
    assert_eq!(listed[0]["names"][0], "site.jpg");
    assert_eq!(listed[0]["size"], PHOTO.len());

    // The admin's export into a new server, which exports the same files again.
    let fresh = ana.home.path().join("fresh-server");
    let fresh_str = fresh.to_string_lossy().into_owned();
    cairn_server(&["init", "--data-dir", &fresh_str])?;
    let imported = cairn_server(&[
        "import",
        &dir("whole").to_string_lossy(),
        "--data-dir",
        &fresh_str,
    ])?;
    assert!(imported.contains("imported"), "{imported}");
    assert!(!files_containing(&fresh, "EXPORT-PHOTO-MARKER").is_empty());
    let again = dir("whole-again");
    cairn_server(&[
        "export",
        "--out",
        &again.to_string_lossy(),
        "--data-dir",
        &fresh_str,
    ])?;
    assert_eq!(export_tree(&again)?, export_tree(&dir("whole"))?);

    // Ana's export into a device that never saw a server: the file opens there.
    let elsewhere = Device::new()?;
    let summary = elsewhere.json(&["import", &dir("user").to_string_lossy(), "--json"])?;
    assert_eq!(summary["contents"], 1, "{summary}");
    let list = elsewhere.json(&["files", "list", "--json"])?;
    let id = list[0]["id"].as_str().context("a file")?;
    let got = elsewhere.home.path().join("got.jpg");
    elsewhere.ok(&["files", "get", id, "--out", &got.to_string_lossy()])?;
    assert_eq!(std::fs::read(&got)?, PHOTO);
    let notes = elsewhere.ok(&["list", "notes"])?;
    assert!(notes.contains("1:1 with Ben"), "{notes}");
    // The admin's export reads on a device too.
    let admin_copy = Device::new()?;
    admin_copy.ok(&["import", &dir("whole").to_string_lossy()])?;
    assert!(
        admin_copy
            .ok(&["list", "commitments"])?
            .contains("Send the plan")
    );
    Ok(())
}
