//! `cairn-server user ...`: arguments, and what each command prints.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::bail;

use super::protocol::{AdminRequest, AdminResponse, UserRow};
use crate::datadir::DataDir;
use crate::settings::Secret;

/// Account commands; they work on a stopped data dir and on a running server's.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and
    /// printed once; either way the user must change it at the first login.
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
                DataDir::new(data_dir),
                AdminRequest::AddUser {
                    email,
                    first_name: first,
                    last_name: last,
                    password: password_stdin.then(|| read_password(stdin)).transpose()?,
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

    /// Runs the command and prints its outcome to `out`.
    ///
    /// # Errors
    /// If the command could not run or was refused; the message says what to do.
    pub fn run(self, stdin: &mut impl BufRead, out: &mut impl Write) -> anyhow::Result<()> {
        let json = self.json();
        let (data_dir, request) = self.request(stdin)?;
        let response = super::client::send(&data_dir, request)?;
        print_response(response, json, out)
    }
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
pub fn print_response(
    response: AdminResponse,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
        other @ (AdminResponse::Exported { .. } | AdminResponse::Imported { .. }) => {
            super::export_cli::print_response(other, out)?;
        }
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
