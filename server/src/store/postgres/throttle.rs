//! Failed-login counters and login records on PostgreSQL. The counters live in the
//! shared database, so a guesser who spreads attempts over several servers is
//! counted as one; a failure is counted with one atomic upsert.

use cairn_common::codec;
use cairn_common::model::UserId;

use super::{PgStore, seq_from_sql, seq_to_sql};
use crate::store::{LoginRecord, StoreError, ThrottleDecision, ThrottleState};

/// The first number of the throttle's key locks ("ct" in ASCII).
const THROTTLE_LOCKS: i32 = 0x6374;

/// Takes the transaction-long lock of each of `keys`, in sorted order. The lock is
/// an advisory one on the key's hash (the counter row may not exist yet), in the
/// two-number lock space under this store's own first number, apart from the
/// store's other locks; two keys that share a hash only take turns more often.
async fn lock_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    keys: &[&str],
) -> Result<(), StoreError> {
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for key in sorted {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&THROTTLE_LOCKS, &key],
        )
        .await?;
    }
    Ok(())
}

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

    /// Reads the counters of `keys`, lets `decide` choose which of them to count a
    /// failure for or refuse, and counts them, in one transaction that holds a
    /// lock on each key: reservations for the same keys through any server of the
    /// database take turns, so a burst spread over servers gets no more password
    /// checks than the same attempts one after another. Keys are locked in sorted
    /// order, so two reservations never wait for each other in a circle.
    ///
    /// # Errors
    /// A database error; then nothing was counted.
    pub async fn reserve_throttle<R>(
        &self,
        keys: &[&str],
        now_ms: u64,
        forget_before_ms: u64,
        decide: impl FnOnce(&[ThrottleState]) -> ThrottleDecision<R> + Send,
    ) -> Result<Result<(), R>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        lock_keys(&tx, keys).await?;
        let mut states = Vec::with_capacity(keys.len());
        for key in keys {
            let row = tx
                .query_opt(
                    "SELECT failures, last_failure_ms FROM throttle WHERE key = $1",
                    &[key],
                )
                .await?;
            states.push(row.map_or(Ok(ThrottleState::default()), |r| {
                state_of(r.get(0), r.get(1))
            })?);
        }
        let count = match decide(&states) {
            Err(refusal) => return Ok(Err(refusal)),
            Ok(count) => count,
        };
        for key in count.iter().filter_map(|&i| keys.get(i)) {
            tx.execute(
                "INSERT INTO throttle AS t (key, failures, last_failure_ms) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN t.last_failure_ms >= $3
                                   THEN least(t.failures, 2147483646) + 1 ELSE 1 END,
                   last_failure_ms = CASE WHEN t.last_failure_ms >= $3
                                   THEN greatest(t.last_failure_ms, $2) ELSE $2 END",
                &[key, &seq_to_sql(now_ms)?, &seq_to_sql(forget_before_ms)?],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Takes a reservation back in one transaction under the keys' locks: `clear`
    /// starts over, each of `uncount` loses one failure (at zero it goes).
    ///
    /// # Errors
    /// A database error.
    pub async fn release_throttle(&self, clear: &str, uncount: &[&str]) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut keys = vec![clear];
        keys.extend_from_slice(uncount);
        lock_keys(&tx, &keys).await?;
        tx.execute("DELETE FROM throttle WHERE key = $1", &[&clear])
            .await?;
        for key in uncount {
            tx.execute(
                "DELETE FROM throttle WHERE key = $1 AND failures <= 1",
                &[key],
            )
            .await?;
            tx.execute(
                "UPDATE throttle SET failures = failures - 1 WHERE key = $1",
                &[key],
            )
            .await?;
        }
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

    /// Forty reservations at once for one key, spread over two servers, each
    /// allowing a failure only while fewer than five are counted: exactly five get
    /// through, as one after another would.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn reservations_through_two_servers_take_turns() {
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
                store
                    .reserve_throttle(&["p:1", "ip:1"], 100 + n, 0, |states| {
                        if states[0].failures < 5 {
                            Ok(vec![0, 1])
                        } else {
                            Err(())
                        }
                    })
                    .await
            }));
        }
        let mut allowed = 0;
        for task in tasks {
            allowed += usize::from(task.await.expect("task").expect("reserve").is_ok());
        }
        assert_eq!(allowed, 5);
        let state = first.throttle_state("ip:1").await.expect("get");
        assert_eq!(state.failures, 5);
        first
            .release_throttle("p:1", &["ip:1"])
            .await
            .expect("release");
        assert_eq!(
            (
                first.throttle_state("p:1").await.expect("pair").failures,
                second.throttle_state("ip:1").await.expect("ip").failures
            ),
            (0, 4)
        );
    }
}
