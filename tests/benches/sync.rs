//! Sync benchmarks against the real server over TLS on loopback. Prints figures and
//! ratios; not a test. Run: `cargo bench -p cairn-tests --bench sync`.
//!
//! - push: ops per second for batches of 1,000 and of 1 (each acked after fsync);
//! - initial sync: 100,000 ops (a realistic mix, about 300 bytes each) pulled by a
//!   fresh connection, against writing the same ops straight into sled here;
//! - polling: 200 concurrent clients pulling with no changes, requests per second
//!   and p50/p99 latency, against a bare warp handler on the same TLS stack.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_client::replica::Replica;
use cairn_client::sync::{Client, Trust, sync_round};
use cairn_common::api::{
    Cursor, Endpoint, PasswordChange, PullRequest, PullResponse, PushRequest, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{GoalStatus, NoteKind, RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, HlcClock, NodeId, Op, OpId};
use cairn_server::admin::{AdminRequest, AdminResponse};
use cairn_server::serve::{Limits, serve};
use cairn_server::settings::Secret;
use cairn_server::testing::TestServer;
use cairn_tests::server::Api;
use tokio::net::TcpListener;
use warp::Filter;

const OPS: usize = 100_000;
const POLLERS: usize = 200;
const POLL_FOR: Duration = Duration::from_secs(5);
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a bench password";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    // All of the bench's clients come from 127.0.0.1, one host as far as the
    // server's per-address cap can tell.
    let server = TestServer::start_with(|s| s.server.max_connections_per_address = 1024)?;
    let added = server.admin(AdminRequest::AddUser {
        email: EMAIL.into(),
        first_name: "Bench".into(),
        last_name: "Mark".into(),
        password: Some(Secret("initial bench password".into())),
    })?;
    if let AdminResponse::Failed { .. } = added {
        bail!("could not add the bench user: {added:?}");
    }
    let mut api = connect(&server).await?;
    let login = api.login(EMAIL, "initial bench password").await?;
    if login.must_change_password {
        let change = PasswordChange {
            current: "initial bench password".into(),
            new: PASSWORD.into(),
        };
        api.call(endpoints::Password::PATH, Some(&login.token), &change)
            .await?;
    }
    let token = api.login(EMAIL, PASSWORD).await?.token;
    let (author, space) = (login.user.id, login.personal_space);
    let ops = realistic_ops(author, space, OPS);
    let bytes: usize = ops
        .iter()
        .map(|op| codec::encode(op).map_or(0, |b| b.len()))
        .sum();
    println!(
        "{} ops, {:.0} bytes each on average",
        ops.len(),
        bytes as f64 / ops.len() as f64
    );

    // Push, batches of 1,000.
    let started = Instant::now();
    for chunk in ops.chunks(1000) {
        let (status, _) = api
            .call(
                endpoints::Push::PATH,
                Some(&token),
                &PushRequest {
                    ops: chunk.to_vec(),
                },
            )
            .await?;
        anyhow::ensure!(status.is_success(), "push failed: {status}");
    }
    let push_1000 = ops.len() as f64 / started.elapsed().as_secs_f64();
    println!("push, batches of 1000: {push_1000:>10.0} ops/s");

    // Push, batches of 1: one new record's Create per push.
    let singles = realistic_ops(author, space, 600)
        .into_iter()
        .filter(|op| matches!(op.change, Change::Create { .. }))
        .take(200)
        .collect::<Vec<_>>();
    let started = Instant::now();
    for op in &singles {
        let (status, _) = api
            .call(
                endpoints::Push::PATH,
                Some(&token),
                &PushRequest {
                    ops: vec![op.clone()],
                },
            )
            .await?;
        anyhow::ensure!(status.is_success(), "push failed: {status}");
    }
    let push_1 = singles.len() as f64 / started.elapsed().as_secs_f64();
    println!("push, batches of 1:    {push_1:>10.0} ops/s");

    // Initial sync: a fresh connection pulls everything.
    let mut fresh = connect(&server).await?;
    let fresh_token = fresh.login(EMAIL, PASSWORD).await?.token;
    let started = Instant::now();
    let mut cursors: Vec<Cursor> = Vec::new();
    let mut pulled = 0usize;
    loop {
        let request = PullRequest {
            epoch: None,
            cursors: cursors.clone(),
            max_ops: 0,
        };
        let (status, body) = fresh
            .call(endpoints::Pull::PATH, Some(&fresh_token), &request)
            .await?;
        anyhow::ensure!(status.is_success(), "pull failed: {status}");
        let page: PullResponse = codec::decode(&body)?;
        for batch in &page.batches {
            pulled += batch.ops.len();
            cursors.retain(|c| c.space != batch.space);
            cursors.push(Cursor {
                space: batch.space,
                seq: batch.cursor,
            });
        }
        if !page.more {
            break;
        }
    }
    let pull_rate = pulled as f64 / started.elapsed().as_secs_f64();

    // The same initial sync through the real client: TLS, decode, and every op
    // applied to a fresh sled replica with its records materialized.
    let url = format!("https://{}", server.addr);
    let trust = Trust::Fingerprint {
        sha256: server.fingerprint.clone(),
    };
    let client_token = fresh.login(EMAIL, PASSWORD).await?.token;
    let client_rate = tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, usize)> {
        let dir = tempfile::tempdir()?;
        let replica = Replica::open(dir.path())?;
        replica.adopt_identity(author, space)?;
        let client = Client::new(&url, &trust)?.with_token(&client_token);
        let started = Instant::now();
        let summary = sync_round(&replica, &client, false)?;
        Ok((
            summary.pulled as f64 / started.elapsed().as_secs_f64(),
            summary.pulled,
        ))
    })
    .await??;

    let sled_rate = sled_baseline(&ops)?;
    println!("initial sync, protocol pull only: {pull_rate:>10.0} ops/s ({pulled} ops)");
    println!(
        "initial sync, cairn client:       {:>10.0} ops/s ({} ops into a fresh replica)",
        client_rate.0, client_rate.1
    );
    println!(
        "sled insert baseline:             {sled_rate:>10.0} ops/s (same ops, one tree, one flush)"
    );
    println!(
        "ratio client sync / sled:         {:>10.2}",
        client_rate.0 / sled_rate
    );
    println!(
        "ratio protocol pull / sled:       {:>10.2}",
        pull_rate / sled_rate
    );

    // Polling with no changes: the API against a bare handler on the same TLS stack.
    let head = cursors;
    let poll = PullRequest {
        epoch: None,
        cursors: head,
        max_ops: 0,
    };
    let api_figures = pollers(&server, server.addr, &poll, Some(&fresh_token)).await?;
    let bare_addr = start_bare(&server).await?;
    let bare_figures = pollers(&server, bare_addr, &poll, None).await?;
    println!(
        "poll API:  {:>8.0} req/s, p50 {:>6.2} ms, p99 {:>6.2} ms ({POLLERS} clients)",
        api_figures.0, api_figures.1, api_figures.2
    );
    println!(
        "poll bare: {:>8.0} req/s, p50 {:>6.2} ms, p99 {:>6.2} ms ({POLLERS} clients)",
        bare_figures.0, bare_figures.1, bare_figures.2
    );
    println!(
        "ratio API / bare:      {:>10.2}",
        api_figures.0 / bare_figures.0
    );
    Ok(())
}

