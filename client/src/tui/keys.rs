//! Key bindings as data: one named field per binding, defaults in code, overrides from
//! `[keys]` in `config.toml`. Code asks `keys.quit.matches(&event)`, never compares
//! raw key codes, so every binding can be changed and the help overlay lists them all.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// One key with its modifiers, e.g. `ctrl-s`, `G`, `enter`, `shift-tab`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPress {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyPress {
    /// Reads `q`, `?`, `ctrl-c`, `alt-x`, `shift-tab`, `enter`, `esc`, `up`, `f5`, `space`.
    ///
    /// # Errors
    /// A message naming the key that could not be read and the accepted forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, modifier) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") && rest.len() > "shift-".len() {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            modifiers |= modifier;
            rest = &rest[prefix.len()..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => KeyCode::F(
                f[1..]
                    .parse()
                    .map_err(|_| format!("bad function key {text:?}"))?,
            ),
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    // Terminals report shift on a letter as the capital letter, and
                    // `matches` ignores SHIFT on characters: so `shift-a` means `A`.
                    (Some(c), None) if modifiers.contains(KeyModifiers::SHIFT) => {
                        modifiers.remove(KeyModifiers::SHIFT);
                        KeyCode::Char(c.to_ascii_uppercase())
                    }
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "cannot read the key {text:?}; write e.g. q, G, ?, ctrl-s, alt-x, shift-tab, enter, esc, up, f5, space"
                        ));
                    }
                }
            }
        };
        Ok(Self { code, modifiers })
    }

    /// Whether a terminal key event is this key. Shift on a character is already in
    /// the character itself (`G`) and in `BackTab`, so SHIFT is ignored for those.
    #[must_use]
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let relevant = |m: KeyModifiers| match event.code {
            KeyCode::Char(_) | KeyCode::BackTab => m - KeyModifiers::SHIFT,
            _ => m,
        };
        event.code == self.code && relevant(event.modifiers) == relevant(self.modifiers)
    }
}

impl fmt::Display for KeyPress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A binding: any of several keys (e.g. `j` and `↓`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBinding(pub Vec<KeyPress>);

impl KeyBinding {
    fn of(keys: &[&str]) -> Self {
        // Defaults are written in this file and covered by a test, so parsing cannot fail
        // at run time; a bad default would be dropped rather than crash the UI.
        Self(
            keys.iter()
                .filter_map(|k| KeyPress::parse(k).ok())
                .collect(),
        )
    }

    /// Whether the event is any of this binding's keys.
    #[must_use]
    pub fn matches(&self, event: &KeyEvent) -> bool {
        self.0.iter().any(|k| k.matches(event))
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&keys.join("/"))
    }
}

