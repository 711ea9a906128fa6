//! What several servers on one database share besides the data: the store's epoch,
//! the anonymous usage statistics each server adds its counts to, and the claims
//! that make a periodic job (the daily backup, the retention sweep, mail) run on
//! one server per period however many run.

use cairn_common::api::Epoch;
use cairn_common::codec;
use uuid::Uuid;

use super::{PgStore, seq_to_sql};
use crate::store::{DayCounts, StoreError, TelemetryEntry};

/// The `meta` key of the epoch.
pub(super) const EPOCH: &str = "epoch";

impl PgStore {
    /// The store's epoch, made (and stored) on first use. Every server reads the
    /// same one.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn epoch(&self) -> Result<Epoch, StoreError> {
        let client = self.pool.get().await?;
        let read = client
            .prepare_cached("SELECT value FROM meta WHERE key = $1")
            .await?;
        if let Some(row) = client.query_opt(&read, &[&EPOCH]).await? {
            return Ok(codec::decode(row.get::<_, &[u8]>(0))?);
        }
        // The first use: the first server to store one sets it for all.
        let fresh = codec::encode(&Epoch::new())?;
        client
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&EPOCH, &fresh],
            )
            .await?;
        let row = client.query_one(&read, &[&EPOCH]).await?;
        Ok(codec::decode(row.get::<_, &[u8]>(0))?)
    }

    /// Gives the store a new epoch: its history was replaced, clients start over.
    ///
    /// # Errors
    /// A database error; the old epoch stays then.
    pub async fn renew_epoch(&self) -> Result<Epoch, StoreError> {
        let epoch = Epoch::new();
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&EPOCH, &codec::encode(&epoch)?],
            )
            .await?;
        Ok(epoch)
    }

    /// Adds one server's counts of a day and endpoint to the shared totals.
    ///
    /// # Errors
    /// A database error.
    pub async fn add_telemetry(
        &self,
        day: u32,
        endpoint: &str,
        counts: &DayCounts,
    ) -> Result<(), StoreError> {
        let day = i64::from(day);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO telemetry (day, endpoint, counts) VALUES ($1, $2, $3)
             ON CONFLICT (day, endpoint) DO NOTHING",
            &[&day, &endpoint, &codec::encode(&DayCounts::default())?],
        )
        .await?;
        let row = tx
            .query_one(
                "SELECT counts FROM telemetry WHERE day = $1 AND endpoint = $2 FOR UPDATE",
                &[&day, &endpoint],
            )
            .await?;
        // A damaged entry starts over: it is only statistics.
        let mut total: DayCounts = codec::decode(row.get::<_, &[u8]>(0)).unwrap_or_default();
        total.add(counts);
        tx.execute(
            "UPDATE telemetry SET counts = $3 WHERE day = $1 AND endpoint = $2",
            &[&day, &endpoint, &codec::encode(&total)?],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every day's counts per endpoint.
    ///
    /// # Errors
    /// A database error.
    pub async fn telemetry(&self) -> Result<Vec<TelemetryEntry>, StoreError> {
        let client = self.pool.get().await?;
        let mut entries = Vec::new();
        for row in client
            .query(
                "SELECT day, endpoint, counts FROM telemetry ORDER BY day, endpoint",
                &[],
            )
            .await?
        {
            let (Ok(day), Ok(counts)) = (
                u32::try_from(row.get::<_, i64>(0)),
                codec::decode::<DayCounts>(row.get::<_, &[u8]>(2)),
            ) else {
                continue;
            };
            entries.push(TelemetryEntry {
                day,
                endpoint: row.get(1),
                counts,
            });
        }
        Ok(entries)
    }

    /// Deletes the statistics of days before `first_kept_day`; how many entries.
    ///
    /// # Errors
    /// A database error.
    pub async fn sweep_telemetry(&self, first_kept_day: u32) -> Result<usize, StoreError> {
        let client = self.pool.get().await?;
        let removed = client
            .execute(
                "DELETE FROM telemetry WHERE day < $1",
                &[&i64::from(first_kept_day)],
            )
            .await?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    /// Claims the run of job `name` for `period` (a day number, say) for the server
    /// `holder`: true for exactly one server per period. A claim whose holder did
    /// not finish within `lease_ms` (it crashed) may be taken over.
    ///
    /// # Errors
    /// A database error.
    pub async fn claim_job(
        &self,
        name: &str,
        period: i64,
        holder: Uuid,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let now = seq_to_sql(now_ms)?;
        let expired_before = now.saturating_sub(seq_to_sql(lease_ms)?);
        let claimed = client
            .query_opt(
                "INSERT INTO jobs AS j (name, period, holder, started_ms, finished)
                 VALUES ($1, $2, $3, $4, false)
                 ON CONFLICT (name) DO UPDATE
                 SET period = EXCLUDED.period, holder = EXCLUDED.holder,
                     started_ms = EXCLUDED.started_ms, finished = false
                 WHERE j.period < EXCLUDED.period
                    OR (j.period = EXCLUDED.period AND NOT j.finished AND j.started_ms < $5)
                 RETURNING holder",
                &[&name, &period, &holder, &now, &expired_before],
            )
            .await?;
        Ok(claimed.is_some())
    }

    /// Marks a claimed run done, so no other server takes it over.
    ///
    /// # Errors
    /// A database error.
    pub async fn finish_job(
        &self,
        name: &str,
        period: i64,
        holder: Uuid,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE jobs SET finished = true WHERE name = $1 AND period = $2 AND holder = $3",
                &[&name, &period, &holder],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fresh;
    use crate::store::DayCounts;
    use uuid::Uuid;

    /// Every server reads the same epoch until it is renewed.
    #[tokio::test]
    async fn one_epoch_for_every_server() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 2).await.expect("second");
        let epoch = first.epoch().await.expect("epoch");
        assert_eq!(second.epoch().await.expect("epoch"), epoch);
        let renewed = second.renew_epoch().await.expect("renew");
        assert_ne!(renewed, epoch);
        assert_eq!(first.epoch().await.expect("epoch"), renewed);
    }

    /// Counts added by two servers add up; old days are swept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn statistics_add_up_across_servers() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 4).await.expect("second");
        let one = DayCounts {
            classes: [1, 0, 0, 0],
            sum_us: 10,
            ..DayCounts::default()
        };
        let mut tasks = Vec::new();
        for n in 0..20 {
            let store = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let one = one.clone();
            tasks.push(tokio::spawn(async move {
                store.add_telemetry(100, "push", &one).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("add");
        }
        first
            .add_telemetry(90, "pull", &one)
            .await
            .expect("old day");
        let entries = second.telemetry().await.expect("entries");
        let push = entries.iter().find(|e| e.endpoint == "push").expect("push");
        assert_eq!((push.counts.classes[0], push.counts.sum_us), (20, 200));
        assert_eq!(first.sweep_telemetry(95).await.expect("sweep"), 1);
        assert_eq!(first.telemetry().await.expect("entries").len(), 1);
    }

    /// A daily job is claimed by one server per day; a crashed holder's claim is
    /// taken over after its lease, a finished one never.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_job_runs_on_one_server_per_period() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 4).await.expect("second");
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (x, y) = tokio::join!(
            first.claim_job("backup", 20_000, a, 1_000, 60_000),
            second.claim_job("backup", 20_000, b, 1_000, 60_000)
        );
        let (x, y) = (x.expect("a"), y.expect("b"));
        assert_eq!(u8::from(x) + u8::from(y), 1, "one claim per day");
        let (loser, loser_id) = if x { (&second, b) } else { (&first, a) };
        assert!(
            !loser
                .claim_job("backup", 20_000, loser_id, 30_000, 60_000)
                .await
                .expect("within the lease"),
            "a running claim is not taken over"
        );
        // The holder crashed: after the lease another server takes over.
        assert!(
            loser
                .claim_job("backup", 20_000, loser_id, 120_000, 60_000)
                .await
                .expect("after the lease")
        );
        loser
            .finish_job("backup", 20_000, loser_id)
            .await
            .expect("finish");
        assert!(
            !first
                .claim_job("backup", 20_000, a, 999_999, 60_000)
                .await
                .expect("finished"),
            "a finished run is not run again"
        );
        assert!(
            first
                .claim_job("backup", 20_001, a, 999_999, 60_000)
                .await
                .expect("next day")
        );
    }
}
