//! Scale benchmark: a replica with 100, 1,000 and 100,000 records.
//!
//! For each size it prints, counted from just before the replica's lock is taken:
//! - first frame: the first screen `tui::run` draws, while the replica is still being
//!   opened on another thread (tabs, an empty list saying records are loading, "opening
//!   the replica…" in the status bar). Nothing of the replica is on it yet.
//! - first rows: the replica open, the app told so, the loader thread's first chunk
//!   of records in the index (and the selected record's details read, as the driver
//!   does) and drawn: the first frame with records in the list.
//! - loaded: every record in the index and drawn.
//!
//! then one frame (the median of keys that move the selection, each with the selected
//! record's details read and the screen drawn again, 200 on every tab), the filter applied per keystroke, and
//! the peak memory of the process; then the ratios of 100,000 records to the smaller
//! sizes. Each measurement runs in a fresh child process (this same binary with
//! `--measure DIR`) so peak memory belongs to that size alone. The replica is opened
//! for the first time after it was filled, so sled replays the whole fill's log
//! then, as it would after an import or a first sync.
//!
//! Why 1,000: drawing the rows of the list is most of a frame, and at 100 records
//! (spread over seven kinds) each list has about 14 rows, where a 48-line screen
//! shows 44. The frame ratio to 100 therefore also counts the fuller screen; the
//! ratio to 1,000, where every list fills the screen too, is the cost of the record
//! count alone.
//!
//! Run: `cargo bench -p cairn-client --bench replica_scale`

mod support;

use std::path::Path;
use std::process::Command as Process;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use cairn_client::replica::Replica;
use cairn_client::tui::{Action, App, Command, Config, Effect};
use cairn_common::model::{GoalStatus, NoteKind, Rating, RecordKind, Recurrence, Value};
use chrono::Days;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use support::{ms, today};

const SIZES: [usize; 3] = [100, 1_000, 100_000];
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

