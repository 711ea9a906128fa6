//! The sender: a task of `serve` that delivers the outbox. It wakes when mail is
//! queued in this process ([`super::Mailer::notify`]), when a retry falls due, and
//! at least every [`WAKE_EVERY`] (mail queued by an admin command on a stopped
//! data dir, or by another server on the same database); each round claims due
//! mails one at a time ([`Store::claim_mail`], leased for [`LEASE`]) and sends
//! them, until none is due or one fails: after a failure the SMTP server is most
//! likely unreachable for the rest too, and each mail waits for its own retry.
//!
//! A failed mail is due again after the `[mail]` backoff (a minute, doubling to
//! an hour); one that still fails `give_up_hours` after it was queued is given
//! up, logged, and audited (`mail-failed`). The last attempt's outcome is the
//! mail health `/healthz` reports.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::settings::RetrySchedule;
use super::transport::{SEND_TIMEOUT, Transport};
use super::{MailFailure, Mailer};
use crate::clock::Clock;
use crate::store::{AuditEvent, AuditKind, MailOutcome, QueuedMail, Store};

/// The sender looks at the outbox at least this often.
pub const WAKE_EVERY: Duration = Duration::from_secs(30);
/// A claimed mail is nobody else's for this long: a server that dies mid-send
/// lets go of it after this. Well over [`SEND_TIMEOUT`].
pub const LEASE: Duration = Duration::from_secs(300);

const _: () = assert!(LEASE.as_secs() > 2 * SEND_TIMEOUT.as_secs());

/// One server's sender: what a round needs.
pub struct Sender {
    store: Store,
    mailer: Mailer,
    transport: Transport,
    schedule: RetrySchedule,
    clock: Clock,
    /// This sender's name in claims.
    holder: Uuid,
}

impl Sender {
    #[must_use]
    pub fn new(
        store: Store,
        mailer: Mailer,
        transport: Transport,
        schedule: RetrySchedule,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            mailer,
            transport,
            schedule,
            clock,
            holder: Uuid::new_v4(),
        }
    }

    /// Sends due mails until none is due, one failed, or `stop` is set. Returns
    /// when the mail that failed is due again (`None`: no failure).
    pub async fn round(&self, stop: &watch::Receiver<bool>) -> Option<u64> {
        while !*stop.borrow() {
            let now = self.clock.now_ms();
            let mail = match self
                .store
                .claim_mail(self.holder, now, duration_ms(LEASE))
                .await
            {
                Ok(Some(mail)) => mail,
                Ok(None) => return None,
                Err(e) => {
                    tracing::error!("mail: cannot read the outbox: {e}; trying again later");
                    return None;
                }
            };
            if let Some(retry_at) = self.attempt(mail).await {
                return Some(retry_at);
            }
        }
        None
    }

    /// Sends one claimed mail and records the outcome; when it is due again if
    /// it failed and is not given up.
    async fn attempt(&self, mail: QueuedMail) -> Option<u64> {
        let sent = self.transport.send(mail.id, &mail.mail).await;
        let now = self.clock.now_ms();
        let (outcome, retry_at) = match &sent {
            Ok(()) => {
                self.mailer.record(Ok(now));
                tracing::info!("mail {} ({}) sent", mail.id, mail.mail.kind);
                (MailOutcome::Sent, None)
            }
            Err(failure) => {
                self.mailer.record(Err(MailFailure {
                    at_ms: now,
                    summary: failure.summary.clone(),
                }));
                let failures = mail.attempts.saturating_add(1);
                if self.schedule.gives_up(mail.created_ms, now) {
                    self.give_up(&mail, failures, &failure.message, now).await;
                    (
                        MailOutcome::GaveUp {
                            error: failure.message.clone(),
                        },
                        None,
                    )
                } else {
                    let delay = self.schedule.delay(failures);
                    let next = now.saturating_add(duration_ms(delay));
                    tracing::warn!(
                        "mail {} ({}) not sent: {}; trying again in {} s \
                         (`cairn-server mail list` shows the outbox)",
                        mail.id,
                        mail.mail.kind,
                        failure.message,
                        delay.as_secs()
                    );
                    (
                        MailOutcome::Retry {
                            error: failure.message.clone(),
                            next_attempt_ms: next,
                        },
                        Some(next),
                    )
                }
            }
        };
        match self
            .store
            .finish_mail(mail.id, self.holder, &outcome, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "mail {}: its claim ended before the attempt did (or it was purged); the \
                 outcome was not recorded",
                mail.id
            ),
            Err(e) => tracing::error!(
                "mail {}: cannot record the attempt ({e}); it is tried again once its claim \
                 ends, which may send it twice",
                mail.id
            ),
        }
        retry_at
    }

    async fn give_up(&self, mail: &QueuedMail, attempts: u32, error: &str, now: u64) {
        let hours = now.saturating_sub(mail.created_ms) / 3_600_000;
        tracing::error!(
            "mail {} ({}) given up after {attempts} attempts over {hours} h: {error}; \
             `cairn-server mail list` shows it, docs/MAIL.md says what to check",
            mail.id,
            mail.mail.kind
        );
        let mut event = AuditEvent::new(AuditKind::MailFailed).detail(format!(
            "mail {} ({}) given up after {attempts} attempts over {hours} h",
            mail.id, mail.mail.kind
        ));
        if mail.mail.user.is_some() {
            // The recipient is a person with an account here: name them, as a
            // token a purge of that address forgets.
            event = event.subject(&crate::store::users::normalize_email(&mail.mail.to));
        }
        self.store.audit_at(event, now).await;
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The running sender; [`SenderTask::stop`] ends it.
pub struct SenderTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Runs `sender` until stopped: a round at once (mail may have waited while the
/// server was down), then one whenever woken, a retry falls due, or
/// [`WAKE_EVERY`] passed.
#[must_use]
pub fn spawn(sender: Sender) -> SenderTask {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let retry_at = sender.round(&stopped).await;
            if *stopped.borrow() {
                break;
            }
            let wait = retry_at.map_or(WAKE_EVERY, |at| {
                Duration::from_millis(at.saturating_sub(sender.clock.now_ms())).min(WAKE_EVERY)
            });
            tokio::select! {
                _ = stopped.changed() => break,
                () = sender.mailer.woken() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
    SenderTask { stop, task }
}

impl SenderTask {
    /// Stops the sender: an attempt in progress may finish for a few seconds
    /// (its outcome is recorded), then it is cut off and its claim ends with
    /// the lease.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
            tracing::warn!("mail: an attempt was cut off by the shutdown; it is tried again later");
        }
    }
}

/// The sender of this server, if mail is on: its transport from `[mail]`, the
/// CA file resolved against the data dir.
///
/// # Errors
/// A transport that cannot be set up (an unreadable CA file, say).
pub fn start(
    settings: &crate::settings::Settings,
    store: Store,
    mailer: Mailer,
    clock: Clock,
) -> anyhow::Result<Option<SenderTask>> {
    let Ok(mail) = mailer.settings() else {
        return Ok(None);
    };
    let transport = Transport::new(mail, settings.mail_ca_path().as_deref())?;
    let schedule = mail.retry();
    tracing::info!(
        "mail: sending through {}:{} ({:?})",
        mail.host,
        mail.port(),
        mail.security
    );
    Ok(Some(spawn(Sender::new(
        store, mailer, transport, schedule, clock,
    ))))
}
