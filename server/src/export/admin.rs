//! The admin side of export and import: what [`crate::admin::execute`] runs for
//! [`AdminRequest::Export`](crate::admin::AdminRequest::Export) and `Import`, on a
//! stopped data dir or inside the running server alike.

use std::path::Path;

use crate::admin::{AdminResponse, ExportScope};
use crate::store::{Store, StoreError};

use super::{Scope, Snapshot};

fn failed(e: &anyhow::Error) -> AdminResponse {
    AdminResponse::Failed {
        message: format!("{e:#}"),
    }
}

/// Exports `scope` into `out`.
pub fn export(store: &Store, out: &Path, scope: ExportScope) -> AdminResponse {
    let run = || -> anyhow::Result<AdminResponse> {
        let scope = match scope {
            ExportScope::Server => Scope::Server,
            ExportScope::Space(id) => Scope::Space(id),
            ExportScope::User(email) => Scope::User(
                store
                    .user_by_email(&email)?
                    .ok_or_else(|| StoreError::NoSuchUser(email.clone()))?
                    .profile
                    .id,
            ),
        };
        let snapshot = Snapshot::read(store, scope)?;
        let files = super::render(&snapshot, crate::clock::now_ms())?;
        super::write(out, &files)?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(AdminResponse::Exported {
            dir: out.to_owned(),
            files: count(files.len()),
            users: count(snapshot.users.len()),
            spaces: count(snapshot.spaces.len()),
        })
    };
    run().unwrap_or_else(|e| failed(&e))
}

/// Imports the whole-server export in `dir`.
pub fn import(store: &Store, dir: &Path) -> AdminResponse {
    match super::import::import(store, dir) {
        Ok(report) => AdminResponse::Imported {
            accounts: report.accounts,
            spaces: u32::try_from(report.spaces).unwrap_or(u32::MAX),
            ops: report.ops as u64,
        },
        Err(e) => failed(&e),
    }
}
