//! `cairn-server`: the sync server of a licensee. HTTPS only (rustls), warp filters
//! served through hyper-util on tokio-rustls streams, data behind one `Store`: sled in
//! the data dir, or a PostgreSQL database several servers share (`[store]`).
//!
//! # Layout
//! - [`datadir`]: the data dir's layout and its lock (one process per data dir).
//! - [`settings`]: the TOML config with environment overrides; `init` writes a commented one.
//! - [`secret`]: settings and fields that never show in logs (passwords).
//! - [`clock`]: the time everyone goes by: the system clock, or a manual one in tests.
//! - [`init`]: `cairn-server init`: data dir, self-signed certificate, the standard admin.
//! - [`tls`]: rustls configuration, certificate loading and reload on SIGHUP.
//! - [`serve`]: accept loop: TLS handshakes under a timeout, connection limit,
//!   graceful shutdown. `serve(...)` is what tests call; `run(settings)` what `main` calls.
//! - [`api`]: one file per endpoint (route, handler, tests) and one `recover`.
//! - [`auth`]: argon2id passwords, session tokens, login throttling, the
//!   must-change-password gate, roles.
//! - [`store`]: the only code that talks to sled or PostgreSQL: users, sessions,
//!   spaces, members, per-space op logs, durable group commits, job claims.
//! - [`backup`]: scheduled, verified backups with retention; restore.
//! - [`export`]: `cairn-server export`/`import` and `POST /v1/export`: JSON (with a
//!   published schema), CSV and Markdown files a person can read without Cairn.
//! - [`stats`]: anonymous usage statistics per endpoint and day (no users, tokens or
//!   addresses), kept 30 days at most, read as Prometheus text at `GET /metrics`.
//! - [`mail`]: mail to people: the `[mail]` settings, the SMTP transport (lettre,
//!   rustls), the sender task that delivers the store's durable outbox, mail health.
//! - [`privacy`]: the privacy notice users accept (`[privacy]`) and consent to it,
//!   retention sweeps (login records, audit entries, the trash, sent mail).
//! - [`invite`]: invitations by e-mail with one-time codes, and joining with one.
//! - [`files`]: the content of files in spaces, uploaded as streams of checked frames.
//! - [`notify`]: notifications by choice: the daily digest of what is due, the
//!   mail about a new membership, the stop link.
//! - [`admin`]: the admin commands (`cairn-server user|backup|export|import|purge|
//!   audit|mail ...`), one file each, run on a stopped data dir directly or on a running
//!   server through its control socket.
#![forbid(unsafe_code)]

pub mod admin;
pub mod api;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod datadir;
pub mod export;
pub mod files;
pub mod init;
pub mod invite;
pub mod mail;
pub mod notify;
pub mod privacy;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod stats;
pub mod store;
pub mod tls;

#[cfg(any(test, feature = "testing"))]
pub mod test_postgres;
#[cfg(any(test, feature = "testing"))]
pub mod test_smtp;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
