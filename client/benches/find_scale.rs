//! Scale benchmark of finding records: the agenda and the search over every record,
//! on a replica with 100 and with 100,000 records of every kind (notes with a few
//! paragraphs, goals with tags).
//!
//! For each size it prints the time to open the agenda (built from the row index on
//! the UI thread), the UI thread's cost of one keystroke in the search popup, and per
//! query the time to the first batch of hits, the time to read every record, and the
//! hits. Each size runs in a fresh child process (this binary with `--measure DIR`).
//!
//! Run: `cargo bench -p cairn-client --bench find_scale`

mod support;

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use cairn_client::replica::Replica;
use cairn_client::tui::query::Query;
use cairn_client::tui::search::{SearchRequest, scan};
use cairn_client::tui::{Action, App, Command, Config};
use cairn_common::model::{CommitmentStatus, GoalStatus, NoteKind, RecordKind, Recurrence, Value};
use chrono::Days;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use support::{ms, today};

const SIZES: [usize; 2] = [100, 100_000];
/// A word in no record (every record is read), a tag, a person, a state, and a word
/// in every note's text (the hit limit stops the scan).
const QUERIES: [&str; 5] = [
    "xylophone",
    "tags:hiring -is:done",
    "@\"person 42\"",
    "is:overdue",
    "quarter",
];

fn main() -> anyhow::Result<()> {
    if let Some(result) = support::as_child(fill, measure) {
        return result;
    }
    let root = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    for size in SIZES {
        let dir = root.path().join(format!("r{size}"));
        let started = Instant::now();
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
        let output = Process::new(&exe).arg("--measure").arg(&dir).output()?;
        anyhow::ensure!(
            output.status.success(),
            "measuring {size} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!("{size} records");
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    Ok(())
}

/// Child process: open the app, time the agenda and the search; print a table.
fn measure(dir: &Path) -> anyhow::Result<()> {
    let replica = Replica::open(dir)?;
    let mut app = App::new(&replica, Config::default(), today())?;

    let mut agenda = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        app.update(Action::Run(Command::Agenda));
        agenda = agenda.min(t.elapsed());
        app.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    }
    println!("  agenda opens in {:.2} ms", ms(agenda));

    // The UI thread's share of a keystroke: parse the query, ask for a search.
    app.update(Action::Run(Command::Search));
    let mut worst = Duration::ZERO;
    for c in "person 42".chars() {
        let t = Instant::now();
        app.update(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        worst = worst.max(t.elapsed());
    }
    println!(
        "  search keystroke on the UI thread: worst {:.3} ms",
        ms(worst)
    );

    println!(
        "  {:<28} {:>14} {:>12} {:>8} {:>9}",
        "query", "first hits ms", "all read ms", "hits", "records"
    );
    for (generation, text) in (1..).zip(QUERIES) {
        let request = SearchRequest {
            generation,
            query: Query::parse(text).map_err(anyhow::Error::msg)?,
            today: today(),
        };
        let started = Instant::now();
        let mut first = None;
        let (mut hits, mut scanned) = (0, 0);
        scan(
            &replica,
            &request,
            || true,
            |batch| {
                if first.is_none() && (!batch.hits.is_empty() || batch.done) {
                    first = Some(started.elapsed());
                }
                hits += batch.hits.len();
                scanned = batch.scanned;
                true
            },
        );
        let all = started.elapsed();
        println!(
            "  {text:<28} {:>14.1} {:>12.1} {hits:>8} {scanned:>9}",
            ms(first.unwrap_or(all)),
            ms(all)
        );
    }
    Ok(())
}

/// Every kind; goals with tags, notes with a few paragraphs (about 700 bytes).
fn fill(dir: &Path, count: usize) -> anyhow::Result<()> {
    let replica = Replica::open(dir)?;
    let space = replica.identity().personal_space;
    let paragraph = "Talked about the quarter and what comes next. The team is growing, \
                     the roadmap is long, and the budget needs a second look before the \
                     planning meeting.";
    let notes = format!("{paragraph}\n\n- one\n- two\n\n{paragraph}\n\n{paragraph}\n\n{paragraph}");
    let mut batch = Vec::new();
    for i in 0..count {
        let kind = RecordKind::ALL[i % RecordKind::ALL.len()];
        let date = today()
            .checked_sub_days(Days::new((i % 400) as u64))
            .and_then(|d| d.checked_add_days(Days::new(200)))
            .unwrap_or_else(today);
        let person = format!("Person {}", i % 97);
        let title = format!("{} record {i} for {person}", kind.key());
        let mut fields: Vec<(String, Value)> =
            vec![(kind.title_field().to_owned(), Value::Text(title))];
        let mut add = |k: &str, v: Value| fields.push((k.to_owned(), v));
        match kind {
            RecordKind::Goal => {
                add(
                    "status",
                    Value::GoalStatus(GoalStatus::ALL[i % GoalStatus::ALL.len()]),
                );
                add("owner", Value::Text(person.clone()));
                add("due", Value::Date(date));
                let tag = if i % 10 == 0 { "hiring" } else { "delivery" };
                add("tags", Value::List(vec![tag.into(), "q1".into()]));
                add("description", Value::Text(paragraph.into()));
            }
            RecordKind::Commitment => {
                add(
                    "status",
                    Value::CommitmentStatus(CommitmentStatus::ALL[i % 4]),
                );
                add("by", Value::Text(person.clone()));
                add("to", Value::Text("Team lead".into()));
                add("due", Value::Date(date));
            }
            RecordKind::Task => {
                add(
                    "recurrence",
                    Value::Recurrence(Recurrence::Weeks(1 + (i % 4) as u16)),
                );
                add("owner", Value::Text(person.clone()));
                add("next_due", Value::Date(date));
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
                    Value::List(vec![person.clone(), "Me".into()]),
                );
                add("follow_up", Value::Date(date));
                add("notes", Value::Text(notes.clone()));
            }
            RecordKind::Potential => {
                add("review", Value::Date(date));
            }
            RecordKind::Person => {
                add("team", Value::Text(format!("Team {}", i % 7)));
            }
            RecordKind::File => {
                add("size", Value::Int(i64::try_from(i).unwrap_or(0) * 1000));
                add("sha256", Value::Text(format!("{i:064x}")));
                add("type", Value::Text("application/pdf".into()));
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
