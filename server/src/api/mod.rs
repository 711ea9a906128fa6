//! The HTTP API: one file per endpoint (route, handler, tests), shared filters in
//! [`extract`], and [`recover`] turning every refusal into a status and an
//! [`ErrorResponse`](cairn_common::api::ErrorResponse).
//!
//! [`routes`] is the whole API as one warp filter. The client address (for login
//! throttling) comes from [`routes_with_peer`], which `serve` builds per connection
//! with the address it accepted; [`routes`] reads a [`PeerAddr`] request extension
//! or warp's remote address instead. Headers are never trusted for it.
//!
//! Every request is counted in the anonymous usage statistics ([`crate::stats`])
//! under its endpoint's path; `GET /metrics` ([`metrics`]) reads them.

mod consent;
mod error;
mod export;
mod extract;
mod files;
#[cfg(test)]
mod files_tests;
mod healthz;
mod invitations;
mod login;
mod logins;
mod logout;
mod members;
mod metrics;
mod notifications;
mod password;
mod pull;
mod push;
mod recover;
mod sessions;
mod spaces;
#[cfg(test)]
mod testing;
mod upload;

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

pub use error::ApiError;
pub use push::{MAX_RECORD_KIB, SyncRules};

use crate::auth::AuthSettings;
use crate::auth::password::Hashing;
use crate::backup::Backups;
use crate::clock::Clock;
use crate::mail::Mailer;
use crate::stats::Stats;
use crate::store::Store;

/// What the handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The server's backups, whose health `/healthz` tells.
    pub backups: Backups,
    /// The server's mail: queue with [`Mailer::queue`]; `/healthz` tells its health.
    pub mailer: Mailer,
    pub auth: AuthSettings,
    pub clock: Clock,
    /// The usage counters of this server's requests.
    pub stats: Stats,
    /// What a push must keep to.
    pub sync: SyncRules,
    /// The privacy notice and what joining and withdrawing do.
    pub privacy: Arc<Privacy>,
    /// File content and its limits; `None` until set (tests without files).
    pub files: Option<Arc<FileStore>>,
    /// The server's TLS, whose certificate renewal `/healthz` tells; `None` in
    /// tests without a listener.
    pub tls: Option<crate::tls::TlsHandle>,
    /// Bounds concurrent argon2 hashes (19 MiB and a core each), so a burst of
    /// logins cannot exhaust memory.
    hashing: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State over `store` and `backups` with the system clock.
    #[must_use]
    pub fn new(store: Store, backups: Backups, auth: AuthSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            store,
            backups,
            mailer: Mailer::off(),
            auth,
            clock: Clock::system(),
            stats: Stats::default(),
            sync: SyncRules::default(),
            privacy: Arc::new(Privacy::default()),
            files: None,
            tls: None,
            hashing: Arc::new(tokio::sync::Semaphore::new(cores * 2)),
        }
    }

    /// The same state going by another clock (tests move a manual one).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same state sending mail through `mailer` (the default has mail off).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = mailer;
        self
    }

    /// The same state with the server's TLS (for `/healthz`).
    #[must_use]
    pub fn with_tls(mut self, tls: crate::tls::TlsHandle) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The same state with other push limits.
    #[must_use]
    pub fn with_sync_rules(mut self, sync: SyncRules) -> Self {
        self.sync = sync;
        self
    }

    /// The same state with this privacy notice and these rules.
    #[must_use]
    pub fn with_privacy(mut self, privacy: Privacy) -> Self {
        self.privacy = Arc::new(privacy);
        self
    }

    /// The same state keeping file content in `blobs` within `limits`.
    #[must_use]
    pub fn with_files(
        mut self,
        blobs: crate::files::blobs::Blobs,
        limits: crate::files::blobs::Limits,
    ) -> Self {
        self.files = Some(Arc::new(FileStore { blobs, limits }));
        self
    }

    /// The same state counting into `stats` (made with the configured settings).
    #[must_use]
    pub fn with_stats(mut self, stats: Stats) -> Self {
        self.stats = stats;
        self
    }

    /// Runs store work where its backend wants it, for work that reads or writes
    /// in one transaction. On PostgreSQL, whose calls are truly async, it is
    /// awaited on this task: no thread waits for the database, and a request
    /// dropped mid-way drops its transaction, which rolls back whole. On sled,
    /// whose calls block on disk, it runs on a blocking thread (to its end, even
    /// if the request goes away).
    pub(crate) async fn with_store<T, F, Fut>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let store = self.store.clone();
        match store {
            Store::Postgres(_) => work(store).await,
            Store::Sled(_) => on_blocking_thread(store, work).await,
        }
    }

    /// As [`AppState::with_store`], for work that writes in several steps which
    /// must all happen once the first has (a membership change and its audit
    /// entry): it runs to its end even if the request is dropped. On PostgreSQL
    /// it is a task of its own, awaited here.
    pub(crate) async fn with_store_to_end<T, F, Fut>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let store = self.store.clone();
        match store {
            Store::Postgres(_) => tokio::spawn(work(store))
                .await
                .map_err(|e| ApiError::internal(&e))?,
            Store::Sled(_) => on_blocking_thread(store, work).await,
        }
    }

    /// Runs store work that hashes passwords (argon2: 19 MiB and a core for a
    /// while each), a bounded number of hashes at a time, to its end (a right
    /// password must take its throttle reservation back even if the client went
    /// away). On sled the whole work runs on a blocking thread holding a permit and
    /// hashes right there ([`Hashing::Here`]). On PostgreSQL it is a task of its
    /// own, and only its hashes go to blocking threads, each holding a permit
    /// while it runs ([`Hashing::Bounded`]).
    pub(crate) async fn with_hashing<T, F, Fut>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Store, Hashing) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let store = self.store.clone();
        match store {
            Store::Postgres(_) => tokio::spawn(work(store, Hashing::Bounded(self.hashing.clone())))
                .await
                .map_err(|e| ApiError::internal(&e))?,
            Store::Sled(_) => {
                let permit = self
                    .hashing
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| ApiError::internal(&e))?;
                // The permit goes with the work: a blocking thread runs on when its
                // request is dropped, and its hash still counts.
                on_blocking_thread(store, move |store| async move {
                    let _permit = permit;
                    work(store, Hashing::Here).await
                })
                .await
            }
        }
    }
}

