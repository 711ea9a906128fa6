//! The reader (`v`): the selected record's long texts full-screen, their Markdown
//! rendered (headings, lists, emphasis, code, quotes), scrolled with j/k, space and
//! g/G. Parsing is pulldown-cmark's; this file only turns its events into styled
//! lines, wrapped to the width the reader has.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::text;
use super::theme::Theme;

/// The reader's text and where it is scrolled to.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderView {
    title: String,
    /// `(heading, Markdown)` per long text of the record.
    sections: Vec<(String, String)>,
    /// A cell: drawing clamps it to the last page, and drawing only reads the app.
    scroll: std::cell::Cell<usize>,
}

impl ReaderView {
    #[must_use]
    pub fn new(title: String, sections: Vec<(String, String)>) -> Self {
        Self {
            title,
            sections,
            scroll: std::cell::Cell::new(0),
        }
    }

    /// Scrolls by `delta` lines; never before the start (the end is clamped when
    /// drawn, where the number of lines is known).
    pub fn scroll_by(&mut self, delta: isize) {
        self.scroll
            .set(self.scroll.get().saturating_add_signed(delta));
    }

    pub fn scroll_to_top(&mut self) {
        self.scroll.set(0);
    }

    pub fn scroll_to_bottom(&mut self) {
        self.scroll.set(usize::MAX);
    }
}

/// Markdown as styled lines. Block elements start new lines; a list item gets a
/// bullet (or its number) and is indented; headings are bold in the accent colour.
#[must_use]
pub fn render_markdown(markdown: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut styles: Vec<Style> = vec![theme.text];
    // Per open list: the next number, or `None` for bullets.
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote = 0usize;
    let flush = |lines: &mut Vec<Line<'static>>, current: &mut Vec<Span<'static>>| {
        if !current.is_empty() {
            lines.push(Line::from(std::mem::take(current)));
        }
    };
    let blank = |lines: &mut Vec<Line<'static>>| {
        if lines.last().is_some_and(|l| !l.spans.is_empty()) {
            lines.push(Line::from(""));
        }
    };
    let style = |styles: &Vec<Style>| styles.last().copied().unwrap_or_default();
    for event in Parser::new(markdown) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    flush(&mut lines, &mut current);
                    blank(&mut lines);
                    let marker = match level {
                        HeadingLevel::H1 => Modifier::BOLD | Modifier::UNDERLINED,
                        _ => Modifier::BOLD,
                    };
                    styles.push(theme.accent.add_modifier(marker));
                }
                Tag::Paragraph => {
                    flush(&mut lines, &mut current);
                    if lists.is_empty() {
                        blank(&mut lines);
                    }
                }
                Tag::List(start) => {
                    flush(&mut lines, &mut current);
                    if lists.is_empty() {
                        blank(&mut lines);
                    }
                    lists.push(start);
                }
                Tag::Item => {
                    flush(&mut lines, &mut current);
                    let depth = lists.len().saturating_sub(1);
                    let marker = match lists.last_mut() {
                        Some(Some(n)) => {
                            let marker = format!("{n}. ");
                            *n += 1;
                            marker
                        }
                        _ => "• ".to_owned(),
                    };
                    current.push(Span::raw("  ".repeat(depth)));
                    current.push(Span::styled(marker, theme.accent));
                }
                Tag::BlockQuote(_) => {
                    flush(&mut lines, &mut current);
                    quote += 1;
                    styles.push(theme.dim);
                }
                Tag::CodeBlock(_) => {
                    flush(&mut lines, &mut current);
                    styles.push(theme.dim);
                }
                Tag::Emphasis => styles.push(style(&styles).add_modifier(Modifier::ITALIC)),
                Tag::Strong => styles.push(style(&styles).add_modifier(Modifier::BOLD)),
                Tag::Strikethrough => {
                    styles.push(style(&styles).add_modifier(Modifier::CROSSED_OUT));
                }
                Tag::Link { .. } => styles.push(style(&styles).add_modifier(Modifier::UNDERLINED)),
                _ => {}
            },
            Event::End(end) => match end {
                TagEnd::Heading(_) | TagEnd::CodeBlock => {
                    flush(&mut lines, &mut current);
                    styles.pop();
                }
                TagEnd::BlockQuote(_) => {
                    flush(&mut lines, &mut current);
                    quote = quote.saturating_sub(1);
                    styles.pop();
                }
                TagEnd::Paragraph | TagEnd::Item => flush(&mut lines, &mut current),
                TagEnd::List(_) => {
                    flush(&mut lines, &mut current);
                    lists.pop();
                }
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                    styles.pop();
                }
                _ => {}
            },
            Event::Text(text) => {
                let style = style(&styles);
                let prefix = "│ ".repeat(quote);
                // Code blocks keep their lines; other text arrives a line at a time.
                let mut parts = text.split('\n').peekable();
                while let Some(part) = parts.next() {
                    if current.is_empty() && !prefix.is_empty() {
                        current.push(Span::styled(prefix.clone(), theme.dim));
                    }
                    if !part.is_empty() {
                        current.push(Span::styled(part.to_owned(), style));
                    }
                    if parts.peek().is_some() {
                        flush(&mut lines, &mut current);
                    }
                }
            }
            Event::Code(code) => {
                current.push(Span::styled(code.to_string(), theme.accent));
            }
            Event::SoftBreak => current.push(Span::raw(" ")),
            Event::HardBreak => flush(&mut lines, &mut current),
            Event::Rule => {
                flush(&mut lines, &mut current);
                lines.push(Line::styled("────────", theme.dim));
            }
            Event::TaskListMarker(done) => {
                current.push(Span::raw(if done { "[x] " } else { "[ ] " }));
            }
            _ => {}
        }
    }
    flush(&mut lines, &mut current);
    while lines.first().is_some_and(|l| l.spans.is_empty()) {
        lines.remove(0);
    }
    lines
}

