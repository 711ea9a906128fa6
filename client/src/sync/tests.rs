//! Tests of the HTTPS client and the engine against a small in-process TLS server on
//! 127.0.0.1 (hyper over tokio-rustls, certificates made by rcgen), which keeps ops in
//! memory the way the protocol says a server must.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cairn_common::api::{
    self, Empty, Endpoint, PullRequest, PullResponse, PushRequest, PushResponse, SpaceInfo,
    SpaceList, SpaceOps, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{RecordKind, Role, Space, SpaceId, Value};
use cairn_common::op::{Op, OpId};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};

use super::*;
use crate::replica::Replica;

/// What the fake server saw of a request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    content_type: Option<String>,
    protocol: Option<String>,
    authorization: Option<String>,
}

/// The in-memory state of the fake server.
#[derive(Default)]
struct State {
    spaces: Vec<SpaceInfo>,
    /// Per space: the ops in sequence order (seq = index + 1).
    logs: HashMap<SpaceId, Vec<Op>>,
    ids: std::collections::HashSet<OpId>,
    seen: Vec<Seen>,
    /// Pull pages hold at most this many ops, so tests see `more`.
    page: usize,
    /// Answer every request with this status and body instead.
    canned: Option<(u16, Vec<u8>)>,
    epoch: api::Epoch,
    /// Refuse every pushed op, per record, for this reason (and with this message).
    refuse: Option<(api::RefusalReason, String)>,
}

type Shared = Arc<Mutex<State>>;

