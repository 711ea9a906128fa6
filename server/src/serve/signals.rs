//! Unix signals: SIGINT and SIGTERM stop the server gracefully, SIGHUP reloads the
//! TLS certificate.

use std::future::Future;

use anyhow::Context;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinHandle;

use crate::store::{AuditEvent, AuditKind, Store, block_on};
use crate::tls::TlsHandle;

pub struct Signals {
    /// Completes on the first SIGINT or SIGTERM.
    pub terminate: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    pub hangup: Signal,
}

impl Signals {
    /// Installs the handlers (before serving, so no signal is missed).
    ///
    /// # Errors
    /// If the OS refuses a handler.
    pub fn new() -> anyhow::Result<Signals> {
        let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
        let hangup = signal(SignalKind::hangup()).context("handling SIGHUP")?;
        let terminate = Box::pin(async move {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
                _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            }
        });
        Ok(Signals { terminate, hangup })
    }
}

/// Reloads the certificate on each SIGHUP; a bad certificate is logged and the
/// one in use kept.
pub fn reload_on_hangup(mut hangup: Signal, tls: TlsHandle, store: Store) -> JoinHandle<()> {
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let (tls, store) = (tls.clone(), store.clone());
            match tokio::task::spawn_blocking(move || block_on(reload_certificate(&tls, &store)))
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("SIGHUP: the reload failed: {e}"),
                Err(e) => tracing::error!("SIGHUP: the reload task failed: {e}"),
            }
        }
    })
}

/// Reloads the certificate and records it in the audit log; a bad certificate is
/// logged (and audited as failed) and the one in use kept. Blocking (fsync).
pub async fn reload_certificate(tls: &TlsHandle, store: &Store) {
    let event = AuditEvent::new(AuditKind::CertificateReload);
    match tls.reload() {
        Ok(()) => {
            tracing::info!(
                "SIGHUP: certificate reloaded; new connections get {}",
                tls.fingerprint()
            );
            store
                .audit(event.detail(format!("now serving {}", tls.fingerprint())))
                .await;
        }
        Err(e) => {
            tracing::error!("SIGHUP: {e}\nstill serving the previous certificate");
            store
                .audit(event.detail(format!("failed, still serving {}", tls.fingerprint())))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Blocking as _;

    /// A certificate reload, good or bad, is an audit log entry.
    #[test]
    fn reload_is_audited() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        crate::init::init(&data, &[]).expect("init");
        crate::tls::install_default_provider();
        let (cert, key) = (data.join("tls/cert.pem"), data.join("tls/key.pem"));
        let tls = TlsHandle::load(&cert, &key).expect("tls");
        let store = Store::open(&data.join("db")).expect("store");
        reload_certificate(&tls, &store).wait();
        std::fs::write(&cert, "not a certificate").expect("break cert");
        reload_certificate(&tls, &store).wait();
        let entries = store.audit_entries().wait().expect("audit");
        let reloads: Vec<_> = entries
            .iter()
            .filter(|e| e.kind == "certificate-reload")
            .map(|e| e.detail.starts_with("failed"))
            .collect();
        assert_eq!(reloads, [false, true]);
    }
}
