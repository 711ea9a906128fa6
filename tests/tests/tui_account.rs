//! End-to-end: the real `cairn` TUI in a pseudo-terminal against a real server, for
//! what lives only on the server: a changed privacy notice, shown and accepted in the
//! TUI, after which sync works again; and the notifications, toggled in the TUI and
//! read back by the CLI.

use std::time::Duration;

use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, set_config_section};
use cairn_tests::{keys, start_tui};

const ANA: &str = "ana@example.com";
const ANA_PW: &str = "ana's long password";
const WAIT: Duration = Duration::from_secs(30);

/// The server's notice changes while Ana has a change not pushed. Her TUI shows the
/// new notice at start; `n` leaves sync paused (the status bar says so), the palette
/// shows it again, and `y` accepts it: the TUI syncs at once, her change reaches the
/// server (another device of hers gets it) and `cairn sync` works again. Then two
/// notifications turned on in the TUI are what `cairn account notifications` reads.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_notice_is_accepted_and_notifications_set_in_the_tui() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server.user(ANA, ANA_PW).await?;
    let ana = Device::new()?;
    ana.login(&server, ANA, ANA_PW)?;

    std::fs::write(
        server.data_dir().join("notice-v2.md"),
        "# Privacy notice, second version\n\nThis server now also keeps the dates you \
         signed in.\n",
    )?;
    server.kill9()?;
    set_config_section(
        server.data_dir(),
        "privacy",
        "notice_file = \"notice-v2.md\"\nnotice_version = \"2\"",
    )?;
    server.serve_again()?;
    ana.ok(&["add", "goal", "Goal while paused"])?;

    let mut tui = start_tui(ana.home.path())?;
    let screen = tui.wait_for("Privacy notice — version 2", WAIT)?;
    assert!(screen.contains("second version"), "{screen}");
    assert!(screen.contains("also keeps the dates"), "{screen}");
    tui.wait_for("sync paused", WAIT)?;
    tui.send("n")?;
    let screen = tui.wait_while(&["Privacy notice — version 2"], WAIT)?;
    assert!(screen.contains("sync paused"), "{screen}");
    assert!(screen.contains("Goal while paused"), "{screen}");

    tui.send(":")?;
    tui.send("privacy notice")?;
    tui.send(keys::ENTER)?;
    tui.wait_for("Privacy notice — version 2", WAIT)?;
    tui.send("y")?;
    tui.wait_for("version 2 accepted", WAIT)?;
    let screen = tui.wait_for("│ synced", WAIT)?;
    assert!(!screen.contains("sync paused"), "{screen}");

    // The server took the acceptance and the change: another device gets it, and
    // `cairn sync` (run by the TUI over its socket) succeeds.
    let other = Device::new()?;
    other.login(&server, ANA, ANA_PW)?;
    assert_eq!(other.goal_titles()?, ["Goal while paused"]);
    ana.ok(&["sync"])?;

    tui.send(":")?;
    tui.send("notifications")?;
    tui.send(keys::ENTER)?;
    tui.wait_for("[off] due", WAIT)?;
    tui.send(" ")?;
    tui.wait_for("[on]  due", WAIT)?;
    tui.send("j")?;
    tui.send("j")?;
    tui.send(keys::ENTER)?;
    let screen = tui.wait_for("[on]  invitations", WAIT)?;
    assert!(screen.contains("[off] follow-ups"), "{screen}");
    tui.send(keys::ESC)?;
    tui.wait_while(&["[on]  invitations"], WAIT)?;

    let settings = ana.json(&["account", "notifications", "--json"])?;
    assert_eq!(settings["due"], true, "{settings}");
    assert_eq!(settings["follow_ups"], false, "{settings}");
    assert_eq!(settings["invitations"], true, "{settings}");

    tui.send("q")?;
    assert!(tui.wait_exit(WAIT)?, "cairn exited with an error");
    Ok(())
}
