//! The long commands draw a bar with counts on a terminal, and nothing off one:
//! `cairn-server export` through a running server's control socket (the progress
//! the server forwards), and `cairn import` on a device. A bar is cleared when the
//! command ends, so these look at every byte the terminal received.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use cairn_tests::client::Device;
use cairn_tests::server::ServerProcess;
use cairn_tests::{Tui, binary};

const WAIT: Duration = Duration::from_secs(60);

/// The number in `text` right before `suffix` (e.g. "as 12 files" → 12).
fn number_before(text: &str, suffix: &str) -> anyhow::Result<u64> {
    let at = text
        .find(suffix)
        .with_context(|| format!("no {suffix:?} in {text:?}"))?;
    let digits: String = text[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .with_context(|| format!("no number before {suffix:?} in {text:?}"))
}

/// A command run off a terminal succeeded and wrote nothing to stderr: no bar,
/// no spinner, only the result on stdout.
fn succeeded_quietly(output: &std::process::Output) {
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "nothing but the result off a terminal: {:?}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `program ARGS` in a pty until `done` shows (printed after the bar is
/// cleared, so every byte of the bar has arrived); everything it wrote.
fn in_pty(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    done: &str,
) -> anyhow::Result<String> {
    let mut tui = Tui::spawn(program, args, env, 160, 24)?;
    tui.wait_for(done, WAIT)?;
    assert!(tui.wait_exit(WAIT)?, "{args:?} failed:\n{}", tui.screen());
    Ok(tui.raw_output())
}

/// `cairn-server export` of a running server draws the server's steps with
/// `done/total` counts on a terminal, and writes nothing to stderr off one.
#[tokio::test(flavor = "multi_thread")]
async fn server_export_through_the_socket_shows_counts() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    server
        .user("ana@example.com", "a long enough password")
        .await?;
    let data_dir = server.data_dir.to_string_lossy().into_owned();
    let out = server.dir.path().join("export-pty");
    let raw = in_pty(
        &binary("cairn-server")?,
        &[
            "export",
            "--out",
            &out.to_string_lossy(),
            "--data-dir",
            &data_dir,
        ],
        &[],
        "README.txt there says",
    )?;
    let files = number_before(&raw, " files to ")?;
    assert!(raw.contains("exporting: writing files"), "{raw:?}");
    assert!(raw.contains(&format!("{files}/{files}")), "{raw:?}");

    let quiet_out = server.dir.path().join("export-piped");
    let output = Command::new(binary("cairn-server")?)
        .args([
            "export",
            "--out",
            &quiet_out.to_string_lossy(),
            "--data-dir",
            &data_dir,
        ])
        .output()?;
    succeeded_quietly(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("exported"));
    Ok(())
}

/// `cairn import` of an export draws the ops it merges as `N/N` on a terminal,
/// and writes nothing to stderr off one.
#[test]
fn client_import_shows_counts() -> anyhow::Result<()> {
    let source = Device::new()?;
    for title in ["Ship the plan", "Hire two", "Open Lyon", "Cut costs"] {
        source.ok(&["add", "goal", title])?;
    }
    let export = source.home.path().join("export");
    source.ok(&["export", "--local", "--out", &export.to_string_lossy()])?;

    let target = Device::new()?;
    let home = target.home.path().to_string_lossy().into_owned();
    let raw = in_pty(
        &binary("cairn")?,
        &["import", &export.to_string_lossy()],
        &[("CAIRN_HOME", &home), ("NO_COLOR", "1")],
        "files' content",
    )?;
    let ops = number_before(&raw, " changes (")?;
    assert!(ops >= 4, "{raw:?}");
    assert!(raw.contains("importing: merging ops"), "{raw:?}");
    assert!(raw.contains(&format!("{ops}/{ops}")), "{raw:?}");

    let again = Device::new()?;
    let output = Command::new(binary("cairn")?)
        .args(["import", &export.to_string_lossy()])
        .env("CAIRN_HOME", again.home.path())
        .output()?;
    succeeded_quietly(&output);
    Ok(())
}
