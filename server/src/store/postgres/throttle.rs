//! Failed-login counters and login records on PostgreSQL. The counters live in the
//! shared database, so a guesser who spreads attempts over several servers is
//! counted as one; a failure is counted with one atomic upsert.

use cairn_common::codec;
use cairn_common::model::UserId;

use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::{LoginRecord, StoreError, ThrottleState};

fn state_of(failures: i32, last_failure_ms: i64) -> Result<ThrottleState, StoreError> {
    Ok(ThrottleState {
        failures: u32::try_from(failures).unwrap_or(0),
        last_failure_ms: seq_from_sql(last_failure_ms)?,
    })
}

impl PgStore {
    /// The counters of `key` (zero if none).
    ///
    /// # Errors
    /// A database error.
    pub async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT failures, last_failure_ms FROM throttle WHERE key = $1",
                &[&key],
            )
            .await?;
        row.map_or(Ok(ThrottleState::default()), |r| {
            state_of(r.get(0), r.get(1))
        })
    }

    /// Stores the counters of `key`; zero counters remove it.
    ///
    /// # Errors
    /// A database error.
    pub async fn set_throttle_state(
        &self,
        key: &str,
        state: ThrottleState,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        if state == ThrottleState::default() {
            client
                .execute("DELETE FROM throttle WHERE key = $1", &[&key])
                .await?;
        } else {
            let failures = i32::try_from(state.failures).unwrap_or(i32::MAX);
            client
                .execute(
                    "INSERT INTO throttle (key, failures, last_failure_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (key) DO UPDATE
                     SET failures = EXCLUDED.failures, last_failure_ms = EXCLUDED.last_failure_ms",
                    &[&key, &failures, &seq_to_sql(state.last_failure_ms)?],
                )
                .await?;
        }
        Ok(())
    }

    /// Counts one more failure of `key` at `now_ms`, atomically (concurrent failures
    /// on any server all count). Counters whose last failure is before
    /// `forget_before_ms` start over.
    ///
    /// # Errors
    /// A database error.
    pub async fn count_throttle_failure(
        &self,
        key: &str,
        now_ms: u64,
        forget_before_ms: u64,
    ) -> Result<ThrottleState, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO throttle AS t (key, failures, last_failure_ms) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN t.last_failure_ms >= $3
                                   THEN least(t.failures, 2147483646) + 1 ELSE 1 END,
                   last_failure_ms = CASE WHEN t.last_failure_ms >= $3
                                   THEN greatest(t.last_failure_ms, $2) ELSE $2 END
                 RETURNING failures, last_failure_ms",
                &[&key, &seq_to_sql(now_ms)?, &seq_to_sql(forget_before_ms)?],
            )
            .await?;
        state_of(row.get(0), row.get(1))
    }

    /// Takes back one counted failure of `key` (the login it was counted for
    /// succeeded); at zero the counter goes.
    ///
    /// # Errors
    /// A database error.
    pub async fn uncount_throttle_failure(&self, key: &str) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "DELETE FROM throttle WHERE key = $1 AND failures <= 1",
            &[&key],
        )
        .await?;
        tx.execute(
            "UPDATE throttle SET failures = failures - 1 WHERE key = $1",
            &[&key],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets counters whose last failure is before `before_ms`; how many.
    ///
    /// # Errors
    /// A database error.
    pub async fn sweep_throttle(&self, before_ms: u64) -> Result<usize, StoreError> {
        let client = self.pool.get().await?;
        let removed = client
            .execute(
                "DELETE FROM throttle WHERE last_failure_ms < $1",
                &[&seq_to_sql(before_ms)?],
            )
            .await?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    /// Records one login to an existing account.
    ///
    /// # Errors
    /// A database error.
    pub async fn record_login(&self, user: UserId, record: &LoginRecord) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO logins (user_id, at_ms, record) VALUES ($1, $2, $3)",
                &[&user.0, &seq_to_sql(record.at_ms)?, &codec::encode(record)?],
            )
            .await?;
        Ok(())
    }

    /// A user's newest `limit` login records, newest first.
    ///
    /// # Errors
    /// A database error or damaged data.
    pub async fn logins_of(
        &self,
        user: UserId,
        limit: usize,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        let client = self.pool.get().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        client
            .query(
                "SELECT record FROM logins WHERE user_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2",
                &[&user.0, &limit],
            )
            .await?
            .iter()
            .map(|row| Ok(codec::decode(row.get::<_, &[u8]>(0))?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fresh;

    /// Failures counted at once through two servers all count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_failures_all_count() {
        let (_pg, url, first) = fresh().await;
        let second = super::PgStore::connect(&url, 4).await.expect("second");
        let mut tasks = Vec::new();
        for n in 0..40u64 {
            let store = if n % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tasks.push(tokio::spawn(async move {
                store.count_throttle_failure("ip:1", 100 + n, 0).await
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("count");
        }
        let state = first.throttle_state("ip:1").await.expect("get");
        assert_eq!((state.failures, state.last_failure_ms), (40, 139));
    }
}
