//! Opening a file with the person's program. `$OPENER` (split like `$EDITOR`:
//! `less`, `"/opt/my viewer" --new`) runs with the file's path as its last word and
//! gets the terminal the way the external editor does: the driver hands the
//! terminal over and takes it back, so a terminal program such as `less` works.
//! Without it the desktop's opener (`xdg-open`, `open` on macOS) starts detached,
//! with no terminal: it hands the file to a graphical viewer and must not draw over
//! the screen.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;

use super::action::Action;
use super::text;

/// How files are opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opener {
    /// `$OPENER`'s words: run in the terminal, waited for.
    Terminal(Vec<String>),
    /// The desktop's opener program: started detached.
    Desktop(String),
}

/// The desktop's program that opens a file with its default application.
const DESKTOP: &str = if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

impl Opener {
    /// `$OPENER` if it is set and not blank, else the desktop's opener.
    #[must_use]
    pub fn from_env() -> Self {
        Self::from_value(std::env::var("OPENER").ok().as_deref())
    }

    fn from_value(value: Option<&str>) -> Self {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Self::Desktop(DESKTOP.to_owned());
        };
        match super::external_editor::split_command(value) {
            Ok(words) if !words.is_empty() => Self::Terminal(words),
            // Quoting the splitter cannot read: tried as one program name, so the
            // failure to start it names what was set.
            _ => Self::Terminal(vec![value.to_owned()]),
        }
    }
}

/// Runs `command` on `path` in the terminal and waits for it (the driver has
/// handed the terminal over).
///
/// # Errors
/// A message when it cannot start or exits with a failure.
pub fn run_in_terminal(command: &[String], path: &Path) -> Result<(), String> {
    let Some((program, args)) = command.split_first() else {
        return Err(text::opener_cannot_start("", "it is empty"));
    };
    let status = Command::new(program)
        .args(args)
        .arg(path)
        .status()
        .map_err(|e| text::opener_cannot_start(program, &e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(text::opener_failed(program, &status.to_string()))
    }
}

/// Starts `program` on `path` detached: no terminal (its output would draw over
/// the screen), its own process group (keys and the terminal's hang-up are not
/// its business). A thread waits for it so it leaves no zombie, and tells
/// `replies` if it fails.
///
/// # Errors
/// A message when it cannot be started.
pub fn open_detached(
    program: &str,
    path: &Path,
    name: &str,
    replies: Option<Sender<Action>>,
) -> Result<(), String> {
    let mut command = Command::new(program);
    command
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| text::opener_cannot_start(program, &e.to_string()))?;
    let program = program.to_owned();
    let name = name.to_owned();
    std::thread::spawn(move || {
        let failure = match child.wait() {
            Ok(status) if status.success() => return,
            Ok(status) => text::opener_failed(&program, &status.to_string()),
            Err(e) => text::opener_failed(&program, &e.to_string()),
        };
        if let Some(replies) = replies {
            // The UI may be gone; then nobody needs to hear it.
            let _ = replies.send(Action::OpenerClosed {
                name,
                result: Err(failure),
            });
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$OPENER` is split like `$EDITOR`; unset or blank means the desktop's opener.
    #[test]
    fn opener_from_the_environment_value() {
        assert_eq!(Opener::from_value(None), Opener::Desktop(DESKTOP.into()));
        assert_eq!(
            Opener::from_value(Some("  ")),
            Opener::Desktop(DESKTOP.into())
        );
        assert_eq!(
            Opener::from_value(Some("less -R")),
            Opener::Terminal(vec!["less".into(), "-R".into()])
        );
        assert_eq!(
            Opener::from_value(Some("'bad")),
            Opener::Terminal(vec!["'bad".into()])
        );
    }

    /// A terminal opener gets the path as its last word; a failing or missing one
    /// is a message that names it.
    #[cfg(unix)]
    #[test]
    fn terminal_opener_runs_and_fails_clearly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("a file.txt");
        std::fs::write(&source, "content").expect("write");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        let copy_into_out = ["cp", "-t", &out.display().to_string(), "--"].map(String::from);
        run_in_terminal(&copy_into_out, &source).expect("cp runs");
        assert_eq!(
            std::fs::read_to_string(out.join("a file.txt")).expect("copied"),
            "content"
        );
        let err = run_in_terminal(&["false".to_owned()], &source).expect_err("fails");
        assert!(err.contains("false"), "{err}");
        let err =
            run_in_terminal(&["/nonexistent/viewer".to_owned()], &source).expect_err("missing");
        assert!(
            err.contains("/nonexistent/viewer") && err.contains("OPENER"),
            "{err}"
        );
    }
}
