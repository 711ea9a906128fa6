//! Colours and styles. Defaults in code, overrides from `[colors]` in `config.toml`,
//! and with `NO_COLOR` set (https://no-color.org) no colour at all: emphasis is then
//! carried by bold, reverse and underline only, so nothing depends on colour.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// Every style the UI uses, by role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// Normal text.
    pub text: Style,
    /// Less important text: hints, ids, empty values.
    pub dim: Style,
    /// Titles, the active tab, headings.
    pub accent: Style,
    /// The selected row.
    pub selected: Style,
    /// Overdue commitments and tasks.
    pub overdue: Style,
    /// Fields and records in conflict.
    pub conflict: Style,
    /// Errors and validation messages.
    pub error: Style,
    /// Success: saved, synced, achieved.
    pub ok: Style,
    /// Warnings: at risk, unsaved.
    pub warn: Style,
    /// Borders of panes and popups.
    pub border: Style,
    /// Gauges, bars and sparklines.
    pub chart: Style,
    /// Whether colour is in use (false under `NO_COLOR`).
    pub colored: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            text: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            selected: Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            overdue: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            conflict: Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            error: Style::new().fg(Color::Red),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            border: Style::new().fg(Color::Gray),
            chart: Style::new().fg(Color::Cyan),
            colored: true,
        }
    }
}

impl Theme {
    /// The monochrome theme used when `NO_COLOR` is set.
    #[must_use]
    pub fn no_color() -> Self {
        let plain = Style::new();
        Self {
            text: plain,
            dim: plain,
            accent: plain.add_modifier(Modifier::BOLD),
            selected: plain.add_modifier(Modifier::REVERSED),
            overdue: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            conflict: plain.add_modifier(Modifier::BOLD | Modifier::ITALIC),
            error: plain.add_modifier(Modifier::BOLD),
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            border: plain,
            chart: plain,
            colored: false,
        }
    }

    /// The theme for this environment: `NO_COLOR` (any non-empty value) wins over
    /// everything; otherwise the defaults with `[colors]` overrides applied, each a
    /// colour name (`red`, `lightblue`), `#rrggbb` or an index `0`–`255`.
    ///
    /// # Errors
    /// A message naming the unknown role or unreadable colour.
    pub fn from_config(
        overrides: &BTreeMap<String, String>,
        no_color: bool,
    ) -> Result<Self, String> {
        if no_color {
            return Ok(Self::no_color());
        }
        let mut theme = Self::default();
        for (role, color) in overrides {
            let color = Color::from_str(color.trim())
                .map_err(|_| format!("[colors] {role}: cannot read the colour {color:?}; write a name like red or lightblue, #rrggbb, or 0–255"))?;
            let style = match role.as_str() {
                "text" => &mut theme.text,
                "dim" => &mut theme.dim,
                "accent" => &mut theme.accent,
                "overdue" => &mut theme.overdue,
                "conflict" => &mut theme.conflict,
                "error" => &mut theme.error,
                "ok" => &mut theme.ok,
                "warn" => &mut theme.warn,
                "border" => &mut theme.border,
                "chart" => &mut theme.chart,
                "selected" => {
                    theme.selected = theme.selected.bg(color);
                    continue;
                }
                _ => {
                    return Err(format!(
                        "[colors] has no role {role:?}; the roles are: text, dim, accent, selected, overdue, conflict, error, ok, warn, border, chart"
                    ));
                }
            };
            *style = style.fg(color);
        }
        Ok(theme)
    }

    /// Whether `NO_COLOR` asks for no colour.
    #[must_use]
    pub fn no_color_requested() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NO_COLOR removes every colour, whatever the overrides say.
    #[test]
    fn no_color_has_no_colours() {
        let mut overrides = BTreeMap::new();
        overrides.insert("accent".to_owned(), "red".to_owned());
        let theme = Theme::from_config(&overrides, true).expect("theme");
        for style in [
            theme.text,
            theme.dim,
            theme.accent,
            theme.selected,
            theme.overdue,
            theme.conflict,
            theme.error,
            theme.chart,
        ] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
    }

    /// Overrides change the named role; unknown roles and colours are refused with the reason.
    #[test]
    fn overrides_apply_and_explain() {
        let mut overrides = BTreeMap::new();
        overrides.insert("accent".to_owned(), "#ff8800".to_owned());
        let theme = Theme::from_config(&overrides, false).expect("theme");
        assert_eq!(theme.accent.fg, Some(Color::Rgb(0xff, 0x88, 0)));
        overrides.insert("accnet".to_owned(), "red".to_owned());
        assert!(
            Theme::from_config(&overrides, false)
                .expect_err("unknown role")
                .contains("accnet")
        );
        let mut bad = BTreeMap::new();
        bad.insert("ok".to_owned(), "greenish".to_owned());
        assert!(Theme::from_config(&bad, false).is_err());
    }
}
