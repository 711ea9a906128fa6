//! Backup benchmark; prints figures, not a test. Run:
//! `cargo bench -p cairn-server --bench backup`.
//!
//! - backup and restore of a store of 1,000,000 ops (filled directly through
//!   `Store::append_ops` in batches of 5,000);
//! - the longest write stall a backup causes: a client pushes one small record
//!   per request over TLS in a loop (each acked after fsync); the longest push
//!   latency during a backup of that store against the longest before it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use cairn_common::api::{
    CONTENT_TYPE, Endpoint, LoginRequest, LoginResponse, PROTOCOL_HEADER, PROTOCOL_VERSION,
    PushRequest, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, Hlc, NodeId, Op, OpId};
use cairn_server::admin::BackupRequest;
use cairn_server::admin::{AdminRequest, AdminResponse};
use cairn_server::backup::Backups;
use cairn_server::backup::settings::BackupSettings;
use cairn_server::datadir::DataDir;
use cairn_server::serve::Instance;
use cairn_server::settings::Settings;
use cairn_server::store::{NewUser, Store, wait};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

const OPS: u64 = 1_000_000;
const BATCH: u64 = 5_000;
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a bench password";
const BASELINE: Duration = Duration::from_secs(5);

fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("data");
    cairn_server::init::init(&root, &[])?;
    let data = DataDir::new(&root);

    // Fill.
    let store = Store::open(&data.db())?;
    let user = wait(store.create_user(NewUser {
        email: EMAIL.into(),
        first_name: "Bench".into(),
        last_name: "Mark".into(),
        password_hash: cairn_server::auth::password::hash(PASSWORD).map_err(anyhow::Error::msg)?,
        must_change_password: false,
        server_admin: false,
    }))?;
    let space = wait(store.user(user.id))?
        .context("bench user")?
        .personal_space;
    let started = Instant::now();
    let mut n = 0;
    while n < OPS {
        let ops: Vec<Op> = (0..BATCH / 2)
            .flat_map(|i| goal(space, user.id, &format!("goal {}", n / 2 + i)))
            .collect();
        wait(store.append_ops(&ops, &cairn_server::store::RecordLimits::NONE))?;
        n += BATCH;
    }
    wait(store.flush())?;
    println!(
        "fill: {OPS} ops in {:.1?}; store {}",
        started.elapsed(),
        mib(dir_bytes(&data.db()))
    );

    // Backup.
    let backups_dir = tmp.path().join("backups");
    let backups = Backups::new(backups_dir.clone(), BackupSettings::default());
    let started = Instant::now();
    let created = cairn_server::backup::create::create(
        &store,
        &backups,
        now_ms(),
        &cairn_common::progress::Quiet,
    )?;
    let took = started.elapsed();
    let bytes: u64 = created.manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup: {} ops in {took:.2?} ({:.0} ops/s), {}, pushes paused {:.2?} for the cut \
         (includes the read-back verify)",
        created.manifest.ops,
        created.manifest.ops as f64 / took.as_secs_f64(),
        mib(bytes),
        created.push_pause
    );
    let id = created.manifest.id.clone();
    let started = Instant::now();
    let path = backups_dir.join(&id);
    cairn_server::backup::verify::verify_dir(&path, &id, &cairn_common::progress::Quiet)?;
    println!("verify alone: {:.2?}", started.elapsed());
    drop(store);

    // Restore into an empty data dir.
    let target = DataDir::new(tmp.path().join("restored"));
    let started = Instant::now();
    let restored = cairn_server::backup::restore::restore(
        &target,
        &backups_dir,
        &id,
        &cairn_common::progress::Quiet,
    )?;
    let took = started.elapsed();
    println!(
        "restore: {} ops in {took:.2?} ({:.0} ops/s); restored store {}",
        restored.manifest.ops,
        restored.manifest.ops as f64 / took.as_secs_f64(),
        mib(dir_bytes(&target.db()))
    );
    let check = Store::open(&target.db())?;
    if wait(check.last_seq(space))? != OPS {
        bail!(
            "the restored store ends at seq {}",
            wait(check.last_seq(space))?
        );
    }
    drop(check);

    stall(&root, space, user.id)
}

