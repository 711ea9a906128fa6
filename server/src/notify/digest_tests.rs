//! Which records a user's digest lists, and what its text gives away.

use std::collections::BTreeMap;

use cairn_common::RecordState;
use cairn_common::api::notifications::NotificationSettings;
use cairn_common::model::{
    CommitmentStatus, PersonRef, RecordId, RecordKind, Space, SpaceId, UserId, UserProfile, Value,
};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use chrono::NaiveDate;

use super::digest::{ItemKind, SpaceRecords, body, items};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
}

fn profile(email: &str) -> UserProfile {
    UserProfile {
        id: UserId::new(),
        email: email.into(),
        first_name: String::new(),
        last_name: String::new(),
    }
}

/// A space whose records are made op by op ([`Builder::add`]).
struct Builder {
    space: Space,
    ops: Vec<Op>,
    clock: u64,
}

impl Builder {
    fn new(name: &str) -> Self {
        Self {
            space: Space {
                id: SpaceId::new(),
                name: name.into(),
                personal: false,
            },
            ops: Vec::new(),
            clock: 0,
        }
    }

    fn op(&mut self, record: RecordId, author: UserId, change: Change) {
        self.clock += 1;
        self.ops.push(Op {
            id: OpId::new(),
            space: self.space.id,
            record,
            at: Hlc {
                wall_ms: self.clock,
                counter: 0,
                node: NodeId(1),
            },
            author,
            change,
        });
    }

    fn add(&mut self, kind: RecordKind, by: UserId, fields: &[(&str, Value)]) -> RecordId {
        let record = RecordId::new();
        self.op(record, by, Change::Create { kind });
        for (field, value) in fields {
            self.op(
                record,
                by,
                Change::Set {
                    field: (*field).into(),
                    value: value.clone(),
                    replaces: Vec::new(),
                },
            );
        }
        record
    }

    fn delete(&mut self, record: RecordId, by: UserId) {
        self.op(record, by, Change::Delete);
    }

    fn build(self) -> SpaceRecords {
        SpaceRecords {
            space: self.space,
            records: cairn_common::merge::materialize(&self.ops),
        }
    }
}

fn person(id: RecordId) -> Value {
    Value::People(vec![PersonRef {
        name: "someone".into(),
        id: Some(id),
    }])
}

fn title(t: &str) -> (&'static str, Value) {
    ("title", Value::Text(t.into()))
}