fn main() -> anyhow::Result<()> {
    if let Some(result) = support::as_child(fill, measure) {
        return result;
    }
    let root = tempfile::tempdir()?;
    let mut results = Vec::new();
    for size in SIZES {
        let dir = root.path().join(format!("r{size}"));
        let started = Instant::now();
        let exe = std::env::current_exe()?;
        let status = Process::new(&exe)
            .arg("--fill")
            .arg(&dir)
            .arg(size.to_string())
            .status()?;
        anyhow::ensure!(status.success(), "filling {size} records failed");
        eprintln!(
            "filled {size} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let output = Process::new(exe).arg("--measure").arg(&dir).output()?;
        if !output.status.success() {
            anyhow::bail!(
                "measuring {size} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let figures: Figures = serde_json::from_slice(&output.stdout)?;
        results.push((size, figures));
    }
    println!(
        "{:>9} {:>15} {:>15} {:>11} {:>10} {:>15} {:>15} {:>10}",
        "records",
        "first frame ms",
        "first rows ms",
        "loaded ms",
        "frame ms",
        "filter/key ms",
        "filter worst ms",
        "peak MiB"
    );
    for (size, f) in &results {
        println!(
            "{size:>9} {:>15.1} {:>15.1} {:>11.1} {:>10.3} {:>15.3} {:>15.3} {:>10.1}",
            f.first_frame_ms,
            f.first_rows_ms,
            f.loaded_ms,
            f.frame_ms,
            f.filter_ms,
            f.filter_worst_ms,
            f.peak_mib
        );
    }
    if let Some((largest, large)) = results.last() {
        for (size, small) in &results[..results.len() - 1] {
            println!(
                "{:>9} {:>15.1} {:>15.1} {:>11.1} {:>10.2} {:>15.1} {:>15.1} {:>10.2}",
                format!("/{size}"),
                large.first_frame_ms / small.first_frame_ms,
                large.first_rows_ms / small.first_rows_ms,
                large.loaded_ms / small.loaded_ms,
                large.frame_ms / small.frame_ms,
                large.filter_ms / small.filter_ms,
                large.filter_worst_ms / small.filter_worst_ms,
                large.peak_mib / small.peak_mib
            );
        }
        println!(
            "(/N = {largest} records / N records; a frame should cost the same at any size \
             once the lists fill the screen)"
        );
    }
    Ok(())
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Figures {
    /// Until the first frame, drawn while the replica opens.
    first_frame_ms: f64,
    /// Until the first frame with records in the list.
    first_rows_ms: f64,
    /// Until every record is in the index and drawn.
    loaded_ms: f64,
    frame_ms: f64,
    filter_ms: f64,
    filter_worst_ms: f64,
    peak_mib: f64,
}

/// Child process: start as the TUI does, draw, filter; print figures as JSON.
fn measure(dir: &Path) -> anyhow::Result<()> {
    // Start as `tui::run` does: the lock, the replica opening on a thread while the
    // first frame is drawn, then the records streamed into the index by the loader
    // thread, a frame drawn after each chunk.
    let started = Instant::now();
    let config = Config::default();
    let opening = Replica::lock(dir)?;
    let opener = std::thread::spawn(move || opening.open());
    let mut app = App::opening(config, today());
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    terminal.draw(|frame| app.draw(frame))?;
    let first_frame = started.elapsed();
    let replica = opener
        .join()
        .map_err(|_| anyhow::anyhow!("opening the replica panicked"))??;
    app.opened(&replica)?;
    let (sender, actions) = channel();
    cairn_client::tui::spawn_loader(replica.clone(), sender);
    drive(
        &mut app,
        &replica,
        Action::Resize {
            width: WIDTH,
            height: HEIGHT,
        },
    );
    let mut first_rows = None;
    for action in &actions {
        let last = matches!(action, Action::IndexLoaded(_));
        drive(&mut app, &replica, action);
        terminal.draw(|frame| app.draw(frame))?;
        if first_rows.is_none() && app.selected_id().is_some() {
            first_rows = Some(started.elapsed());
        }
        if last {
            break;
        }
    }
    let all_loaded = started.elapsed();

    // One frame per key on every tab, as the TUI runs it: the key (j, or g after
    // nine), the selected record's details read as the driver does, the redraw. The
    // selection cycles through the first ten rows, so every frame changes the list
    // and the details and neither size scrolls.
    let frames_per_kind = 200u32;
    let mut frames = Vec::new();
    for kind in RecordKind::ALL {
        drive(&mut app, &replica, Action::Run(Command::GoTo(kind)));
        terminal.draw(|frame| app.draw(frame))?;
        for i in 1..=frames_per_kind {
            let key = if i % 10 == 0 {
                Command::Top
            } else {
                Command::Down
            };
            let t = Instant::now();
            drive(&mut app, &replica, Action::Run(key));
            terminal.draw(|frame| app.draw(frame))?;
            frames.push(t.elapsed());
        }
    }
    // The median: on a shared machine the mean also counts the moments another
    // process had the core.
    frames.sort_unstable();
    let frame = frames.get(frames.len() / 2).copied().unwrap_or_default();

    // Typing into the filter on the conversations tab, key by key, five times over.
    app.update(Action::Run(Command::GoTo(RecordKind::Note)));
    let typed = "person 4";
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let mut keystrokes = 0u32;
    for _ in 0..5 {
        for c in typed.chars() {
            let t = Instant::now();
            app.update(Action::FilterChar(c));
            let took = t.elapsed();
            worst = worst.max(took);
            total += took;
            keystrokes += 1;
        }
        app.update(Action::Run(Command::ClearFilter));
    }

    let figures = Figures {
        first_frame_ms: ms(first_frame),
        first_rows_ms: first_rows.map_or(f64::NAN, ms),
        loaded_ms: ms(all_loaded),
        frame_ms: ms(frame),
        filter_ms: ms(total / keystrokes),
        filter_worst_ms: ms(worst),
        peak_mib: peak_rss_mib(),
    };
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Applies an action and reads what it asks for as the TUI's driver does on its
/// thread (the selected record's details); no other effect comes of what is driven here.
fn drive(app: &mut App, replica: &Replica, action: Action) {
    for effect in app.update(action) {
        if let Effect::Load(id) = effect {
            app.update(cairn_client::tui::load(replica, id));
        }
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A realistic mix: every kind, with the fields people fill, a tenth of goals with key
/// results, notes with a few paragraphs of text.
fn fill(dir: &Path, count: usize) -> anyhow::Result<()> {
    let replica = Replica::open(dir)?;
    let space = replica.identity().personal_space;
    let mut batch = Vec::new();
    for i in 0..count {
        let kind = RecordKind::ALL[i % RecordKind::ALL.len()];
        let date = today()
            .checked_sub_days(Days::new((i % 400) as u64))
            .unwrap_or_else(today);
        let title = format!("{} record {i} for person {}", kind.key(), i % 97);
        let mut fields: Vec<(String, Value)> =
            vec![(kind.title_field().to_owned(), Value::Text(title))];
        let mut add = |k: &str, v: Value| fields.push((k.to_owned(), v));
        match kind {
            RecordKind::Goal => {
                add(
                    "status",
                    Value::GoalStatus(GoalStatus::ALL[i % GoalStatus::ALL.len()]),
                );
                add("owner", Value::Text(format!("Person {}", i % 97)));
                add("due", Value::Date(date));
                add("progress", Value::Int((i % 101) as i64));
            }
            RecordKind::Commitment => {
                add("by", Value::Text(format!("Person {}", i % 97)));
                add("to", Value::Text("Team lead".into()));
                add("due", Value::Date(date));
            }
            RecordKind::Task => {
                add(
                    "recurrence",
                    Value::Recurrence(Recurrence::Weeks(1 + (i % 4) as u16)),
                );
                add("owner", Value::Text(format!("Person {}", i % 97)));
            }
            RecordKind::Activity => {
                add("date", Value::Date(date));
                add("duration", Value::Int(15 + (i % 8) as i64 * 15));
            }
            RecordKind::Note => {
                add("date", Value::Date(date));
                add(
                    "kind",
                    Value::NoteKind(NoteKind::ALL[i % NoteKind::ALL.len()]),
                );
                add(
                    "participants",
                    Value::List(vec![format!("Person {}", i % 97), "Me".into()]),
                );
                add(
                    "notes",
                    Value::Text(
                        "Talked about the quarter.\n\nNext steps agreed.\n- one\n- two".into(),
                    ),
                );
            }
            RecordKind::Potential => {
                add("performance", Value::Rating(Rating::ALL[i % 3]));
                add("potential", Value::Rating(Rating::ALL[(i / 3) % 3]));
                add("review", Value::Date(date));
            }
            RecordKind::Person => {
                add("team", Value::Text(format!("Team {}", i % 7)));
                add("job_title", Value::Text("Engineer".into()));
                add("start", Value::Date(date));
            }
            RecordKind::File => {
                add("size", Value::Int(i64::try_from(i).unwrap_or(0) * 1000));
                add("sha256", Value::Text(format!("{i:064x}")));
                add("type", Value::Text("image/jpeg".into()));
            }
        }
        let (_, ops) = replica.create_ops(kind, space, fields, today())?;
        batch.extend(ops);
        if batch.len() >= 10_000 {
            replica.commit(&batch)?;
            batch.clear();
        }
    }
    replica.commit(&batch)?;
    Ok(())
}
