//! Runs an admin command against the store: the one implementation behind both
//! the direct path (stopped data dir) and the control socket (running server).
//! Each request goes to its subcommand's file in [`super::commands`].

use super::commands::{audit, backup, export, import, purge, user};
use super::protocol::{AdminRequest, AdminResponse};
use crate::backup::Backups;
use crate::store::Store;

/// Runs `request` on `store` and its `backups`. Blocking (password hashing,
/// fsync): call it from a blocking thread in async code. Changes are durable when
/// it returns. A refusal is [`AdminResponse::Failed`] with what to do.
pub fn execute(store: &Store, backups: &Backups, request: AdminRequest) -> AdminResponse {
    match request {
        AdminRequest::AddUser {
            email,
            first_name,
            last_name,
            password,
        } => user::add(store, email, first_name, last_name, password)
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::ListUsers => user::list(store).unwrap_or_else(AdminResponse::failed),
        AdminRequest::SetDisabled { email, disabled } => {
            user::set_disabled(store, email, disabled).unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::ResetPassword { email, password } => {
            user::reset_password(store, email, password).unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Export { out, scope } => {
            export::execute(store, &out, scope).unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Import { dir } => {
            import::execute(store, &dir).unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Backup(request) => {
            backup::execute(store, backups, request, crate::clock::now_ms())
                .unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Purge { target } => {
            purge::execute(store, backups, &target).unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::AuditList => audit::list(store).unwrap_or_else(AdminResponse::failed),
        AdminRequest::AuditVerify => audit::verify(store).unwrap_or_else(AdminResponse::failed),
    }
}