/// Ann's digest lists exactly her commitments and tasks due today or before and
/// her follow-ups, in every space she is given; never Bob's, nothing closed,
/// deleted, private or later.
#[test]
fn a_digest_lists_exactly_the_users_due_items() {
    let ann = profile("ann@example.com");
    let bob = profile("bob@example.com");
    let today = day(10);
    let due = |d| ("due", Value::Date(day(d)));
    let mut team = Builder::new("Team");
    let ann_person = team.add(
        RecordKind::Person,
        bob.id,
        &[
            ("name", Value::Text("Ann".into())),
            ("account", Value::Text("ANN@example.com".into())),
        ],
    );
    let bob_person = team.add(
        RecordKind::Person,
        bob.id,
        &[
            ("name", Value::Text("Bob".into())),
            ("account", Value::Text(bob.email.clone())),
        ],
    );
    let mut expected = Vec::new();
    // Bob recorded that Ann committed to something: hers.
    expected.push(team.add(
        RecordKind::Commitment,
        bob.id,
        &[title("ann promised"), ("by", person(ann_person)), due(9)],
    ));
    // Ann made it, nobody named: hers.
    expected.push(team.add(
        RecordKind::Commitment,
        ann.id,
        &[title("ann's own"), due(10)],
    ));
    // Ann made it, but Bob committed: his.
    team.add(
        RecordKind::Commitment,
        ann.id,
        &[title("bob promised"), ("by", person(bob_person)), due(9)],
    );
    // A name without a person record is nobody's account.
    team.add(
        RecordKind::Commitment,
        ann.id,
        &[
            title("by a name"),
            ("by", Value::Text("Cem".into())),
            due(9),
        ],
    );
    // Closed, later, deleted.
    team.add(
        RecordKind::Commitment,
        ann.id,
        &[
            title("kept"),
            due(1),
            ("status", Value::CommitmentStatus(CommitmentStatus::Kept)),
        ],
    );
    team.add(RecordKind::Commitment, ann.id, &[title("later"), due(11)]);
    let deleted = team.add(RecordKind::Commitment, ann.id, &[title("deleted"), due(2)]);
    team.delete(deleted, ann.id);
    // Tasks: owner rules as for commitments.
    expected.push(team.add(
        RecordKind::Task,
        bob.id,
        &[
            title("ann's task"),
            ("owner", person(ann_person)),
            ("next_due", Value::Date(day(10))),
        ],
    ));
    team.add(
        RecordKind::Task,
        ann.id,
        &[
            title("bob's task"),
            ("owner", person(bob_person)),
            ("next_due", Value::Date(day(3))),
        ],
    );
    // Follow-ups: notes Ann made, but never a private one.
    expected.push(team.add(
        RecordKind::Note,
        ann.id,
        &[title("1:1 with Bob"), ("follow_up", Value::Date(day(8)))],
    ));
    team.add(
        RecordKind::Note,
        ann.id,
        &[
            title("private talk"),
            ("follow_up", Value::Date(day(8))),
            ("private", Value::Bool(true)),
        ],
    );
    team.add(
        RecordKind::Note,
        bob.id,
        &[title("bob's 1:1"), ("follow_up", Value::Date(day(8)))],
    );
    // Goals and potentials have dates but are not in the digest.
    team.add(RecordKind::Goal, ann.id, &[title("goal"), due(1)]);
    let mut personal = Builder::new("Personal");
    expected.push(personal.add(RecordKind::Commitment, ann.id, &[title("personal"), due(5)]));
    let (team, personal) = (team.build(), personal.build());

    let listed = items(&ann, NotificationSettings::ALL, &[&team, &personal], today);
    let mut got: Vec<RecordId> = listed.iter().map(|i| i.record).collect();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected, "{listed:#?}");
    assert!(listed.windows(2).all(|w| w[0].due <= w[1].due), "by date");

    // Only what was chosen.
    let only_due = NotificationSettings {
        due: true,
        ..NotificationSettings::default()
    };
    let listed = items(&ann, only_due, &[&team, &personal], today);
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|i| i.kind != ItemKind::FollowUp));
    let follow_ups = NotificationSettings {
        follow_ups: true,
        ..NotificationSettings::default()
    };
    assert_eq!(items(&ann, follow_ups, &[&team], today).len(), 1);
    // Bob's own: one commitment, one task; none of Ann's.
    let bobs = items(&bob, NotificationSettings::ALL, &[&team], today);
    let titles: Vec<&str> = bobs.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["bob's task", "bob's 1:1", "bob promised"]);
}

/// Without `digest_titles` the text names no record by title; with it, it does.
#[test]
fn titles_leave_the_server_only_when_configured() {
    let ann = profile("ann@example.com");
    let mut space = Builder::new("Team");
    let id = space.add(
        RecordKind::Commitment,
        ann.id,
        &[title("Raise for Bob"), ("due", Value::Date(day(1)))],
    );
    let space = space.build();
    let listed = items(&ann, NotificationSettings::ALL, &[&space], day(10));
    let plain = body(&listed, day(10), false);
    assert!(!plain.contains("Raise"), "{plain}");
    assert!(
        plain.contains(&id.short()) && plain.contains("2026-12-01"),
        "{plain}"
    );
    assert!(
        plain.contains("Overdue") && plain.contains("space Team"),
        "{plain}"
    );
    let titled = body(&listed, day(10), true);
    assert!(titled.contains("\"Raise for Bob\""), "{titled}");
}

#[test]
fn nothing_is_listed_for_nobody() {
    let records: BTreeMap<RecordId, RecordState> = BTreeMap::new();
    let space = SpaceRecords {
        space: Space {
            id: SpaceId::new(),
            name: "Empty".into(),
            personal: true,
        },
        records,
    };
    assert!(
        items(
            &profile("a@example.com"),
            NotificationSettings::ALL,
            &[&space],
            day(1)
        )
        .is_empty()
    );
}
