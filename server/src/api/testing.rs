//! Helpers for the endpoint tests: a store in a temp dir, a manual clock, and calls
//! through the real routes.

use crate::store::Blocking as _;
use bytes::Bytes;
use cairn_common::api::{
    CONTENT_TYPE, Endpoint, ErrorResponse, LoginRequest, LoginResponse, PROTOCOL_HEADER,
    PROTOCOL_VERSION, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{SpaceId, UserProfile};
use serde::Serialize;
use serde::de::DeserializeOwned;
use warp::http::StatusCode;

use super::AppState;
use crate::auth::AuthSettings;
use crate::backup::Backups;
use crate::clock::Clock;
use crate::store::{Store, test_support};

/// 2023-11-14, a fixed "now" for the manual clock.
pub const START_MS: u64 = 1_700_000_000_000;

/// The file limits of a [`TestApi`]: 3 MiB a file, 4 MiB a space.
pub const FILE_LIMITS: crate::files::blobs::Limits = crate::files::blobs::Limits {
    max_file: 3 << 20,
    max_space: 4 << 20,
};

pub struct TestApi {
    _dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: Clock,
}

/// A refused call: status and error body.
pub type Refusal = (StatusCode, ErrorResponse);

impl TestApi {
    pub fn new() -> Self {
        Self::with_settings(AuthSettings::default())
    }

    pub fn with_settings(settings: AuthSettings) -> Self {
        let (dir, store) = test_support::temp_facade();
        Self::on(dir, store, settings)
    }

    /// The API over `store` (e.g. a PostgreSQL one), with the default settings and a
    /// temp dir for its backups. [`TestApi::user`] and [`TestApi::personal`] wait for
    /// the store on a runtime of their own: on PostgreSQL make users with the
    /// store's own async calls instead.
    pub fn on_store(store: Store) -> Self {
        Self::on(
            tempfile::tempdir().expect("temp dir"),
            store,
            AuthSettings::default(),
        )
    }

    fn on(dir: tempfile::TempDir, store: Store, settings: AuthSettings) -> Self {
        let clock = Clock::manual(START_MS);
        let backups = Backups::new(dir.path().join("backups"), Default::default());
        let blobs = crate::files::blobs::Blobs::new(dir.path().join("files"));
        Self {
            state: AppState::new(store, backups, settings)
                .with_clock(clock.clone())
                .with_files(blobs, FILE_LIMITS),
            _dir: dir,
            clock,
        }
    }

    /// A user whose password is `password-of-<name>`.
    /// A user `name@example.com` (password `password-of-NAME`) who accepted the
    /// current privacy notice.
    pub fn user(&self, name: &str) -> UserProfile {
        let profile = test_support::facade_user(&self.state.store, name);
        self.accept_notice(&profile);
        profile
    }

    /// Records that `user` accepted the current privacy notice.
    pub fn accept_notice(&self, user: &UserProfile) {
        test_support::accept_built_in_notice(&self.state.store, user);
    }

    /// A new shared space `name` owned by the session `token`'s user.
    pub async fn create_space(&self, token: &str, name: &str) -> SpaceId {
        self.call::<_, cairn_common::api::SpaceInfo>(
            cairn_common::api::endpoints::SpacesCreate::PATH,
            Some(token),
            &cairn_common::api::CreateSpace { name: name.into() },
        )
        .await
        .expect("create a space")
        .space
        .id
    }

    /// The user's personal space.
    pub fn personal(&self, user: &UserProfile) -> SpaceId {
        self.state
            .store
            .user(user.id)
            .wait()
            .expect("get user")
            .expect("user exists")
            .personal_space
    }

    /// A request with the protocol header and content type, not yet sent.
    pub fn request(path: &str, token: Option<&str>, body: &[u8]) -> warp::test::RequestBuilder {
        let mut request = warp::test::request()
            .method("POST")
            .path(path)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", CONTENT_TYPE)
            .body(body);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request
    }

    /// Sends a prepared request through the routes.
    pub async fn send(&self, request: warp::test::RequestBuilder) -> (StatusCode, Bytes) {
        let routes = super::routes(self.state.clone());
        let response = request.reply(&routes).await;
        (response.status(), response.into_body())
    }

    /// Posts `body` to `path` and decodes the answer.
    pub async fn call<Req: Serialize, Res: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Req,
    ) -> Result<Res, Refusal> {
        let bytes = codec::encode(body).expect("encode request");
        let (status, body) = self.send(Self::request(path, token, &bytes)).await;
        if status == StatusCode::OK {
            Ok(codec::decode(&body).expect("decode response"))
        } else {
            Err((status, error_body(&body)))
        }
    }

    /// Logs `name` in with the right password.
    pub async fn login(&self, name: &str) -> LoginResponse {
        self.call(
            endpoints::Login::PATH,
            None,
            &LoginRequest {
                email: format!("{name}@example.com"),
                password: format!("password-of-{name}"),
                device: "test".into(),
            },
        )
        .await
        .expect("login succeeds")
    }
}

/// Decodes an error body; every refusal must carry one.
pub fn error_body(bytes: &[u8]) -> ErrorResponse {
    codec::decode(bytes).expect("an ErrorResponse body")
}

/// An op stamped at the test clock's start.
pub fn op(
    space: SpaceId,
    record: cairn_common::RecordId,
    author: cairn_common::UserId,
    change: cairn_common::Change,
) -> cairn_common::Op {
    cairn_common::Op {
        id: cairn_common::OpId::new(),
        space,
        record,
        at: cairn_common::Hlc {
            wall_ms: START_MS,
            counter: 0,
            node: cairn_common::NodeId(7),
        },
        author,
        change,
    }
}

/// A goal's create and title.
pub fn goal(space: SpaceId, author: cairn_common::UserId, title: &str) -> Vec<cairn_common::Op> {
    let record = cairn_common::RecordId::new();
    vec![
        op(
            space,
            record,
            author,
            cairn_common::Change::Create {
                kind: cairn_common::RecordKind::Goal,
            },
        ),
        op(
            space,
            record,
            author,
            set("title", cairn_common::Value::Text(title.into())),
        ),
    ]
}

/// A `Set` replacing nothing.
pub fn set(field: &str, value: cairn_common::Value) -> cairn_common::Change {
    cairn_common::Change::Set {
        field: field.into(),
        value,
        replaces: vec![],
    }
}
