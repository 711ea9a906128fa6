//! `GET` [`HEALTHZ`] without authentication, for load balancers and scripts: 200 `ok`,
//! or 200 `degraded: last backup failed: <cause>` while the last backup attempt
//! failed, `degraded: mail failing: <cause>` while the last attempt to send a mail
//! failed, `degraded: certificate renewal failing: <cause>` while the last ACME
//! order failed (the certificate in use is still served), joined by `; ` when
//! several are. Degraded stays 200 on purpose:
//! the server still serves correctly, and a load balancer must not take it out of
//! rotation for a backup or mail problem; monitoring looks at the body. A cause is
//! a few words naming no path, address or data (`cairn-server backup list`,
//! `cairn-server mail list` and the log have the whole message).

use cairn_common::api::endpoints::HEALTHZ;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::backup::Backups;
use crate::mail::Mailer;
use crate::tls::TlsHandle;

pub fn route(backups: Backups, mailer: Mailer, tls: Option<TlsHandle>) -> BoxedFilter<(Response,)> {
    super::extract::path(HEALTHZ)
        .and(warp::get())
        .map(move || Response::new(body(&backups, &mailer, tls.as_ref()).into()))
        .boxed()
}

fn body(backups: &Backups, mailer: &Mailer, tls: Option<&TlsHandle>) -> String {
    let mut causes = Vec::new();
    if let Some(failure) = backups.health().failing {
        causes.push(format!("last backup failed: {}", failure.summary));
    }
    if let Some(failure) = mailer.health().failing {
        causes.push(format!("mail failing: {}", failure.summary));
    }
    if let Some(failure) = tls.and_then(TlsHandle::renewal_failing) {
        causes.push(format!("certificate renewal failing: {failure}"));
    }
    if causes.is_empty() {
        "ok".to_string()
    } else {
        format!("degraded: {}", causes.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestApi;
    use crate::backup::BackupFailure;
    use crate::mail::MailFailure;
    use cairn_common::api::endpoints;

    /// The health check answers 200 ok with no headers or session at all; after a
    /// failed backup 200 degraded with the short cause only; ok again after a
    /// successful one.
    #[tokio::test]
    async fn healthz_ok_and_degraded() {
        let api = TestApi::new();
        let (status, body) = api
            .send(warp::test::request().path(endpoints::HEALTHZ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(&body[..], b"ok");
        api.state.backups.record(Err(BackupFailure {
            at_ms: 1,
            reason: "cannot write /secret/path: no space".into(),
            summary: "no space left on the backup disk".into(),
        }));
        let (status, body) = api
            .send(warp::test::request().path(endpoints::HEALTHZ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            &body[..],
            b"degraded: last backup failed: no space left on the backup disk"
        );
        api.state.backups.record(Ok(("x".into(), 2)));
        let (_, body) = api
            .send(warp::test::request().path(endpoints::HEALTHZ))
            .await;
        assert_eq!(&body[..], b"ok");
    }

    /// A failing mail attempt degrades the health, together with a failed backup
    /// when both fail; a sent mail makes it ok again.
    #[tokio::test]
    async fn healthz_tells_mail_failures() {
        let api = TestApi::new();
        let get = || api.send(warp::test::request().path(endpoints::HEALTHZ));
        api.state.mailer.record(Err(MailFailure {
            at_ms: 1,
            summary: "cannot connect to the SMTP server (connection refused)".into(),
        }));
        let (status, body) = get().await;
        assert_eq!(status, 200);
        assert_eq!(
            &body[..],
            &b"degraded: mail failing: cannot connect to the SMTP server (connection refused)"[..]
        );
        api.state.backups.record(Err(BackupFailure {
            at_ms: 2,
            reason: "disk full".into(),
            summary: "no space left on the backup disk".into(),
        }));
        let (_, body) = get().await;
        assert_eq!(
            String::from_utf8_lossy(&body),
            "degraded: last backup failed: no space left on the backup disk; mail failing: \
             cannot connect to the SMTP server (connection refused)"
        );
        api.state.backups.record(Ok(("x".into(), 3)));
        api.state.mailer.record(Ok(4));
        let (_, body) = get().await;
        assert_eq!(&body[..], b"ok");
    }
}
