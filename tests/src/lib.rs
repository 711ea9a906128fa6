//! Helpers for end-to-end tests that drive Cairn's real binaries.
//!
//! [`Tui`] runs a binary in a pseudo-terminal and reads its screen through a terminal
//! emulator (vt100), the way a person at a terminal would see it.

pub mod acme;
pub mod client;
pub mod forge;
pub mod server;
pub mod smtp;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

pub use cairn_server::testing::files_containing;

/// Every file of the export in `dir` by its path relative to `dir`;
/// `manifest.json` without its `exported_at` (the one part that differs between two
/// exports of the same data).
///
/// # Errors
/// A file that cannot be read, or a manifest that is not JSON.
pub fn export_tree(dir: &Path) -> anyhow::Result<std::collections::BTreeMap<String, Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.strip_prefix(dir)?.to_string_lossy().into_owned();
            let mut bytes = std::fs::read(&path)?;
            if name == "manifest.json" {
                let mut manifest: serde_json::Value = serde_json::from_slice(&bytes)?;
                if let Some(object) = manifest.as_object_mut() {
                    object.remove("exported_at");
                }
                bytes = serde_json::to_vec(&manifest)?;
            }
            out.insert(name, bytes);
        }
    }
    Ok(out)
}

/// Starts the real `cairn` TUI on the data in `home` (`CAIRN_HOME`), 110×32, no
/// colour, and waits until its records are in, as a person would before typing: its
/// first screen is drawn while the replica still opens.
///
/// # Errors
/// If it cannot start or shows no goals tab in time.
pub fn start_tui(home: &Path) -> anyhow::Result<Tui> {
    start_tui_with(home, &[])
}

/// [`start_tui`] with more environment variables (e.g. `OPENER`).
///
/// # Errors
/// If it cannot start or shows no goals tab in time.
pub fn start_tui_with(home: &Path, env: &[(&str, &str)]) -> anyhow::Result<Tui> {
    let path = home
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("temp dir is not UTF-8"))?;
    let mut all = vec![("CAIRN_HOME", path), ("NO_COLOR", "1")];
    all.extend_from_slice(env);
    let tui = Tui::spawn(&binary("cairn")?, &[], &all, 110, 32)?;
    tui.wait_for("Goals", Duration::from_secs(20))?;
    // The status bar says these (the client's `tui/text.rs`) until every record is in.
    tui.wait_while(
        &["opening the replica", "loading records"],
        Duration::from_secs(20),
    )?;
    Ok(tui)
}

/// Runs `cairn ARGS` on the data in `home`; its stdout, or an error with stderr.
///
/// # Errors
/// If it cannot run or fails.
pub fn cairn_in(home: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new(binary("cairn")?)
        .args(args)
        .env("CAIRN_HOME", home)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "cairn {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// Path of a binary of this workspace (`cairn` or `cairn-server`), rebuilt first if
/// it is missing or older than its crate's sources (`cargo test --workspace` builds
/// both before any test runs; this covers `cargo test -p cairn-tests`).
///
/// # Errors
/// When the binary is missing or stale and cannot be built.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    // Test executables live in target/<profile>/deps; binaries one level up.
    let exe = std::env::current_exe().context("finding the test executable")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test executable has no target dir")?;
    let path = profile_dir.join(name);
    let package = if name == "cairn-server" {
        "server"
    } else {
        "client"
    };
    let sources = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(package);
    let mut built = BUILT
        .lock()
        .map_err(|_| anyhow::anyhow!("a test panicked while building"))?;
    if built.iter().any(|b| b == name) {
        return Ok(path);
    }
    let binary_time = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let stale = match binary_time {
        None => true,
        Some(t) => newest_source(&sources).is_some_and(|s| s > t),
    };
    if stale {
        let crate_name = if name == "cairn-server" {
            "cairn-server"
        } else {
            "cairn-client"
        };
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "-p", crate_name, "--bin", name]);
        // Benches run from target/release: their binaries are release builds.
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().context("running cargo build")?;
        if !status.success() || !path.exists() {
            bail!("could not build {name}; run `cargo build --bin {name}` and look at the errors");
        }
    }
    built.push(name.to_owned());
    Ok(path)
}