/// Draws the reader over the whole `area`.
pub fn draw(frame: &mut Frame, area: Rect, view: &ReaderView, theme: &Theme) {
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (heading, markdown) in &view.sections {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.push(Line::styled(format!("── {heading} ──"), theme.dim));
        lines.extend(render_markdown(markdown, theme));
    }
    if view.sections.is_empty() {
        lines.push(Line::styled(text::READER_EMPTY, theme.dim));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(format!(" {} — {} ", view.title, text::READER_KEYS)).style(theme.accent));
    let inner = block.inner(area);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = paragraph.line_count(inner.width);
    let room = usize::from(inner.height);
    let scroll = view.scroll.get().min(total.saturating_sub(room));
    view.scroll.set(scroll);
    frame.render_widget(Clear, area);
    let position = if total > room {
        format!(
            " {}–{} of {} ",
            scroll + 1,
            (scroll + room).min(total),
            total
        )
    } else {
        String::new()
    };
    frame.render_widget(
        paragraph
            .block(block.title_bottom(Line::from(position).style(theme.dim).right_aligned()))
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// Headings, bullet and numbered lists, emphasis and code come out as lines a
    /// person reads, without the Markdown marks.
    #[test]
    fn markdown_is_rendered() {
        let theme = Theme::default();
        let lines = render_markdown(
            "# Agenda\n\nTalked about *growth* and **pay**.\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\nUse `cairn sync`.",
            &theme,
        );
        assert_eq!(
            plain(&lines),
            [
                "Agenda",
                "",
                "Talked about growth and pay.",
                "",
                "• one",
                "• two",
                "",
                "1. first",
                "2. second",
                "",
                "│ quoted",
                "",
                "Use cairn sync."
            ]
        );
        let heading = &lines[0].spans[0];
        assert!(heading.style.add_modifier.contains(Modifier::BOLD));
        let emphasis = lines[2]
            .spans
            .iter()
            .find(|s| s.content == "growth")
            .expect("emphasis span");
        assert!(emphasis.style.add_modifier.contains(Modifier::ITALIC));
    }
}
