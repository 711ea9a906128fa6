//! Retention: how long login records, audit entries, trashed records and the
//! metadata of sent mail are kept
//! (`[retention]` in the config), and the task that applies it once a day.

use std::time::Duration;

use crate::clock::Clock;
use crate::settings::RetentionSettings;
use crate::store::{AuditEvent, AuditKind, RetentionCutoffs, Store, StoreError, SweepOutcome};

const DAY_MS: u64 = 24 * 3600 * 1000;
/// The sweeper's first run comes this long after the start (not in the rush of
/// clients reconnecting), then once a day.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(10 * 60);
const SWEEP_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The instants before which each category goes, at `now_ms` (0 days: kept).
#[must_use]
pub fn cutoffs(settings: &RetentionSettings, now_ms: u64) -> RetentionCutoffs {
    let before = |days: u32| {
        (days > 0).then(|| now_ms.saturating_sub(u64::from(days).saturating_mul(DAY_MS)))
    };
    RetentionCutoffs {
        logins_before_ms: before(settings.login_records_days),
        audit_before_ms: before(settings.audit_days),
        trash_before_ms: before(settings.trash_days),
        mail_before_ms: before(settings.mail_days),
    }
}

/// One sweep at `now_ms`; logged in the audit log when it removed anything.
/// Blocking (it may rewrite the store).
///
/// # Errors
/// A storage error; nothing is removed then.
pub async fn sweep(
    store: &Store,
    settings: &RetentionSettings,
    now_ms: u64,
) -> Result<SweepOutcome, StoreError> {
    let outcome = store.sweep_retention(cutoffs(settings, now_ms)).await?;
    if outcome.rewritten {
        store
            .audit_at(
                AuditEvent::new(AuditKind::RetentionSweep).detail(format!(
                    "removed {} login records, {} audit entries, {} records from the trash, \
                     {} sent or failed mails",
                    outcome.login_records,
                    outcome.audit_entries,
                    outcome.trash_records,
                    outcome.mails
                )),
                now_ms,
            )
            .await;
    }
    Ok(outcome)
}

/// The name under which servers sharing a database claim the daily sweep.
pub const SWEEP_JOB: &str = "retention-sweep";
/// A claim of the sweep older than this is taken over by another server (its
/// holder died mid-sweep); a sweep takes minutes at most.
const SWEEP_LEASE_MS: u64 = 3600 * 1000;

/// The sweep of the UTC day of `now_ms`, run only if `holder` claims that day's
/// job (always on sled; on PostgreSQL once across the servers sharing it). `None`
/// if another server has it.
///
/// # Errors
/// A storage error; the claim is not finished then, so the lease lets another
/// server (or this one, tomorrow) sweep.
pub async fn sweep_claimed(
    store: &Store,
    settings: &RetentionSettings,
    holder: uuid::Uuid,
    now_ms: u64,
) -> Result<Option<SweepOutcome>, StoreError> {
    let day = i64::try_from(now_ms / DAY_MS).unwrap_or(i64::MAX);
    if !store
        .claim_job(SWEEP_JOB, day, holder, now_ms, SWEEP_LEASE_MS)
        .await?
    {
        return Ok(None);
    }
    let outcome = sweep(store, settings, now_ms).await?;
    store.finish_job(SWEEP_JOB, day, holder).await?;
    Ok(Some(outcome))
}

/// Sweeps once a day (the first time a few minutes after the start) until aborted.
/// Servers sharing a PostgreSQL database sweep once per day between them.
pub fn spawn_sweeper(
    store: Store,
    settings: RetentionSettings,
    backups: crate::backup::Backups,
    clock: Clock,
) -> tokio::task::JoinHandle<()> {
    let holder = uuid::Uuid::new_v4();
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + FIRST_SWEEP_AFTER;
        loop {
            tokio::time::sleep_until(next).await;
            next += SWEEP_EVERY;
            let (store, settings, now) = (store.clone(), settings.clone(), clock.now_ms());
            let backups = backups.clone();
            match tokio::task::spawn_blocking(move || {
                let swept = crate::store::wait(sweep_claimed(&store, &settings, holder, now));
                // Then the content of files emptied from the trash or purged.
                if let Some(blobs) = backups.files() {
                    let files = crate::store::wait(crate::files::gc::sweep(
                        &store,
                        &blobs,
                        &backups,
                        std::time::SystemTime::now(),
                        crate::files::gc::GRACE,
                    ));
                    match files {
                        Ok(files) => tracing::info!(?files, "file content sweep"),
                        Err(e) => tracing::error!("file content sweep failed: {e}"),
                    }
                }
                swept
            })
            .await
            {
                Ok(Ok(Some(outcome))) => tracing::info!(?outcome, "retention sweep"),
                Ok(Ok(None)) => tracing::info!("retention sweep: another server has today's"),
                Ok(Err(e)) => tracing::error!("retention sweep failed: {e}; retrying tomorrow"),
                Err(e) => tracing::error!("retention sweep task failed: {e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking as _;
    use crate::store::LoginRecord;

    /// With a manual clock: records within the limit stay; after the clock moves past
    /// it they are swept, and the sweep is in the audit log; 0 days keeps forever.
    #[test]
    fn sweep_follows_the_clock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("db")).expect("open");
        let ann = store
            .create_user(crate::store::NewUser {
                email: "ann@example.com".into(),
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                password_hash: crate::auth::password::hash("long enough password").expect("hash"),
                must_change_password: false,
                server_admin: false,
            })
            .wait()
            .expect("user");
        let clock = Clock::manual(1_700_000_000_000);
        let login = LoginRecord {
            at_ms: clock.now_ms(),
            success: true,
            address: None,
            device: "laptop".into(),
        };
        store.record_login(ann.id, &login).wait().expect("login");
        let settings = RetentionSettings {
            login_records_days: 30,
            audit_days: 0,
            trash_days: 0,
            mail_days: 0,
        };
        clock.advance(Duration::from_secs(29 * 24 * 3600));
        let outcome = sweep(&store, &settings, clock.now_ms())
            .wait()
            .expect("sweep");
        assert!(!outcome.rewritten);
        assert_eq!(store.logins_of(ann.id, 10).wait().expect("logins").len(), 1);
        clock.advance(Duration::from_secs(2 * 24 * 3600));
        let outcome = sweep(&store, &settings, clock.now_ms())
            .wait()
            .expect("sweep");
        assert_eq!((outcome.login_records, outcome.rewritten), (1, true));
        assert!(
            store
                .logins_of(ann.id, 10)
                .wait()
                .expect("logins")
                .is_empty()
        );
        let audit = store.audit_entries().wait().expect("audit");
        assert_eq!(
            audit.last().map(|e| e.kind.as_str()),
            Some("retention-sweep")
        );
        let forever = RetentionSettings {
            login_records_days: 0,
            ..settings
        };
        assert_eq!(cutoffs(&forever, clock.now_ms()).logins_before_ms, None);
    }
}
