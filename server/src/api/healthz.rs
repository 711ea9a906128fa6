//! `GET /healthz`: 200 `ok` without authentication, for load balancers and scripts.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

pub fn route() -> BoxedFilter<(Response,)> {
    warp::path!("healthz")
        .and(warp::get())
        .map(|| Response::new("ok".into()))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestApi;

    /// The health check answers 200 ok with no headers or session at all.
    #[tokio::test]
    async fn healthz_ok() {
        let api = TestApi::new();
        let (status, body) = api.send(warp::test::request().path("/healthz")).await;
        assert_eq!(status, 200);
        assert_eq!(&body[..], b"ok");
    }
}
