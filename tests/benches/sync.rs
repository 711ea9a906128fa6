//! Sync benchmarks against the real server over TLS on loopback, on both store
//! backends in one run. Prints a table of figures and ratios; not a test. Run:
//! `cargo bench -p cairn-tests --bench sync`.
//!
//! The same scenario runs on a server on sled, then on a server on a fresh
//! PostgreSQL database (a throwaway PostgreSQL of [`TestPostgres`]):
//!
//! - push: ops per second for batches of 1,000 and of 1 (each acked once durable:
//!   sled's fsync, PostgreSQL's synchronous commit);
//! - initial sync: 100,000 ops (a realistic mix, about 300 bytes each) pulled by a
//!   fresh connection, and by the real client into a fresh replica;
//! - polling: 200 concurrent clients pulling with no changes, requests per second
//!   and p50/p99 latency.
//!
//! Then two servers on one PostgreSQL database share the same load: one pusher per
//! server (each into a space of its own), a fresh client pulling from each, and
//! half the pollers on each; the figures are the combined ones.
//!
//! Baselines: writing the same ops straight into sled here, and a bare warp handler
//! on the same TLS stack for the pollers.
//!
//! For quick runs: `CAIRN_BENCH_OPS` (default 100,000) and `CAIRN_BENCH_POLL_SECS`
//! (default 5).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_client::replica::Replica;
use cairn_client::sync::{Client, Trust, sync_round};
use cairn_common::api::{
    CreateSpace, Cursor, Endpoint, LoginResponse, PasswordChange, PullRequest, PullResponse,
    PushRequest, SpaceInfo, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{GoalStatus, NoteKind, RecordId, RecordKind, SpaceId, UserId, Value};
use cairn_common::op::{Change, HlcClock, NodeId, Op, OpId};
use cairn_server::admin::{AdminRequest, AdminResponse};
use cairn_server::serve::{Limits, serve};
use cairn_server::settings::{Secret, Settings};
use cairn_server::test_postgres::TestPostgres;
use cairn_server::testing::TestServer;
use cairn_server::tls::TlsHandle;
use cairn_tests::server::Api;
use tokio::net::TcpListener;
use tokio::task::block_in_place;
use warp::Filter;

const DEFAULT_OPS: usize = 100_000;
const POLLERS: usize = 200;
const SINGLES: usize = 200;
const DEFAULT_POLL_SECS: u64 = 5;
const EMAIL: &str = "bench@example.com";
const FIRST_PASSWORD: &str = "initial bench password";
const PASSWORD: &str = "a bench password";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// How much work each figure gets.
struct Sizes {
    ops: usize,
    poll_for: Duration,
}

impl Sizes {
    fn from_env() -> anyhow::Result<Self> {
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(text) => text
                    .trim()
                    .parse()
                    .with_context(|| format!("{name}={text:?} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        let ops = usize::try_from(number("CAIRN_BENCH_OPS", DEFAULT_OPS as u64)?)?;
        if ops < 2_000 {
            bail!("CAIRN_BENCH_OPS must be at least 2000 (two pushers of batches of 1,000)");
        }
        Ok(Self {
            ops,
            poll_for: Duration::from_secs(number("CAIRN_BENCH_POLL_SECS", DEFAULT_POLL_SECS)?),
        })
    }
}

/// Requests per second and latency percentiles (ms) of a polling run.
#[derive(Clone, Copy, Default)]
struct Poll {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// What one scenario measured.
#[derive(Clone, Copy, Default)]
struct Figures {
    push_1000: f64,
    push_1: f64,
    pull: f64,
    /// The real client's initial sync (not run with two servers).
    client: Option<f64>,
    poll: Poll,
}

async fn run() -> anyhow::Result<()> {
    let sizes = Sizes::from_env()?;
    let pg = block_in_place(TestPostgres::shared)?;
    // All of the bench's clients come from 127.0.0.1, one host as far as the
    // server's per-address cap can tell.
    let adjust = |s: &mut Settings| s.server.max_connections_per_address = 1024;

    eprintln!("sled: one server");
    let server = block_in_place(|| TestServer::start_with(adjust))?;
    let (sled, head, token) = one_server(&server, &sizes).await?;
    eprintln!("bare warp handler");
    let bare_addr = start_bare(server.tls().clone()).await?;
    let poll = PullRequest {
        epoch: None,
        cursors: head,
        max_ops: 0,
    };
    let bare = pollers(
        &[Target::new(bare_addr, &server.cert_der, None)],
        &poll,
        &sizes,
    )
    .await?;
    let sled_server = server;

    eprintln!("PostgreSQL: one server");
    let url = pg.database()?;
    let server = block_in_place(|| TestServer::start_on_postgres(&url, adjust))?;
    let (postgres, _, _) = one_server(&server, &sizes).await?;
    block_in_place(|| drop(server));

    eprintln!("PostgreSQL: two servers on one database");
    let url = pg.database()?;
    let a = block_in_place(|| TestServer::start_on_postgres(&url, adjust))?;
    let b = block_in_place(|| TestServer::start_on_postgres(&url, adjust))?;
    let two = two_servers(&a, &b, &sizes).await?;
    block_in_place(|| drop((a, b)));

    // The sled pollers once more, at the end: how much the machine drifted.
    eprintln!("sled: the pollers again");
    let target = Target::new(sled_server.addr, &sled_server.cert_der, Some(token));
    let sled_again = pollers(&[target], &poll, &sizes).await?;
    block_in_place(|| drop(sled_server));

    let ops = realistic_ops(UserId::new(), SpaceId::new(), sizes.ops);
    let sled_insert = block_in_place(|| sled_baseline(&ops))?;
    let bytes: usize = ops
        .iter()
        .map(|op| codec::encode(op).map_or(0, |b| b.len()))
        .sum();

    println!();
    println!(
        "{} ops of {:.0} bytes on average; {POLLERS} pollers for {} s each run",
        sizes.ops,
        bytes as f64 / sizes.ops as f64,
        sizes.poll_for.as_secs()
    );
    print_tables(&sled, &postgres, &two, &bare, sled_insert, &sled_again);
    Ok(())
}

/// The scenario on one server: its figures, the cursors at the head of the bench
/// account's spaces, and a session of it.
async fn one_server(
    server: &TestServer,
    sizes: &Sizes,
) -> anyhow::Result<(Figures, Vec<Cursor>, String)> {
    let (mut api, login) = account(server).await?;
    let (author, space) = (login.user.id, login.personal_space);
    let token = login.token;
    let ops = realistic_ops(author, space, sizes.ops);

    let push_1000 = push_batches(&mut api, &token, &ops).await?;
    eprintln!("  push, batches of 1000: {push_1000:>10.0} ops/s");
    let push_1 = push_singles(&mut api, &token, &singles(author, space, SINGLES)).await?;
    eprintln!("  push, batches of 1:    {push_1:>10.0} ops/s");

    // Initial sync: a fresh connection pulls everything.
    let mut fresh = Api::connect(server.addr, &server.cert_der).await?;
    let fresh_token = fresh.login(EMAIL, PASSWORD).await?.token;
    let started = Instant::now();
    let (pulled, head) = pull_everything(&mut fresh, &fresh_token).await?;
    let pull = pulled as f64 / started.elapsed().as_secs_f64();
    eprintln!("  initial sync, protocol pull: {pull:>10.0} ops/s ({pulled} ops)");

    // The same initial sync through the real client: TLS, decode, and every op
    // applied to a fresh sled replica with its records materialized.
    let url = server.url();
    let trust = Trust::Fingerprint {
        sha256: server.fingerprint.clone(),
    };
    let client_token = fresh.login(EMAIL, PASSWORD).await?.token;
    let (client, synced) = tokio::task::spawn_blocking(move || -> anyhow::Result<(f64, usize)> {
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
    eprintln!("  initial sync, cairn client:  {client:>10.0} ops/s ({synced} ops)");

    let poll = PullRequest {
        epoch: None,
        cursors: head.clone(),
        max_ops: 0,
    };
    let target = Target::new(server.addr, &server.cert_der, Some(fresh_token.clone()));
    let poll = pollers(&[target], &poll, sizes).await?;
    eprintln!(
        "  {POLLERS} pollers: {:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        poll.rate, poll.p50, poll.p99
    );
    Ok((
        Figures {
            push_1000,
            push_1,
            pull,
            client: Some(client),
            poll,
        },
        head,
        fresh_token,
    ))
}

/// The scenario on two servers sharing one database: each push figure has one
/// pusher per server, each into a space of its own (half the ops each); a fresh
/// client on each server pulls everything; half the pollers poll each server.
async fn two_servers(a: &TestServer, b: &TestServer, sizes: &Sizes) -> anyhow::Result<Figures> {
    let (mut on_a, login) = account(a).await?;
    let mut on_b = Api::connect(b.addr, &b.cert_der).await?;
    let token_b = on_b.login(EMAIL, PASSWORD).await?.token;
    let (author, token_a) = (login.user.id, login.token);
    let (status, body) = on_a
        .call(
            endpoints::SpacesCreate::PATH,
            Some(&token_a),
            &CreateSpace {
                name: "Team".into(),
            },
        )
        .await?;
    anyhow::ensure!(status.is_success(), "creating a space failed: {status}");
    let team: SpaceInfo = codec::decode(&body)?;
    let (space_a, space_b) = (login.personal_space, team.space.id);
    let half = sizes.ops / 2;
    let (ops_a, ops_b) = (
        realistic_ops(author, space_a, half),
        realistic_ops(author, space_b, half),
    );

    let started = Instant::now();
    let (pushed_a, pushed_b) = tokio::join!(
        push_batches(&mut on_a, &token_a, &ops_a),
        push_batches(&mut on_b, &token_b, &ops_b)
    );
    pushed_a?;
    pushed_b?;
    let push_1000 = (2 * half) as f64 / started.elapsed().as_secs_f64();
    eprintln!("  push, batches of 1000: {push_1000:>10.0} ops/s (two pushers)");

    let (singles_a, singles_b) = (
        singles(author, space_a, SINGLES / 2),
        singles(author, space_b, SINGLES / 2),
    );
    let started = Instant::now();
    let (pushed_a, pushed_b) = tokio::join!(
        push_singles(&mut on_a, &token_a, &singles_a),
        push_singles(&mut on_b, &token_b, &singles_b)
    );
    pushed_a?;
    pushed_b?;
    let push_1 = (singles_a.len() + singles_b.len()) as f64 / started.elapsed().as_secs_f64();
    eprintln!("  push, batches of 1:    {push_1:>10.0} ops/s (two pushers)");

    let mut fresh_a = Api::connect(a.addr, &a.cert_der).await?;
    let fresh_token_a = fresh_a.login(EMAIL, PASSWORD).await?.token;
    let mut fresh_b = Api::connect(b.addr, &b.cert_der).await?;
    let fresh_token_b = fresh_b.login(EMAIL, PASSWORD).await?.token;
    let started = Instant::now();
    let (pulled_a, pulled_b) = tokio::join!(
        pull_everything(&mut fresh_a, &fresh_token_a),
        pull_everything(&mut fresh_b, &fresh_token_b)
    );
    let ((count_a, head), (count_b, _)) = (pulled_a?, pulled_b?);
    let pull = (count_a + count_b) as f64 / started.elapsed().as_secs_f64();
    eprintln!(
        "  initial sync, protocol pull: {pull:>10.0} ops/s ({count_a} + {count_b} ops, two \
         clients)"
    );

    let poll = PullRequest {
        epoch: None,
        cursors: head,
        max_ops: 0,
    };
    let targets = [
        Target::new(a.addr, &a.cert_der, Some(fresh_token_a)),
        Target::new(b.addr, &b.cert_der, Some(fresh_token_b)),
    ];
    let poll = pollers(&targets, &poll, sizes).await?;
    eprintln!(
        "  {POLLERS} pollers: {:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms (half on each)",
        poll.rate, poll.p50, poll.p99
    );
    Ok(Figures {
        push_1000,
        push_1,
        pull,
        client: None,
        poll,
    })
}

/// The bench account, made through `server`'s control socket (once per store) with
/// its password changed so that no gate applies: a connection to `server` and a
/// session on it.
async fn account(server: &TestServer) -> anyhow::Result<(Api, LoginResponse)> {
    let added = block_in_place(|| {
        server.admin(AdminRequest::AddUser {
            email: EMAIL.into(),
            first_name: "Bench".into(),
            last_name: "Mark".into(),
            password: Some(Secret(FIRST_PASSWORD.into())),
        })
    })?;
    if let AdminResponse::Failed { .. } = added {
        bail!("could not add the bench user: {added:?}");
    }
    let mut api = Api::connect(server.addr, &server.cert_der).await?;
    let first = api.login(EMAIL, FIRST_PASSWORD).await?;
    if first.must_change_password {
        let change = PasswordChange {
            current: FIRST_PASSWORD.into(),
            new: PASSWORD.into(),
        };
        let (status, _) = api
            .call(endpoints::Password::PATH, Some(&first.token), &change)
            .await?;
        anyhow::ensure!(
            status.is_success(),
            "changing the password failed: {status}"
        );
    }
    let login = api.login(EMAIL, PASSWORD).await?;
    api.accept_notice(&login.token).await?;
    Ok((api, login))
}

/// Pushes `ops` in batches of 1,000, one after the other: ops per second.
async fn push_batches(api: &mut Api, token: &str, ops: &[Op]) -> anyhow::Result<f64> {
    let started = Instant::now();
    for chunk in ops.chunks(1000) {
        let (status, _) = api
            .call(
                endpoints::Push::PATH,
                Some(token),
                &PushRequest {
                    ops: chunk.to_vec(),
                },
            )
            .await?;
        anyhow::ensure!(status.is_success(), "push failed: {status}");
    }
    Ok(ops.len() as f64 / started.elapsed().as_secs_f64())
}

/// Pushes each op alone, one after the other: ops per second.
async fn push_singles(api: &mut Api, token: &str, ops: &[Op]) -> anyhow::Result<f64> {
    let started = Instant::now();
    for op in ops {
        let (status, _) = api
            .call(
                endpoints::Push::PATH,
                Some(token),
                &PushRequest {
                    ops: vec![op.clone()],
                },
            )
            .await?;
        anyhow::ensure!(status.is_success(), "push failed: {status}");
    }
    Ok(ops.len() as f64 / started.elapsed().as_secs_f64())
}

/// `count` new records' creates in `space`, one push each.
fn singles(author: UserId, space: SpaceId, count: usize) -> Vec<Op> {
    realistic_ops(author, space, count * 5)
        .into_iter()
        .filter(|op| matches!(op.change, Change::Create { .. }))
        .take(count)
        .collect()
}

/// Pulls page after page from nothing until the server has no more: how many ops,
/// and the cursors at the end.
async fn pull_everything(api: &mut Api, token: &str) -> anyhow::Result<(usize, Vec<Cursor>)> {
    let mut cursors: Vec<Cursor> = Vec::new();
    let mut pulled = 0usize;
    loop {
        let request = PullRequest {
            epoch: None,
            cursors: cursors.clone(),
            max_ops: 0,
        };
        let (status, body) = api
            .call(endpoints::Pull::PATH, Some(token), &request)
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
            return Ok((pulled, cursors));
        }
    }
}

/// A server the pollers poll, with the session they poll as.
struct Target {
    addr: SocketAddr,
    cert_der: Vec<u8>,
    token: Option<String>,
}

impl Target {
    fn new(addr: SocketAddr, cert_der: &[u8], token: Option<String>) -> Self {
        Self {
            addr,
            cert_der: cert_der.to_vec(),
            token,
        }
    }
}

/// [`POLLERS`] clients, spread evenly over `targets`, each on its own keep-alive
/// connection (all connected before the clock starts), posting `body` to
/// `/v1/pull` for the poll time: requests per second, p50 and p99 in ms.
async fn pollers(targets: &[Target], body: &PullRequest, sizes: &Sizes) -> anyhow::Result<Poll> {
    let bytes = codec::encode(body)?;
    let mut clients = Vec::with_capacity(POLLERS);
    for target in targets.iter().cycle().take(POLLERS) {
        let api = Api::connect(target.addr, &target.cert_der).await?;
        clients.push((api, target.token.clone()));
    }
    let started = Instant::now();
    let deadline = started + sizes.poll_for;
    let mut tasks = tokio::task::JoinSet::new();
    for (mut api, token) in clients {
        let bytes = bytes.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let (status, _) = api
                    .raw(endpoints::Pull::PATH, token.as_deref(), bytes.clone())
                    .await?;
                anyhow::ensure!(status.is_success(), "poll failed: {status}");
                latencies.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
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
    Ok(Poll {
        rate: all.len() as f64 / elapsed,
        p50: percentile(0.50),
        p99: percentile(0.99),
    })
}

/// A bare warp handler behind the same accept loop and TLS configuration.
async fn start_bare(tls: TlsHandle) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
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

/// A row of the tables: its name, how to read it, and whether it is a rate (else
/// a latency in ms).
type Figure = (&'static str, fn(&Figures) -> f64, bool);

fn print_tables(
    sled: &Figures,
    pg: &Figures,
    two: &Figures,
    bare: &Poll,
    sled_insert: f64,
    sled_again: &Poll,
) {
    let rate = |x: f64| format!("{x:.0}");
    let ms = |x: f64| format!("{x:.2}");
    // A figure not measured is 0 and has no ratio.
    let ratio = |a: f64, b: f64| {
        if a > 0.0 && b > 0.0 {
            format!("{:.2}", a / b)
        } else {
            "-".into()
        }
    };
    let row = |name: &str, a: String, b: String, r: String| {
        println!("{name:<40} | {a:>11} | {b:>11} | {r:>8}");
    };
    let client = |f: &Figures| f.client.unwrap_or(0.0);
    let figures: [Figure; 7] = [
        ("push, batches of 1,000 (ops/s)", |f| f.push_1000, true),
        ("push, batches of 1 (ops/s)", |f| f.push_1, true),
        ("initial sync, protocol pull (ops/s)", |f| f.pull, true),
        (
            "initial sync, cairn client (ops/s)",
            |f| f.client.unwrap_or(0.0),
            true,
        ),
        ("200 pollers (req/s)", |f| f.poll.rate, true),
        ("200 pollers, p50 (ms)", |f| f.poll.p50, false),
        ("200 pollers, p99 (ms)", |f| f.poll.p99, false),
    ];
    let show = |x: f64, is_rate: bool| {
        if x == 0.0 {
            "-".into()
        } else if is_rate {
            rate(x)
        } else {
            ms(x)
        }
    };

    println!();
    row(
        "figure",
        "sled".into(),
        "PostgreSQL".into(),
        "PG/sled".into(),
    );
    println!("{}", "-".repeat(40 + 3 * 14 + 2));
    for (name, get, is_rate) in figures {
        row(
            name,
            show(get(sled), is_rate),
            show(get(pg), is_rate),
            ratio(get(pg), get(sled)),
        );
    }

    println!();
    println!("two PostgreSQL servers on one database, the load split between them:");
    row(
        "figure (combined)",
        "two servers".into(),
        "one server".into(),
        "two/one".into(),
    );
    println!("{}", "-".repeat(40 + 3 * 14 + 2));
    for (name, get, is_rate) in figures {
        row(
            name,
            show(get(two), is_rate),
            show(get(pg), is_rate),
            ratio(get(two), get(pg)),
        );
    }

    println!();
    println!("baselines:");
    row("", "sled".into(), "PostgreSQL".into(), String::new());
    println!("{}", "-".repeat(40 + 3 * 14 + 2));
    row(
        "sled insert, same ops (ops/s)",
        rate(sled_insert),
        String::new(),
        String::new(),
    );
    row(
        "ratio client sync / sled insert",
        ratio(client(sled), sled_insert),
        ratio(client(pg), sled_insert),
        String::new(),
    );
    row(
        "ratio protocol pull / sled insert",
        ratio(sled.pull, sled_insert),
        ratio(pg.pull, sled_insert),
        String::new(),
    );
    row(
        "bare warp handler, 200 pollers (req/s)",
        rate(bare.rate),
        String::new(),
        String::new(),
    );
    row(
        "  p50 / p99 (ms)",
        format!("{} / {}", ms(bare.p50), ms(bare.p99)),
        String::new(),
        String::new(),
    );
    row(
        "ratio poll API / bare",
        ratio(sled.poll.rate, bare.rate),
        ratio(pg.poll.rate, bare.rate),
        String::new(),
    );
    row(
        "sled pollers again, at the end (req/s)",
        rate(sled_again.rate),
        String::new(),
        String::new(),
    );

    println!();
    let goal = |name: &str, got: f64, want: f64| {
        let verdict = if got >= want { "met" } else { "NOT met" };
        println!("goal: {name} >= {want:.1} of sled: {got:.2}, {verdict}");
    };
    goal(
        "PostgreSQL push of batches of 1,000",
        pg.push_1000 / sled.push_1000,
        0.5,
    );
    goal("PostgreSQL pollers", pg.poll.rate / sled.poll.rate, 0.8);
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
