//! A one-line input for a file system path, with Tab completion as in a shell:
//! Tab completes the last component from the listing of its folder (as far as the
//! names that fit agree, a folder gets its `/`), shows the candidates when several
//! fit, and further Tabs cycle through them (shift-Tab backwards). `~` stands for
//! the home folder; a lone `~` becomes `~/`.
//!
//! The input itself never reads the disk: a Tab that needs a listing answers
//! [`PathKey::List`] and the listing comes back through [`PathInput::complete`]
//! (the app reads it as an effect, see `file_jobs::list_dir`).

use crossterm::event::KeyEvent;
use ratatui::style::Style;
use ratatui::text::Line;

use super::keys::KeyBindings;
use super::line_input::LineInput;
use super::text;

/// One entry of a folder, as completion needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    /// A folder (or a link to one): completed with a trailing `/`.
    pub is_dir: bool,
}

/// What a key did to the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathKey {
    /// Handled; just redraw.
    Consumed,
    /// Not a key of the input (Enter, Esc, …): the owner decides.
    Ignored,
    /// Tab with no candidates at hand: list the folder `dir` (as typed, `~`
    /// included; `""` is the current folder) and hand the entries to
    /// [`PathInput::complete`].
    List { dir: String },
}

/// The candidates of the last completion.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Completion {
    /// The folder part of the text completed (`~/Doc` → `~/`).
    dir: String,
    /// The names that fit, folders ending in `/`, sorted.
    candidates: Vec<String>,
    /// The candidate in the text while cycling.
    shown: Option<usize>,
    /// The text as the completion left it: once it is edited, the candidates are
    /// stale and the next Tab lists again.
    text: String,
}

/// The path being typed and the state of its completion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathInput {
    input: LineInput,
    completion: Option<Completion>,
    /// Why the last Tab completed nothing (no match, an unreadable folder).
    note: Option<String>,
}

/// Splits a path as typed into its folder part (up to and with the last `/`) and
/// the component being typed.
fn split(text: &str) -> (&str, &str) {
    match text.rfind('/') {
        Some(at) => text.split_at(at + 1),
        None => ("", text),
    }
}

