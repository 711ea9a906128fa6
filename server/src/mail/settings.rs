//! The `[mail]` section of the config: the SMTP server mail goes through, and how
//! long a failing mail is retried. Off by default: a server without an SMTP server
//! works as before, and what would mail is refused with "mail is off".

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// TLS from the first byte ("implicit TLS", SMTPS), port 465.
    Tls,
    /// Plain connect, then STARTTLS, which is required: port 587.
    Starttls,
    /// No TLS: only to a relay on this host (localhost or a loopback address).
    None,
}

impl MailSecurity {
    /// The standard port of this kind of connection.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Self::Tls => 465,
            Self::Starttls => 587,
            Self::None => 25,
        }
    }
}

/// `[mail]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// Off: nothing is ever sent, and queueing is refused ("mail is off").
    pub enabled: bool,
    /// The SMTP server's name (checked against its certificate) or address.
    pub host: String,
    /// 0: the standard port of `security` (465, 587, or 25).
    pub port: u16,
    pub security: MailSecurity,
    /// The SMTP login; empty: no login.
    pub user: String,
    /// Also from `CAIRN_SERVER__MAIL__PASSWORD`, to keep it out of the file.
    pub password: Secret,
    /// The sender, `cairn@example.com` or `Cairn <cairn@example.com>`.
    pub from: String,
    /// A PEM file of the CA that issued the SMTP server's certificate; empty: the
    /// system's roots. Relative to the data dir.
    pub ca_file: PathBuf,
    /// After a failed attempt a mail waits this long, doubling with each further
    /// failure up to `retry_max_secs`.
    pub retry_first_secs: u64,
    pub retry_max_secs: u64,
    /// A mail still failing this many hours after it was queued is given up.
    pub give_up_hours: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            enabled: false,
            host: String::new(),
            port: 0,
            security: MailSecurity::Tls,
            user: String::new(),
            password: Secret::default(),
            from: String::new(),
            ca_file: PathBuf::new(),
            // A minute rides out a relay's restart; an hour at most keeps a mail
            // from waiting long after the relay is back; three days cover a long
            // weekend of a broken relay before anyone must resend by hand.
            retry_first_secs: 60,
            retry_max_secs: 3600,
            give_up_hours: 72,
        }
    }
}

impl MailSettings {
    /// The SMTP server's name or address as lettre and rustls take it (an IPv6
    /// address without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        self.host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
    }

    /// The port to connect to.
    #[must_use]
    pub fn port(&self) -> u16 {
        if self.port == 0 {
            self.security.default_port()
        } else {
            self.port
        }
    }

    /// The sender as a mailbox, if `from` is one.
    #[must_use]
    pub fn from_mailbox(&self) -> Option<lettre::message::Mailbox> {
        self.from.trim().parse().ok()
    }

    /// The retry schedule.
    #[must_use]
    pub fn retry(&self) -> RetrySchedule {
        RetrySchedule {
            first: Duration::from_secs(self.retry_first_secs),
            max: Duration::from_secs(self.retry_max_secs),
            give_up_after: Duration::from_secs(self.give_up_hours.saturating_mul(3600)),
        }
    }

    /// What is wrong, for the settings' validation; each says what to write.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.retry_first_secs == 0 {
            problems.push("mail.retry_first_secs must be at least 1".into());
        }
        if self.retry_max_secs < self.retry_first_secs {
            problems.push("mail.retry_max_secs must not be less than mail.retry_first_secs".into());
        }
        if self.give_up_hours == 0 {
            problems.push("mail.give_up_hours must be at least 1".into());
        }
        if self.user.is_empty() != self.password.expose().is_empty() {
            problems.push(
                "mail.user and mail.password go together: set both to log in to the SMTP \
                 server (the password may come from CAIRN_SERVER__MAIL__PASSWORD), or neither"
                    .into(),
            );
        }
        if !self.enabled {
            return problems;
        }
        let host = self.host();
        if host.is_empty() {
            problems.push(
                "mail.host is required with mail.enabled = true: the name of your SMTP server, \
                 e.g. host = \"smtp.example.com\""
                    .into(),
            );
        } else if host.parse::<IpAddr>().is_err()
            && (host.contains(':') || host.contains(char::is_whitespace))
        {
            problems.push(format!(
                "mail.host must be a name or an address without a port, not {host:?}; put the \
                 port in mail.port"
            ));
        } else if self.security == MailSecurity::None && !is_loopback(host) {
            problems.push(format!(
                "mail.security = \"none\" sends mail and passwords unencrypted, so it is only \
                 allowed to a relay on this host (localhost or a loopback address), not \
                 {host:?}; use security = \"tls\" (port 465) or \"starttls\" (port 587)"
            ));
        }
        if self.from_mailbox().is_none() {
            problems.push(format!(
                "mail.from must be the sender's address, like \"cairn@example.com\" or \
                 \"Cairn <cairn@example.com>\", not {:?}",
                self.from
            ));
        }
        if self.security == MailSecurity::None && !self.ca_file.as_os_str().is_empty() {
            problems.push(
                "mail.ca_file is set but mail.security is \"none\"; remove ca_file, or use \
                 \"tls\" or \"starttls\""
                    .into(),
            );
        }
        problems
    }
}

