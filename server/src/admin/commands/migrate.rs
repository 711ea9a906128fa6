//! `cairn-server migrate`: copies the whole store of a stopped data dir into an
//! empty PostgreSQL database, or a PostgreSQL database's store into a data dir
//! (see [`crate::store::migrate`] for what is copied and how it is checked).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::datadir::DataDir;
use crate::store::migrate::{postgres_to_sled, sled_to_postgres};
use crate::store::postgres::PgStore;
use crate::store::{AuditEvent, AuditKind, ImportTarget, SledStore};

/// Where the store goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// From the data dir into the PostgreSQL database URL.
    Postgres,
    /// From the PostgreSQL database URL into the data dir.
    Sled,
}

/// Copy the whole store between backends: a data dir's embedded store and a
/// PostgreSQL database. The server must be stopped; the target must be empty
/// (or, for a data dir, hold only the account `init` made). Both copies are read
/// back in full and compared before this reports success; the source is never
/// changed.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn-server migrate --to postgres postgres://cairn@db.example.com/cairn --data-dir /srv/cairn
  cairn-server init --data-dir /srv/cairn-back
  cairn-server migrate --to sled postgres://cairn@db.example.com/cairn --data-dir /srv/cairn-back")]
pub struct MigrateArgs {
    /// The backend to copy to.
    #[arg(long, value_enum)]
    pub to: Backend,
    /// The PostgreSQL database: postgres://user:password@host:5432/database.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The data dir (its store is the source with `--to postgres`, the target with
    /// `--to sled`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

impl MigrateArgs {
    /// Runs the copy, reporting its steps to `progress`, and prints what was copied.
    ///
    /// # Errors
    /// A running server on the data dir, a database that cannot be reached, a
    /// target that is not empty, or a copy that differs; the message says what to do.
    pub fn run(
        self,
        out: &mut impl Write,
        progress: &dyn cairn_common::progress::Report,
    ) -> anyhow::Result<()> {
        let data_dir = DataDir::new(&self.data_dir);
        data_dir.check_initialized()?;
        let _lock = data_dir.lock().context(
            "stop the server first (`systemctl stop cairn-server`): a migration copies a \
             store nobody writes to",
        )?;
        let store = SledStore::open(&data_dir.db())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let pg = PgStore::connect(&self.url, 4).await?;
            let (contents, direction) = match self.to {
                Backend::Postgres => (
                    sled_to_postgres(&store, &pg, progress).await?,
                    "into PostgreSQL",
                ),
                Backend::Sled => {
                    match store.import_target()? {
                        ImportTarget::FreshAdmin(admin) => store.remove_fresh_account(admin)?,
                        ImportTarget::Empty => {}
                    }
                    (
                        postgres_to_sled(&pg, &store, progress).await?,
                        "into the data dir",
                    )
                }
            };
            let event = AuditEvent::new(AuditKind::Import)
                .detail(format!("migrated {direction}: {}", contents.summary()));
            match self.to {
                Backend::Postgres => pg.audit_at(event, crate::clock::now_ms()).await?,
                Backend::Sled => store.audit(event),
            }
            writeln!(
                out,
                "copied {direction} and checked: {}",
                contents.summary()
            )?;
            if self.to == Backend::Postgres {
                writeln!(
                    out,
                    "the data dir is unchanged; keep it until the PostgreSQL store serves"
                )?;
            }
            Ok::<_, anyhow::Error>(())
        })
    }
}