macro_rules! bindings {
    ($($(#[$doc:meta])* $name:ident: [$($key:literal),+] => $help:literal;)+) => {
        /// Every binding of the TUI. Field names are the keys of `[keys]` in `config.toml`.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct KeyBindings {
            $($(#[$doc])* pub $name: KeyBinding,)+
        }

        impl Default for KeyBindings {
            fn default() -> Self {
                Self { $($name: KeyBinding::of(&[$($key),+]),)+ }
            }
        }

        impl KeyBindings {
            /// `(config name, binding, what it does)` for the help overlay, in order.
            #[must_use]
            pub fn describe(&self) -> Vec<(&'static str, &KeyBinding, &'static str)> {
                vec![$((stringify!($name), &self.$name, $help),)+]
            }

            /// Applies overrides from the config: each value is a key or a list of keys.
            ///
            /// # Errors
            /// A message naming an unknown binding or an unreadable key.
            pub fn apply_overrides(&mut self, overrides: &std::collections::BTreeMap<String, KeyList>) -> Result<(), String> {
                for (name, keys) in overrides {
                    let parsed = keys
                        .as_slice()
                        .iter()
                        .map(|k| KeyPress::parse(k))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| format!("[keys] {name}: {e}"))?;
                    match name.as_str() {
                        $(stringify!($name) => self.$name = KeyBinding(parsed),)+
                        _ => {
                            let known = [$(stringify!($name)),+].join(", ");
                            return Err(format!("[keys] has no binding {name:?}; the bindings are: {known}"));
                        }
                    }
                }
                Ok(())
            }
        }
    };
}

bindings! {
    quit: ["q", "ctrl-c"] => "quit";
    help: ["?"] => "show or hide this help";
    palette: [":"] => "command palette";
    filter: ["/"] => "filter the list as you type";
    next_tab: ["]", "tab"] => "next kind";
    prev_tab: ["[", "shift-tab"] => "previous kind";
    tab_goals: ["1"] => "goals";
    tab_commitments: ["2"] => "commitments";
    tab_tasks: ["3"] => "standard tasks";
    tab_activities: ["4"] => "activities";
    tab_notes: ["5"] => "conversation notes";
    tab_potentials: ["6"] => "potentials";
    tab_people: ["7"] => "people";
    tab_files: ["8"] => "files";
    up: ["k", "up"] => "move up";
    down: ["j", "down"] => "move down";
    page_up: ["ctrl-u", "pageup"] => "page up";
    page_down: ["ctrl-d", "pagedown"] => "page down";
    top: ["g", "home"] => "first record";
    bottom: ["G", "end"] => "last record";
    new: ["n", "a"] => "new record";
    edit: ["e", "enter"] => "edit the selected record";
    delete: ["d", "delete"] => "move to trash";
    restore: ["r"] => "restore from trash (in the trash view)";
    done: ["x"] => "mark done (task, commitment, goal)";
    trash: ["t"] => "show the trash / the live records";
    grid_box: ["b"] => "potentials: show the next box of the grid only (after the last: all)";
    show_done: ["H"] => "show or hide done records (achieved goals, kept commitments)";
    sort: ["o"] => "sort by the next column";
    reverse: ["O"] => "reverse the sort";
    sync: ["s"] => "sync with the server now";
    space: ["w"] => "next space (where new records go)";
    conflicts: ["c"] => "resolve conflicts of the selected record";
    history: ["h"] => "history of the selected record";
    person: ["p"] => "the person screen of the selected person (or of the person a record names)";
    commitment_from_note: ["C"] => "record a commitment agreed in the selected conversation (linked to it)";
    links: ["L"] => "the selected record's links and backlinks; enter follows one";
    read: ["v"] => "read the record's long texts full-screen (Markdown rendered)";
    detail_down: ["}"] => "scroll the details down";
    detail_up: ["{"] => "scroll the details up";
    undo_change: ["u"] => "undo your last change of a record (done, edit, delete …)";
    redo_change: ["ctrl-r"] => "redo the change you undid";
    attach: ["f"] => "attach a file by path (on Files: add one)";
    next_attachment: ["F"] => "next attachment of the selected record";
    open_file: ["ctrl-o"] => "open the file or attachment ($OPENER / xdg-open)";
    save_file: ["W"] => "save the file or attachment elsewhere";
    revert_version: ["R"] => "revert the record to the selected version (history)";
    save: ["ctrl-s"] => "save the form";
    cancel: ["esc"] => "close, cancel";
    next_field: ["tab", "down"] => "next field (forms)";
    prev_field: ["shift-tab", "up"] => "previous field (forms)";
    open_editor: ["ctrl-e"] => "edit the field in $VISUAL / $EDITOR";
    complete: ["tab"] => "complete a path; again: the next candidate";
    complete_back: ["shift-tab"] => "previous candidate (path completion)";
    undo: ["ctrl-z"] => "undo (text editor)";
    redo: ["ctrl-y"] => "redo (text editor)";
    take_left: ["1", "h"] => "keep the left version (conflicts)";
    take_right: ["2", "l"] => "keep the right version (conflicts)";
    merge: ["m"] => "edit a merge of both versions (conflicts)";
    next_pair: ["v"] => "compare the next pair of versions (conflicts with more than two)";
    agenda: ["A"] => "agenda: overdue, today, this week, later (enter jumps)";
    search: ["ctrl-f", "S"] => "search every record: words, field:value, is:overdue, -term, @name";
    next_result: ["n"] => "next search result (after a jump from the search; esc stops)";
    prev_result: ["N"] => "previous search result";
    accept: ["y"] => "privacy notice: accept it (in its popup)";
    decline: ["n"] => "privacy notice: close it without accepting (esc too); nothing syncs until you accept";
    toggle: ["space", "enter"] => "notifications: turn the selected kind on or off";
}

/// A `[keys]` value: one key or a list of keys.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    fn as_slice(&self) -> &[String] {
        match self {
            Self::One(k) => std::slice::from_ref(k),
            Self::Many(ks) => ks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    /// Every default binding parsed: none was silently dropped.
    #[test]
    fn defaults_all_parse() {
        let keys = KeyBindings::default();
        for (name, binding, _) in keys.describe() {
            assert!(!binding.0.is_empty(), "{name} has no keys");
        }
        let shift_a = KeyPress::parse("shift-a").expect("shift-a");
        assert!(shift_a.matches(&key(KeyCode::Char('A'), KeyModifiers::SHIFT)));
        assert!(!shift_a.matches(&key(KeyCode::Char('a'), KeyModifiers::NONE)));
        assert!(
            keys.quit
                .matches(&key(KeyCode::Char('c'), KeyModifiers::CONTROL))
        );
        assert!(
            keys.bottom
                .matches(&key(KeyCode::Char('G'), KeyModifiers::SHIFT))
        );
        assert!(
            !keys
                .bottom
                .matches(&key(KeyCode::Char('g'), KeyModifiers::NONE))
        );
        assert!(
            keys.prev_tab
                .matches(&key(KeyCode::BackTab, KeyModifiers::SHIFT))
        );
    }

    /// Overrides replace a binding; unknown names and bad keys are refused with the reason.
    #[test]
    fn overrides_apply_and_explain() {
        let mut keys = KeyBindings::default();
        let mut overrides = std::collections::BTreeMap::new();
        overrides.insert("quit".to_owned(), KeyList::Many(vec!["ctrl-q".into()]));
        keys.apply_overrides(&overrides).expect("valid override");
        assert!(
            keys.quit
                .matches(&key(KeyCode::Char('q'), KeyModifiers::CONTROL))
        );
        assert!(
            !keys
                .quit
                .matches(&key(KeyCode::Char('q'), KeyModifiers::NONE))
        );
        overrides.insert("qiut".to_owned(), KeyList::One("x".into()));
        let err = keys
            .apply_overrides(&overrides)
            .expect_err("unknown binding");
        assert!(err.contains("qiut") && err.contains("quit"), "{err}");
        let mut bad = std::collections::BTreeMap::new();
        bad.insert("help".to_owned(), KeyList::One("hyper-x".into()));
        assert!(keys.apply_overrides(&bad).is_err());
    }
}
