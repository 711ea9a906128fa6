//! [`Login`]: e-mail (or `admin`) and password for a session token.

use std::net::IpAddr;

use cairn_common::api::endpoints::Login;
use cairn_common::api::{Endpoint, LoginRequest, LoginResponse};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::{body, protocol, respond, route as exact};
use super::{ApiError, AppState};

pub fn route(state: AppState, peer: BoxedFilter<(Option<IpAddr>,)>) -> BoxedFilter<(Response,)> {
    exact::<Login>()
        .and(protocol())
        .and(peer)
        .and(body::<<Login as Endpoint>::Request>())
        .then(move |peer: Option<IpAddr>, request: LoginRequest| {
            let state = state.clone();
            async move { respond::<<Login as Endpoint>::Response>(handle(state, peer, request).await) }
        })
        .boxed()
}

async fn handle(
    state: AppState,
    peer: Option<IpAddr>,
    request: LoginRequest,
) -> Result<LoginResponse, ApiError> {
    let now = state.clock.now_ms();
    let settings = state.auth.clone();
    let response = state
        .with_hashing(move |store, hashing| async move {
            Ok(crate::auth::login(&store, &hashing, &settings, now, &request, peer).await?)
        })
        .await?;
    state.store.commit_durable().await?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Endpoint, endpoints};
    use std::time::Duration;

    use cairn_common::api::{LoginRequest, LoginResponse, SpaceList, codes};
    use warp::http::StatusCode;

    use super::super::testing::{Refusal, START_MS, TestApi, error_body};
    use crate::auth::AuthSettings;

    fn attempt(email: &str, password: &str) -> LoginRequest {
        LoginRequest {
            email: email.into(),
            password: password.into(),
            device: "laptop".into(),
        }
    }

    async fn try_login(
        api: &TestApi,
        email: &str,
        password: &str,
    ) -> Result<LoginResponse, Refusal> {
        api.call(endpoints::Login::PATH, None, &attempt(email, password))
            .await
    }

    /// The right password gives a working token, the profile, the personal space and
    /// the expiry; e-mail case does not matter.
    #[tokio::test]
    async fn login_ok() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let response = try_login(&api, "ANN@example.com", "password-of-ann")
            .await
            .expect("login");
        assert_eq!(response.user, ann);
        assert_eq!(response.personal_space, api.personal(&ann));
        assert_eq!(response.token.len(), 64);
        assert!(!response.must_change_password);
        let ttl = u64::try_from(api.state.auth.session_ttl.as_millis()).expect("ttl");
        assert_eq!(response.expires_at_ms, START_MS + ttl);
        let spaces: SpaceList = api
            .call(
                endpoints::Spaces::PATH,
                Some(&response.token),
                &cairn_common::api::Empty,
            )
            .await
            .expect("token works");
        assert_eq!(spaces.spaces.len(), 1);
    }

    /// A wrong password, an unknown user and a disabled user get the same answer.
    #[tokio::test]
    async fn failures_look_alike() {
        let api = TestApi::new();
        api.user("ann");
        api.user("dan");
        api.state
            .store
            .set_disabled("dan@example.com", true)
            .await
            .expect("disable");
        let wrong = try_login(&api, "ann@example.com", "not her password")
            .await
            .expect_err("wrong password");
        let unknown = try_login(&api, "nobody@example.com", "whatever password")
            .await
            .expect_err("unknown user");
        let disabled = try_login(&api, "dan@example.com", "password-of-dan")
            .await
            .expect_err("disabled user");
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.1.code, codes::LOGIN_FAILED);
        assert_eq!(wrong, unknown);
        assert_eq!(wrong, disabled);
    }

    /// After five failures the account waits 1 s (429 with the wait), then 2 s after
    /// the next failure; once the wait is over the right password works. An unknown
    /// account is throttled the same way.
    #[tokio::test]
    async fn throttled_after_five_failures() {
        let api = TestApi::new();
        api.user("ann");
        for email in ["ann@example.com", "ghost@example.com"] {
            for _ in 0..5 {
                let (status, _) = try_login(&api, email, "bad password")
                    .await
                    .expect_err("fails");
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
            let (status, error) = try_login(&api, email, "password-of-ann")
                .await
                .expect_err("throttled");
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(error.code, codes::THROTTLED);
            assert!(
                error.message.contains("wait 1 seconds"),
                "{}",
                error.message
            );
        }
        api.clock.advance(Duration::from_millis(1_001));
        let (status, _) = try_login(&api, "ann@example.com", "bad password")
            .await
            .expect_err("sixth failure");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, error) = try_login(&api, "ann@example.com", "password-of-ann")
            .await
            .expect_err("throttled longer");
        assert!(
            error.message.contains("wait 2 seconds"),
            "{}",
            error.message
        );
        api.clock.advance(Duration::from_secs(2));
        try_login(&api, "ann@example.com", "password-of-ann")
            .await
            .expect("login after the wait");
    }

    /// `routes_with_peer` and a `PeerAddr` extension give the address throttling
    /// counts, whatever the socket says.
    #[tokio::test]
    async fn peer_from_serve() {
        use super::super::{PeerAddr, routes, routes_with_peer};
        let api = TestApi::new();
        let ip: std::net::IpAddr = "10.9.9.9".parse().expect("ip");
        let body = |i: usize| {
            cairn_common::codec::encode(&attempt(&format!("u{i}@example.com"), "bad password"))
                .expect("encode")
        };
        let per_connection = routes_with_peer(api.state.clone(), Some(ip));
        for i in 0..5 {
            let response = TestApi::request(endpoints::Login::PATH, None, &body(i))
                .reply(&per_connection)
                .await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let by_extension = TestApi::request(endpoints::Login::PATH, None, &body(9))
            .remote_addr("10.0.0.1:1".parse().expect("addr"))
            .extension(PeerAddr(ip))
            .reply(&routes(api.state.clone()))
            .await;
        assert_eq!(by_extension.status(), StatusCode::TOO_MANY_REQUESTS);
        let elsewhere = routes_with_peer(api.state.clone(), Some("10.0.0.2".parse().expect("ip")));
        let response = TestApi::request(endpoints::Login::PATH, None, &body(9))
            .reply(&elsewhere)
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    /// A password longer than any that can be set fails like any wrong password.
    #[tokio::test]
    async fn huge_password_fails_plainly() {
        let api = TestApi::new();
        api.user("ann");
        let (status, error) = try_login(&api, "ann@example.com", &"p".repeat(100_000))
            .await
            .expect_err("refused");
        assert_eq!(
            (status, error.code.as_str()),
            (StatusCode::UNAUTHORIZED, codes::LOGIN_FAILED)
        );
    }

    /// Failures from one address against many accounts throttle that address only.
    #[tokio::test]
    async fn throttled_per_address() {
        let api = TestApi::new();
        api.user("ann");
        let send = |from: &str, email: String| {
            let bytes =
                cairn_common::codec::encode(&attempt(&email, "bad password")).expect("encode");
            TestApi::request(endpoints::Login::PATH, None, &bytes)
                .remote_addr(from.parse().expect("socket address"))
        };
        for i in 0..5 {
            let (status, _) = api
                .send(send("10.1.1.1:4000", format!("user{i}@example.com")))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _) = api
            .send(send("10.1.1.1:4001", "other@example.com".into()))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let (status, _) = api
            .send(send("10.2.2.2:4000", "other@example.com".into()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    /// A login attempt for `email` from the client address `from`.
    fn from(from: &str, email: &str, password: &str) -> warp::test::RequestBuilder {
        let bytes = cairn_common::codec::encode(&attempt(email, password)).expect("encode");
        TestApi::request(endpoints::Login::PATH, None, &bytes)
            .remote_addr(format!("{from}:4000").parse().expect("socket address"))
    }

    /// A burst of parallel wrong passwords from one address gets no more password
    /// checks (401s) than the five free failures; the rest wait (429).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_burst_gets_only_the_free_checks() {
        let api = TestApi::new();
        api.user("ann");
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let routes = super::super::routes(api.state.clone());
            burst.spawn(async move {
                from("10.3.3.3", "ann@example.com", "bad password")
                    .reply(&routes)
                    .await
                    .status()
            });
        }
        let mut checked = 0;
        while let Some(status) = burst.join_next().await {
            match status.expect("no panic") {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(checked, api.state.auth.free_failures, "password checks");
    }

    /// However long one address guesses an account's password, its owner logs in
    /// from another address at once.
    #[tokio::test]
    async fn failures_from_one_address_do_not_lock_out_another() {
        let api = TestApi::new();
        api.user("ann");
        for _ in 0..20 {
            let (status, _) = api
                .send(from("10.4.4.4", "ann@example.com", "bad password"))
                .await;
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status),
                "{status}"
            );
            api.clock.advance(Duration::from_secs(30));
        }
        let (status, _) = api
            .send(from("10.4.4.4", "ann@example.com", "password-of-ann"))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
        let (status, body) = api
            .send(from("10.5.5.5", "ann@example.com", "password-of-ann"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
    }

    /// Guessing one account from many addresses is slowed once they together used
    /// the account's free failures: then even a new address with the right password
    /// waits, at most `account_max_delay`, and gets in after it.
    #[tokio::test]
    async fn distributed_guessing_is_slowed() {
        let api = TestApi::with_settings(AuthSettings {
            free_failures_per_account: 10,
            ..AuthSettings::default()
        });
        api.user("ann");
        for address in ["10.6.0.1", "10.6.0.2"] {
            for _ in 0..5 {
                let (status, _) = api
                    .send(from(address, "ann@example.com", "bad password"))
                    .await;
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
        }
        let (status, bytes) = api
            .send(from("10.6.0.3", "ann@example.com", "password-of-ann"))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            error_body(&bytes).message.contains("wait 1 seconds"),
            "{}",
            error_body(&bytes).message
        );
        api.clock.advance(api.state.auth.account_max_delay);
        let (status, _) = api
            .send(from("10.6.0.3", "ann@example.com", "password-of-ann"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}
