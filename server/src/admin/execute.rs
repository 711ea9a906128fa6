//! Runs an admin command against the store: the one implementation behind both
//! the direct path (stopped data dir) and the control socket (running server).

use rand::Rng;

use super::protocol::{AdminRequest, AdminResponse, ExportScope, UserRow};
use crate::auth::password::{self, PasswordError};
use crate::backup::Backups;
use crate::settings::Secret;
use crate::store::{AuditEvent, AuditKind, NewUser, Store, StoreError, UserAccount};

/// Length of generated passwords: 20 letters and digits, about 119 bits.
const GENERATED_PASSWORD_CHARS: usize = 20;

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

/// Why a command was refused: a password that cannot be set, or the store's reason.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs `request` on `store` and its `backups`. Blocking (password hashing,
/// fsync): call it from a blocking thread in async code. Changes are durable when
/// it returns.
pub fn execute(store: &Store, backups: &Backups, request: AdminRequest) -> AdminResponse {
    match run(store, backups, request) {
        Ok(response) => response,
        Err(e) => AdminResponse::Failed {
            message: e.to_string(),
        },
    }
}

fn run(store: &Store, backups: &Backups, request: AdminRequest) -> Result<AdminResponse, Refused> {
    Ok(match request {
        AdminRequest::AddUser {
            email,
            first_name,
            last_name,
            password,
        } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| Secret(generate_password()));
            let profile = store.create_user(NewUser {
                email,
                first_name,
                last_name,
                password_hash: password::hash_new(password.expose())?,
                // An admin who chose the password knows it; the user must not
                // keep a password somebody else knows.
                must_change_password: true,
                server_admin: false,
            })?;
            let record = store.user_by_email(&profile.email)?.ok_or_else(|| {
                StoreError::Internal("the new account cannot be read back".into())
            })?;
            let user = UserRow::from(UserAccount {
                profile: record.profile,
                disabled: record.disabled,
                must_change_password: record.must_change_password,
                server_admin: record.server_admin,
                created_at_ms: record.created_at_ms,
            });
            store.audit(AuditEvent::new(AuditKind::AccountCreated).subject(&user.email));
            AdminResponse::UserAdded {
                user,
                generated_password: generated.then_some(password),
            }
        }
        AdminRequest::ListUsers => {
            AdminResponse::Users(store.list_users()?.into_iter().map(UserRow::from).collect())
        }
        AdminRequest::SetDisabled { email, disabled } => {
            store.set_disabled(&email, disabled)?;
            let kind = if disabled {
                AuditKind::AccountDisabled
            } else {
                AuditKind::AccountEnabled
            };
            store.audit(AuditEvent::new(kind).subject(&email));
            AdminResponse::DisabledSet { email, disabled }
        }
        AdminRequest::ResetPassword { email, password } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| Secret(generate_password()));
            store.reset_password(&email, password::hash_new(password.expose())?)?;
            store.audit(AuditEvent::new(AuditKind::PasswordReset).subject(&email));
            AdminResponse::PasswordReset {
                email,
                generated_password: generated.then_some(password),
            }
        }
        AdminRequest::Export { out, scope } => {
            let event = match &scope {
                ExportScope::Server => AuditEvent::new(AuditKind::Export).detail("whole server"),
                ExportScope::User(email) => AuditEvent::new(AuditKind::Export).subject(email),
                ExportScope::Space(id) => AuditEvent::new(AuditKind::Export).space(*id),
            };
            let response = crate::export::admin::export(store, &out, scope);
            if !matches!(response, AdminResponse::Failed { .. }) {
                store.audit(event);
            }
            response
        }
        AdminRequest::Import { dir } => {
            let response = crate::export::admin::import(store, &dir);
            if let AdminResponse::Imported {
                accounts,
                spaces,
                ops,
            } = &response
            {
                store.audit(AuditEvent::new(AuditKind::Import).detail(format!(
                    "{} accounts, {spaces} spaces, {ops} ops",
                    accounts.len()
                )));
            }
            response
        }
        AdminRequest::Purge { target } => crate::privacy::purge(store, backups, &target)?,
        AdminRequest::AuditList => AdminResponse::AuditEntries(store.audit_entries()?),
        AdminRequest::AuditVerify => AdminResponse::AuditVerified(store.audit_verify()?),
        AdminRequest::Backup(request) => {
            match crate::backup::admin::execute(store, backups, request, crate::clock::now_ms()) {
                Ok(response) => AdminResponse::Backup(response),
                Err(e) => AdminResponse::Failed {
                    message: e.to_string(),
                },
            }
        }
    })
}
