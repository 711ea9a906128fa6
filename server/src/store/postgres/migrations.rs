//! The PostgreSQL schema, as numbered migrations applied in order when the store
//! opens. Each runs in its own transaction together with the row that records it in
//! `cairn_schema`, so a migration is applied completely or not at all; a
//! transaction-scoped advisory lock makes servers that start at the same time apply
//! each one once. A database whose schema is newer than this server knows is
//! refused rather than written with old assumptions.
//!
//! Values are stored in the store's own encoding ([`cairn_common::codec`]) in
//! `bytea` columns; the columns a query selects or orders by (ids, seqs, days) are
//! typed, so that the database's indexes and constraints do the work.

use tokio_postgres::Client;

use crate::store::StoreError;

/// Any 64-bit number that is this store's alone: the advisory lock of migrations.
const MIGRATION_LOCK: i64 = 0x6361_6972_6e5f_6d69; // "cairn_mi"

/// The migrations, oldest first; version = position + 1. Never edit one that has
/// shipped: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the op log. One row per op, numbered per space; the counter row of a space
    // is locked by every push to it, which makes the seqs gapless and visible in
    // order (a push commits before the next one to that space can take a seq).
    "CREATE TABLE meta (
        key text PRIMARY KEY,
        value bytea NOT NULL
    );
    CREATE TABLE space_seqs (
        space_id uuid PRIMARY KEY,
        last_seq bigint NOT NULL CHECK (last_seq >= 0)
    );
    CREATE TABLE ops (
        space_id uuid NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        op_id uuid NOT NULL UNIQUE,
        record_id uuid NOT NULL,
        -- The author, so a purge finds a person's ops without decoding every op.
        author uuid NOT NULL,
        op bytea NOT NULL,
        PRIMARY KEY (space_id, seq)
    );
    CREATE INDEX ops_by_author ON ops (author);
    CREATE TABLE records (
        record_id uuid PRIMARY KEY,
        space_id uuid NOT NULL,
        meta bytea NOT NULL
    );
    CREATE TABLE purged_records (
        space_id uuid NOT NULL,
        record_id uuid NOT NULL,
        PRIMARY KEY (space_id, record_id)
    );",
    // 2: accounts, sessions, spaces and memberships. E-mails are unique by the
    // table (stored lowercase); a session is found by the SHA-256 of its token.
    "CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL UNIQUE,
        record bytea NOT NULL
    );
    CREATE TABLE sessions (
        token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        record bytea NOT NULL
    );
    CREATE INDEX sessions_by_user ON sessions (user_id);
    CREATE TABLE spaces (
        id uuid PRIMARY KEY,
        space bytea NOT NULL
    );
    CREATE TABLE members (
        space_id uuid NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role smallint NOT NULL CHECK (role BETWEEN 0 AND 2),
        PRIMARY KEY (space_id, user_id)
    );
    CREATE INDEX members_by_user ON members (user_id);",
    // 3: failed-login counters (typed, so one upsert counts a failure atomically)
    // and login records (a user's newest first; retention cuts by time).
    "CREATE TABLE throttle (
        key text PRIMARY KEY,
        failures integer NOT NULL CHECK (failures > 0),
        last_failure_ms bigint NOT NULL
    );
    CREATE INDEX throttle_by_time ON throttle (last_failure_ms);
    CREATE TABLE logins (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id uuid NOT NULL,
        at_ms bigint NOT NULL,
        record bytea NOT NULL
    );
    CREATE INDEX logins_by_user ON logins (user_id, at_ms);
    CREATE INDEX logins_by_time ON logins (at_ms);",
    // 4: what servers on one database share: usage statistics (each server adds its
    // counts) and the claims of periodic jobs (one server runs each per period).
    "CREATE TABLE telemetry (
        day bigint NOT NULL,
        endpoint text NOT NULL,
        counts bytea NOT NULL,
        PRIMARY KEY (day, endpoint)
    );
    CREATE TABLE jobs (
        name text PRIMARY KEY,
        period bigint NOT NULL,
        holder uuid NOT NULL,
        started_ms bigint NOT NULL,
        finished boolean NOT NULL
    );",
    // 5: the audit log, one hash chain (head and retention checkpoint in `meta`),
    // and the tokens that stand for people in it.
    "CREATE TABLE audit (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        entry bytea NOT NULL
    );
    CREATE TABLE audit_subjects (
        token bytea PRIMARY KEY CHECK (octet_length(token) = 16),
        email text NOT NULL UNIQUE
    );",
    // 6: consent to the privacy notice (every acceptance and withdrawal, and the
    // version each user accepted last), and invitations found by their code's hash.
    "CREATE TABLE consents (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        at_ms bigint NOT NULL,
        entry bytea NOT NULL
    );
    CREATE INDEX consents_by_user ON consents (user_id, at_ms);
    CREATE TABLE consent_current (
        user_id uuid PRIMARY KEY,
        version text NOT NULL
    );
    CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        space_id uuid,
        code_hash bytea NOT NULL UNIQUE CHECK (octet_length(code_hash) = 32),
        created_at_ms bigint NOT NULL,
        record bytea NOT NULL
    );
    CREATE INDEX invitations_by_space ON invitations (space_id);",
    // 7: the mail outbox. A sender claims a due row (FOR UPDATE SKIP LOCKED) for a
    // lease, so each mail is sent by one server; the partial index finds due mail.
    // `kind` is a name, so kinds can be added; `state`: queued 0, sent 1, failed 2.
    "CREATE TABLE mail (
        id uuid PRIMARY KEY,
        user_id uuid,
        recipient text NOT NULL,
        kind text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        created_ms bigint NOT NULL,
        state smallint NOT NULL CHECK (state BETWEEN 0 AND 2),
        attempts integer NOT NULL CHECK (attempts >= 0),
        next_attempt_ms bigint NOT NULL,
        last_error text,
        finished_ms bigint,
        claimed_by uuid,
        claimed_until_ms bigint NOT NULL
    );
    CREATE INDEX mail_due ON mail (next_attempt_ms, id) WHERE state = 0;
    CREATE INDEX mail_by_user ON mail (user_id);
    CREATE INDEX mail_by_recipient ON mail (lower(recipient));
    CREATE INDEX mail_finished ON mail (finished_ms) WHERE state <> 0;",
    // 8: which mails each user chose (notifications by choice).
    "CREATE TABLE notifications (
        user_id uuid PRIMARY KEY,
        record bytea NOT NULL
    );",
];

/// The schema version this server writes.
#[must_use]
pub fn current() -> i32 {
    i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX)
}

/// Brings the database's schema up to [`current`]; how many migrations ran.
///
/// # Errors
/// A database error, or a schema newer than this server (upgrade the server).
pub async fn apply(client: &mut Client) -> Result<usize, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS cairn_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await?;
    let mut ran = 0;
    for (at, sql) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(at + 1).unwrap_or(i32::MAX);
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let applied: Option<i32> = tx
            .query_one("SELECT max(version) FROM cairn_schema", &[])
            .await?
            .get(0);
        let applied = applied.unwrap_or(0);
        if applied > current() {
            return Err(StoreError::InvalidInput(format!(
                "the database's schema is version {applied}, newer than this cairn-server \
                 knows ({}); run the newer cairn-server that wrote it",
                current()
            )));
        }
        if applied >= version {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO cairn_schema (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tx.commit().await?;
        ran += 1;
    }
    Ok(ran)
}
