//! The cases of the suite, each written once against the server's [`Store`]
//! (the mail outbox's in `mail.rs`).

pub use super::mail::{
    mail_is_queued_claimed_and_finished, purging_takes_the_mail, retention_sweeps_old_mail,
};

use cairn_common::api::RefusalReason;
use cairn_common::model::{RecordId, RecordKind, Role, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};

use crate::store::{
    AuditEvent, AuditKind, AuditVerification, DayCounts, LoginRecord, NewUser, PurgeTarget,
    RecordLimits, RetentionCutoffs, Store, StoreError, ThrottleDecision, ThrottleState,
};

pub use super::consent_cases::{
    consent_is_kept_as_evidence, invitations_are_used_once, notification_choices_are_kept,
};

/// Sessions made by the suite expire far in the future.
const EXPIRES_MS: u64 = 1 << 50;

/// An account with this e-mail (password hash `hash of EMAIL`), checked as the
/// server checks new accounts.
pub(super) async fn user(store: &Store, email: &str) -> Result<UserId, StoreError> {
    let new = NewUser {
        email: email.into(),
        first_name: "First".into(),
        last_name: "Last".into(),
        password_hash: format!("hash of {email}"),
        must_change_password: false,
        server_admin: email == "admin",
    };
    Ok(store.create_user(new).await?.id)
}

fn op(space: SpaceId, record: RecordId, author: UserId, change: Change, wall_ms: u64) -> Op {
    Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms,
            counter: 0,
            node: NodeId(1),
        },
        author,
        change,
    }
}

fn create(space: SpaceId, record: RecordId, author: UserId) -> Op {
    op(
        space,
        record,
        author,
        Change::Create {
            kind: RecordKind::Goal,
        },
        1_000,
    )
}

fn title(space: SpaceId, record: RecordId, author: UserId, text: &str) -> Op {
    op(
        space,
        record,
        author,
        Change::Set {
            field: "title".into(),
            value: Value::Text(text.into()),
            replaces: vec![],
        },
        1_000,
    )
}

/// A record of its own in `space`: its create and title.
pub(crate) fn goal(space: SpaceId, author: UserId, text: &str) -> Vec<Op> {
    let record = RecordId::new();
    vec![
        create(space, record, author),
        title(space, record, author, text),
    ]
}

async fn personal_space(store: &Store, user: UserId) -> SpaceId {
    store.spaces_of(user).await.expect("spaces")[0].space.id
}

/// Ops get consecutive seqs per space; a retry stores nothing; pages follow seqs
/// and byte budgets; an op id reused with other content is refused.
pub async fn pushes_are_idempotent_and_paged(store: &Store) {
    let space = SpaceId::new();
    let author = UserId::new();
    let record = RecordId::new();
    let ops = vec![
        create(space, record, author),
        title(space, record, author, "one"),
        title(space, record, author, "two"),
    ];
    let first = store
        .append_ops(&ops, &RecordLimits::NONE)
        .await
        .expect("push");
    assert_eq!((first.stored, first.duplicates), (3, 0));
    let again = store
        .append_ops(&ops, &RecordLimits::NONE)
        .await
        .expect("retry");
    assert_eq!((again.stored, again.duplicates), (0, 3));
    assert_eq!(store.last_seq(space).await.expect("seq"), 3);
    let page = store
        .ops_after(space, 0, 2, usize::MAX, true)
        .await
        .expect("page");
    assert_eq!(page.ops, ops[..2]);
    assert_eq!((page.cursor, page.more), (2, true));
    let page = store
        .ops_after(space, 2, 2, usize::MAX, true)
        .await
        .expect("page");
    assert_eq!((page.ops.len(), page.cursor, page.more), (1, 3, false));
    let tiny = store
        .ops_after(space, 0, 10, 1, true)
        .await
        .expect("tiny page");
    assert_eq!(tiny.ops.len(), 1, "one op larger than a page gets through");
    let mut forged = ops[1].clone();
    forged.change = title(space, record, author, "forged").change;
    let refused = store
        .append_ops(&[forged], &RecordLimits::NONE)
        .await
        .expect("push");
    assert_eq!(refused.refused[0].reason, RefusalReason::Invalid);
    assert_eq!(store.last_seq(space).await.expect("seq"), 3);
}