/// `localhost` or a loopback address: a relay on this host.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How long a failing mail waits before its next attempt, and when it is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    pub first: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl RetrySchedule {
    /// The wait after the `failures`-th failed attempt (1 for the first): `first`,
    /// doubling each time, at most `max`.
    #[must_use]
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// Whether a mail queued at `created_ms` has failed long enough at `now_ms`.
    #[must_use]
    pub fn gives_up(&self, created_ms: u64, now_ms: u64) -> bool {
        let age = Duration::from_millis(now_ms.saturating_sub(created_ms));
        age >= self.give_up_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> MailSettings {
        MailSettings {
            enabled: true,
            host: "smtp.example.com".into(),
            from: "Cairn <cairn@example.com>".into(),
            ..MailSettings::default()
        }
    }

    /// Off needs nothing; on needs a host and a sender, each named when missing.
    #[test]
    fn on_needs_host_and_sender() {
        assert!(MailSettings::default().problems().is_empty());
        assert!(on().problems().is_empty());
        let missing = MailSettings {
            enabled: true,
            ..MailSettings::default()
        }
        .problems()
        .join("\n");
        assert!(
            missing.contains("mail.host") && missing.contains("mail.from"),
            "{missing}"
        );
        let bad = MailSettings {
            from: "not an address".into(),
            host: "smtp.example.com:587".into(),
            ..on()
        }
        .problems()
        .join("\n");
        assert!(
            bad.contains("not an address") && bad.contains("mail.port"),
            "{bad}"
        );
    }

    /// "none" is refused for a relay elsewhere, allowed on this host.
    #[test]
    fn no_tls_only_to_this_host() {
        for host in [
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "127.0.0.2",
            " LocalHost ",
        ] {
            let s = MailSettings {
                security: MailSecurity::None,
                host: host.into(),
                ..on()
            };
            assert!(s.problems().is_empty(), "{host}: {:?}", s.problems());
        }
        for host in ["smtp.example.com", "10.0.0.5", "localhost.example.com"] {
            let s = MailSettings {
                security: MailSecurity::None,
                host: host.into(),
                ..on()
            };
            let problems = s.problems().join("\n");
            assert!(
                problems.contains("security = \"none\""),
                "{host}: {problems}"
            );
        }
    }

    /// A login needs both halves; the port follows the security unless set.
    #[test]
    fn login_and_port() {
        let half = MailSettings {
            user: "cairn".into(),
            ..on()
        };
        assert!(half.problems().join("").contains("go together"));
        let both = MailSettings {
            user: "cairn".into(),
            password: Secret("pw".into()),
            ..on()
        };
        assert!(both.problems().is_empty());
        assert_eq!(on().port(), 465);
        let starttls = MailSettings {
            security: MailSecurity::Starttls,
            ..on()
        };
        assert_eq!(starttls.port(), 587);
        assert_eq!(MailSettings { port: 2525, ..on() }.port(), 2525);
    }

    /// One minute, doubling to an hour; given up after three days.
    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let schedule = MailSettings::default().retry();
        let minutes: Vec<u64> = (1..=9).map(|n| schedule.delay(n).as_secs() / 60).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(schedule.delay(u32::MAX), Duration::from_secs(3600));
        let day_ms = 24 * 3600 * 1000;
        assert!(!schedule.gives_up(1_000, 1_000 + 3 * day_ms - 1));
        assert!(schedule.gives_up(1_000, 1_000 + 3 * day_ms));
    }
}
