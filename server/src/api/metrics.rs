//! `GET` [`METRICS`]: the anonymous usage statistics as Prometheus text, for a server
//! admin's session (past the must-change-password gate) or a loopback peer (unless
//! `stats.metrics_from_loopback` is off). Everyone else gets the same 404 as any
//! unknown path, so the endpoint is not revealed.

use std::net::IpAddr;

use cairn_common::api::endpoints::METRICS;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::header::CONTENT_TYPE;
use warp::reply::Response;

use super::{ApiError, AppState};
use crate::auth::{Gate, authenticate};
use crate::stats::{persist, prometheus};

pub fn route(state: AppState, peer: BoxedFilter<(Option<IpAddr>,)>) -> BoxedFilter<(Response,)> {
    super::extract::path(METRICS)
        // Another method gets 404 too, not 405, which would reveal the path.
        .and(warp::method())
        .and_then(|method: warp::http::Method| async move {
            if method == warp::http::Method::GET {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
        .and(peer)
        .and(warp::header::optional::<String>("authorization"))
        .and_then(move |peer: Option<IpAddr>, auth: Option<String>| {
            let state = state.clone();
            async move {
                if !allowed(&state, peer, auth.as_deref()).await {
                    return Err(warp::reject::not_found());
                }
                render(&state).await.map_err(warp::reject::custom)
            }
        })
        .boxed()
}

/// A loopback peer (also as an IPv4-mapped IPv6 address), or a server admin's
/// valid session.
async fn allowed(state: &AppState, peer: Option<IpAddr>, authorization: Option<&str>) -> bool {
    let loopback = match peer {
        Some(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        Some(IpAddr::V4(v4)) => v4.is_loopback(),
        None => false,
    };
    if loopback && state.stats.settings().metrics_from_loopback {
        return true;
    }
    let Some(auth) = authorization else {
        return false;
    };
    authenticate(
        &state.store,
        Some(auth),
        state.clock.now_ms(),
        Gate::Enforce,
        &state.privacy.notice.version,
    )
    .await
    .is_ok_and(|caller| caller.user.server_admin)
}

/// Persists what is counted so far (so the text is complete), then renders the store.
async fn render(state: &AppState) -> Result<Response, ApiError> {
    let (stats, now) = (state.stats.clone(), state.clock.now_ms());
    let text = state
        // The counts taken from memory must reach the store.
        .with_store_to_end(move |store| async move {
            persist::persist(&stats, &store, now).await?;
            Ok(prometheus::render(&store.telemetry().await?))
        })
        .await?;
    let mut response = Response::new(text.into());
    response.headers_mut().insert(
        CONTENT_TYPE,
        warp::http::HeaderValue::from_static(prometheus::CONTENT_TYPE),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use crate::store::Blocking as _;
    use cairn_common::api::{Endpoint, endpoints};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use cairn_common::api::{Empty, SpaceList};
    use cairn_common::codec;
    use warp::http::StatusCode;

    use super::super::PeerAddr;
    use super::super::testing::{START_MS, TestApi};
    use crate::stats::persist::{day_of, persist};
    use crate::stats::{ENDPOINTS, OTHER};
    use crate::store::{NewUser, TelemetryEntry};

    /// An address outside the server's host.
    const OUTSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

    fn get_metrics(peer: Option<IpAddr>, token: Option<&str>) -> warp::test::RequestBuilder {
        let mut request = warp::test::request().method("GET").path(endpoints::METRICS);
        if let Some(peer) = peer {
            request = request.extension(PeerAddr(peer));
        }
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request
    }

    /// What the store holds after persisting the counts so far.
    fn stored(api: &TestApi) -> Vec<TelemetryEntry> {
        persist(&api.state.stats, &api.state.store, api.clock.now_ms())
            .wait()
            .expect("persist");
        api.state.store.telemetry().wait().expect("list")
    }

    fn entry<'a>(entries: &'a [TelemetryEntry], endpoint: &str) -> &'a TelemetryEntry {
        entries
            .iter()
            .find(|e| e.endpoint == endpoint)
            .unwrap_or_else(|| panic!("no entry for {endpoint} in {entries:?}"))
    }

    fn admin(api: &TestApi, must_change_password: bool) -> String {
        api.state
            .store
            .create_user(NewUser {
                email: "root@example.com".into(),
                first_name: "Root".into(),
                last_name: "Admin".into(),
                password_hash: crate::auth::password::hash("password-of-root").expect("hash"),
                must_change_password,
                server_admin: true,
            })
            .wait()
            .expect("create admin");
        if !must_change_password {
            let root = api
                .state
                .store
                .user_by_email("root@example.com")
                .wait()
                .expect("read")
                .expect("root");
            api.accept_notice(&root.profile);
        }
        "root".into()
    }

    /// Requests through the routes are counted per endpoint and status class, each
    /// in exactly one latency bucket, under today's date.
    #[tokio::test]
    async fn requests_are_counted() {
        let api = TestApi::new();
        api.user("ann");
        let token = api.login("ann").await.token;
        for _ in 0..3 {
            let _: SpaceList = api
                .call(endpoints::Spaces::PATH, Some(&token), &Empty)
                .await
                .expect("spaces");
        }
        let body = codec::encode(&Empty).expect("encode");
        let (status, _) = api
            .send(TestApi::request(
                endpoints::Spaces::PATH,
                Some("not-a-token"),
                &body,
            ))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = api
            .send(warp::test::request().path(endpoints::HEALTHZ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = api.send(warp::test::request().path("/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let entries = stored(&api);
        assert!(entries.iter().all(|e| e.day == day_of(START_MS)));
        let spaces = entry(&entries, endpoints::Spaces::PATH);
        assert_eq!(spaces.counts.classes, [3, 0, 1, 0]);
        assert_eq!(spaces.counts.buckets.iter().sum::<u64>(), 4);
        assert_eq!(
            entry(&entries, endpoints::Login::PATH).counts.classes,
            [1, 0, 0, 0]
        );
        assert_eq!(
            entry(&entries, endpoints::HEALTHZ).counts.classes,
            [1, 0, 0, 0]
        );
        assert_eq!(entry(&entries, OTHER).counts.classes, [0, 0, 1, 0]);
        // Counted again from zero after persisting, and added to the stored day.
        let _: SpaceList = api
            .call(endpoints::Spaces::PATH, Some(&token), &Empty)
            .await
            .expect("spaces");
        let entries = stored(&api);
        assert_eq!(
            entry(&entries, endpoints::Spaces::PATH).counts.classes,
            [4, 0, 1, 0]
        );
    }

    /// Random paths, however many, all count under the one `other` label.
    #[tokio::test]
    async fn labels_stay_bounded() {
        let api = TestApi::new();
        for i in 0..300u32 {
            let path = format!("/v1/{:x}/{}", rand::random::<u64>(), i);
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            let (status, _) = api
                .send(warp::test::request().method(method).path(&path))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let entries = stored(&api);
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].endpoint, OTHER);
        assert_eq!(entries[0].counts.classes[2], 300);
        assert!(
            entries
                .iter()
                .all(|e| e.endpoint == OTHER || ENDPOINTS.contains(&e.endpoint.as_str()))
        );
    }

    /// `/metrics` answers a loopback peer (IPv4, IPv6, IPv4-mapped) and a server
    /// admin's token from outside, with Prometheus text.
    #[tokio::test]
    async fn loopback_and_admin_may_read() {
        let api = TestApi::new();
        admin(&api, false);
        let token = api.login("root").await.token;
        let loopbacks = [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
        ];
        for request in loopbacks
            .map(|ip| get_metrics(Some(ip), None))
            .into_iter()
            .chain([get_metrics(Some(OUTSIDE), Some(&token))])
        {
            let response = request
                .reply(&super::super::routes(api.state.clone()))
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(
                response.headers()["content-type"],
                "text/plain; version=0.0.4; charset=utf-8"
            );
            let text = String::from_utf8(response.body().to_vec()).expect("utf-8");
            assert!(
                text.contains("cairn_http_requests_total{day=\"2023-11-14\",endpoint=\"/v1/login\",class=\"2xx\"} 1"),
                "{text}"
            );
        }
    }

    /// Anyone else (no token, a user's token, a bad token, an admin who must still
    /// change the password, loopback when that is turned off) gets exactly the 404
    /// of an unknown path.
    #[tokio::test]
    async fn everyone_else_gets_404() {
        let api = TestApi::new();
        api.user("ann");
        let user = api.login("ann").await.token;
        admin(&api, true);
        let gated = api.login("root").await.token;
        let (_, unknown) = api.send(warp::test::request().path("/metricz")).await;
        for (peer, token) in [
            (Some(OUTSIDE), None),
            (None, None),
            (Some(OUTSIDE), Some(user.as_str())),
            (Some(OUTSIDE), Some("0123456789abcdef")),
            (Some(OUTSIDE), Some(gated.as_str())),
            (
                Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
                Some(user.as_str()),
            ),
        ] {
            let (status, body) = api.send(get_metrics(peer, token)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{peer:?} {token:?}");
            assert_eq!(body, unknown);
        }
        let (status, _) = api
            .send(get_metrics(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), None).method("POST"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let closed = TestApi::new();
        let mut state = closed.state.clone();
        state.stats = crate::stats::Stats::new(crate::stats::StatsSettings {
            metrics_from_loopback: false,
            ..crate::stats::StatsSettings::default()
        });
        let response = get_metrics(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), None)
            .reply(&super::super::routes(state))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    /// The text names no user id, e-mail, name, token or client address, after
    /// those users worked from outside addresses.
    #[tokio::test]
    async fn output_is_anonymous() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let login = api.login("ann").await;
        admin(&api, false);
        let root = api.login("root").await;
        for ip in [
            OUTSIDE,
            IpAddr::V6("2001:db8:1234:5678::9".parse().expect("ip")),
        ] {
            let body = codec::encode(&Empty).expect("encode");
            let request = TestApi::request(endpoints::Spaces::PATH, Some(&login.token), &body)
                .extension(PeerAddr(ip));
            assert_eq!(api.send(request).await.0, StatusCode::OK);
        }
        let (status, body) = api
            .send(get_metrics(Some(OUTSIDE), Some(&root.token)))
            .await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body.to_vec()).expect("utf-8");
        assert!(text.contains("endpoint=\"/v1/spaces\""), "{text}");
        let personal = api.personal(&ann);
        for secret in [
            ann.id.to_string(),
            ann.id.0.simple().to_string(),
            login.user.email.clone(),
            "ann".into(),
            login.token.clone(),
            root.token.clone(),
            root.user.id.to_string(),
            "root".into(),
            personal.to_string(),
            "203.0.113".into(),
            "2001:db8".into(),
            "127.0.0.1".into(),
        ] {
            assert!(!text.contains(&secret), "{secret} in\n{text}");
        }
    }
}
