//! `GET` [`HEALTHZ`] without authentication, for load balancers and scripts: 200 `ok`,
//! or 200 `degraded: last backup failed: <cause>` while the last backup attempt
//! failed. Degraded stays 200 on purpose: the server still serves correctly, and a
//! load balancer must not take it out of rotation for a backup problem; monitoring
//! looks at the body. The cause is a few words naming no path and no data
//! (`cairn-server backup list` and the log have the whole message).

use cairn_common::api::endpoints::HEALTHZ;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::backup::Backups;

pub fn route(backups: Backups) -> BoxedFilter<(Response,)> {
    super::extract::path(HEALTHZ)
        .and(warp::get())
        .map(move || {
            let body = match backups.health().failing {
                None => "ok".to_string(),
                Some(failure) => format!("degraded: last backup failed: {}", failure.summary),
            };
            Response::new(body.into())
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestApi;
    use crate::backup::BackupFailure;
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
}
