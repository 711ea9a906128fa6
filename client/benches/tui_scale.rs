//! The TUI at scale: a replica of 100,000 records (`CAIRN_BENCH_RECORDS` to change),
//! then start-to-first-frame, one frame, and filter keystrokes on a `TestBackend`.
//! Prints figures; run with `cargo bench -p cairn-client --bench tui_scale`.

use std::time::{Duration, Instant};

use cairn_client::replica::Replica;
use cairn_client::tui::{Action, App, Command, Config};
use cairn_common::model::{RecordKind, Value};
use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WORDS: &[&str] = &[
    "hire",
    "review",
    "budget",
    "roadmap",
    "offsite",
    "migration",
    "feedback",
    "plan",
    "retro",
    "interview",
    "launch",
    "report",
    "audit",
    "coaching",
    "quarterly",
    "team",
];

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::var("CAIRN_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    // The fill runs in a child process, so that the memory figure below is the
    // app's and not what filling left behind (and sled's lock is free again).
    if let Some(dir) = std::env::var_os("CAIRN_BENCH_FILL") {
        let fill = Instant::now();
        fill_replica(&Replica::open(std::path::Path::new(&dir))?, count, today)?;
        println!("fill {count} records: {:?}", fill.elapsed());
        return Ok(());
    }
    // `CAIRN_BENCH_DIR` keeps the filled replica there for the next run.
    let kept = std::env::var_os("CAIRN_BENCH_DIR").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir()?;
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_owned());
    if kept.is_none() || !dir.join("replica").exists() {
        let status = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args().skip(1))
            .env("CAIRN_BENCH_FILL", &dir)
            .status()?;
        anyhow::ensure!(status.success(), "filling the replica failed");
    }
    let replica = Replica::open(&dir)?;
    println!(
        "memory: {} MiB resident with the replica open",
        rss_kib() / 1024
    );
    // `CAIRN_BENCH_SCAN=n` reads every record n times first: what the replica's own
    // caches take, apart from the app.
    let scans: usize = std::env::var("CAIRN_BENCH_SCAN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for _ in 0..scans {
        let records = replica.records().count();
        let outbox = replica.outbox_len();
        println!(
            "memory: {} MiB resident after reading {records} records and counting {outbox} outbox entries",
            rss_kib() / 1024
        );
    }
    let rss_before = rss_kib();
    let start = Instant::now();
    let mut app = App::new(&replica, Config::default(), today)?;
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    app.update(Action::Resize {
        width: 160,
        height: 48,
    });
    terminal.draw(|frame| app.draw(frame))?;
    println!("start to first frame: {:?}", start.elapsed());
    println!(
        "memory: {} MiB resident (+{} MiB for the app)",
        rss_kib() / 1024,
        rss_kib().saturating_sub(rss_before) / 1024
    );

    for kind in RecordKind::ALL {
        app.update(Action::Run(Command::GoTo(kind)));
        let frames = 50;
        let t = Instant::now();
        for _ in 0..frames {
            terminal.draw(|frame| app.draw(frame))?;
        }
        println!("one frame ({kind}): {:?}", t.elapsed() / frames);
    }

    app.update(Action::Run(Command::GoTo(RecordKind::Activity)));
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let typed = "review 12";
    for c in typed.chars() {
        let t = Instant::now();
        app.update(Action::FilterChar(c));
        let took = t.elapsed();
        worst = worst.max(took);
        total += took;
    }
    println!(
        "filter keystroke (activities): mean {:?}, worst {:?}, {} rows left",
        total / u32::try_from(typed.len()).unwrap_or(1),
        worst,
        app.visible_ids().len()
    );
    let t = Instant::now();
    app.update(Action::Run(Command::ClearFilter));
    println!("clear filter: {:?}", t.elapsed());
    let t = Instant::now();
    app.update(Action::Run(Command::SortNext));
    println!("sort by next column: {:?}", t.elapsed());
    Ok(())
}

fn fill_replica(replica: &Replica, count: usize, today: NaiveDate) -> anyhow::Result<()> {
    let space = replica.identity().personal_space;
    let mut ops = Vec::new();
    for i in 0..count {
        let kind = RecordKind::ALL[i % 6];
        let title = format!(
            "{} {} {}",
            WORDS[i % WORDS.len()],
            WORDS[(i / 7) % WORDS.len()],
            i
        );
        let day = today - chrono::Days::new((i % 200) as u64);
        let mut fields = vec![(kind.title_field().to_owned(), Value::Text(title))];
        match kind {
            RecordKind::Task => fields.push((
                "recurrence".into(),
                Value::Recurrence(cairn_common::model::Recurrence::parse("weekly")?),
            )),
            RecordKind::Activity => {
                fields.push(("date".into(), Value::Date(day)));
                fields.push(("duration".into(), Value::Int((i % 180) as i64)));
            }
            RecordKind::Note => fields.push(("date".into(), Value::Date(day))),
            RecordKind::Goal | RecordKind::Commitment => {
                fields.push(("due".into(), Value::Date(day)));
            }
            RecordKind::Potential => {}
        }
        ops.extend(replica.create_ops(kind, space, fields, today)?.1);
        // Commit in batches: one fsync per batch keeps the fill fast.
        if ops.len() > 20_000 {
            replica.commit(&ops)?;
            ops.clear();
        }
    }
    replica.commit(&ops)?;
    Ok(())
}

/// Resident memory of this process in KiB (Linux), 0 elsewhere.
fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
