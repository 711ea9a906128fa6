//! `cairn-server user ...`: accounts. The arguments, what each command runs on the
//! store, and what it prints.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::bail;
use rand::Rng;

use crate::admin::protocol::{AdminRequest, AdminResponse, UserRow};
use crate::auth::password::{self, PasswordError};
use crate::datadir::DataDir;
use crate::settings::Secret;
use crate::store::{AuditEvent, AuditKind, NewUser, Store, StoreError, UserAccount};

/// Length of generated passwords: 20 letters and digits, about 119 bits.
const GENERATED_PASSWORD_CHARS: usize = 20;

/// Account commands; they work on a stopped data dir and on a running server's.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. With mail on ([mail]), the server mails the address a
    /// one-time link to join with its own password (`cairn join LINK`); with
    /// --password-stdin, or with mail off, the account gets a password (read, or
    /// generated and printed once) that the user must change at the first login.
    Add {
        /// The user's e-mail address (the login name).
        email: String,
        #[arg(long, default_value = "")]
        first: String,
        #[arg(long, default_value = "")]
        last: String,
        /// Read the initial password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// List the accounts.
    List {
        /// One JSON array, for scripts.
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Refuse the account's logins and end its sessions.
    Disable {
        email: String,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Allow a disabled account to log in again.
    Enable {
        email: String,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Set a new password that the user must change at the next login, and end the
    /// user's sessions. Without --password-stdin one is generated and printed once.
    ResetPassword {
        email: String,
        /// Read the new password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl UserCommand {
    /// The data dir and the request this command sends (reading stdin if asked).
    ///
    /// # Errors
    /// If a password is asked from stdin and none can be read.
    pub fn request(self, stdin: &mut impl BufRead) -> anyhow::Result<(DataDir, AdminRequest)> {
        Ok(match self {
            UserCommand::Add {
                email,
                first,
                last,
                password_stdin,
                data_dir,
            } => (
                DataDir::new(data_dir.clone()),
                match (!password_stdin)
                    .then(|| invitation_settings(&data_dir))
                    .transpose()?
                    .flatten()
                {
                    Some((link_base, valid_days)) => AdminRequest::InviteUser {
                        email,
                        link_base,
                        valid_days,
                    },
                    None => AdminRequest::AddUser {
                        email,
                        first_name: first,
                        last_name: last,
                        password: password_stdin.then(|| read_password(stdin)).transpose()?,
                    },
                },
            ),
            UserCommand::List { data_dir, .. } => (DataDir::new(data_dir), AdminRequest::ListUsers),
            UserCommand::Disable { email, data_dir } => (
                DataDir::new(data_dir),
                AdminRequest::SetDisabled {
                    email,
                    disabled: true,
                },
            ),
            UserCommand::Enable { email, data_dir } => (
                DataDir::new(data_dir),
                AdminRequest::SetDisabled {
                    email,
                    disabled: false,
                },
            ),
            UserCommand::ResetPassword {
                email,
                password_stdin,
                data_dir,
            } => (
                DataDir::new(data_dir),
                AdminRequest::ResetPassword {
                    email,
                    password: password_stdin.then(|| read_password(stdin)).transpose()?,
                },
            ),
        })
    }

    fn json(&self) -> bool {
        matches!(self, UserCommand::List { json: true, .. })
    }

    /// Runs the command through `send` (see [`crate::admin::send`]) and prints its
    /// outcome to `out`.
    ///
    /// # Errors
    /// If the command could not run or was refused; the message says what to do.
    pub fn run(
        self,
        send: impl FnOnce(&DataDir, AdminRequest) -> anyhow::Result<AdminResponse>,
        stdin: &mut impl BufRead,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let json = self.json();
        let (data_dir, request) = self.request(stdin)?;
        let response = send(&data_dir, request)?;
        print_response(response, json, out)
    }
}

/// With mail on in the data dir's config: where invitation links point and how
/// long they work; `None` with mail off (an account with a password instead).
///
/// # Errors
/// An unreadable config, or mail on without an address people can reach.
fn invitation_settings(data_dir: &std::path::Path) -> anyhow::Result<Option<(String, u32)>> {
    let settings = crate::settings::Settings::load(data_dir, std::env::vars())?;
    if !settings.mail.enabled {
        return Ok(None);
    }
    let link_base = link_base(&settings)
        .map_err(|e| anyhow::anyhow!("{e}; or give the user a password with --password-stdin"))?;
    Ok(Some((link_base, settings.privacy.invitation_days)))
}

/// Where links in mails point: `[server] public_url`, else the address the server
/// listens on if it is a specific one.
///
/// # Errors
/// Neither is set, saying what to set.
pub fn link_base(settings: &crate::settings::Settings) -> anyhow::Result<String> {
    Ok(match settings.server.public_url.trim_end_matches('/') {
        "" if settings.server.listen.ip().is_unspecified() => bail!(
            "set [server] public_url in cairn-server.toml (e.g. https://cairn.example.com): \
             links in mails must name the address people reach this server at"
        ),
        "" => format!("https://{}", settings.server.listen),
        url => url.to_owned(),
    })
}

/// The first line of stdin, without its line ending.
fn read_password(stdin: &mut impl BufRead) -> anyhow::Result<Secret> {
    let mut line = String::new();
    stdin.read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!(
            "--password-stdin: no password on stdin; pipe it in, e.g. `printf '%s\\n' \"$PW\" | cairn-server user ...`"
        );
    }
    Ok(Secret(password.to_string()))
}

/// Prints a response; a refusal becomes an error.
///
/// # Errors
/// [`AdminResponse::Failed`]'s message, or a write error.
fn print_response(response: AdminResponse, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    match response {
        AdminResponse::UserAdded {
            user,
            generated_password,
        } => {
            writeln!(out, "added {} (id {})", user.email, user.id)?;
            if let Some(password) = generated_password {
                writeln!(out, "the user must change this password at the first login")?;
                writeln!(out, "initial password: {}", password.expose())?;
            }
        }
        AdminResponse::UserInvited {
            email,
            expires_at_ms,
        } => {
            let until = i64::try_from(expires_at_ms)
                .ok()
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            writeln!(
                out,
                "invited {email}: a one-time link to join (valid until {until}) is in the \
                 outbox; `cairn-server mail list` shows when it is sent"
            )?;
        }
        AdminResponse::Users(users) if json => {
            serde_json::to_writer_pretty(&mut *out, &users)?;
            writeln!(out)?;
        }
        AdminResponse::Users(users) => print_table(&users, out)?,
        AdminResponse::DisabledSet { email, disabled } => {
            if disabled {
                writeln!(out, "disabled {email}; its sessions are ended")?;
            } else {
                writeln!(out, "enabled {email}")?;
            }
        }
        AdminResponse::PasswordReset {
            email,
            generated_password,
        } => {
            writeln!(
                out,
                "password of {email} reset; its sessions are ended and it must change the \
                 password at the next login"
            )?;
            if let Some(password) = generated_password {
                writeln!(out, "new password: {}", password.expose())?;
            }
        }
        AdminResponse::Failed { message } => bail!(message),
        other => bail!("unexpected answer from the server: {other:?}"),
    }
    Ok(())
}

fn print_table(users: &[UserRow], out: &mut impl Write) -> std::io::Result<()> {
    let width = users
        .iter()
        .map(|u| u.email.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(
        out,
        "{:<width$}  {:<24}  {:<10}  STATE",
        "EMAIL", "NAME", "CREATED"
    )?;
    for u in users {
        let name = format!("{} {}", u.first_name, u.last_name);
        let created = i64::try_from(u.created_at_ms)
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let mut state = Vec::new();
        if u.server_admin {
            state.push("admin");
        }
        if u.disabled {
            state.push("disabled");
        }
        if u.must_change_password {
            state.push("must-change-password");
        }
        writeln!(
            out,
            "{:<width$}  {:<24}  {:<10}  {}",
            u.email,
            name.trim(),
            created,
            state.join(",")
        )?;
    }
    Ok(())
}

/// A random password of letters and digits, easy to type and to pass in a script.
pub fn generate_password() -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(GENERATED_PASSWORD_CHARS)
        .map(char::from)
        .collect()
}

impl From<UserAccount> for UserRow {
    fn from(a: UserAccount) -> Self {
        UserRow {
            id: a.profile.id.to_string(),
            email: a.profile.email,
            first_name: a.profile.first_name,
            last_name: a.profile.last_name,
            disabled: a.disabled,
            must_change_password: a.must_change_password,
            server_admin: a.server_admin,
            created_at_ms: a.created_at_ms,
        }
    }
}

/// Why an account command was refused: a password that cannot be set, or the
/// store's reason.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// [`AdminRequest::AddUser`]: creates the account (with a generated password if
/// none is given), which must change its password at the first login.
/// [`AdminRequest::InviteUser`]: an account invitation by the standard `admin`
/// account, mailed to `email`.
///
/// # Errors
/// Mail off, an address that has an account, a bad address, or a storage error.
pub async fn invite(
    store: &Store,
    mailer: &crate::mail::Mailer,
    email: String,
    link_base: &str,
    valid_days: u32,
) -> Result<AdminResponse, StoreError> {
    if let Err(e) = mailer.settings() {
        return Err(StoreError::Conflict(format!(
            "{e}; or give the user a password with --password-stdin"
        )));
    }
    let email = crate::store::users::normalize_email(&email);
    if store.user_by_email(&email).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "{email} has an account already"
        )));
    }
    let admin = store
        .user_by_email(crate::store::users::ADMIN_LOGIN)
        .await?
        .ok_or_else(|| StoreError::Internal("the standard admin account is missing".into()))?;
    let created = crate::invite::create(
        store,
        crate::invite::NewInvitation {
            space: None,
            email,
            role: cairn_common::model::Role::Editor,
            invited_by: admin.profile.id,
            now_ms: crate::clock::now_ms(),
            valid_days,
        },
    )
    .await?;
    let link = crate::invite::link(link_base, &created.code);
    let (subject, body) = crate::invite::mail_text(&created.record, None, &link);
    mailer
        .queue(
            store,
            crate::store::OutgoingMail {
                to: created.record.email.clone(),
                subject,
                body,
                kind: crate::store::MailKind::Invitation,
                user: None,
            },
        )
        .await
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    Ok(AdminResponse::UserInvited {
        email: created.record.email,
        expires_at_ms: created.record.expires_at_ms,
    })
}

