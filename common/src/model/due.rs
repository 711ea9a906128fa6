//! When a record is due, and whether it is still open: one rule for the client's
//! lists and agenda and the server's daily digest.

use chrono::NaiveDate;

use super::{RecordKind, Value};
use crate::merge::RecordState;

/// The date that makes a record due, if it has one: a goal's or commitment's due
/// date, a standard task's next due date, a conversation's follow-up, a
/// potential's review date.
#[must_use]
pub fn due_date(state: &RecordState) -> Option<NaiveDate> {
    let field = match state.kind? {
        RecordKind::Goal | RecordKind::Commitment => "due",
        RecordKind::Task => "next_due",
        RecordKind::Note => "follow_up",
        RecordKind::Potential => "review",
        RecordKind::Activity | RecordKind::Person | RecordKind::File => return None,
    };
    state.get(field).and_then(Value::as_date)
}

/// Whether a record still waits for someone: not deleted, and not achieved,
/// dropped, kept, missed or withdrawn.
#[must_use]
pub fn is_open(state: &RecordState) -> bool {
    !state.is_deleted()
        && match state.get("status") {
            Some(Value::GoalStatus(s)) => !s.is_closed(),
            Some(Value::CommitmentStatus(s)) => s.is_open(),
            _ => true,
        }
}

/// Whether a record is past its due date and still open (deletion aside: the
/// trash shows overdue records too).
#[must_use]
pub fn is_overdue(state: &RecordState, today: NaiveDate) -> bool {
    let open = match state.get("status") {
        Some(Value::GoalStatus(s)) => !s.is_closed(),
        Some(Value::CommitmentStatus(s)) => s.is_open(),
        _ => true,
    };
    open && due_date(state).is_some_and(|due| due < today)
}

/// The due date of an open record due `today` or earlier.
#[must_use]
pub fn due_by(state: &RecordState, today: NaiveDate) -> Option<NaiveDate> {
    due_date(state).filter(|due| *due <= today && is_open(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CommitmentStatus, RecordId, SpaceId, UserId};
    use crate::op::{Change, Hlc, NodeId, Op, OpId};

    fn record(kind: RecordKind, fields: &[(&str, Value)]) -> RecordState {
        let (space, record, author) = (SpaceId::new(), RecordId::new(), UserId::new());
        let at = |n| Hlc {
            wall_ms: n,
            counter: 0,
            node: NodeId(1),
        };
        let op = |n, change| Op {
            id: OpId::new(),
            space,
            record,
            at: at(n),
            author,
            change,
        };
        let mut state = RecordState::empty(&op(1, Change::Create { kind }));
        state.apply(&op(1, Change::Create { kind }));
        for (n, (field, value)) in (2..).zip(fields) {
            state.apply(&op(
                n,
                Change::Set {
                    field: (*field).to_owned(),
                    value: value.clone(),
                    replaces: Vec::new(),
                },
            ));
        }
        state
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    #[test]
    fn due_by_takes_open_records_due_today_or_before() {
        let today = day(10);
        let due = |d| ("due", Value::Date(day(d)));
        let commitment = record(RecordKind::Commitment, &[due(10)]);
        assert_eq!(due_by(&commitment, today), Some(day(10)));
        assert_eq!(
            due_by(&record(RecordKind::Commitment, &[due(9)]), today),
            Some(day(9))
        );
        assert_eq!(
            due_by(&record(RecordKind::Commitment, &[due(11)]), today),
            None
        );
        let kept = record(
            RecordKind::Commitment,
            &[
                due(9),
                ("status", Value::CommitmentStatus(CommitmentStatus::Kept)),
            ],
        );
        assert_eq!(due_by(&kept, today), None);
        let task = record(RecordKind::Task, &[("next_due", Value::Date(day(3)))]);
        assert_eq!(due_by(&task, today), Some(day(3)));
        let note = record(RecordKind::Note, &[("follow_up", Value::Date(day(10)))]);
        assert_eq!(due_by(&note, today), Some(day(10)));
        assert_eq!(due_by(&record(RecordKind::Activity, &[]), today), None);
        assert!(is_overdue(
            &record(RecordKind::Commitment, &[due(9)]),
            today
        ));
        assert!(!is_overdue(&commitment, today));
    }
}