/// Serves the filled data dir; pushes in a loop; a backup through the control
/// socket in the middle; prints push latencies before and during it.
fn stall(root: &std::path::Path, space: SpaceId, user: UserId) -> anyhow::Result<()> {
    let mut settings = Settings::load(root, std::iter::empty())?;
    settings.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.backup.enabled = false;
    let instance = Instance::open(settings.clone())?;
    let cert = CertificateDer::from_pem_file(settings.cert_path())?.to_vec();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let data = DataDir::new(root);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(instance.serve(listener, async {
            let _ = stopped.await;
        }));
        let mut client = Client::connect(addr, &cert).await?;
        let login: LoginResponse = client
            .call(
                endpoints::Login::PATH,
                None,
                &LoginRequest {
                    email: EMAIL.into(),
                    password: PASSWORD.into(),
                    device: "bench".into(),
                },
            )
            .await?;
        let token = login.token;

        let mut before = Vec::new();
        let started = Instant::now();
        while started.elapsed() < BASELINE {
            before.push(client.push(&token, goal(space, user, "before")).await?);
        }
        let backup = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let answer =
                cairn_server::admin::client::send(&data, AdminRequest::Backup(BackupRequest::Now));
            (answer, started.elapsed())
        });
        let mut during = Vec::new();
        while !backup.is_finished() {
            during.push(client.push(&token, goal(space, user, "during")).await?);
        }
        let (answer, took) = backup.await?;
        match answer? {
            AdminResponse::Backup(response) => println!(
                "backup while serving: {took:.2?}; {}",
                match response {
                    cairn_server::admin::BackupResponse::Created { push_pause_ms, .. } =>
                        format!("pushes paused {push_pause_ms} ms for the cut"),
                    other => format!("{other:?}"),
                }
            ),
            other => bail!("the backup failed: {other:?}"),
        }
        report("push latency before the backup", &mut before);
        report("push latency during the backup", &mut during);
        let _ = stop.send(());
        server.await??;
        Ok(())
    })
}

fn report(what: &str, latencies: &mut [Duration]) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: {} pushes, p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        latencies.len(),
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}

fn goal(space: SpaceId, author: UserId, title: &str) -> Vec<Op> {
    let record = RecordId::new();
    let op = |change| Op {
        id: OpId::new(),
        space,
        record,
        at: Hlc {
            wall_ms: now_ms(),
            counter: 0,
            node: NodeId(9),
        },
        author,
        change,
    };
    vec![
        op(Change::Create {
            kind: RecordKind::Goal,
        }),
        op(Change::Set {
            field: "title".into(),
            value: Value::Text(title.into()),
            replaces: vec![],
        }),
    ]
}

fn now_ms() -> u64 {
    cairn_server::clock::now_ms()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// One HTTP/1.1 connection over TLS trusting one certificate.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr, cert: &[u8]) -> anyhow::Result<Client> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(cert.to_vec()))?;
        let config = rustls::ClientConfig::builder_with_provider(cairn_server::tls::provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let tls = connector
            .connect(ServerName::try_from("localhost")?, tcp)
            .await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(conn);
        Ok(Client { sender })
    }

    async fn call<Req: serde::Serialize, Res: serde::de::DeserializeOwned>(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &Req,
    ) -> anyhow::Result<Res> {
        let mut request = hyper::Request::post(format!("https://localhost{path}"))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", CONTENT_TYPE);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Full::new(Bytes::from(codec::encode(body)?)))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if status != 200 {
            bail!("{path}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok(codec::decode(&body)?)
    }

    /// Pushes `ops`; returns how long until the ack.
    async fn push(&mut self, token: &str, ops: Vec<Op>) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let _: cairn_common::api::PushResponse = self
            .call(endpoints::Push::PATH, Some(token), &PushRequest { ops })
            .await?;
        Ok(started.elapsed())
    }
}