fn answer(state: &Shared, seen: Seen, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = state.lock().expect("state");
    s.seen.push(seen.clone());
    if let Some(canned) = s.canned.clone() {
        return canned;
    }
    let ok = |v: Vec<u8>| (200, v);
    match seen.path.as_str() {
        path if path == endpoints::Push::PATH => {
            let Ok(request) = codec::decode::<PushRequest>(body) else {
                return (400, Vec::new());
            };
            let (mut stored, mut duplicates) = (0, 0);
            let mut refused: Vec<api::Refusal> = Vec::new();
            for op in request.ops {
                if !s.spaces.iter().any(|i| i.space.id == op.space) {
                    match refused.iter_mut().find(|r| r.space == op.space) {
                        Some(r) => r.ops.push(op.id),
                        None => refused.push(api::Refusal {
                            space: op.space,
                            record: None,
                            reason: api::RefusalReason::NotMember,
                            message: "not a member".into(),
                            ops: vec![op.id],
                        }),
                    }
                    continue;
                }
                if let Some((reason, message)) = s.refuse.clone() {
                    match refused.iter_mut().find(|r| r.record == Some(op.record)) {
                        Some(r) => r.ops.push(op.id),
                        None => refused.push(api::Refusal {
                            space: op.space,
                            record: Some(op.record),
                            reason,
                            message,
                            ops: vec![op.id],
                        }),
                    }
                    continue;
                }
                if s.ids.insert(op.id) {
                    s.logs.entry(op.space).or_default().push(op);
                    stored += 1;
                } else {
                    duplicates += 1;
                }
            }
            ok(codec::encode(&PushResponse {
                epoch: s.epoch,
                stored,
                duplicates,
                refused,
            })
            .expect("encode"))
        }
        path if path == endpoints::Pull::PATH => {
            let request: PullRequest = codec::decode(body).expect("pull request");
            let mut budget = s.page;
            let mut batches = Vec::new();
            let mut more = false;
            for info in &s.spaces {
                let id = info.space.id;
                let after = request
                    .cursors
                    .iter()
                    .find(|c| c.space == id)
                    .map_or(0, |c| c.seq) as usize;
                let log = s.logs.get(&id).map_or(&[][..], Vec::as_slice);
                let rest = log.get(after..).unwrap_or(&[]);
                let take = rest.len().min(budget);
                if take < rest.len() {
                    more = true;
                }
                if take > 0 {
                    budget -= take;
                    batches.push(SpaceOps {
                        space: id,
                        ops: rest[..take].to_vec(),
                        cursor: (after + take) as u64,
                    });
                }
            }
            let page = PullResponse {
                epoch: s.epoch,
                spaces: s.spaces.clone(),
                batches,
                more,
            };
            ok(codec::encode(&page).expect("encode"))
        }
        path if path == endpoints::Spaces::PATH => ok(codec::encode(&SpaceList {
            spaces: s.spaces.clone(),
        })
        .expect("encode")),
        _ => (404, Vec::new()),
    }
}

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate.
struct FakeServer {
    url: String,
    cert: CertificateDer<'static>,
    cert_pem: String,
    state: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl FakeServer {
    fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("certificate");
        let cert = made.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state: Shared = Arc::new(Mutex::new(State {
            page: 1000,
            ..State::default()
        }));
        let served = state.clone();
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = served.clone();
                tokio::spawn(async move {
                    // A refused handshake (the tests that distrust the server) ends here.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let state = state.clone();
                            async move {
                                let header = |name: &str| {
                                    request
                                        .headers()
                                        .get(name)
                                        .and_then(|v| v.to_str().ok())
                                        .map(str::to_owned)
                                };
                                let seen = Seen {
                                    path: request.uri().path().to_owned(),
                                    content_type: header("content-type"),
                                    protocol: header(api::PROTOCOL_HEADER),
                                    authorization: header("authorization"),
                                };
                                let body = request.into_body().collect().await?.to_bytes();
                                let (status, bytes) = answer(&state, seen, &body);
                                let response = hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", api::CONTENT_TYPE)
                                    .body(Full::new(Bytes::from(bytes)))
                                    .expect("response");
                                Ok::<_, hyper::Error>(response)
                            }
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            url: format!("https://127.0.0.1:{port}"),
            cert_pem: made.cert.pem(),
            cert,
            state,
            _runtime: runtime,
        }
    }

    fn pinned(&self) -> Trust {
        Trust::Fingerprint {
            sha256: fingerprint_of(&self.cert),
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.url, &self.pinned())
            .expect("client")
            .with_token("tok")
    }

    fn share(&self, name: &str, role: Role) -> Space {
        let space = Space {
            id: SpaceId::new(),
            name: name.into(),
            personal: false,
        };
        self.state.lock().expect("state").spaces.push(SpaceInfo {
            space: space.clone(),
            role,
        });
        space
    }
}

/// The pinned-certificate verifier accepts exactly the pinned certificate, and its
/// refusal names the fingerprint the server presented.
#[test]
fn fingerprint_verifier_accepts_only_the_pinned_cert() {
    let pinned = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let fingerprint = fingerprint_of(pinned.cert.der());
    // People paste it in capitals with colons.
    let typed: Vec<String> = fingerprint
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_uppercase())
        .collect();
    let verifier =
        PinnedCertificate::new(&typed.join(":"), &rustls::crypto::ring::default_provider())
            .expect("verifier");
    let name = ServerName::try_from("localhost").expect("name");
    assert!(
        verifier
            .verify_server_cert(pinned.cert.der(), &[], &name, &[], UnixTime::now())
            .is_ok()
    );
    let refused = verifier
        .verify_server_cert(other.cert.der(), &[], &name, &[], UnixTime::now())
        .expect_err("another certificate");
    assert!(
        refused
            .to_string()
            .contains(&fingerprint_of(other.cert.der())),
        "{refused}"
    );
    assert!(!verifier.supported_verify_schemes().is_empty());
    assert!(normalize_fingerprint("abcd").is_err());
}

