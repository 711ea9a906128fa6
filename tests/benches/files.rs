//! File transfer benchmark: a 1 GiB file up and down through the real `cairn` and
//! `cairn-server` binaries over TLS on loopback. Prints throughput as a ratio of a
//! raw TLS transfer of the same bytes measured in the same run (the goal is at
//! least 0.5), and the peak memory of server and client above their idle figures
//! (the goal: under 64 MiB more, whatever the size). Not a test. Run:
//! `cargo bench -p cairn-tests --bench files`; `CAIRN_BENCH_FILE_MIB` sets the
//! size (default 1024).

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
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_file(path: &Path, mib: usize) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block = vec![0u8; BLOCK];
    let mut n: u64 = 0x9E37_79B9_7F4A_7C15;
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

/// The same bytes over a bare TLS connection on loopback, with the server's
/// certificate and TLS stack: seconds up (client sends, server reads) and down.
async fn raw_tls(server: &ServerProcess, file: &Path) -> anyhow::Result<(Duration, Duration)> {
    let tls = TlsHandle::load(
        &server.data_dir().join("tls/cert.pem"),
        &server.data_dir().join("tls/key.pem"),
    )?;
    let acceptor = tls.acceptor();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let size = std::fs::metadata(file)?.len();
    let path = file.to_owned();
    let serving = tokio::spawn(async move {
        // First connection: read everything. Second: send the file.
        for direction in 0..2 {
            let (tcp, _) = listener.accept().await?;
            let mut stream = acceptor.accept(tcp).await?;
            let mut block = vec![0u8; BLOCK];
            if direction == 0 {
                let mut got = 0u64;
                while got < size {
                    let n = stream.read(&mut block).await?;
                    if n == 0 {
                        break;
                    }
                    got += n as u64;
                }
                stream.write_all(b"k").await?;
            } else {
                let mut input = tokio::fs::File::open(&path).await?;
                loop {
                    let n = input.read(&mut block).await?;
                    if n == 0 {
                        break;
                    }
                    stream.write_all(&block[..n]).await?;
                }
                stream.shutdown().await?;
            }
        }
        anyhow::Ok(())
    });
    let config = Trust::from_options(None, Some(&server.fingerprint))?.client_config()?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost")?.to_owned();
    let mut block = vec![0u8; BLOCK];

    let started = Instant::now();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = connector.connect(name.clone(), tcp).await?;
    let mut input = tokio::fs::File::open(file).await?;
    loop {
        let n = input.read(&mut block).await?;
        if n == 0 {
            break;
        }
        stream.write_all(&block[..n]).await?;
    }
    stream.flush().await?;
    let mut ack = [0u8; 1];
    stream.read_exact(&mut ack).await?;
    let up = started.elapsed();

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
    Ok((up, down))
}

async fn run() -> anyhow::Result<()> {
    let mib: usize = match std::env::var("CAIRN_BENCH_FILE_MIB") {
        Ok(text) => text
            .trim()
            .parse()
            .context("CAIRN_BENCH_FILE_MIB is not a number")?,
        Err(_) => 1024,
    };
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(
            dir,
            "files",
            &format!(
                "max_file_mib = {}\nmax_space_mib = {}",
                mib + 1,
                2 * mib + 2
            ),
        )
    })?;
    server.user(EMAIL, PASSWORD).await?;
    let pid = server.pid().context("server pid")?;
    let work = tempfile::tempdir()?;
    let file = work.path().join("big.bin");
    eprintln!("writing a {mib} MiB file");
    write_file(&file, mib)?;
    let bytes = (mib as f64) * f64::from(1 << 20);

    eprintln!("raw TLS baseline");
    let (raw_up, raw_down) = raw_tls(&server, &file).await?;

    let (ana, ben) = (Device::new()?, Device::new()?);
    ana.login(&server, EMAIL, PASSWORD)?;
    ben.login(&server, EMAIL, PASSWORD)?;
    // A sync with nothing to send: the client's memory without file work.
    let (_, client_idle) = timed_cairn(&ana, &["sync"])?;
    let server_idle = memory_now(pid).unwrap_or(0);
    let path = file.to_str().context("path")?;
    eprintln!("cairn files add");
    timed_cairn(&ana, &["files", "add", path])?;
    eprintln!("upload (cairn sync)");
    let (up, client_up_peak) = timed_cairn(&ana, &["sync"])?;
    let server_after_up = peak_memory(pid).unwrap_or(0);
    ben.ok(&["sync"])?;
    let list = ben.json(&["files", "list", "--json"])?;
    let id = list[0]["id"].as_str().context("file id")?.to_owned();
    let out = work.path().join("down.bin");
    eprintln!("download (cairn files get)");
    let (down, client_down_peak) = timed_cairn(
        &ben,
        &["files", "get", &id, "--out", out.to_str().context("out")?],
    )?;
    let server_peak = peak_memory(pid).unwrap_or(0);
    if std::fs::metadata(&out)?.len() != std::fs::metadata(&file)?.len() {
        bail!("the downloaded file differs in size");
    }

    let rate = |d: Duration| bytes / d.as_secs_f64() / f64::from(1 << 20);
    let mib_of = |b: u64| b as f64 / f64::from(1 << 20);
    println!("\nfile transfer, {mib} MiB over TLS on loopback (2 cores)\n");
    println!(
        "{:<44} {:>10} {:>10} {:>8}",
        "", "MiB/s", "baseline", "ratio"
    );
    println!(
        "{:<44} {:>10.0} {:>10.0} {:>8.2}",
        "upload (cairn sync) vs raw TLS up",
        rate(up),
        rate(raw_up),
        raw_up.as_secs_f64() / up.as_secs_f64()
    );
    println!(
        "{:<44} {:>10.0} {:>10.0} {:>8.2}",
        "download (cairn files get) vs raw TLS down",
        rate(down),
        rate(raw_down),
        raw_down.as_secs_f64() / down.as_secs_f64()
    );
    println!(
        "\n{:<44} {:>10} {:>10} {:>10}",
        "peak memory (MiB)", "idle", "peak", "above"
    );
    for (what, idle, peak) in [
        ("server (whole run)", server_idle, server_peak),
        ("server after the upload", server_idle, server_after_up),
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
        "\ngoals: ratio >= 0.5; memory above idle < 64 MiB. Client idle: a `cairn sync` with \
         nothing to send; \
         server idle: its resident memory before the upload."
    );
    Ok(())
}