/// Runs `work` on a blocking thread, waiting there for its store calls (sled's
/// block on disk).
async fn on_blocking_thread<T, F, Fut>(store: Store, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    tokio::task::spawn_blocking(move || crate::store::wait(work(store)))
        .await
        .map_err(|e| ApiError::internal(&e))?
}

/// Where file content lives, and how much of it may.
#[derive(Debug)]
pub struct FileStore {
    pub blobs: crate::files::blobs::Blobs,
    pub limits: crate::files::blobs::Limits,
}

/// The privacy notice every user accepts, and the rules around it.
#[derive(Clone, Debug)]
pub struct Privacy {
    pub notice: cairn_common::api::consent::Notice,
    pub settings: crate::privacy::notice::PrivacySettings,
    /// Where invitation links point: `https://host[:port]`.
    pub public_url: String,
}

impl Default for Privacy {
    /// The built-in notice, the default rules, links to `https://localhost`.
    fn default() -> Self {
        Self {
            notice: cairn_common::api::consent::Notice {
                version: crate::privacy::notice::BUILT_IN_VERSION.to_owned(),
                text: crate::privacy::notice::BUILT_IN_TEXT.to_owned(),
            },
            settings: crate::privacy::notice::PrivacySettings::default(),
            public_url: "https://localhost".to_owned(),
        }
    }
}

/// The client address of a request, as a request extension set by the code that
/// accepted the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub IpAddr);

/// The whole API. The client address comes from a [`PeerAddr`] extension, else from
/// warp's remote address, else none (throttling then counts per account only).
pub fn routes(
    state: AppState,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    let peer = warp::ext::optional::<PeerAddr>()
        .and(warp::addr::remote())
        .map(
            |ext: Option<PeerAddr>, remote: Option<std::net::SocketAddr>| {
                ext.map(|p| p.0).or(remote.map(|r| r.ip()))
            },
        )
        .boxed();
    build(state, peer)
}

