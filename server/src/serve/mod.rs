//! Serving: [`serve`] is the accept loop over a listener the caller binds (tests use
//! port 0); [`Instance`] is one server on one data dir (lock, TLS, store, control
//! socket, backup scheduler, mail sender); [`run`] is what `main` calls: it binds the configured address and wires
//! SIGINT/SIGTERM to shutdown and SIGHUP to a certificate reload.

mod accept;
mod activity;
mod body;
mod peers;
mod signals;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use warp::Filter;

use crate::api::AppState;

pub use accept::{Limits, serve};
pub use body::{BodyLimits, BodyTimedOut};
pub use peers::ClientNet;
pub use signals::reload_certificate;

use crate::admin::control::ControlSocket;
use crate::backup::Backups;
use crate::backup::schedule::{self, Scheduler};
use crate::clock::Clock;
use crate::datadir::{DataDir, DataDirLock};
use crate::mail::Mailer;
use crate::settings::{Settings, StoreBackend};
use crate::stats::Stats;
use crate::stats::persist::Persister;
use crate::store::Store;
use crate::tls::TlsHandle;

/// One server on one data dir, between opening it and serving.
pub struct Instance {
    settings: Settings,
    data_dir: DataDir,
    tls: TlsHandle,
    store: Store,
    /// The backups the scheduler takes and the admin commands see.
    backups: Backups,
    /// This server's mail: the API and admin commands queue, the sender sends.
    mailer: Mailer,
    /// Held until the instance is dropped, after the store is flushed and closed.
    _lock: DataDirLock,
}

impl Instance {
    /// Takes the data dir (refused if another server has it), loads the TLS
    /// certificate and opens the sled store. For a data dir whose store is
    /// PostgreSQL use [`Instance::connect`].
    ///
    /// # Errors
    /// If the dir is not initialized or in use, or the certificate or store
    /// cannot be opened; each message says what to do.
    pub fn open(settings: Settings) -> anyhow::Result<Instance> {
        if settings.store.backend == StoreBackend::Postgres {
            anyhow::bail!("the store of this data dir is PostgreSQL: use Instance::connect");
        }
        let (data_dir, lock, tls) = take_data_dir(&settings)?;
        let store = Store::open(&data_dir.db())?;
        Ok(Instance::assemble(settings, data_dir, lock, tls, store))
    }

    /// As [`Instance::open`], for either store: sled in the data dir, or the
    /// PostgreSQL database of `[store]` (whose schema is brought up to date).
    ///
    /// # Errors
    /// As [`Instance::open`], or a database that cannot be reached.
    pub async fn connect(settings: Settings) -> anyhow::Result<Instance> {
        let (data_dir, lock, tls) = take_data_dir(&settings)?;
        let store = settings.open_store().await?;
        Ok(Instance::assemble(settings, data_dir, lock, tls, store))
    }

    fn assemble(
        settings: Settings,
        data_dir: DataDir,
        lock: DataDirLock,
        tls: TlsHandle,
        store: Store,
    ) -> Instance {
        let backups = Backups::with_files(
            settings.backup_dir(),
            settings.backup.clone(),
            settings.files.dir_in(data_dir.root()),
        );
        let mailer = Mailer::new(settings.mail.clone());
        Instance {
            settings,
            data_dir,
            tls,
            store,
            backups,
            mailer,
            _lock: lock,
        }
    }

    /// The TLS handle, to reload the certificate.
    pub fn tls(&self) -> &TlsHandle {
        &self.tls
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The backups of this server (tests look at their health or simulate faults).
    pub fn backups(&self) -> &Backups {
        &self.backups
    }

    /// The mail of this server (tests queue mail or look at its health).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Serves on `listener` until `shutdown`: opens the control socket, starts
    /// persisting the usage statistics, runs the accept loop, then closes the
    /// socket, stores the last statistics and makes every write durable.
    ///
    /// # Errors
    /// If the control socket cannot be made, or the final flush fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        self.serve_and_notify(listener, || {}, shutdown).await
    }