/// The longest start all `names` share, by characters.
fn common_prefix(names: &[String]) -> String {
    let Some((first, rest)) = names.split_first() else {
        return String::new();
    };
    let mut len = first.chars().count();
    for name in rest {
        len = len.min(
            first
                .chars()
                .zip(name.chars())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first.chars().take(len).collect()
}

impl PathInput {
    /// An input holding `text`, the cursor at its end.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Self {
            input: LineInput::new(text),
            ..Self::default()
        }
    }

    /// The path as typed.
    #[must_use]
    pub fn text(&self) -> String {
        self.input.text()
    }

    /// The candidates shown under the input, and which one is in the text.
    #[must_use]
    pub fn candidates(&self) -> (&[String], Option<usize>) {
        match &self.completion {
            Some(c) if c.candidates.len() > 1 => (&c.candidates, c.shown),
            _ => (&[], None),
        }
    }

    /// Why the last Tab completed nothing.
    #[must_use]
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Reads one key: the completion keys, else the editing keys of a line.
    pub fn handle_key(&mut self, key: &KeyEvent, keys: &KeyBindings) -> PathKey {
        if keys.complete.matches(key) {
            return self.tab(true);
        }
        if keys.complete_back.matches(key) {
            return self.tab(false);
        }
        if self.input.handle_key(key) {
            self.completion = None;
            self.note = None;
            PathKey::Consumed
        } else {
            PathKey::Ignored
        }
    }

    /// Inserts pasted text at the cursor (one line).
    pub fn paste(&mut self, text: &str) {
        self.input.paste(text);
        self.completion = None;
        self.note = None;
    }

    /// Tab (`forward`) or shift-Tab: cycles through the candidates at hand, else
    /// asks for the folder's listing.
    fn tab(&mut self, forward: bool) -> PathKey {
        let text = self.input.text();
        if text == "~" {
            self.input.set_text("~/");
            return PathKey::Consumed;
        }
        if let Some(c) = &mut self.completion
            && c.text == text
            && c.candidates.len() > 1
        {
            let n = c.candidates.len();
            let next = match (c.shown, forward) {
                (None, true) => 0,
                (None, false) => n - 1,
                (Some(i), true) => (i + 1) % n,
                (Some(i), false) => (i + n - 1) % n,
            };
            c.shown = Some(next);
            c.text = format!("{}{}", c.dir, c.candidates[next]);
            self.input.set_text(&c.text);
            return PathKey::Consumed;
        }
        PathKey::List {
            dir: split(&text).0.to_owned(),
        }
    }

    /// Completes the text from the listing of `dir` (what [`PathKey::List`] asked
    /// for), or notes why not. A listing for a folder the text no longer names
    /// (typed on meanwhile) is dropped.
    pub fn complete(&mut self, dir: &str, listing: Result<Vec<DirEntry>, String>) {
        let text = self.input.text();
        let (typed_dir, prefix) = split(&text);
        if typed_dir != dir {
            return;
        }
        let entries = match listing {
            Ok(entries) => entries,
            Err(e) => {
                self.note = Some(e);
                self.completion = None;
                return;
            }
        };
        // Hidden entries only when asked for with a leading dot, as shells do.
        let hidden = prefix.starts_with('.');
        let mut names: Vec<String> = entries
            .into_iter()
            .filter(|e| e.name.starts_with(prefix) && (hidden || !e.name.starts_with('.')))
            .map(|e| {
                if e.is_dir {
                    format!("{}/", e.name)
                } else {
                    e.name
                }
            })
            .collect();
        names.sort();
        match names.as_slice() {
            [] => {
                self.note = Some(text::path_no_match(dir, prefix));
                self.completion = None;
            }
            [only] => {
                self.input.set_text(&format!("{dir}{only}"));
                self.note = None;
                self.completion = None;
            }
            _ => {
                let common = common_prefix(&names);
                let completed = format!("{dir}{common}");
                self.input.set_text(&completed);
                self.note = None;
                self.completion = Some(Completion {
                    dir: dir.to_owned(),
                    candidates: names,
                    shown: None,
                    text: completed,
                });
            }
        }
    }

    /// The input line in `width` cells, with the cursor.
    #[must_use]
    pub fn line(&self, width: u16, style: Style, cursor: Style) -> Line<'static> {
        self.input.line(width, style, Some(cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(input: &mut PathInput, code: KeyCode) -> PathKey {
        let keys = KeyBindings::default();
        let modifiers = if code == KeyCode::BackTab {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        input.handle_key(&KeyEvent::new(code, modifiers), &keys)
    }

    fn entries(names: &[&str]) -> Vec<DirEntry> {
        names
            .iter()
            .map(|n| DirEntry {
                name: n.trim_end_matches('/').to_owned(),
                is_dir: n.ends_with('/'),
            })
            .collect()
    }

    /// A Tab asks for the folder of what is typed; one match completes it, a
    /// folder with its slash.
    #[test]
    fn one_match_completes() {
        let mut input = PathInput::new("/srv/pl");
        assert_eq!(
            press(&mut input, KeyCode::Tab),
            PathKey::List {
                dir: "/srv/".into()
            }
        );
        input.complete("/srv/", Ok(entries(&["plans/", "notes.txt"])));
        assert_eq!(input.text(), "/srv/plans/");
        assert_eq!(input.candidates().0.len(), 0);
        let mut input = PathInput::new("rep");
        assert_eq!(
            press(&mut input, KeyCode::Tab),
            PathKey::List { dir: "".into() }
        );
        input.complete("", Ok(entries(&["report.pdf"])));
        assert_eq!(input.text(), "report.pdf");
    }

    /// Several matches complete as far as they agree and show; Tab then cycles
    /// through them, shift-Tab back; typing ends the cycle.
    #[test]
    fn several_matches_show_and_cycle() {
        let mut input = PathInput::new("~/re");
        assert_eq!(
            press(&mut input, KeyCode::Tab),
            PathKey::List { dir: "~/".into() }
        );
        input.complete(
            "~/",
            Ok(entries(&["report-2025.pdf", "report-2026.pdf", "other"])),
        );
        assert_eq!(input.text(), "~/report-202");
        assert_eq!(
            input.candidates(),
            (
                &["report-2025.pdf".to_owned(), "report-2026.pdf".to_owned()][..],
                None
            )
        );
        assert_eq!(press(&mut input, KeyCode::Tab), PathKey::Consumed);
        assert_eq!(input.text(), "~/report-2025.pdf");
        press(&mut input, KeyCode::Tab);
        assert_eq!(input.text(), "~/report-2026.pdf");
        press(&mut input, KeyCode::Tab);
        assert_eq!(input.text(), "~/report-2025.pdf");
        press(&mut input, KeyCode::BackTab);
        assert_eq!(input.text(), "~/report-2026.pdf");
        press(&mut input, KeyCode::Backspace);
        assert_eq!(
            press(&mut input, KeyCode::Tab),
            PathKey::List { dir: "~/".into() }
        );
    }

    /// Hidden entries only for a leading dot; no match and unreadable folders are
    /// noted; a listing for a folder no longer typed is dropped; `~` gets its slash.
    #[test]
    fn hidden_missing_stale_and_home() {
        let mut input = PathInput::new("");
        input.complete("", Ok(entries(&[".config/", "photo.jpg"])));
        assert_eq!(input.text(), "photo.jpg");
        let mut input = PathInput::new(".c");
        input.complete("", Ok(entries(&[".config/", "photo.jpg"])));
        assert_eq!(input.text(), ".config/");
        let mut input = PathInput::new("zz");
        input.complete("", Ok(entries(&["photo.jpg"])));
        assert_eq!(input.text(), "zz");
        assert!(input.note().is_some_and(|n| n.contains("zz")));
        input.complete("", Err("cannot read".into()));
        assert_eq!(input.note(), Some("cannot read"));
        let mut input = PathInput::new("/a/b");
        input.complete("/elsewhere/", Ok(entries(&["bee"])));
        assert_eq!(input.text(), "/a/b");
        let mut input = PathInput::new("~");
        assert_eq!(press(&mut input, KeyCode::Tab), PathKey::Consumed);
        assert_eq!(input.text(), "~/");
        assert_eq!(press(&mut input, KeyCode::Enter), PathKey::Ignored);
    }

    /// Names are compared by characters, not bytes, when finding what they share.
    #[test]
    fn common_prefix_by_characters() {
        let names = vec!["Übersicht-a".to_owned(), "Übersicht-b".to_owned()];
        assert_eq!(common_prefix(&names), "Übersicht-");
        assert_eq!(common_prefix(&["é".to_owned(), "e".to_owned()]), "");
    }
}