/// A record lives in the space it was created in; a change before its create
/// waits; a create cannot change the kind.
pub async fn a_record_stays_in_its_space(store: &Store) {
    let (home, other) = (SpaceId::new(), SpaceId::new());
    let author = UserId::new();
    let record = RecordId::new();
    store
        .append_ops(&[create(home, record, author)], &RecordLimits::NONE)
        .await
        .expect("create");
    let moved = store
        .append_ops(
            &[title(other, record, author, "moved")],
            &RecordLimits::NONE,
        )
        .await
        .expect("push");
    assert_eq!(moved.refused[0].reason, RefusalReason::Invalid);
    let orphan = store
        .append_ops(
            &[title(home, RecordId::new(), author, "no create")],
            &RecordLimits::NONE,
        )
        .await
        .expect("push");
    assert_eq!(orphan.refused[0].reason, RefusalReason::UnknownRecord);
    let recast = op(
        home,
        record,
        author,
        Change::Create {
            kind: RecordKind::Note,
        },
        1_000,
    );
    let recast = store
        .append_ops(&[recast], &RecordLimits::NONE)
        .await
        .expect("push");
    assert_eq!(recast.refused[0].reason, RefusalReason::Invalid);
    assert_eq!(store.last_seq(other).await.expect("seq"), 0);
}

/// A record whose change breaks the limits is refused whole; the other records of
/// the push are stored.
pub async fn refused_records_keep_the_rest(store: &Store) {
    let space = SpaceId::new();
    let author = UserId::new();
    let good = goal(space, author, "fine");
    let bad_record = RecordId::new();
    let mut push = good.clone();
    push.push(create(space, bad_record, author));
    push.push(title(space, bad_record, author, &"x".repeat(5_000)));
    let limits = RecordLimits {
        max_values_per_field: 8,
        max_record_bytes: 1_024,
    };
    let outcome = store.append_ops(&push, &limits).await.expect("push");
    assert_eq!(outcome.stored, 2);
    assert_eq!(outcome.refused.len(), 1);
    assert_eq!(outcome.refused[0].record, Some(bad_record));
    assert_eq!(
        outcome.refused[0].ops.len(),
        2,
        "the record's ops, all of them"
    );
}

/// Accounts come with a personal space; e-mails are unique in any case; sessions
/// are found by hash, and end on disable, reset and one's own password change.
pub async fn accounts_and_their_sessions(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    assert!(matches!(
        user(store, "ann@example.com").await,
        Err(StoreError::DuplicateEmail(_))
    ));
    let found = store
        .user_by_email("ANN@example.com")
        .await
        .expect("get")
        .expect("there");
    assert_eq!(found.profile.id, ann);
    let spaces = store.spaces_of(ann).await.expect("spaces");
    assert!(spaces.len() == 1 && spaces[0].space.personal && spaces[0].role == Role::Owner);
    for (n, device) in [(1u8, "laptop"), (2, "phone"), (3, "tablet")] {
        store
            .create_session(&[n; 32], ann, device, u64::from(n), EXPIRES_MS)
            .await
            .expect("session");
    }
    let devices: Vec<String> = store
        .sessions_of(ann)
        .await
        .expect("list")
        .into_iter()
        .map(|(_, s)| s.device)
        .collect();
    assert_eq!(devices, ["laptop", "phone", "tablet"]);
    store.revoke_session(ann, &[2; 32]).await.expect("revoke");
    assert!(store.session(&[2; 32]).await.expect("get").is_none());
    store
        .set_own_password(ann, "mine".into(), Some(&[1; 32]))
        .await
        .expect("own password");
    assert_eq!(store.sessions_of(ann).await.expect("list").len(), 1);
    store
        .reset_password("ann@example.com", "reset".into())
        .await
        .expect("reset");
    let record = store
        .user_by_email("ann@example.com")
        .await
        .expect("get")
        .expect("there");
    assert!(record.must_change_password && record.password_hash == "reset");
    assert!(store.sessions_of(ann).await.expect("list").is_empty());
    store
        .create_session(&[4; 32], ann, "laptop", 4, EXPIRES_MS)
        .await
        .expect("session");
    store
        .set_disabled("ann@example.com", true)
        .await
        .expect("disable");
    assert!(store.session(&[4; 32]).await.expect("get").is_none());
    assert!(matches!(
        store.set_disabled("nobody@example.com", true).await,
        Err(StoreError::NoSuchUser(_))
    ));
}

