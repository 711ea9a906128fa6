//! Editing a long text in the user's own editor (`$VISUAL`, else `$EDITOR`, else `vi`).
//!
//! The text goes to a private temp file (mode 0600: these are personnel notes), the
//! editor runs on it, and the file is read back and removed. Anything that goes wrong
//! is an error that says what happened, and the caller keeps the old text.
//!
//! The editor needs the terminal: the app driver must leave the alternate screen and
//! raw mode before calling [`edit_in_external_editor`] and restore (and redraw) after,
//! whatever the result. That is the driver's job, not this module's.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The editor the user asked for: `$VISUAL`, else `$EDITOR`, else `vi`.
#[must_use]
pub fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|v| v.to_string_lossy().trim().to_owned())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Edits `text` in the user's editor ([`editor_command`]); `label` (the field's name)
/// goes into the temp file's name so the editor's title says what is being edited.
///
/// # Errors
/// When the editor cannot be started, exits with a failure, or the file cannot be read
/// back; the message says which, and the caller keeps its text.
pub fn edit_in_external_editor(text: &str, label: &str) -> anyhow::Result<String> {
    edit_with(&editor_command(), text, label)
}

/// [`edit_in_external_editor`] with the editor command given (split like a shell
/// would: `code --wait`, `"/opt/my editor/ed" -n`).
///
/// # Errors
/// As [`edit_in_external_editor`], and for a command that cannot be split.
pub fn edit_with(command: &str, text: &str, label: &str) -> anyhow::Result<String> {
    let argv = split_command(command)?;
    let Some((program, args)) = argv.split_first() else {
        bail!("the editor command is empty; set $VISUAL or $EDITOR to your editor");
    };
    let slug: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    // tempfile creates the file with mode 0600 and a random name, so no one else can
    // read the note or slip a file in its place.
    let mut file = tempfile::Builder::new()
        .prefix(&format!("cairn-{slug}-"))
        .suffix(".md")
        .tempfile()
        .context("could not create a temporary file for the editor")?;
    // Editors expect a text file to end with a newline and add one on save; remember
    // whether the text had one so an untouched text comes back unchanged.
    let had_newline = text.is_empty() || text.ends_with('\n');
    let written = if had_newline {
        text.to_owned()
    } else {
        format!("{text}\n")
    };
    std::io::Write::write_all(&mut file, written.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .context("could not write the text to a temporary file for the editor")?;
    // Close our handle (editors on some systems cannot replace an open file); the path
    // still removes the file when dropped, on every return below.
    let path = file.into_temp_path();
    let status = Command::new(program)
        .args(args)
        .arg(&path as &Path)
        .status()
        .with_context(|| {
            format!(
                "could not start the editor {program:?}; set $VISUAL or $EDITOR to an installed editor (your text is unchanged)"
            )
        })?;
    if !status.success() {
        bail!("the editor {program:?} exited with {status}; your text is unchanged");
    }
    let mut edited = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "could not read the edited text back from {}; your text is unchanged",
            path.display()
        )
    })?;
    if !had_newline && edited.ends_with('\n') {
        edited.pop();
        if edited.ends_with('\r') {
            edited.pop();
        }
    }
    // Dropping `path` removes the file. Should that fail, the edited text is still
    // returned: losing what the user just wrote would be worse than a stray temp file.
    drop(path);
    Ok(edited)
}

/// Splits a command line the way a POSIX shell would for simple cases: whitespace
/// separates words, `'…'` is literal, `"…"` allows `\"` `\\` `\$` `` \` ``, and a
/// backslash outside quotes escapes the next character. No variables, globs or pipes.
///
/// # Errors
/// For an unterminated quote or a trailing backslash.
pub fn split_command(command: &str) -> anyhow::Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    let unterminated =
        || anyhow::anyhow!("the editor command {command:?} has an unterminated quote");
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unterminated()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unterminated()),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unterminated()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => bail!("the editor command {command:?} ends with a lone backslash"),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words, quotes and escapes split as a shell would; bad quoting is an error.
    #[test]
    fn splits_like_a_shell() {
        let split = |s: &str| split_command(s).expect("splits");
        assert_eq!(split("vi"), ["vi"]);
        assert_eq!(split("  code   --wait "), ["code", "--wait"]);
        assert_eq!(
            split(r#""/opt/my editor/ed" -n 'a b'"#),
            ["/opt/my editor/ed", "-n", "a b"]
        );
        assert_eq!(split(r"my\ ed x"), ["my ed", "x"]);
        assert_eq!(split(r#""say \"hi\"""#), [r#"say "hi""#]);
        assert_eq!(split("''"), [""]);
        assert!(split_command("'open").is_err());
        assert!(split_command("ed \\").is_err());
        assert!(split("").is_empty());
    }

    #[cfg(unix)]
    fn script(dir: &Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod script");
        // Quoted, so a path with spaces also exercises the splitting.
        format!("'{}'", path.display())
    }

    /// The editor's changes come back, the added final newline is dropped again, and
    /// the temp file (named after the field) is gone afterwards.
    #[cfg(unix)]
    #[test]
    fn editor_changes_come_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = dir.path().join("seen");
        let editor = script(
            dir.path(),
            "my editor.sh",
            &format!(
                "printf 'second line\\n' >> \"$1\"\necho \"$1\" > '{}'",
                seen.display()
            ),
        );
        let edited = edit_with(&editor, "first line", "Development areas").expect("edit");
        assert_eq!(edited, "first line\nsecond line");
        let temp = std::fs::read_to_string(&seen).expect("script saw a file");
        assert!(temp.contains("cairn-development-areas-"), "{temp}");
        assert!(!Path::new(temp.trim()).exists(), "temp file removed");
        // Text that already ended with a newline keeps it.
        let edited = edit_with(&editor, "a\n", "Notes").expect("edit");
        assert_eq!(edited, "a\nsecond line\n");
    }

    /// A failing or missing editor is an error that says so and that the text is unchanged.
    #[cfg(unix)]
    #[test]
    fn editor_failures_are_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let failing = script(dir.path(), "fail.sh", "exit 3");
        let err = edit_with(&failing, "keep me", "Notes").expect_err("exit 3");
        let msg = format!("{err:#}");
        assert!(msg.contains("exited") && msg.contains("unchanged"), "{msg}");
        let err = edit_with("/nonexistent/editor", "keep me", "Notes").expect_err("missing");
        let msg = format!("{err:#}");
        assert!(
            msg.contains("could not start") && msg.contains("$EDITOR"),
            "{msg}"
        );
        let deleting = script(dir.path(), "rm.sh", "rm -f \"$1\"");
        let err = edit_with(&deleting, "keep me", "Notes").expect_err("file removed");
        assert!(format!("{err:#}").contains("could not read"), "{err:#}");
        assert!(edit_with("  ", "x", "Notes").is_err());
    }
}
