//! Request bodies under a deadline: [`TimedBody`] ends a body that pauses too long
//! or arrives slower than a minimum rate with [`BodyTimedOut`], which the API
//! answers with 408. Without it, a client that declares a length and then sends
//! nothing (or a byte now and then) holds its connection, and a slot, forever.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How fast a request body must come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// The longest wait for the first byte of the body and between two parts of it.
    /// Also the grace before the minimum rate applies, so that small bodies are
    /// never held to a rate.
    pub pause: Duration,
    /// After the grace, the body must have averaged at least this many bytes per
    /// second since it started.
    pub min_bytes_per_sec: u64,
}

/// The error a [`TimedBody`] ends with when its deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimedOut {
    pub limits: BodyLimits,
}

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body stopped for more than {} s or came slower than {} bytes per second",
            self.limits.pause.as_secs_f64(),
            self.limits.min_bytes_per_sec
        )
    }
}

impl std::error::Error for BodyTimedOut {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that fails with [`BodyTimedOut`] once it pauses longer than
/// `limits.pause`, or once, after that grace, it has averaged less than
/// `limits.min_bytes_per_sec`. Time counts from when the request arrived. Data that
/// is ready is always taken, even past the deadline: only waiting is limited, so a
/// busy server never fails a client for its own slowness in reading.
pub struct TimedBody<B> {
    inner: B,
    limits: BodyLimits,
    started: Instant,
    last_data: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
}

impl<B> TimedBody<B> {
    pub fn new(inner: B, limits: BodyLimits) -> Self {
        let now = Instant::now();
        TimedBody {
            inner,
            limits,
            started: now,
            last_data: now,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(now + limits.pause)),
        }
    }

    /// When waiting for more of the body must end.
    fn deadline(&self) -> Instant {
        let paused = self.last_data + self.limits.pause;
        // The time the bytes received so far buy at the minimum rate.
        let rate = self.limits.min_bytes_per_sec.max(1);
        let earned = Duration::from_millis(self.received.saturating_mul(1000) / rate);
        let slow = self.started + self.limits.pause + earned;
        paused.min(slow)
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && data.has_remaining()
                {
                    this.received = this.received.saturating_add(data.remaining() as u64);
                    this.last_data = Instant::now();
                    let deadline = this.deadline();
                    this.timer.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut {
                    limits: this.limits,
                })))),
                Poll::Pending => Poll::Pending,
            },
        }
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
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};
    use tokio::sync::mpsc;

    use super::*;

    const LIMITS: BodyLimits = BodyLimits {
        pause: Duration::from_secs(2),
        min_bytes_per_sec: 100,
    };

    type Sent = Result<Frame<Bytes>, Infallible>;

    /// A body fed by hand through a channel.
    fn channel() -> (
        mpsc::Sender<Sent>,
        TimedBody<StreamBody<tokio_stream_shim::Receiver<Sent>>>,
    ) {
        let (tx, rx) = mpsc::channel(16);
        let body = StreamBody::new(tokio_stream_shim::Receiver(rx));
        (tx, TimedBody::new(body, LIMITS))
    }

    /// `mpsc::Receiver` as a `Stream`, without pulling in tokio-stream.
    mod tokio_stream_shim {
        use std::pin::Pin;
        use std::task::{Context, Poll};

        pub struct Receiver<T>(pub tokio::sync::mpsc::Receiver<T>);

        impl<T> futures_util::Stream for Receiver<T> {
            type Item = T;
            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.0.poll_recv(cx)
            }
        }
    }

    fn data(n: usize) -> Sent {
        Ok(Frame::data(Bytes::from(vec![b'x'; n])))
    }

    /// A body that never comes fails after the pause, not before.
    #[tokio::test(start_paused = true)]
    async fn silence_times_out() {
        let (_tx, mut body) = channel();
        let started = Instant::now();
        let err = body.frame().await.expect("a frame").expect_err("timed out");
        assert!(err.is::<BodyTimedOut>(), "{err}");
        assert_eq!(started.elapsed(), LIMITS.pause);
    }

    /// A body that keeps pausing just under the limit, but averages under the
    /// minimum rate, fails once the rate falls short.
    #[tokio::test(start_paused = true)]
    async fn trickle_times_out() {
        let (tx, mut body) = channel();
        let started = Instant::now();
        let feeder = tokio::spawn(async move {
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(1_500)).await;
                if tx.send(data(1)).await.is_err() {
                    break;
                }
            }
        });
        let err = loop {
            match body.frame().await {
                Some(Ok(_)) => {}
                Some(Err(e)) => break e,
                None => panic!("body ended"),
            }
        };
        assert!(err.is::<BodyTimedOut>(), "{err}");
        // Two bytes earn 20 ms beyond the 2 s grace at 100 bytes per second.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        feeder.abort();
    }

    /// A body that comes at a steady rate over the minimum is read whole, however
    /// long it takes in total.
    #[tokio::test(start_paused = true)]
    async fn steady_body_is_read_whole() {
        let (tx, body) = channel();
        tokio::spawn(async move {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = tx.send(data(150)).await;
            }
        });
        let bytes = body.collect().await.expect("whole body").to_bytes();
        assert_eq!(bytes.len(), 20 * 150);
    }
}
