//! `cairn-server mail list|test|digest`: the outbox (queued, failed and recently
//! sent mail), a test mail that checks the `[mail]` settings end to end, and the
//! daily digest sent now. All work
//! on a running server (control socket) and on a stopped data dir, whose queued
//! mail the server sends when it starts.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;

use crate::admin::protocol::{AdminRequest, AdminResponse, MailRow};
use crate::datadir::DataDir;
use crate::mail::{MailError, MailKind, MailState, Mailer, OutgoingMail, QueuedMail};
use crate::store::{Store, StoreError};

/// Mail to people: what waits, what failed, what went; a test mail.
#[derive(Debug, clap::Subcommand)]
pub enum MailCommand {
    /// The outbox, oldest first: queued mail with its attempts, next try and last
    /// error; failed and sent mail for `[retention] mail_days`.
    List {
        /// One JSON object, for scripts.
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Queue a short test mail to ADDRESS, to check the [mail] settings; `mail list`
    /// then shows whether it was sent, or why not.
    Test {
        #[arg(value_name = "ADDRESS")]
        to: String,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Queue the daily digest now (it also goes every day at [notifications]
    /// digest_time) to everyone who chose it and has something due on DATE
    Digest {
        /// The day whose due items to list, YYYY-MM-DD; default today (local time)
        #[arg(long, value_name = "DATE")]
        date: Option<chrono::NaiveDate>,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl MailCommand {
    /// Runs the command through `send` (see [`crate::admin::send`]) and prints its
    /// outcome.
    ///
    /// # Errors
    /// If it could not run or was refused (mail is off, a bad address).
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let (dir, request, json) = match self {
            MailCommand::List { json, data_dir } => (data_dir, AdminRequest::MailList, json),
            MailCommand::Test { to, data_dir } => (data_dir, AdminRequest::MailTest { to }, false),
            MailCommand::Digest { date, data_dir } => {
                let settings = crate::settings::Settings::load(&data_dir, std::env::vars())?;
                let link_base = crate::admin::commands::user::link_base(&settings)?;
                let request = AdminRequest::MailDigest {
                    day: date.unwrap_or_else(|| chrono::Local::now().date_naive()),
                    link_base,
                    titles: settings.notifications.digest_titles,
                };
                (data_dir, request, false)
            }
        };
        match send(&DataDir::new(dir), request)? {
            AdminResponse::Mails { mails, on, failing } if json => {
                serde_json::to_writer_pretty(
                    &mut *out,
                    &serde_json::json!({ "on": on, "failing": failing, "mails": mails }),
                )?;
                writeln!(out)?;
            }
            AdminResponse::Mails { mails, on, failing } => {
                print_list(&mails, on, failing.as_deref(), out)?;
            }
            AdminResponse::MailQueued { id, to } => writeln!(
                out,
                "queued test mail {id} to {to}: a running server sends it within seconds, a \
                 stopped one when it starts; `cairn-server mail list` shows when it went, or \
                 why not"
            )?,
            AdminResponse::DigestQueued { mails } => writeln!(
                out,
                "queued {mails} digest mails (people with notifications on and something due); \
                 `cairn-server mail list` shows them go"
            )?,
            AdminResponse::Failed { message } => bail!(message),
            other => bail!("unexpected answer from the server: {other:?}"),
        }
        Ok(())
    }
}

fn time(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn print_list(
    mails: &[MailRow],
    on: bool,
    failing: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !on {
        writeln!(
            out,
            "mail is off ([mail] enabled = false in cairn-server.toml): nothing is sent"
        )?;
    }
    if let Some(cause) = failing {
        writeln!(out, "the last attempt failed: {cause}")?;
    }
    if mails.is_empty() {
        writeln!(out, "no mail")?;
    }
    for m in mails {
        let when = match (&m.next_attempt_ms, &m.finished_at_ms) {
            (Some(next), _) => format!("next try {}", time(*next)),
            (None, Some(done)) => format!("{} {}", m.state, time(*done)),
            (None, None) => String::new(),
        };
        let mut line = format!(
            "{}  {}  {:<17}  {:<6}  {}  attempts {}  {when}",
            m.id,
            time(m.created_at_ms),
            m.kind,
            m.state,
            m.to,
            m.attempts
        );
        if let Some(error) = &m.last_error {
            line += &format!("\n    last error: {error}");
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn row(mail: QueuedMail) -> MailRow {
    let queued = mail.state == MailState::Queued;
    MailRow {
        id: mail.id.to_string(),
        kind: mail.mail.kind.name().into(),
        state: mail.state.name().into(),
        to: mail.mail.to,
        created_at_ms: mail.created_ms,
        attempts: mail.attempts,
        next_attempt_ms: queued.then_some(mail.next_attempt_ms),
        finished_at_ms: mail.finished_ms,
        last_error: mail.last_error,
    }
}

/// [`AdminRequest::MailList`].
///
/// # Errors
/// A storage or database error, or damaged data.
pub async fn list(store: &Store, mailer: &Mailer) -> Result<AdminResponse, StoreError> {
    let mails = store.mail_list().await?.into_iter().map(row).collect();
    Ok(AdminResponse::Mails {
        mails,
        on: mailer.is_on(),
        failing: mailer.health().failing.map(|f| f.summary),
    })
}

/// [`AdminRequest::MailTest`]: a test mail to `to`, queued and the sender woken.
///
/// # Errors
/// Mail is off, the address is no address, or a storage error.
pub async fn test(store: &Store, mailer: &Mailer, to: String) -> Result<AdminResponse, MailError> {
    let id = mailer
        .queue(
            store,
            OutgoingMail {
                to: to.clone(),
                subject: "Cairn test mail".into(),
                body: "This is a test mail from cairn-server, sent with `cairn-server mail \
                       test`.\n\nIt arrived, so the server's [mail] settings work: the mail \
                       it sends to people (invitations, password resets) reaches them.\n"
                    .into(),
                kind: MailKind::Other,
                user: None,
            },
        )
        .await?;
    Ok(AdminResponse::MailQueued {
        id: id.to_string(),
        to,
    })
}
