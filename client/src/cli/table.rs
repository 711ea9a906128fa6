//! Plain-text tables for terminals and `grep`: columns padded to their widest cell
//! (by display width, so names with umlauts or CJK line up), separated by two spaces.

use unicode_width::UnicodeWidthStr;

/// Renders `header` and `rows` as aligned lines. The last column is not padded, so
/// lines carry no trailing blanks.
#[must_use]
pub fn render(header: &[String], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate().take(columns) {
            line.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i].saturating_sub(cell.width()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns line up by display width and lines have no trailing blanks.
    #[test]
    fn columns_line_up() {
        let header = vec!["ID".to_owned(), "Title".to_owned(), "Due".to_owned()];
        let rows = vec![
            vec!["a1".to_owned(), "Größe".to_owned(), String::new()],
            vec![
                "b2".to_owned(),
                "Long title".to_owned(),
                "2026-01-01".to_owned(),
            ],
        ];
        let text = render(&header, &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID  Title       Due");
        assert_eq!(lines[1], "a1  Größe");
        assert_eq!(lines[2], "b2  Long title  2026-01-01");
    }
}
