//! File transfer benchmark: a 1 GiB file up and down through the real `cairn` and
//! `cairn-server` binaries over TLS on loopback. Prints throughput as a ratio of a
//! raw TLS transfer of the same bytes measured in the same run (the goal is at
//! least 0.5), and the peak memory of server and client above their idle figures
//! (the goal: under 64 MiB more, whatever the size). Not a test. Run:
//! `cargo bench -p cairn-tests --bench files`; `CAIRN_BENCH_FILE_MIB` sets the
//! size (default 1024), `CAIRN_BENCH_ROUNDS` the rounds (default 3).
//!
//! Each round sends a new file, and measures the raw transfers just before
//! Cairn's, so a machine whose speed drifts (a VM's disk and memory do) weighs on
//! both sides of each ratio alike; the summary is the median round.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_client::sync::Trust;
use cairn_server::tls::TlsHandle;
use cairn_tests::binary;
use cairn_tests::client::Device;
use cairn_tests::server::{ServerProcess, set_config_section};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a bench password";
const BLOCK: usize = 1 << 20;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// The peak resident memory (`VmHWM`) of process `pid`, in bytes.
fn peak_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The resident memory now (`VmRSS`) of process `pid`, in bytes.
fn memory_now(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `cairn ARGS` on `device`; how long it took and its peak memory (read
/// while it runs, so the last few milliseconds may be missed).
fn timed_cairn(device: &Device, args: &[&str]) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let mut child = Command::new(binary("cairn")?)
        .args(args)
        .env("CAIRN_HOME", device.home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut peak = 0;
    loop {
        peak = peak.max(peak_memory(pid).unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            let took = started.elapsed();
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    e.read_to_string(&mut err)?;
                }
                bail!("cairn {args:?} failed: {err}");
            }
            return Ok((took, peak));
        }
        // Often enough to catch a short command's peak (an idle sync).
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `mib` MiB of pseudo-random bytes, different for each `seed`.
fn write_file(path: &Path, mib: usize, seed: u64) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block = vec![0u8; BLOCK];
    let mut n: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    for _ in 0..mib {
        for chunk in block.chunks_mut(8) {
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            chunk.copy_from_slice(&n.to_le_bytes()[..chunk.len()]);
        }
        out.write_all(&block)?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the file at `path` into `stream`, a `block` at a time.
async fn send_file(
    path: &Path,
    stream: &mut (impl tokio::io::AsyncWrite + Unpin),
    block: &mut [u8],
) -> anyhow::Result<()> {
    let mut input = tokio::fs::File::open(path).await?;
    loop {
        let n = input.read(block).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&block[..n]).await?;
    }
}

/// The raw TLS baselines of one round.
struct Raw {
    /// Client to server, the server keeping the bytes in a synced file.
    up: Duration,
    /// Client to server, the server dropping the bytes.
    up_dropped: Duration,
    /// Server to client, the client keeping the bytes in a synced file.
    down: Duration,
}

/// What a raw connection's server side does.
#[derive(Clone, Copy)]
enum RawServer {
    Keep,
    Drop,
    Send,
}

/// The same bytes over a bare TLS connection on loopback, with the server's
/// certificate and TLS stack: up (kept as Cairn keeps them, in a synced file;
/// and dropped) and down (into a synced file, as `cairn files fetch` does).
async fn raw_tls(server: &ServerProcess, file: &Path) -> anyhow::Result<Raw> {
    let tls = TlsHandle::load(
        &server.data_dir().join("tls/cert.pem"),
        &server.data_dir().join("tls/key.pem"),
    )?;
    let acceptor = tls.acceptor();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let size = std::fs::metadata(file)?.len();
    let path = file.to_owned();
    let order = [RawServer::Keep, RawServer::Drop, RawServer::Send];
    let serving = tokio::spawn(async move {
        for side in order {
            let (tcp, _) = listener.accept().await?;
            let mut stream = acceptor.accept(tcp).await?;
            let mut block = vec![0u8; BLOCK];
            match side {
                RawServer::Keep | RawServer::Drop => {
                    let mut kept = match side {
                        RawServer::Keep => {
                            Some(tokio::fs::File::create(path.with_extension("raw-up")).await?)
                        }
                        _ => None,
                    };
                    let mut got = 0u64;
                    while got < size {
                        let n = stream.read(&mut block).await?;
                        if n == 0 {
                            break;
                        }
                        if let Some(kept) = kept.as_mut() {
                            kept.write_all(&block[..n]).await?;
                        }
                        got += n as u64;
                    }
                    if let Some(kept) = kept {
                        kept.sync_all().await?;
                    }
                    stream.write_all(b"k").await?;
                }
                RawServer::Send => {
                    send_file(&path, &mut stream, &mut block).await?;
                    stream.shutdown().await?;
                }
            }
        }
        anyhow::Ok(())
    });
    let config = Trust::from_options(None, Some(&server.fingerprint))?.client_config()?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost")?.to_owned();
    let mut block = vec![0u8; BLOCK];

    let mut up = [Duration::ZERO; 2];
    for took in &mut up {
        let started = Instant::now();
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut stream = connector.connect(name.clone(), tcp).await?;
        send_file(file, &mut stream, &mut block).await?;
        stream.flush().await?;
        let mut ack = [0u8; 1];
        stream.read_exact(&mut ack).await?;
        *took = started.elapsed();
    }

    let started = Instant::now();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = connector.connect(name, tcp).await?;
    let mut out = tokio::fs::File::create(file.with_extension("raw-down")).await?;
    loop {
        let n = stream.read(&mut block).await?;
        if n == 0 {
            break;
        }
        out.write_all(&block[..n]).await?;
    }
    out.sync_all().await?;
    let down = started.elapsed();
    serving.await??;
    Ok(Raw {
        up: up[0],
        up_dropped: up[1],
        down,
    })
}

/// One round's figures.
struct Round {
    up: Duration,
    raw: Raw,
    /// Into the device's cache (`cairn files fetch`).
    down: Duration,
    /// Into the cache and a copy elsewhere (`cairn files get --out`).
    down_saved: Duration,
    client_up_peak: u64,
    client_down_peak: u64,
}

fn env_number(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{name} is not a number")),
        Err(_) => Ok(default),
    }
}

/// The middle of `values` (the upper middle of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

async fn run() -> anyhow::Result<()> {
    let mib = env_number("CAIRN_BENCH_FILE_MIB", 1024)?;
    let rounds = env_number("CAIRN_BENCH_ROUNDS", 3)?.max(1);
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(
            dir,
            "files",
            &format!(
                "max_file_mib = {}\nmax_space_mib = {}",
                mib + 1,
                (rounds + 1) * (mib + 1)
            ),
        )
    })?;
    server.user(EMAIL, PASSWORD).await?;
    let pid = server.pid().context("server pid")?;
    let work = tempfile::tempdir()?;
    let devices = [Device::new()?, Device::new()?, Device::new()?];
    for device in &devices {
        device.login(&server, EMAIL, PASSWORD)?;
    }
    let ana = &devices[0];
    // A sync with nothing to send: the client's memory without file work.
    let (_, client_idle) = timed_cairn(ana, &["sync"])?;
    let server_idle = memory_now(pid).unwrap_or(0);
    let mut done = Vec::new();
    for round in 1..=rounds {
        let file = work.path().join(format!("big-{round}.bin"));
        eprintln!("round {round}/{rounds}: writing a {mib} MiB file");
        write_file(&file, mib, round as u64)?;
        done.push(one_round(&server, &devices, &file, work.path()).await?);
        for spent in [
            file.clone(),
            file.with_extension("raw-up"),
            file.with_extension("raw-down"),
        ] {
            std::fs::remove_file(spent)?;
        }
    }
    let server_peak = peak_memory(pid).unwrap_or(0);

    let bytes = (mib as f64) * f64::from(1 << 20);
    let rate = |d: Duration| bytes / d.as_secs_f64() / f64::from(1 << 20);
    let mib_of = |b: u64| b as f64 / f64::from(1 << 20);
    println!("\nfile transfer, {mib} MiB over TLS on loopback (2 cores), {rounds} rounds\n");
    let ratio = |raw: Duration, cairn: Duration| raw.as_secs_f64() / cairn.as_secs_f64();
    println!(
        "{:<9} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "MiB/s", "up", "raw up", "raw dropped", "down", "raw down"
    );
    for (n, r) in done.iter().enumerate() {
        println!(
            "round {:<3} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>12.0}   down+out {:.0}",
            n + 1,
            rate(r.up),
            rate(r.raw.up),
            rate(r.raw.up_dropped),
            rate(r.down),
            rate(r.raw.down),
            rate(r.down_saved),
        );
    }
    let median_of = |f: &dyn Fn(&Round) -> f64| median(done.iter().map(f).collect());
    println!("\nmedian ratios to raw TLS (goal >= 0.5):");
    println!(
        "  upload (cairn sync) / raw up into a synced file      {:.2}",
        median_of(&|r| ratio(r.raw.up, r.up))
    );
    println!(
        "  download (cairn files fetch) / raw down into a synced file {:.2}",
        median_of(&|r| ratio(r.raw.down, r.down))
    );
    println!("for information:");
    println!(
        "  upload / raw up with the bytes dropped              {:.2}",
        median_of(&|r| ratio(r.raw.up_dropped, r.up))
    );
    println!(
        "  download and a saved copy (cairn files get --out) / raw down {:.2}",
        median_of(&|r| ratio(r.raw.down, r.down_saved))
    );
    let client_up_peak = done.iter().map(|r| r.client_up_peak).max().unwrap_or(0);
    let client_down_peak = done.iter().map(|r| r.client_down_peak).max().unwrap_or(0);
    println!(
        "\n{:<44} {:>10} {:>10} {:>10}",
        "peak memory (MiB)", "idle", "peak", "above"
    );
    for (what, idle, peak) in [
        ("server (whole run)", server_idle, server_peak),
        ("client uploading", client_idle, client_up_peak),
        ("client downloading", client_idle, client_down_peak),
    ] {
        println!(
            "{what:<44} {:>10.1} {:>10.1} {:>10.1}",
            mib_of(idle),
            mib_of(peak),
            mib_of(peak.saturating_sub(idle))
        );
    }
    println!(
        "\ngoals: ratio >= 0.5 (up, down); memory above idle < 64 MiB. Cairn's upload and \
         download each leave one durable copy at the receiver, as the raw baselines do; \
         `get --out` writes a second, the user's own. Client idle: a `cairn sync` with \
         nothing to send; server idle: its resident memory before the first upload."
    );
    Ok(())
}