/// Over a real handshake: the pinned fingerprint and a CA file are trusted, the
/// system roots and a wrong fingerprint are not, with an error naming both options;
/// requests carry the content type, the protocol version and the token.
#[test]
fn trust_modes_over_tls() {
    let server = FakeServer::start();
    server.share("Team", Role::Editor);
    let list: SpaceList = server
        .client()
        .call::<endpoints::Spaces>(&Empty)
        .expect("pinned");
    assert_eq!(list.spaces.len(), 1);
    let seen = server.state.lock().expect("state").seen[0].clone();
    assert_eq!(seen.content_type.as_deref(), Some(api::CONTENT_TYPE));
    assert_eq!(seen.protocol, Some(api::PROTOCOL_VERSION.to_string()));
    assert_eq!(seen.authorization.as_deref(), Some("Bearer tok"));

    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.cert_pem).expect("write pem");
    let trust = Trust::from_options(Some(&ca), None).expect("trust");
    let via_ca = Client::new(&server.url, &trust).expect("client");
    via_ca
        .call::<endpoints::Spaces>(&Empty)
        .expect("trusted by the CA file");

    let wrong = Trust::Fingerprint {
        sha256: "00".repeat(32),
    };
    for trust in [Trust::System, wrong] {
        // No system roots at all is a configuration error that names the options too.
        let Ok(client) = Client::new(&server.url, &trust) else {
            continue;
        };
        let err = client
            .call::<endpoints::Spaces>(&Empty)
            .expect_err("not trusted");
        assert!(matches!(err, SyncError::Untrusted { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("--fingerprint")
                && text.contains("--ca-file")
                && text.contains("cairn-server init"),
            "{text}"
        );
    }
    assert!(
        Trust::from_options(Some(Path::new("/nonexistent.pem")), None)
            .expect("trust")
            .client_config()
            .is_err()
    );
}

/// Status answers are classified over the wire; a port nobody listens on is offline.
#[test]
fn failures_are_classified() {
    let server = FakeServer::start();
    server.state.lock().expect("state").canned = Some((426, Vec::new()));
    let err = server
        .client()
        .call::<endpoints::Spaces>(&Empty)
        .expect_err("426");
    assert_eq!(err.kind(), FailureKind::Upgrade);
    assert!(err.to_string().contains("please upgrade cairn"), "{err}");
    server.state.lock().expect("state").canned = Some((200, b"garbage".to_vec()));
    let err = server
        .client()
        .call::<endpoints::Spaces>(&Empty)
        .expect_err("garbage");
    assert!(matches!(err, SyncError::BadResponse { .. }), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let err = Client::new(&format!("https://127.0.0.1:{port}"), &server.pinned())
        .expect("client")
        .call::<endpoints::Spaces>(&Empty)
        .expect_err("offline");
    assert_eq!(err.kind(), FailureKind::Offline, "{err}");
}

fn goal(replica: &Replica, space: SpaceId, name: &str) -> cairn_common::RecordId {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let fields = vec![("title".to_owned(), Value::Text(name.into()))];
    let (id, ops) = replica
        .create_ops(RecordKind::Goal, space, fields, today)
        .expect("ops");
    replica.commit(&ops).expect("commit");
    id
}

/// Two replicas converge through the server over pages smaller than the data: each
/// pushes its outbox (drained after the ack), pulls the other's records, and a
/// concurrent edit shows up as a conflict on both.
#[test]
fn two_replicas_converge() {
    let server = FakeServer::start();
    server.state.lock().expect("state").page = 3;
    let team = server.share("Team", Role::Editor);
    let (da, db) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let (a, b) = (
        Replica::open(da.path()).expect("a"),
        Replica::open(db.path()).expect("b"),
    );
    for replica in [&a, &b] {
        replica
            .sync_spaces(&[(team.clone(), Role::Editor)])
            .expect("spaces");
    }
    let shared = goal(&a, team.id, "Shared goal");
    goal(&a, team.id, "Second");
    let first = sync_round(&a, &server.client(), true).expect("a syncs");
    assert_eq!(first.pending, 0);
    assert_eq!(a.outbox_len(), 0);
    assert!(first.pushed >= 4);
    let pulled = sync_round(&b, &server.client(), true).expect("b syncs");
    assert_eq!(pulled.pulled, first.pushed);
    assert_eq!(
        b.record(&shared).expect("read"),
        a.record(&shared).expect("read")
    );

    let base = a.record(&shared).expect("read").expect("present");
    a.commit(&[a
        .set_op(&base, "title", Value::Text("A's title".into()))
        .expect("op")])
        .expect("a edits");
    b.commit(&[b
        .set_op(&base, "title", Value::Text("B's title".into()))
        .expect("op")])
        .expect("b edits");
    sync_round(&a, &server.client(), false).expect("a");
    let b_round = sync_round(&b, &server.client(), true).expect("b");
    sync_round(&a, &server.client(), false).expect("a again");
    assert_eq!(b_round.conflicts, Some(1));
    assert!(b_round.changed.contains(&shared));
    assert_eq!(
        a.record(&shared).expect("read"),
        b.record(&shared).expect("read")
    );
    // A retry of everything changes nothing.
    let idle = sync_round(&a, &server.client(), true).expect("idle");
    assert_eq!((idle.pushed, idle.pulled), (0, 0));
}

/// A space the server stops listing is dropped; the push refused because of it
/// sets its ops aside (listed with the space and title) and the rest goes through.
#[test]
fn lost_space_is_dropped_and_push_recovers() {
    let server = FakeServer::start();
    let keep = server.share("Keep", Role::Editor);
    let lose = server.share("Lose", Role::Editor);
    let dir = tempfile::tempdir().expect("dir");
    let replica = Replica::open(dir.path()).expect("open");
    sync_round(&replica, &server.client(), false).expect("learn spaces");
    goal(&replica, lose.id, "Will vanish");
    let kept = goal(&replica, keep.id, "Stays");
    server
        .state
        .lock()
        .expect("state")
        .spaces
        .retain(|s| s.space.id != lose.id);
    let summary = sync_round(&replica, &server.client(), false).expect("round");
    assert_eq!(summary.spaces_dropped, vec!["Lose".to_owned()]);
    assert_eq!(summary.removed.len(), 1);
    assert_eq!(replica.outbox_len(), 0);
    // The unsent goal is kept, set aside with why, not silently dropped.
    let aside = replica.set_aside().expect("set aside");
    assert!(!aside.is_empty());
    assert_eq!(summary.undelivered, aside.len());
    assert!(
        aside
            .iter()
            .all(|a| a.kind == crate::replica::SetAsideKind::Undelivered
                && a.reason.contains("no longer a member of Lose")
                && a.record_title == "Will vanish")
    );
    assert!(replica.record(&kept).expect("read").is_some());
    assert!(
        replica
            .spaces()
            .expect("spaces")
            .iter()
            .all(|s| s.id != lose.id)
    );
}

/// A refusal that may pass later (a clock ahead of the server's) keeps the ops
/// queued, counts them as waiting and passes the server's message on; once the
/// server takes them they go out. One that never can (a broken rule) sets them
/// aside as undelivered and takes them out of the replica's record.
#[test]
fn refusals_wait_or_set_aside_by_reason() {
    let server = FakeServer::start();
    let team = server.share("Team", Role::Editor);
    let dir = tempfile::tempdir().expect("dir");
    let replica = Replica::open(dir.path()).expect("open");
    sync_round(&replica, &server.client(), false).expect("learn spaces");

    goal(&replica, team.id, "Stamped ahead");
    let queued = replica.outbox_len();
    server.state.lock().expect("state").refuse = Some((
        api::RefusalReason::ClockAhead,
        "set this computer's clock right".into(),
    ));
    let summary = sync_round(&replica, &server.client(), false).expect("round");
    assert_eq!((summary.waiting, summary.undelivered), (queued, 0));
    assert_eq!(replica.outbox_len(), queued, "still queued");
    assert!(
        summary
            .describe()
            .contains("set this computer's clock right")
    );
    server.state.lock().expect("state").refuse = None;
    let summary = sync_round(&replica, &server.client(), false).expect("round");
    assert_eq!((summary.pushed, summary.waiting), (queued, 0));
    assert_eq!(replica.outbox_len(), 0);

    let bad = goal(&replica, team.id, "Breaks a rule");
    server.state.lock().expect("state").refuse = Some((
        api::RefusalReason::Invalid,
        "the record would be too large".into(),
    ));
    let summary = sync_round(&replica, &server.client(), false).expect("round");
    assert_eq!(summary.undelivered, queued);
    assert_eq!(replica.outbox_len(), 0, "not retried forever");
    assert!(
        replica.record(&bad).expect("read").is_none(),
        "taken out of the replica"
    );
    let aside = replica.set_aside().expect("aside");
    assert!(
        aside
            .iter()
            .all(|a| a.reason.contains("too large") && a.record_title == "Breaks a rule")
    );
}
