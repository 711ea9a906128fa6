//! Runs an admin command against the store: the one implementation behind both
//! the direct path (stopped data dir) and the control socket (running server).
//! Each request goes to its subcommand's file in [`super::commands`].

use super::commands::{
    audit, backup, consent, export, import, mail, purge, renew_epoch, tls, user,
};
use cairn_common::progress::Report;

use super::protocol::{AdminRequest, AdminResponse};
use crate::backup::Backups;
use crate::mail::Mailer;
use crate::store::Store;

/// What `backup now` answers on PostgreSQL.
pub const POSTGRES_BACKUPS: &str = "this server's store is PostgreSQL, which cairn-server does \
     not back up: back up the database with its own tools (pg_dump, or base backups with \
     WAL archiving for point-in-time recovery), as docs/POSTGRES.md (\"Backups\") describes";

/// Runs `request` on `store`, its `backups` and its `mailer`. Blocking (password hashing,
/// fsync): run it on a blocking thread ([`crate::store::block_on`]). Changes are durable when
/// it returns. A refusal is [`AdminResponse::Failed`] with what to do. The long commands
/// (export, import, backup now and verify, purge) report their steps to `progress`.
pub async fn execute(
    store: &Store,
    backups: &Backups,
    mailer: &Mailer,
    request: AdminRequest,
    progress: &dyn Report,
) -> AdminResponse {
    match request {
        AdminRequest::AddUser {
            email,
            first_name,
            last_name,
            password,
        } => user::add(store, email, first_name, last_name, password)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::InviteUser {
            email,
            link_base,
            valid_days,
        } => user::invite(store, mailer, email, &link_base, valid_days)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::ListUsers => user::list(store)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::SetDisabled { email, disabled } => user::set_disabled(store, email, disabled)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::ResetPassword { email, password } => {
            user::reset_password(store, email, password)
                .await
                .unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Export { out, scope } => {
            export::execute(store, backups, &out, scope, progress)
                .await
                .unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Import { dir } => import::execute(store, backups, &dir, progress)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::Backup(crate::admin::protocol::BackupRequest::Now) if store.is_shared() => {
            AdminResponse::failed(POSTGRES_BACKUPS)
        }
        AdminRequest::Backup(request) => {
            backup::execute(store, backups, request, crate::clock::now_ms(), progress)
                .await
                .unwrap_or_else(AdminResponse::failed)
        }
        AdminRequest::Purge { target } => purge::execute(store, backups, &target, progress)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::AuditList => audit::list(store)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::ConsentList { user } => consent::list(store, user)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::RenewCertificate => AdminResponse::failed(tls::NOT_RUNNING),
        AdminRequest::RenewEpoch => renew_epoch::execute(store)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::AuditVerify => audit::verify(store)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::MailList => mail::list(store, mailer)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::MailTest { to } => mail::test(store, mailer, to)
            .await
            .unwrap_or_else(AdminResponse::failed),
        AdminRequest::MailDigest {
            day,
            link_base,
            titles,
        } => crate::notify::digest::send_all(store, mailer, &link_base, titles, day)
            .await
            .map(|mails| AdminResponse::DigestQueued { mails })
            .unwrap_or_else(AdminResponse::failed),
    }
}