/// What a poll reads: the epoch and the user's spaces in `spaces_of`'s order with
/// their last seqs (0 before any op, none for a stranger); what a request's
/// authentication reads: a session with its account, nothing for an unknown hash.
pub async fn a_poll_reads_heads_and_sessions(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    let team = store
        .create_space(ann, "Team")
        .await
        .expect("space")
        .space
        .id;
    let personal = personal_space(store, ann).await;
    store
        .append_ops(&goal(team, ann, "one"), &RecordLimits::NONE)
        .await
        .expect("push");
    let heads = store.heads(ann).await.expect("heads");
    assert_eq!(heads.epoch, store.epoch().await.expect("epoch"));
    let spaces: Vec<_> = heads.spaces.iter().map(|(info, _)| info.clone()).collect();
    assert_eq!(spaces, store.spaces_of(ann).await.expect("spaces"));
    let seqs: Vec<(SpaceId, u64)> = heads
        .spaces
        .iter()
        .map(|(info, seq)| (info.space.id, *seq))
        .collect();
    assert_eq!(seqs, [(personal, 0), (team, 2)]);
    let stranger = store.heads(UserId::new()).await.expect("heads");
    assert!(stranger.spaces.is_empty());
    assert_eq!(stranger.epoch, heads.epoch);

    store
        .create_session(&[7; 32], ann, "laptop", 1, EXPIRES_MS)
        .await
        .expect("session");
    let found = store
        .session_lookup(&[7; 32])
        .await
        .expect("read")
        .expect("the session");
    assert_eq!(
        Some(found.session),
        store.session(&[7; 32]).await.expect("read")
    );
    assert_eq!(found.user.map(|a| a.profile.id), Some(ann));
    assert_eq!(found.accepted_notice, None);
    store
        .record_consent(&cairn_common::api::consent::ConsentEntry {
            user: ann,
            email: "ann@example.com".into(),
            version: "v1".into(),
            action: cairn_common::api::consent::ConsentAction::Accepted,
            at_ms: 2,
            address: String::new(),
        })
        .await
        .expect("consent");
    let found = store
        .session_lookup(&[7; 32])
        .await
        .expect("read")
        .expect("the session");
    assert_eq!(found.accepted_notice.as_deref(), Some("v1"));
    assert!(
        store
            .session_lookup(&[8; 32])
            .await
            .expect("read")
            .is_none()
    );
}

