//! The one progress rule for goals, shared by every view and export of client and
//! server: a goal with key results is as far as the mean of their progress; a goal
//! without any, as far as the figure entered in its progress field.
//!
//! The entered figure stays stored (it is what a form edits and what history shows)
//! but is not the goal's progress while it has key results, so views and exports show
//! `progress` as the goal's progress and the entered figure as [`PROGRESS_ENTERED`]
//! ([`shown_keys`], `RecordState::shown`).

use super::{RecordKind, Value, fields_of};

/// The field a goal's progress is entered in, and the name it is shown under.
pub const PROGRESS: &str = "progress";
/// The field of a goal's key results.
pub const KEY_RESULTS: &str = "key_results";
/// The name exports give the figure entered in `progress`, next to the goal's progress.
pub const PROGRESS_ENTERED: &str = "progress_entered";

/// The keys under which views and exports show a record of `kind`: its fields in
/// schema order, and for a goal [`PROGRESS_ENTERED`] right after `progress`.
#[must_use]
pub fn shown_keys(kind: RecordKind) -> Vec<&'static str> {
    let mut keys = Vec::with_capacity(fields_of(kind).len() + 1);
    for spec in fields_of(kind) {
        keys.push(spec.key);
        if kind == RecordKind::Goal && spec.key == PROGRESS {
            keys.push(PROGRESS_ENTERED);
        }
    }
    keys
}

/// A goal's progress 0–100 from the values of its `key_results` and `progress` fields:
/// the mean of the key results' percentages (each capped at 100, the mean rounded
/// down) when it has at least one; else the entered figure, clamped to 0–100; else 0.
#[must_use]
pub fn goal_progress(key_results: Option<&Value>, entered: Option<&Value>) -> u8 {
    if let Some(Value::KeyResults(krs)) = key_results
        && !krs.is_empty()
    {
        let sum: u32 = krs.iter().map(|kr| u32::from(kr.percent())).sum();
        let count = u32::try_from(krs.len()).unwrap_or(u32::MAX);
        return u8::try_from(sum / count).unwrap_or(100);
    }
    entered
        .and_then(Value::as_int)
        .map_or(0, |n| u8::try_from(n.clamp(0, 100)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyResult;

    fn krs(parts: &[(f64, f64)]) -> Value {
        Value::KeyResults(
            parts
                .iter()
                .map(|&(current, target)| KeyResult {
                    name: "kr".into(),
                    current,
                    target,
                    unit: String::new(),
                })
                .collect(),
        )
    }

    /// A goal shows the entered figure right after its progress; other kinds show
    /// their fields only.
    #[test]
    fn shown_keys_put_the_entered_figure_next_to_progress() {
        let goal = shown_keys(RecordKind::Goal);
        let at = goal.iter().position(|k| *k == PROGRESS).expect("progress");
        assert_eq!(goal[at + 1], PROGRESS_ENTERED);
        assert_eq!(goal.len(), fields_of(RecordKind::Goal).len() + 1);
        let note = shown_keys(RecordKind::Note);
        assert!(!note.contains(&PROGRESS_ENTERED));
        assert_eq!(note.len(), fields_of(RecordKind::Note).len());
    }

    /// Key results at 40% and 80% make 60%, whatever figure was entered.
    #[test]
    fn key_results_outweigh_the_entered_figure() {
        let entered = Value::Int(10);
        let key_results = krs(&[(4.0, 10.0), (8.0, 10.0)]);
        assert_eq!(goal_progress(Some(&key_results), Some(&entered)), 60);
        assert_eq!(goal_progress(Some(&key_results), None), 60);
    }

    /// Without key results (none, or an empty list) the entered figure counts, clamped.
    #[test]
    fn entered_figure_without_key_results() {
        assert_eq!(goal_progress(None, Some(&Value::Int(40))), 40);
        assert_eq!(goal_progress(Some(&krs(&[])), Some(&Value::Int(40))), 40);
        assert_eq!(goal_progress(None, Some(&Value::Int(140))), 100);
        assert_eq!(goal_progress(None, None), 0);
    }

    /// Each key result counts at most 100% and a zero target counts 0%; the mean is
    /// rounded down.
    #[test]
    fn key_results_are_capped_and_rounded_down() {
        assert_eq!(
            goal_progress(Some(&krs(&[(30.0, 10.0), (0.0, 10.0)])), None),
            50
        );
        assert_eq!(
            goal_progress(Some(&krs(&[(5.0, 0.0), (1.0, 1.0)])), None),
            50
        );
        assert_eq!(
            goal_progress(Some(&krs(&[(1.0, 3.0), (1.0, 3.0), (1.0, 1.0)])), None),
            55
        );
    }
}
