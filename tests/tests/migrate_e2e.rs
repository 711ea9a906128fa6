//! A store moved to PostgreSQL and back with the real `cairn-server migrate`:
//! records synced by the real client, then the stopped data dir copied into a
//! throwaway PostgreSQL and from there into a new data dir, which exports the
//! same files as the original.

use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use cairn_server::test_postgres::TestPostgres;
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, cairn_server};
use cairn_tests::{binary, export_tree};

const ANA: &str = "ana@example.com";
const ANA_PW: &str = "ana's long password";
const BEN: &str = "ben@example.com";

#[tokio::test(flavor = "multi_thread")]
async fn a_migrated_store_exports_the_same_files() -> anyhow::Result<()> {
    let mut original = ServerProcess::start()?;
    original.user(ANA, ANA_PW).await?;
    original.user(BEN, "ben's long password").await?;
    let ana = Device::new()?;
    ana.login(&original, ANA, ANA_PW)?;
    ana.ok_with(&["add", "goal", "Grow the team"], "")?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok_with(&["spaces", "add-member", "Team", BEN], "")?;
    ana.ok_with(&["sync"], "")?;
    ana.ok_with(
        &["add", "goal", "Hire two engineers", "--space", "Team"],
        "",
    )?;
    ana.ok_with(&["sync"], "")?;
    original.signal("TERM")?;
    assert!(
        original.wait_exit(Duration::from_secs(30))?,
        "the server stops"
    );

    let before = original.dir.path().join("export-before");
    original.admin(&["export", "--out", &before.to_string_lossy()], "")?;
    let pg = TestPostgres::shared()?;
    let url = pg.database()?;
    let to_pg = original.admin(&["migrate", "--to", "postgres", &url], "")?;
    assert!(
        to_pg.contains("copied into PostgreSQL and checked"),
        "{to_pg}"
    );
    assert!(to_pg.contains("3 accounts"), "{to_pg}");

    let back = original.dir.path().join("back");
    cairn_server(&["init", "--data-dir", &back.to_string_lossy()])?;
    let to_sled = cairn_server(&[
        "migrate",
        "--to",
        "sled",
        &url,
        "--data-dir",
        &back.to_string_lossy(),
    ])?;
    assert!(
        to_sled.contains("copied into the data dir and checked"),
        "{to_sled}"
    );
    let after = original.dir.path().join("export-after");
    cairn_server(&[
        "export",
        "--out",
        &after.to_string_lossy(),
        "--data-dir",
        &back.to_string_lossy(),
    ])?;
    let (before, after) = (export_tree(&before)?, export_tree(&after)?);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        let other = after.get(name).context("the same files")?;
        assert!(
            bytes == other,
            "{name} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(other)
        );
    }
    // A non-empty target is refused and left as it was.
    let again = Command::new(binary("cairn-server")?)
        .args(["migrate", "--to", "postgres", &url, "--data-dir"])
        .arg(&original.data_dir)
        .output()?;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty database"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    Ok(())
}