/// Owners manage members; members see the list; others hear "not found",
/// non-owners "forbidden"; the last owner stays; a personal space is not shared.
pub async fn membership_rules(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    let bob = user(store, "bob@example.com").await.expect("bob");
    let eve = user(store, "eve@example.com").await.expect("eve");
    let team = store.create_space(ann, " Team ").await.expect("space");
    assert_eq!(team.space.name, "Team");
    let id = team.space.id;
    let list = store
        .set_member(ann, id, "BOB@example.com", Some(Role::Viewer))
        .await
        .expect("add bob");
    assert_eq!(list.members.len(), 2);
    assert_eq!(
        store.role_of(id, bob).await.expect("role"),
        Some(Role::Viewer)
    );
    assert!(matches!(
        store
            .set_member(bob, id, "eve@example.com", Some(Role::Editor))
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.members(eve, id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.rename_space(eve, id, "Mine").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_member(ann, id, "ann@example.com", None).await,
        Err(StoreError::Conflict(_))
    ));
    let personal = personal_space(store, ann).await;
    assert!(matches!(
        store
            .set_member(ann, personal, "bob@example.com", Some(Role::Editor))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_space(ann, "").await,
        Err(StoreError::InvalidInput(_))
    ));
    let renamed = store
        .rename_space(ann, id, "Platform")
        .await
        .expect("rename");
    assert_eq!(renamed.space.name, "Platform");
    let list = store
        .set_member(ann, id, "bob@example.com", None)
        .await
        .expect("remove bob");
    assert_eq!(list.members.len(), 1);
    assert!(store.role_of(id, bob).await.expect("role").is_none());
}

/// A reservation reads its counters and counts the ones it chooses; old failures
/// are forgotten; a refusal counts nothing; a release clears one key and takes one
/// failure back from the others; a sweep removes old counters.
pub async fn failed_logins_are_counted(store: &Store) {
    let count_all =
        |states: &[ThrottleState]| -> ThrottleDecision<()> { Ok((0..states.len()).collect()) };
    let reserve = |at: u64, forget_before: u64| {
        store.reserve_throttle(&["a:y", "p:y"], at, forget_before, count_all)
    };
    reserve(10, 0).await.expect("count").expect("counted");
    reserve(20, 0).await.expect("count").expect("counted");
    let state = store.throttle_state("a:y").await.expect("get");
    assert_eq!((state.failures, state.last_failure_ms), (2, 20));
    reserve(30, 25).await.expect("forgotten").expect("counted");
    assert_eq!(store.throttle_state("a:y").await.expect("get").failures, 1);
    let mut seen = Vec::new();
    let refused = store
        .reserve_throttle(&["p:y", "a:y", "a:none"], 35, 0, |states| {
            seen = states.to_vec();
            Err::<Vec<usize>, _>("wait")
        })
        .await
        .expect("read");
    assert_eq!(refused, Err("wait"));
    assert_eq!(
        seen.iter().map(|s| s.failures).collect::<Vec<_>>(),
        [1, 1, 0]
    );
    store
        .reserve_throttle(&["a:y", "p:y"], 40, 0, |_| Ok::<_, ()>(vec![0]))
        .await
        .expect("count")
        .expect("counted");
    store
        .release_throttle("p:y", &["a:y", "a:none"])
        .await
        .expect("release");
    assert_eq!(
        store.throttle_state("a:y").await.expect("get"),
        ThrottleState {
            failures: 1,
            last_failure_ms: 40
        }
    );
    assert_eq!(
        store.throttle_state("p:y").await.expect("get"),
        ThrottleState::default()
    );
    assert_eq!(store.sweep_throttle(100).await.expect("sweep"), 1);
    assert_eq!(
        store.throttle_state("a:y").await.expect("get"),
        ThrottleState::default()
    );
}

/// Login records list per user, newest first, as many as asked.
pub async fn login_records_newest_first(store: &Store) {
    let (ann, bob) = (UserId::new(), UserId::new());
    for (who, at, ok) in [(ann, 10, true), (bob, 20, false), (ann, 30, false)] {
        let record = LoginRecord {
            at_ms: at,
            success: ok,
            address: Some("10.0.0.0/24".into()),
            device: "laptop".into(),
        };
        store.record_login(who, &record).await.expect("record");
    }
    let anns: Vec<u64> = store
        .logins_of(ann, 10)
        .await
        .expect("list")
        .iter()
        .map(|l| l.at_ms)
        .collect();
    assert_eq!(anns, [30, 10]);
    assert_eq!(store.logins_of(ann, 1).await.expect("one").len(), 1);
}

/// Entries chain and verify; people show by e-mail, the server as `cairn-server`.
pub async fn the_audit_chain_holds(store: &Store) {
    for (n, kind) in [
        AuditKind::AccountCreated,
        AuditKind::Backup,
        AuditKind::Purge,
    ]
    .into_iter()
    .enumerate()
    {
        let event = AuditEvent::new(kind)
            .actor("admin")
            .subject("ann@example.com")
            .detail(format!("entry {n}"));
        store.audit_at(event, 100 + n as u64).await;
    }
    let entries = store.audit_entries().await.expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].actor, "admin");
    assert_eq!(entries[2].subject.as_deref(), Some("ann@example.com"));
    assert_eq!(entries[1].kind, "backup");
    match store.audit_verify().await.expect("verify") {
        AuditVerification::Intact {
            entries, last_seq, ..
        } => assert_eq!((entries, last_seq), (3, 3)),
        broken @ AuditVerification::Broken { .. } => panic!("{broken:?}"),
    }
}

