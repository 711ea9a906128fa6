//! How this server's last mail attempts went. `/healthz` answers `degraded: mail
//! failing: <summary>` while the last attempt failed, and `ok` again after a
//! success; the summary names no address and quotes nothing the SMTP server said
//! (that goes to the log and to `mail list`), since `/healthz` needs no login.

use std::sync::Mutex;

/// The outcome of the last attempts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailHealth {
    /// When the last mail was sent.
    pub last_success_ms: Option<u64>,
    /// The last attempt's failure, if no attempt succeeded after it.
    pub failing: Option<MailFailure>,
}

/// A failed attempt, as health reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailFailure {
    pub at_ms: u64,
    /// A few words without addresses, e.g. "cannot connect to the SMTP server
    /// (connection refused)".
    pub summary: String,
}

/// The shared cell behind [`super::Mailer::health`].
#[derive(Default)]
pub(super) struct HealthCell(Mutex<MailHealth>);

impl HealthCell {
    fn lock(&self) -> std::sync::MutexGuard<'_, MailHealth> {
        // A plain record: whole whatever a panicking holder did.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn get(&self) -> MailHealth {
        self.lock().clone()
    }

    pub(super) fn record(&self, outcome: Result<u64, MailFailure>) {
        let mut health = self.lock();
        match outcome {
            Ok(at_ms) => {
                health.last_success_ms = Some(at_ms);
                health.failing = None;
            }
            Err(failure) => health.failing = Some(failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure shows until the next success.
    #[test]
    fn a_success_clears_the_failure() {
        let cell = HealthCell::default();
        cell.record(Err(MailFailure {
            at_ms: 1,
            summary: "cannot connect to the SMTP server".into(),
        }));
        assert!(cell.get().failing.is_some());
        cell.record(Ok(2));
        assert_eq!(
            cell.get(),
            MailHealth {
                last_success_ms: Some(2),
                failing: None
            }
        );
    }
}
