//! Activity per week: the sum of durations per ISO week over the last 12 weeks, as a
//! bar chart over the activities list.

use chrono::{Datelike, Days, NaiveDate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders};

use super::index::Row;
use super::text;
use super::theme::Theme;

/// How many weeks the chart shows, the current one last.
pub const WEEKS: usize = 12;

/// Minutes per ISO week, oldest first, and each week's number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeekTotals {
    pub minutes: [u64; WEEKS],
    pub week_numbers: [u32; WEEKS],
}

impl WeekTotals {
    /// Sums the rows' durations into the 12 weeks ending with `today`'s week.
    pub fn of<'a>(rows: impl Iterator<Item = &'a Row>, today: NaiveDate) -> Self {
        let this_monday = monday_of(today);
        let mut totals = Self::default();
        for (i, number) in totals.week_numbers.iter_mut().enumerate() {
            let back = u64::try_from(WEEKS - 1 - i).unwrap_or(0) * 7;
            *number = this_monday
                .checked_sub_days(Days::new(back))
                .map_or(0, |d| d.iso_week().week());
        }
        for row in rows {
            let Some(date) = row.date else { continue };
            let weeks_back = (this_monday - monday_of(date)).num_weeks();
            if let Ok(back) = usize::try_from(weeks_back)
                && back < WEEKS
            {
                totals.minutes[WEEKS - 1 - back] += u64::from(row.minutes);
            }
        }
        totals
    }
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday())))
        .unwrap_or(date)
}

/// Draws the chart: one bar per week, labelled with the week number, valued in hours.
pub fn draw(frame: &mut Frame, area: Rect, totals: &WeekTotals, theme: &Theme) {
    let bars: Vec<Bar<'_>> = totals
        .minutes
        .iter()
        .zip(totals.week_numbers)
        .map(|(&minutes, week)| {
            // Hours with one decimal read better than minutes on a narrow bar.
            let tenths = (minutes * 10 + 30) / 60;
            let value = if tenths % 10 == 0 {
                format!("{}", tenths / 10)
            } else {
                format!("{}.{}", tenths / 10, tenths % 10)
            };
            Bar::default()
                .value(minutes)
                .text_value(value)
                .label(Line::from(format!("{week:02}")))
        })
        .collect();
    let width = area.width.saturating_sub(2);
    let bar_width = (width.saturating_sub(11) / 12).clamp(1, 6);
    let chart = BarChart::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(Line::from(text::WEEKS_TITLE).style(theme.accent)),
        )
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(1)
        .bar_style(theme.chart)
        .value_style(theme.selected)
        .label_style(theme.dim);
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// Weeks start on Monday; the current week is last; older than 12 weeks is left out.
    #[test]
    fn sums_per_iso_week() {
        let today = date(2026, 11, 22); // a Sunday, ISO week 47
        let mk = |d: NaiveDate, minutes: u32| Row::for_test(Some(d), minutes);
        let rows = [
            mk(date(2026, 11, 16), 60), // Monday of week 47
            mk(date(2026, 11, 22), 30), // Sunday of week 47
            mk(date(2026, 11, 15), 45), // Sunday of week 46
            mk(date(2026, 8, 1), 999),  // too old
            mk(date(2026, 12, 1), 999), // in the future
        ];
        let totals = WeekTotals::of(rows.iter(), today);
        assert_eq!(totals.minutes[WEEKS - 1], 90);
        assert_eq!(totals.minutes[WEEKS - 2], 45);
        assert_eq!(totals.minutes.iter().sum::<u64>(), 135);
        assert_eq!(totals.week_numbers[WEEKS - 1], 47);
        assert_eq!(totals.week_numbers[0], 36);
    }
}
