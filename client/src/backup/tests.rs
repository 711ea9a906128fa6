use cairn_common::model::{RecordKind, Value};
use cairn_common::progress::Quiet;
use chrono::{NaiveDate, TimeZone};

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

fn add_goal(replica: &Replica, title: &str) -> cairn_common::RecordId {
    let space = replica.identity().personal_space;
    let (id, ops) = replica
        .create_ops(
            RecordKind::Goal,
            space,
            vec![("title".into(), Value::Text(title.into()))],
            today(),
        )
        .expect("ops");
    replica.commit(&ops).expect("commit");
    id
}

/// A backup holds what the replica held, reads back equal, and is listed; a
/// backup whose store was changed afterwards is refused as damaged.
#[test]
fn a_backup_is_listed_and_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let replica = Replica::open(&data).expect("open");
    add_goal(&replica, "Kept in the backup");
    let settings = BackupSettings::defaults(&data);
    let made = create(&replica, &settings, &Quiet).expect("backup");
    assert_eq!(made.info.records, 1);
    assert!(
        made.info
            .spaces
            .contains(&replica.identity().personal_space)
    );
    let listed = list(&settings).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].info, made.info);
    verify(&listed[0], &Quiet).expect("reads back");
    // A half-made backup (a crash while writing) is not listed.
    std::fs::create_dir_all(settings.dir.join(".x.partial")).expect("partial");
    assert_eq!(list(&settings).expect("list").len(), 1);
    // Damage: write into the store's files.
    let store = crate::replica::snapshot::store_dir(&made.dir);
    let mut info = made.info.clone();
    info.sha256 = "0".repeat(64);
    std::fs::write(
        made.dir.join(MANIFEST),
        serde_json::to_vec(&info).expect("json"),
    )
    .expect("tamper");
    let err = verify(&list(&settings).expect("list")[0], &Quiet).expect_err("damaged");
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(store.exists());
}

/// Everything of the last day, the newest of each of the last 7 days and of each
/// of the last 4 weeks stay; the rest goes.
#[test]
fn retention_keeps_days_and_weeks() {
    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("now");
    let settings = BackupSettings::defaults(Path::new("/unused"));
    // Two a day for 40 days, newest first.
    let times: Vec<DateTime<Utc>> = (0..80)
        .map(|i| now - chrono::Duration::hours(12 * i))
        .collect();
    let keep = kept(&times, &settings, now);
    let kept_times: Vec<_> = times
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(kept_times[0], now, "the newest");
    assert!(keep[1], "12 hours old: within the last day");
    let older: Vec<_> = kept_times
        .iter()
        .filter(|t| (now - **t).num_days() >= 1)
        .collect();
    let days: std::collections::HashSet<_> = older.iter().map(|t| t.date_naive()).collect();
    assert_eq!(
        days.len(),
        older.len(),
        "one per day at most after the first"
    );
    assert!(kept_times.iter().all(|t| (now - *t).num_days() < 28));
    assert!(
        kept_times.len() >= 8 && kept_times.len() <= 8 + 4,
        "{kept_times:?}"
    );
    assert!(keep[..14].iter().filter(|k| **k).count() >= 7);
}

/// A restore puts the backup's records back, keeps the data from before aside,
/// and works again and again.
#[test]
fn restore_brings_the_backup_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let settings = BackupSettings::defaults(&data);
    let (kept, later, found) = {
        let replica = Replica::open(&data).expect("open");
        let kept = add_goal(&replica, "Before the backup");
        let found = create(&replica, &settings, &Quiet).expect("backup");
        let later = add_goal(&replica, "After the backup");
        (kept, later, found)
    };
    let plan = RestorePlan::new(&data, found).expect("plan");
    assert_eq!(plan.records_now, 2);
    {
        let _open = Replica::open(&data).expect("open");
        let err = restore(&data, &plan, &Quiet).expect_err("open elsewhere");
        assert!(err.to_string().contains("close it"), "{err}");
    }
    restore(&data, &plan, &Quiet).expect("restore");
    let replica = Replica::open(&data).expect("open after restore");
    assert!(replica.record(&kept).expect("read").is_some());
    assert!(replica.record(&later).expect("read").is_none());
    assert!(plan.kept_at.exists(), "the data from before is kept");
    drop(replica);
    restore(&data, &plan, &Quiet).expect("a second restore");
}

/// Backups holding a space this device no longer has are deleted by
/// [`forget_gone`]; others stay.
#[test]
fn backups_of_a_space_gone_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let replica = Replica::open(&data).expect("open");
    add_goal(&replica, "Mine");
    let settings = BackupSettings {
        dir: dir.path().join("elsewhere"),
        ..BackupSettings::defaults(&data)
    };
    let first = create(&replica, &settings, &Quiet).expect("backup");
    let other = BackupSettings {
        dir: dir.path().join("usb"),
        ..settings.clone()
    };
    let second = create(&replica, &other, &Quiet).expect("backup");
    assert_eq!(forget_gone(&replica, false).expect("forget"), 0);
    let mut info = first.info.clone();
    info.spaces.push(SpaceId::new());
    std::fs::write(
        first.dir.join(MANIFEST),
        serde_json::to_vec(&info).expect("json"),
    )
    .expect("write");
    assert_eq!(forget_gone(&replica, false).expect("forget"), 1);
    assert!(!first.dir.exists());
    assert!(second.dir.exists());
}