async fn connect(server: &TestServer) -> anyhow::Result<Api> {
    Api::connect(server.addr, &server.cert_der).await
}

/// 200 clients, each on its own keep-alive connection, posting `body` to
/// `/v1/pull` for [`POLL_FOR`]: requests per second, p50 and p99 in ms.
async fn pollers(
    server: &TestServer,
    addr: std::net::SocketAddr,
    body: &PullRequest,
    token: Option<&str>,
) -> anyhow::Result<(f64, f64, f64)> {
    let bytes = codec::encode(body)?;
    let token = token.map(str::to_owned);
    let deadline = Instant::now() + POLL_FOR;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..POLLERS {
        let mut api = Api::connect(addr, &server.cert_der).await?;
        let (bytes, token) = (bytes.clone(), token.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let (status, _) = api
                    .raw(endpoints::Pull::PATH, token.as_deref(), bytes.clone())
                    .await?;
                anyhow::ensure!(status.is_success(), "poll failed: {status}");
                latencies.push(started.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let started = Instant::now();
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result.context("poller panicked")??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let percentile = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok((
        all.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
    ))
}

/// A bare warp handler behind the same accept loop and TLS configuration.
async fn start_bare(server: &TestServer) -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let tls = server.tls().clone();
    let limits = Limits {
        max_connections: 1024,
        max_connections_per_address: 1024,
        shutdown_grace: Duration::from_secs(1),
        ..Limits::default()
    };
    tokio::spawn(async move {
        let app = |_| {
            warp::post()
                .and(warp::path!("v1" / "pull"))
                .map(|| warp::reply::with_status("ok", warp::http::StatusCode::OK))
                .recover(|_| async {
                    Ok::<_, std::convert::Infallible>(warp::reply::with_status(
                        "no",
                        warp::http::StatusCode::NOT_FOUND,
                    ))
                })
                .unify()
        };
        serve(listener, tls, app, limits, std::future::pending()).await
    });
    Ok(addr)
}

/// The same ops written straight into a fresh sled tree, keyed like a space's log,
/// and flushed: the floor of what storing them costs on this machine.
fn sled_baseline(ops: &[Op]) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::open(dir.path())?;
    let started = Instant::now();
    for (seq, op) in ops.iter().enumerate() {
        let mut key = op.space.as_bytes().to_vec();
        key.extend_from_slice(&(seq as u64).to_be_bytes());
        db.insert(key, codec::encode(op)?)?;
    }
    db.flush()?;
    Ok(ops.len() as f64 / started.elapsed().as_secs_f64())
}

/// A mix like real use: every kind created, then titles, statuses, dates and texts
/// set, with conversation notes carrying a paragraph.
fn realistic_ops(author: UserId, space: SpaceId, count: usize) -> Vec<Op> {
    let mut clock = HlcClock::new(NodeId(42), None);
    let mut ops = Vec::with_capacity(count);
    let mut record = RecordId::new();
    let mut kind = RecordKind::Goal;
    let mut i = 0usize;
    while ops.len() < count {
        let change = match i % 5 {
            0 => {
                record = RecordId::new();
                kind = RecordKind::ALL[(i / 5) % 6];
                if kind == RecordKind::Task
                    || kind == RecordKind::Activity
                    || kind == RecordKind::Potential
                {
                    kind = RecordKind::Note;
                }
                Change::Create { kind }
            }
            1 => set(
                kind.title_field(),
                Value::Text(format!(
                    "Quarterly review with person {} about growth",
                    i % 97
                )),
            ),
            2 => match kind {
                RecordKind::Goal => set("status", Value::GoalStatus(GoalStatus::OnTrack)),
                RecordKind::Note => set("kind", Value::NoteKind(NoteKind::Appraisal)),
                _ => set("to", Value::Text("Team lead".into())),
            },
            3 => set(
                if kind == RecordKind::Note {
                    "date"
                } else {
                    "due"
                },
                Value::Date(chrono_date(i)),
            ),
            _ => match kind {
                RecordKind::Note => set("notes", Value::Text(paragraph(i))),
                _ => set(
                    if kind == RecordKind::Goal {
                        "description"
                    } else {
                        "by"
                    },
                    Value::Text(format!("Owner {}", i % 50)),
                ),
            },
        };
        ops.push(Op {
            id: OpId::new(),
            space,
            record,
            at: clock.now(),
            author,
            change,
        });
        i += 1;
    }
    ops
}

fn set(field: &str, value: Value) -> Change {
    Change::Set {
        field: field.to_owned(),
        value,
        replaces: Vec::new(),
    }
}

fn chrono_date(i: usize) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
        .unwrap_or_default()
}

fn paragraph(i: usize) -> String {
    format!(
        "Talked about the last quarter ({i}). Strong delivery on the migration; wants more \
         ownership of planning. Agreed: lead the next retro, pair with the new hire, \
         revisit the training budget in four weeks. Concerns about on-call load noted; \
         we will look at the rotation together. Feedback from peers was positive about \
         reviews and mentoring, less so about estimates. Next 1:1 in two weeks, with the \
         promotion case as the first point on the agenda."
    )
}
