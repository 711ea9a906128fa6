//! Every stored and wire type survives encode → decode unchanged, and foreign,
//! newer or damaged bytes are refused with a clear error.

use cairn_common::api::{
    Cursor, Empty, Epoch, ErrorResponse, LoginRequest, LoginResponse, Member, MemberList,
    PasswordChange, PullRequest, PullResponse, PushRequest, PushResponse, Refusal, RefusalReason,
    SessionInfo, SessionList, SetMember, SpaceInfo, SpaceOps,
};
use cairn_common::codec::{self, CodecError, FORMAT_VERSION, MAGIC};
use cairn_common::merge::materialize;
use cairn_common::model::{
    CommitmentStatus, GoalStatus, KeyResult, NoteKind, PersonRef, Rating, RecordId, RecordKind,
    Recurrence, Role, Space, SpaceId, UserId, UserProfile, Value,
};
use cairn_common::op::{Change, Hlc, HlcClock, NodeId, Op, OpId};
use chrono::NaiveDate;

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = codec::encode(value).expect("encodes");
    assert_eq!(&bytes[..MAGIC.len()], MAGIC);
    let back: T = codec::decode(&bytes).expect("decodes");
    assert_eq!(&back, value);
}

fn every_value() -> Vec<Value> {
    let date = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    vec![
        Value::Empty,
        Value::Text("Zielvereinbarung – ü, 日本, 🎯\nzweite Zeile".into()),
        Value::Date(date),
        Value::Int(-42),
        Value::Bool(true),
        Value::GoalStatus(GoalStatus::AtRisk),
        Value::CommitmentStatus(CommitmentStatus::Kept),
        Value::NoteKind(NoteKind::OneOnOne),
        Value::Rating(Rating::High),
        Value::Ref(RecordId::new()),
        Value::Refs(vec![RecordId::new(), RecordId::new()]),
        Value::List(vec!["a".into(), "b c".into()]),
        Value::KeyResults(vec![KeyResult {
            name: "NPS".into(),
            current: 30.5,
            target: 50.0,
            unit: "pts".into(),
        }]),
        Value::Recurrence(Recurrence::Weekdays(vec![0, 3])),
        Value::Recurrence(Recurrence::Months(2)),
        Value::Dates(vec![date]),
        Value::People(vec![
            PersonRef::linked("Ana Lind", RecordId::new()),
            PersonRef::named("Zed"),
        ]),
    ]
}

/// Every value variant and every op change round-trips, and so does a materialized state.
#[test]
fn model_types_round_trip() {
    let space = SpaceId::new();
    let record = RecordId::new();
    let mut clock = HlcClock::new(NodeId(9), None);
    let mut ops = vec![Op {
        id: OpId::new(),
        space,
        record,
        at: clock.now(),
        author: UserId::new(),
        change: Change::Create {
            kind: RecordKind::Goal,
        },
    }];
    for value in every_value() {
        round_trip(&value);
        ops.push(Op {
            id: OpId::new(),
            space,
            record,
            at: clock.now(),
            author: UserId::new(),
            change: Change::Set {
                field: "title".into(),
                value,
                replaces: vec![OpId::new()],
            },
        });
    }
    for change in [Change::Delete, Change::Restore] {
        ops.push(Op {
            id: OpId::new(),
            space,
            record,
            at: clock.now(),
            author: UserId::new(),
            change,
        });
    }
    for op in &ops {
        round_trip(op);
    }
    round_trip(&ops);
    round_trip(&materialize(&ops));
    round_trip(&clock);
    round_trip(&Hlc {
        wall_ms: u64::MAX,
        counter: u32::MAX,
        node: NodeId(u64::MAX),
    });
    round_trip(&Space {
        id: space,
        name: "Team Nord".into(),
        personal: false,
    });
    round_trip(&vec![Role::Owner, Role::Editor, Role::Viewer]);
    round_trip(&UserProfile {
        id: UserId::new(),
        email: "a@b.c".into(),
        first_name: "A".into(),
        last_name: "B".into(),
    });
    round_trip(&ErrorResponse {
        code: "bad_request".into(),
        message: "send a valid body".into(),
    });

    // Wire types of the sync protocol.
    let profile = UserProfile {
        id: UserId::new(),
        email: "ana@example.com".into(),
        first_name: "Ana".into(),
        last_name: "Lind".into(),
    };
    let info = SpaceInfo {
        space: Space {
            id: space,
            name: "Team".into(),
            personal: false,
        },
        role: Role::Editor,
    };
    round_trip(&Empty);
    round_trip(&LoginRequest {
        email: "admin".into(),
        password: "pw".into(),
        device: "laptop".into(),
    });
    round_trip(&LoginResponse {
        token: "ab".repeat(32),
        user: profile.clone(),
        personal_space: space,
        expires_at_ms: 1,
        must_change_password: true,
    });
    round_trip(&PasswordChange {
        current: "a".into(),
        new: "b".into(),
    });
    round_trip(&SessionList {
        sessions: vec![SessionInfo {
            id: "s1".into(),
            device: "d".into(),
            created_at_ms: 1,
            expires_at_ms: 2,
            current: true,
        }],
    });
    round_trip(&PushRequest { ops: ops.clone() });
    round_trip(&PushResponse {
        epoch: Epoch::new(),
        stored: 3,
        duplicates: 1,
        refused: vec![Refusal {
            space,
            record: Some(cairn_common::RecordId::new()),
            reason: RefusalReason::ClockAhead,
            message: "fix the clock".into(),
            ops: ops.iter().map(|o| o.id).collect(),
        }],
    });
    round_trip(&PullRequest {
        epoch: Some(Epoch::new()),
        cursors: vec![Cursor { space, seq: 42 }],
        max_ops: 1000,
    });
    round_trip(&PullResponse {
        epoch: Epoch::new(),
        spaces: vec![info.clone()],
        batches: vec![SpaceOps {
            space,
            ops,
            cursor: 7,
        }],
        more: true,
    });
    round_trip(&SetMember {
        space,
        email: "ben@example.com".into(),
        role: None,
    });
    round_trip(&MemberList {
        space,
        members: vec![Member {
            user: profile,
            role: Role::Owner,
        }],
    });
}

/// Bytes without the magic, with another format version, truncated, or with trailing
/// garbage are refused with the matching error.
#[test]
fn foreign_and_damaged_bytes_are_refused() {
    let good = codec::encode(&"hello".to_owned()).expect("encodes");
    assert!(matches!(
        codec::decode::<String>(b"{\"json\": true}"),
        Err(CodecError::NotCairn)
    ));
    assert!(matches!(
        codec::decode::<String>(b""),
        Err(CodecError::NotCairn)
    ));

    let mut newer = good.clone();
    newer[MAGIC.len()..MAGIC.len() + 2].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    let err = codec::decode::<String>(&newer).expect_err("newer format");
    assert!(matches!(err, CodecError::UnsupportedVersion { .. }));
    assert!(err.to_string().contains("upgrade"), "{err}");

    let truncated = &good[..good.len() - 2];
    assert!(matches!(
        codec::decode::<String>(truncated),
        Err(CodecError::Malformed(_))
    ));

    let mut trailing = good;
    trailing.push(0);
    assert!(matches!(
        codec::decode::<String>(&trailing),
        Err(CodecError::Malformed(_))
    ));
}