/// The whole API for one connection from `peer` (what `serve` calls per accepted
/// connection).
pub fn routes_with_peer(
    state: AppState,
    peer: Option<IpAddr>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    build(state, warp::any().map(move || peer).boxed())
}

fn build(
    state: AppState,
    peer: BoxedFilter<(Option<IpAddr>,)>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone + Send + Sync + 'static
{
    let stats = state.stats.clone();
    // Every route takes its path from `cairn_common::api::endpoints`, whose paths are
    // also the statistics' labels.
    // Every route is boxed as it joins: one chain of them all nests its types
    // too deep for the compiler (release builds hit the recursion limit).
    one_of(vec![
        healthz::route(
            state.backups.clone(),
            state.mailer.clone(),
            state.tls.clone(),
        ),
        metrics::route(state.clone(), peer.clone()),
        push::route(state.clone()),
        pull::route(state.clone()),
        spaces::list_route(state.clone()),
        spaces::create_route(state.clone()),
        spaces::rename_route(state.clone()),
        members::list_route(state.clone()),
        members::set_route(state.clone()),
        export::route(state.clone()),
        login::route(state.clone(), peer.clone()),
        logout::route(state.clone()),
        password::route(state.clone()),
        password::forgot_route(state.clone(), peer.clone()),
        password::reset_route(state.clone(), peer.clone()),
        sessions::list_route(state.clone()),
        sessions::revoke_route(state.clone()),
        logins::route(state.clone()),
        consent::notice_route(state.clone(), peer.clone()),
        consent::accept_route(state.clone(), peer.clone()),
        consent::withdraw_route(state.clone(), peer.clone()),
        consent::list_route(state.clone()),
        invitations::create_route(state.clone()),
        invitations::list_route(state.clone()),
        invitations::revoke_route(state.clone()),
        invitations::preview_route(state.clone(), peer.clone()),
        invitations::join_route(state.clone(), peer),
        notifications::get_route(state.clone()),
        notifications::set_route(state.clone()),
        notifications::stop_route(state.clone()),
        files::status_route(state.clone()),
        upload::route(state.clone()),
        files::download_route(state),
    ])
    .recover(recover::handle)
    .with(warp::log::custom(move |info| {
        stats.record(info.path(), info.status(), info.elapsed());
    }))
}

/// The first of `routes` that takes a request (each is tried in turn).
fn one_of(routes: Vec<BoxedFilter<(Response,)>>) -> BoxedFilter<(Response,)> {
    routes
        .into_iter()
        .reduce(|first, next| first.or(next).unify().boxed())
        .unwrap_or_else(|| {
            warp::any()
                .and_then(|| async { Err::<Response, _>(warp::reject::not_found()) })
                .boxed()
        })
}

#[cfg(test)]
mod tests {
    use cairn_common::api::endpoints::{HEALTHZ, METRICS, Method, TABLE};
    use warp::http::StatusCode;

    use super::testing::TestApi;
    use crate::stats::{OTHER, label};

    /// Every endpoint that `cairn_common::api::endpoints` defines is routed (its
    /// path answers as that endpoint, not 404) and counted under its own label.
    #[tokio::test]
    async fn every_endpoint_is_routed_and_labelled() {
        let api = TestApi::new();
        for row in TABLE {
            assert_eq!(row.method, Method::Post, "{}", row.path);
            let (status, _) = api.send(TestApi::request(row.path, None, b"")).await;
            assert_ne!(status, StatusCode::NOT_FOUND, "{} is not routed", row.path);
            assert_eq!(label(row.path), row.path);
        }
        let (status, _) = api.send(warp::test::request().path(HEALTHZ)).await;
        assert_eq!(status, StatusCode::OK);
        for path in [HEALTHZ, METRICS] {
            assert_ne!(label(path), OTHER, "{path}");
        }
    }
}