/// Usage statistics add up per day and endpoint; old days go.
pub async fn statistics_add_up_and_go(store: &Store) {
    let one = DayCounts {
        classes: [1, 0, 2, 0],
        sum_us: 10,
        ..DayCounts::default()
    };
    for _ in 0..3 {
        store.add_telemetry(100, "push", &one).await.expect("add");
    }
    store.add_telemetry(90, "pull", &one).await.expect("add");
    let entries = store.telemetry().await.expect("entries");
    let push = entries.iter().find(|e| e.endpoint == "push").expect("push");
    assert_eq!(
        (push.day, push.counts.classes, push.counts.sum_us),
        (100, [3, 0, 6, 0], 30)
    );
    assert_eq!(store.sweep_telemetry(95).await.expect("sweep"), 1);
    assert_eq!(store.telemetry().await.expect("entries").len(), 1);
}

/// The epoch stays until renewed.
pub async fn the_epoch_changes_only_when_renewed(store: &Store) {
    let epoch = store.epoch().await.expect("epoch");
    assert_eq!(store.epoch().await.expect("epoch"), epoch);
    let renewed = store.renew_epoch().await.expect("renew");
    assert_ne!(renewed, epoch);
    assert_eq!(store.epoch().await.expect("epoch"), renewed);
}

/// A purged user's account, sessions, logins and personal space go; their
/// changes in a shared space stay under one pseudonym; the space gets an heir;
/// the audit log no longer names them; the standard account cannot be purged.
pub async fn purging_a_user(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    let bob = user(store, "bob@example.com").await.expect("bob");
    let team = store
        .create_space(ann, "Team")
        .await
        .expect("team")
        .space
        .id;
    store
        .set_member(ann, team, "bob@example.com", Some(Role::Editor))
        .await
        .expect("bob joins");
    let personal = personal_space(store, ann).await;
    store
        .append_ops(&goal(personal, ann, "private"), &RecordLimits::NONE)
        .await
        .expect("private");
    store
        .append_ops(&goal(team, ann, "shared"), &RecordLimits::NONE)
        .await
        .expect("shared");
    store
        .create_session(&[9; 32], ann, "laptop", 1, EXPIRES_MS)
        .await
        .expect("session");
    store
        .audit_at(
            AuditEvent::new(AuditKind::AccountCreated).subject("ann@example.com"),
            5,
        )
        .await;
    let outcome = store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge");
    assert_eq!(outcome.users, ["ann@example.com"]);
    assert_eq!(outcome.spaces_removed, [personal]);
    assert_eq!(outcome.pseudonymized_ops, 2);
    assert_eq!(outcome.new_owners, [(team, "bob@example.com".to_owned())]);
    assert!(
        store
            .user_by_email("ann@example.com")
            .await
            .expect("get")
            .is_none()
    );
    assert!(store.session(&[9; 32]).await.expect("get").is_none());
    assert_eq!(
        store.role_of(team, bob).await.expect("role"),
        Some(Role::Owner)
    );
    let shared = store
        .ops_after(team, 0, 100, usize::MAX, true)
        .await
        .expect("shared");
    assert_eq!(shared.ops.len(), 2);
    assert!(
        shared
            .ops
            .iter()
            .all(|o| Some(o.author) == outcome.pseudonym)
    );
    assert!(
        store
            .ops_after(personal, 0, 100, usize::MAX, true)
            .await
            .expect("personal")
            .ops
            .is_empty()
    );
    let entries = store.audit_entries().await.expect("audit");
    let created = entries
        .iter()
        .find(|e| e.kind == "account-created")
        .expect("the entry about ann");
    assert_eq!(created.subject.as_deref(), Some("(purged)"));
    assert!(
        entries.iter().all(
            |e| e.subject.as_deref() != Some("ann@example.com") && e.actor != "ann@example.com"
        ),
        "the log no longer names her: {entries:?}"
    );
    assert!(matches!(
        store.audit_verify().await.expect("verify"),
        AuditVerification::Intact { .. }
    ));
    assert!(matches!(
        store.purge(&PurgeTarget::User("admin".into())).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .purge(&PurgeTarget::User("nobody@example.com".into()))
            .await,
        Err(StoreError::NoSuchUser(_))
    ));
}