/// The newest modification time of the `.rs` and `.toml` files under `dir`.
fn newest_source(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "toml")
                && let Ok(time) = entry.metadata().and_then(|m| m.modified())
            {
                newest = newest.max(Some(time));
            }
        }
    }
    newest
}

/// A program running in a pseudo-terminal, with its screen parsed as it draws.
pub struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote, for what a screen no longer shows (a
    /// progress bar cleared at the end).
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Tui {
    /// Starts `program` with `args` and `env` in a `cols`×`rows` terminal.
    ///
    /// # Errors
    /// When the pty or the process cannot be created.
    pub fn spawn(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        cols: u16,
        rows: u16,
    ) -> anyhow::Result<Self> {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .context("opening a pty")?;
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.env("TERM", "xterm-256color");
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pty
            .slave
            .spawn_command(command)
            .context("starting the program in the pty")?;
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().context("pty reader")?;
        let writer = pty.master.take_writer().context("pty writer")?;
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let sink = Arc::clone(&parser);
        let raw = Arc::new(Mutex::new(Vec::new()));
        let raw_sink = Arc::clone(&raw);
        // The master must stay open while the child runs; the reader thread owns it.
        let master = pty.master;
        std::thread::spawn(move || {
            let _master = master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Ok(mut parser) = sink.lock() {
                            parser.process(&buf[..n]);
                        }
                        if let Ok(mut raw) = raw_sink.lock() {
                            raw.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            }
        });
        Ok(Self {
            child,
            writer,
            parser,
            raw,
        })
    }

    /// Types `text` as keystrokes (escape sequences allowed, see [`keys`]).
    ///
    /// # Errors
    /// When the pty is closed.
    pub fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.writer
            .write_all(text.as_bytes())
            .context("writing to the pty")?;
        self.writer.flush().context("flushing the pty")?;
        // Give the program a moment per burst so separate keys arrive as separate events.
        std::thread::sleep(Duration::from_millis(30));
        Ok(())
    }

    /// The screen as text, one line per row.
    #[must_use]
    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Everything the program wrote so far, escape sequences included, as text.
    #[must_use]
    pub fn raw_output(&self) -> String {
        self.raw
            .lock()
            .map(|raw| String::from_utf8_lossy(&raw).into_owned())
            .unwrap_or_default()
    }

    /// Waits until the screen contains `text`, returning the screen.
    ///
    /// # Errors
    /// After `timeout`, with the last screen in the message.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return Ok(screen);
            }
            if start.elapsed() > timeout {
                bail!("timed out waiting for {text:?}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen contains none of `texts`, returning the screen.
    ///
    /// # Errors
    /// After `timeout`, with the last screen in the message.
    pub fn wait_while(&self, texts: &[&str], timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if !texts.iter().any(|t| screen.contains(t)) {
                return Ok(screen);
            }
            if start.elapsed() > timeout {
                bail!("timed out waiting for {texts:?} to go; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the program to exit and returns whether it succeeded.
    ///
    /// # Errors
    /// After `timeout` (the program is killed), with the last screen in the message.
    pub fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().context("waiting for the program")? {
                return Ok(status.success());
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                bail!(
                    "the program did not exit; the screen was:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// Escape sequences of keys a terminal sends.
pub mod keys {
    pub const ENTER: &str = "\r";
    pub const ESC: &str = "\x1b";
    pub const TAB: &str = "\t";
    pub const BACKTAB: &str = "\x1b[Z";
    pub const UP: &str = "\x1b[A";
    pub const DOWN: &str = "\x1b[B";
    pub const CTRL_S: &str = "\x13";
    pub const CTRL_C: &str = "\x03";
    pub const CTRL_O: &str = "\x0f";
    pub const CTRL_U: &str = "\x15";
}