pub async fn add(
    store: &Store,
    email: String,
    first_name: String,
    last_name: String,
    password: Option<Secret>,
) -> Result<AdminResponse, Refused> {
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| Secret(generate_password()));
    let profile = store
        .create_user(NewUser {
            email,
            first_name,
            last_name,
            password_hash: password::hash_new(password.expose())?,
            // An admin who chose the password knows it; the user must not
            // keep a password somebody else knows.
            must_change_password: true,
            server_admin: false,
        })
        .await?;
    let record = store
        .user_by_email(&profile.email)
        .await?
        .ok_or_else(|| StoreError::Internal("the new account cannot be read back".into()))?;
    let user = UserRow::from(UserAccount {
        profile: record.profile,
        disabled: record.disabled,
        must_change_password: record.must_change_password,
        server_admin: record.server_admin,
        created_at_ms: record.created_at_ms,
    });
    store
        .audit(AuditEvent::new(AuditKind::AccountCreated).subject(&user.email))
        .await;
    Ok(AdminResponse::UserAdded {
        user,
        generated_password: generated.then_some(password),
    })
}

/// [`AdminRequest::ListUsers`].
pub async fn list(store: &Store) -> Result<AdminResponse, StoreError> {
    Ok(AdminResponse::Users(
        store
            .list_users()
            .await?
            .into_iter()
            .map(UserRow::from)
            .collect(),
    ))
}

/// [`AdminRequest::SetDisabled`].
pub async fn set_disabled(
    store: &Store,
    email: String,
    disabled: bool,
) -> Result<AdminResponse, StoreError> {
    store.set_disabled(&email, disabled).await?;
    let kind = if disabled {
        AuditKind::AccountDisabled
    } else {
        AuditKind::AccountEnabled
    };
    store.audit(AuditEvent::new(kind).subject(&email)).await;
    Ok(AdminResponse::DisabledSet { email, disabled })
}

/// [`AdminRequest::ResetPassword`]: a new password (generated if none is given)
/// that the user must change; ends the user's sessions.
pub async fn reset_password(
    store: &Store,
    email: String,
    password: Option<Secret>,
) -> Result<AdminResponse, Refused> {
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| Secret(generate_password()));
    store
        .reset_password(&email, password::hash_new(password.expose())?)
        .await?;
    store
        .audit(AuditEvent::new(AuditKind::PasswordReset).subject(&email))
        .await;
    Ok(AdminResponse::PasswordReset {
        email,
        generated_password: generated.then_some(password),
    })
}