/// Raw TLS up and down, then `file` up (the first device's `cairn sync`), down
/// into the second device's cache (`cairn files fetch`), and down and saved on
/// the third (`cairn files get --out`).
async fn one_round(
    server: &ServerProcess,
    [ana, ben, cleo]: &[Device; 3],
    file: &Path,
    work: &Path,
) -> anyhow::Result<Round> {
    eprintln!("raw TLS baseline");
    let raw = raw_tls(server, file).await?;
    let path = file.to_str().context("path")?;
    eprintln!("cairn files add");
    timed_cairn(ana, &["files", "add", path])?;
    eprintln!("upload (cairn sync)");
    let (up, client_up_peak) = timed_cairn(ana, &["sync"])?;
    ben.ok(&["sync"])?;
    cleo.ok(&["sync"])?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("file name")?;
    let list = ben.json(&["files", "list", "--json"])?;
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|f| f["name"] == name))
        .and_then(|f| f["id"].as_str())
        .with_context(|| format!("{name} not listed: {list}"))?
        .to_owned();
    eprintln!("download (cairn files fetch)");
    let (down, client_down_peak) = timed_cairn(ben, &["files", "fetch", &id])?;
    let out = work.join("down.bin");
    eprintln!("download and save (cairn files get --out)");
    let (down_saved, client_saved_peak) = timed_cairn(
        cleo,
        &["files", "get", &id, "--out", out.to_str().context("out")?],
    )?;
    if std::fs::metadata(&out)?.len() != std::fs::metadata(file)?.len() {
        bail!("the downloaded file differs in size");
    }
    std::fs::remove_file(&out)?;
    Ok(Round {
        up,
        raw,
        down,
        down_saved,
        client_up_peak,
        client_down_peak: client_down_peak.max(client_saved_peak),
    })
}