/// A purge of everything keeps the standard account with an empty personal
/// space, gives a new epoch, and drops later pushes of purged records.
pub async fn purging_everything(store: &Store) {
    let admin = user(store, "admin").await.expect("admin");
    let ann = user(store, "ann@example.com").await.expect("ann");
    let admin_space = personal_space(store, admin).await;
    let note = goal(admin_space, admin, "admin's note");
    store
        .append_ops(&note, &RecordLimits::NONE)
        .await
        .expect("note");
    let epoch = store.epoch().await.expect("epoch");
    let outcome = store.purge(&PurgeTarget::All).await.expect("purge all");
    assert_eq!(outcome.users, ["ann@example.com"]);
    assert_eq!(outcome.spaces_emptied, [admin_space]);
    assert_ne!(store.epoch().await.expect("epoch"), epoch);
    assert!(
        store
            .user_by_email("ann@example.com")
            .await
            .expect("get")
            .is_none()
    );
    assert!(store.user_by_email("admin").await.expect("get").is_some());
    assert!(store.spaces_of(ann).await.expect("spaces").is_empty());
    let again = store
        .append_ops(&note[1..], &RecordLimits::NONE)
        .await
        .expect("push again");
    assert_eq!((again.stored, again.duplicates), (0, 1));
}

/// Retention drops old login records, old audit entries (the chain verifies from
/// its checkpoint) and records long in the trash (a later change of one is
/// acknowledged and dropped).
pub async fn retention_sweeps(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    for at in [10, 20, 30] {
        let login = LoginRecord {
            at_ms: at,
            success: true,
            address: None,
            device: "d".into(),
        };
        store.record_login(ann, &login).await.expect("login");
        store.audit_at(AuditEvent::new(AuditKind::Backup), at).await;
    }
    let space = personal_space(store, ann).await;
    let trashed = goal(space, ann, "old");
    let record = trashed[0].record;
    store
        .append_ops(&trashed, &RecordLimits::NONE)
        .await
        .expect("goal");
    store
        .append_ops(
            &[op(space, record, ann, Change::Delete, 1_500)],
            &RecordLimits::NONE,
        )
        .await
        .expect("to the trash");
    let outcome = store
        .sweep_retention(RetentionCutoffs {
            logins_before_ms: Some(25),
            audit_before_ms: Some(25),
            trash_before_ms: Some(2_000),
            mail_before_ms: None,
        })
        .await
        .expect("sweep");
    assert_eq!(
        (
            outcome.login_records,
            outcome.audit_entries,
            outcome.trash_records,
            outcome.rewritten
        ),
        (2, 2, 1, true)
    );
    assert_eq!(store.logins_of(ann, 10).await.expect("logins").len(), 1);
    match store.audit_verify().await.expect("verify") {
        AuditVerification::Intact {
            entries, first_seq, ..
        } => assert_eq!((entries, first_seq), (1, 3)),
        broken @ AuditVerification::Broken { .. } => panic!("{broken:?}"),
    }
    let late = store
        .append_ops(
            &[op(space, record, ann, Change::Restore, 3_000)],
            &RecordLimits::NONE,
        )
        .await
        .expect("late change");
    assert_eq!((late.stored, late.duplicates), (0, 1));
    let nothing = store
        .sweep_retention(RetentionCutoffs::default())
        .await
        .expect("sweep nothing");
    assert!(!nothing.rewritten);
}