    /// As [`Instance::serve`], calling `ready` once the control socket listens and
    /// connections are about to be accepted (tests wait for it).
    ///
    /// # Errors
    /// As [`Instance::serve`].
    pub async fn serve_and_notify(
        self,
        listener: TcpListener,
        ready: impl FnOnce(),
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        // A mail setting that cannot work (an unreadable CA file) stops the start,
        // before anything listens.
        let sender = crate::mail::outbox::start(
            &self.settings,
            self.store.clone(),
            self.mailer.clone(),
            Clock::system(),
        )?;
        let acme = self.settings.tls.acme.clone().map(|settings| {
            crate::tls::acme::spawn(
                settings,
                self.data_dir.root(),
                self.tls.clone(),
                self.store.clone(),
            )
        });
        let control = ControlSocket::start(
            &self.data_dir,
            self.store.clone(),
            self.backups.clone(),
            self.mailer.clone(),
            acme.as_ref().map(|(handle, _)| handle.clone()),
        )?;
        let scheduler = if self.store.is_shared() {
            // The backup cut is sled's; a database several servers share is backed
            // up by its own tools, and /healthz has no cairn backup to report on.
            tracing::info!(
                "backups: the database's own (pg_dump or point-in-time recovery); cairn's \
                 backup schedule does not run on PostgreSQL (see docs/POSTGRES.md)"
            );
            None
        } else if self.settings.backup.enabled {
            let scheduler = Scheduler::new(
                self.store.clone(),
                self.backups.clone(),
                crate::clock::now_ms(),
            )?;
            Some(schedule::spawn(scheduler, Clock::system(), schedule::TICK))
        } else {
            None
        };
        ready();
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(
                "cairn-server {} serving https://{addr} from {} (certificate {})",
                env!("CARGO_PKG_VERSION"),
                self.data_dir.root().display(),
                self.tls.fingerprint()
            );
        }
        let sweeper = crate::privacy::retention::spawn_sweeper(
            self.store.clone(),
            self.settings.retention.clone(),
            self.backups.clone(),
            Clock::system(),
        );
        let limits = Limits::from_settings(&self.settings.server);
        let notice = self
            .settings
            .privacy
            .notice(self.data_dir.root())
            .map_err(|e| anyhow::anyhow!(e))?;
        let public_url = match self.settings.server.public_url.trim_end_matches('/') {
            "" => listener
                .local_addr()
                .map(|addr| format!("https://{addr}"))
                .unwrap_or_else(|_| "https://localhost".to_owned()),
            url => url.to_owned(),
        };
        let privacy = crate::api::Privacy {
            notice,
            settings: self.settings.privacy.clone(),
            public_url,
        };
        let digest = self.settings.mail.enabled.then(|| {
            crate::notify::schedule::spawn(
                self.store.clone(),
                self.mailer.clone(),
                privacy.public_url.clone(),
                self.settings.notifications.digest_titles,
                // Checked when the settings were loaded.
                self.settings.notifications.time().unwrap_or_default(),
            )
        });
        let state = AppState::new(
            self.store.clone(),
            self.backups.clone(),
            self.settings.auth_settings(),
        )
        .with_stats(Stats::new(self.settings.stats_settings()))
        .with_sync_rules(self.settings.sync_rules())
        .with_privacy(privacy)
        .with_mailer(self.mailer.clone())
        .with_tls(self.tls.clone())
        .with_files(
            crate::files::blobs::Blobs::new(self.settings.files.dir_in(self.data_dir.root())),
            self.settings.files.limits(),
        );
        let persister =
            Persister::start(state.stats.clone(), self.store.clone(), state.clock.clone());
        let served = serve(
            listener,
            self.tls.clone(),
            move |peer| routes(state.clone(), peer),
            limits,
            shutdown,
        )
        .await;
        if let Some(scheduler) = scheduler {
            scheduler.stop().await;
        }
        control.stop().await;
        if let Some((_, task)) = acme {
            task.abort();
        }
        // A sweep in progress runs on a blocking thread and finishes (a rewrite is
        // atomic); only the schedule stops.
        sweeper.abort();
        if let Some(digest) = digest {
            digest.abort();
        }
        if let Some(sender) = sender {
            sender.stop().await;
        }
        // The last counts go to the store before its final flush.
        persister.stop().await;
        let flushed = self
            .store
            .flush()
            .await
            .context("making the last writes durable at shutdown");
        served.and(flushed)?;
        tracing::info!("stopped; all writes are on disk");
        Ok(())
    }
}

/// The data dir's lock and certificate. A sled data dir must hold its store
/// (`db/`); on PostgreSQL the config (already read) is what makes it a data dir.
fn take_data_dir(settings: &Settings) -> anyhow::Result<(DataDir, DataDirLock, TlsHandle)> {
    crate::tls::install_default_provider();
    let data_dir = DataDir::new(settings.data_dir.clone());
    if settings.store.backend == StoreBackend::Sled {
        data_dir.check_initialized()?;
    }
    let lock = data_dir.lock()?;
    let tls = load_certificate(settings, &data_dir)?;
    Ok((data_dir, lock, tls))
}

/// The certificate to serve at start: with `[tls.acme]`, the CA's from an earlier
/// run if it loads; otherwise (and until the first one arrives) `[tls]`'s files.
fn load_certificate(settings: &Settings, data_dir: &DataDir) -> anyhow::Result<TlsHandle> {
    if settings.tls.acme.is_some() {
        let acme = crate::tls::acme::AcmeFiles::in_data_dir(data_dir.root());
        if acme.has_certificate() {
            match TlsHandle::load(&acme.cert(), &acme.key()) {
                Ok(tls) => return Ok(tls),
                Err(e) => tracing::error!(
                    "the certificate from the ACME CA does not load ({e}); serving [tls]'s                      until a new one arrives"
                ),
            }
        }
    }
    Ok(TlsHandle::load(
        &settings.cert_path(),
        &settings.key_path(),
    )?)
}

/// The HTTP routes of one connection: the API, told the peer's address so that
/// login throttling can count per address.
fn routes(
    state: AppState,
    peer: SocketAddr,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    crate::api::routes_with_peer(state, Some(peer.ip()))
}

/// Runs the server of `settings` until SIGINT or SIGTERM; SIGHUP reloads the
/// certificate.
///
/// # Errors
/// If the data dir cannot be opened, the address cannot be bound, or shutdown
/// cannot make the last writes durable.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.server.listen;
    // The data dir first: a second server on the same dir is told so, rather
    // than that the port is taken.
    let instance = Instance::connect(settings).await?;
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!(
            "cannot listen on {listen}; is another program using the port? Set [server] listen \
             in cairn-server.toml or pass --listen ADDR:PORT"
        )
    })?;
    let signals = signals::Signals::new()?;
    let reloader = signals::reload_on_hangup(
        signals.hangup,
        instance.tls().clone(),
        instance.store().clone(),
    );
    let result = instance.serve(listener, signals.terminate).await;
    reloader.abort();
    result
}

#[cfg(test)]
mod tests;
