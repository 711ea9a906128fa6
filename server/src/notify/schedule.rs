//! Sends the daily digest at `[notifications] digest_time`, the server's local time.
//! Servers sharing a PostgreSQL database send it once between them (a claimed job
//! per local day). A server that is down at that time sends no digest that day:
//! catching up later could mail people twice after a restart.

use chrono::{DateTime, Local, NaiveDate, NaiveTime, TimeZone};

use super::digest;
use crate::mail::{MailError, Mailer};
use crate::store::Store;

/// The name under which servers sharing a database claim a day's digest.
pub const DIGEST_JOB: &str = "digest";
/// A claim older than this is taken over (its server died while queueing).
const DIGEST_LEASE_MS: u64 = 3600 * 1000;

/// The next time the digest is due after `now`: today's `at`, or tomorrow's once
/// it has passed. A time that does not exist that day (a DST gap) moves on by an
/// hour.
#[must_use]
pub fn next_run<Tz: TimeZone>(now: &DateTime<Tz>, at: NaiveTime) -> DateTime<Tz> {
    let tz = now.timezone();
    let mut day = now.date_naive();
    loop {
        let wanted = day.and_time(at);
        let candidate = tz.from_local_datetime(&wanted).earliest().or_else(|| {
            tz.from_local_datetime(&(wanted + chrono::Duration::hours(1)))
                .earliest()
        });
        if let Some(candidate) = candidate
            && candidate > *now
        {
            return candidate;
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// Claims `day`'s digest for `holder` and sends it; `None` if another server has it.
///
/// # Errors
/// A storage error, or mail that is off.
pub async fn send_claimed(
    store: &Store,
    mailer: &Mailer,
    public_url: &str,
    titles: bool,
    day: NaiveDate,
    holder: uuid::Uuid,
) -> Result<Option<usize>, MailError> {
    let period = i64::from(chrono::Datelike::num_days_from_ce(&day));
    let now = crate::clock::now_ms();
    if !store
        .claim_job(DIGEST_JOB, period, holder, now, DIGEST_LEASE_MS)
        .await?
    {
        return Ok(None);
    }
    let sent = digest::send_all(store, mailer, public_url, titles, day).await?;
    store.finish_job(DIGEST_JOB, period, holder).await?;
    Ok(Some(sent))
}

/// Sends the digest every day at `at` (local time) until aborted.
pub fn spawn(
    store: Store,
    mailer: Mailer,
    public_url: String,
    titles: bool,
    at: NaiveTime,
) -> tokio::task::JoinHandle<()> {
    let holder = uuid::Uuid::new_v4();
    tokio::spawn(async move {
        loop {
            let now = Local::now();
            let next = next_run(&now, at);
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let day = next.date_naive();
            // Folding every space reads the whole store: on a blocking thread, as the
            // retention sweep does, not on the threads that serve requests.
            let (store, mailer, url) = (store.clone(), mailer.clone(), public_url.clone());
            let sent = tokio::task::spawn_blocking(move || {
                crate::store::wait(send_claimed(&store, &mailer, &url, titles, day, holder))
            })
            .await;
            match sent {
                Ok(Ok(Some(sent))) => tracing::info!("daily digest: {sent} mails queued"),
                Ok(Ok(None)) => tracing::info!("daily digest: another server has today's"),
                Ok(Err(MailError::Off)) => {}
                Ok(Err(e)) => tracing::error!("daily digest failed: {e}; trying again tomorrow"),
                Err(e) => tracing::error!("daily digest task failed: {e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Timelike};

    use super::*;

    #[test]
    fn the_next_run_is_today_until_it_passed() {
        let tz = FixedOffset::east_opt(3600).expect("offset");
        let at = NaiveTime::from_hms_opt(7, 0, 0).expect("time");
        let early = tz
            .with_ymd_and_hms(2026, 12, 1, 6, 59, 0)
            .single()
            .expect("now");
        let next = next_run(&early, at);
        assert_eq!(
            (next.date_naive().to_string(), next.hour()),
            ("2026-12-01".into(), 7)
        );
        let late = tz
            .with_ymd_and_hms(2026, 12, 1, 7, 0, 0)
            .single()
            .expect("now");
        let next = next_run(&late, at);
        assert_eq!(next.date_naive().to_string(), "2026-12-02");
        let year_end = tz
            .with_ymd_and_hms(2026, 12, 31, 8, 0, 0)
            .single()
            .expect("now");
        assert_eq!(
            next_run(&year_end, at).date_naive().to_string(),
            "2027-01-01"
        );
    }
}
