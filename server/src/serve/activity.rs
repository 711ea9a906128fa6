//! What one connection is doing, for its idle timeout: [`Tracked`] wraps the
//! connection's service, counting each request as in flight from its headers until
//! its response body is dropped (sent, or abandoned), and times the request's body
//! with [`TimedBody`]. [`Activity::idle_past`] resolves once the connection has had
//! nothing in flight for too long.
//!
//! This counts requests rather than bytes on purpose: an h2 client answers the
//! server's pings and may send its own, so bytes keep moving on a connection that
//! does nothing; and a request whose handler works for a while moves no bytes but is
//! not idle.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::body::{BodyLimits, TimedBody};

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// When `in_flight` last became 0 (or the connection started).
    idle_since: Instant,
    /// Requests seen so far.
    served: u64,
}

/// The requests of one connection.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

/// One request in flight; dropping it ends it.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Activity {
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                served: 0,
            }),
            changed: Notify::new(),
        })
    }

    /// Counts a request as in flight until the returned guard is dropped.
    #[must_use]
    pub fn begin(self: &Arc<Self>) -> InFlight {
        {
            let mut state = self.state.lock();
            state.in_flight += 1;
            state.served += 1;
        }
        self.changed.notify_waiters();
        InFlight(Arc::clone(self))
    }

    /// Resolves once nothing has been in flight for `first` (no request yet since
    /// the connection started) or `later` (since the last request ended).
    pub async fn idle_past(&self, first: Duration, later: Duration) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the state is read, so no change between the read and
            // the wait is missed.
            changed.as_mut().enable();
            let deadline = {
                let state = self.state.lock();
                let limit = if state.served == 0 { first } else { later };
                (state.in_flight == 0).then(|| state.idle_since + limit)
            };
            match deadline {
                None => changed.await,
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep_until(deadline) => {}
                },
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        {
            let mut state = self.0.state.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight == 0 {
                state.idle_since = Instant::now();
            }
        }
        self.0.changed.notify_waiters();
    }
}

/// A connection's service, its requests counted in `activity` and their bodies
/// timed.
#[derive(Clone, Debug)]
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    body: BodyLimits,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, activity: Arc<Activity>, body: BodyLimits) -> Self {
        Tracked {
            inner,
            activity,
            body,
        }
    }
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: hyper::service::Service<Request<TimedBody<Incoming>>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = Response<Guarded<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.begin();
        let limits = self.body;
        let answer = self
            .inner
            .call(request.map(|body| TimedBody::new(body, limits)));
        Box::pin(async move {
            let response = answer.await?;
            Ok(response.map(|inner| Guarded {
                inner,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A response body that keeps its request in flight until it is dropped.
#[derive(Debug)]
pub struct Guarded<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B: Body + Unpin> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_secs(2);
    const LATER: Duration = Duration::from_secs(5);

    /// A connection without any request is idle after `first`; with a request in
    /// flight it never is; after the request ends it is idle after `later`.
    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_last_request() {
        let activity = Activity::new();
        let started = Instant::now();
        activity.idle_past(FIRST, LATER).await;
        assert_eq!(started.elapsed(), FIRST);

        let request = activity.begin();
        let waiting = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.idle_past(FIRST, LATER).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!waiting.is_finished(), "idle while a request was in flight");
        let ended = Instant::now();
        drop(request);
        waiting.await.expect("no panic");
        assert_eq!(ended.elapsed(), LATER);
    }
}
