//! The driver: owns the terminal, turns terminal events into actions, runs effects.
//! Writes go to the worker thread; the loop polls the terminal with a short timeout so
//! the worker's answers show up promptly, and redraws only when something changed.

use std::collections::VecDeque;
use std::io::{Stdout, stdout};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::action::{Action, Effect};
use super::app::App;
use super::config::Config;
use super::file_jobs::{self, FileJobs};
use super::search::Searcher;
use super::server_calls::ServerCalls;
use super::theme::Theme;
use super::worker::{self, Worker};
use crate::paths::Paths;
use crate::replica::Replica;

/// How long to wait for a key before looking at the worker's answers again.
const POLL: Duration = Duration::from_millis(50);
/// How long quitting waits for a sync round in flight.
const SYNC_STOP_WAIT: Duration = Duration::from_secs(3);
/// How long quitting waits for `cairn` commands from other shells to answer.
const SOCKET_STOP_WAIT: Duration = Duration::from_secs(3);

/// Runs the TUI on the replica in `paths.data_dir` until the user quits. Every write
/// asked for is committed before this returns.
///
/// Start-up: the replica's lock is taken first, so a replica in use is reported before
/// the screen changes; then the replica opens on a thread (the slow part: sled reads
/// its snapshot and replays its log) while the first frame is drawn, and once it is
/// open its records stream into the list from another thread ([`super::loader`]).
/// Keys pressed while it opens wait in the terminal and are read afterwards.
///
/// # Errors
/// An invalid config file, a replica that cannot be opened, or a terminal error.
pub fn run(paths: &Paths) -> anyhow::Result<()> {
    let config = Config::load(&paths.config_file, Theme::no_color_requested())?;
    let opening = Replica::lock(&paths.data_dir)?;
    let opener = std::thread::spawn(move || opening.open());
    let mut app = App::opening(config, today());
    let screen = Screen::enter().and_then(|mut screen| {
        screen.terminal.draw(|frame| app.draw(frame))?;
        Ok(screen)
    });
    // Waited for even if the screen failed, so the replica is never dropped half open.
    let replica = opener.join().map_err(|_| {
        anyhow::anyhow!("opening the replica stopped unexpectedly (a bug: please report it)")
    })??;
    let mut screen = screen?;
    app.opened(&replica)?;
    app.restore_state(&super::state::TuiState::load(&paths.data_dir));
    let (replies, answers) = channel();
    let sync = super::sync::start(&replica, app.config().sync.interval(), replies.clone());
    let search_replies = replies.clone();
    let searcher = Searcher::spawn(replica.clone(), move |batch| {
        search_replies.send(Action::SearchResults(batch)).is_ok()
    });
    let socket = super::sync::serve_socket(paths, &replica, &sync, replies.clone());
    super::loader::spawn(replica.clone(), replies.clone());
    let server = ServerCalls::spawn(paths.data_dir.clone(), replies.clone());
    let files = FileJobs::spawn(replica.clone(), paths.data_dir.clone(), replies.clone());
    let worker = Worker::spawn(replica.clone(), replies);
    // A bad [backup] section does not stop the TUI: the defaults stand in, and
    // `cairn backup now` names the mistake.
    let backups = crate::backup::DailyBackups::spawn(
        replica.clone(),
        crate::backup::BackupSettings::load(&paths.config_file, &paths.data_dir)
            .unwrap_or_else(|_| crate::backup::BackupSettings::defaults(&paths.data_dir)),
    );
    let threads = Threads {
        worker: &worker,
        searcher: &searcher,
        sync: &sync,
        server: &server,
        files: &files,
    };
    let result = event_loop(&mut screen, &mut app, &replica, &threads, &answers);
    screen.leave();
    // A search in flight is of no use any more; it stops at the next record.
    searcher.stop();
    if let Some(socket) = socket {
        socket.finish(SOCKET_STOP_WAIT);
    }
    worker.finish();
    backups.stop();
    // Remembering the sorts is a convenience: a failure to write it is not news.
    let _ = app.saved_state().save(&paths.data_dir);
    // A round in flight gets a moment to finish; what it applied is saved either way.
    sync.stop(SYNC_STOP_WAIT);
    // Writes that finished after the screen closed: a failure must not go unseen.
    for action in answers.try_iter() {
        if let Action::Saved(report) = action
            && let Err(e) = report.result
        {
            eprintln!("cairn: {}", super::text::save_failed(&e));
        }
    }
    result
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// The threads that run effects and answer with actions.
struct Threads<'a> {
    worker: &'a Worker,
    searcher: &'a Searcher,
    sync: &'a crate::sync::Background,
    server: &'a ServerCalls,
    files: &'a FileJobs,
}

fn event_loop(
    screen: &mut Screen,
    app: &mut App,
    replica: &Replica,
    threads: &Threads<'_>,
    answers: &Receiver<Action>,
) -> anyhow::Result<()> {
    let Threads {
        worker,
        searcher,
        sync,
        server,
        files,
    } = threads;
    let mut queue = VecDeque::new();
    let size = screen.terminal.size()?;
    queue.push_back(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let mut day = today();
    let mut dirty = true;
    loop {
        while let Some(action) = queue.pop_front() {
            dirty = true;
            for effect in app.update(action) {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::Load(id) => queue.push_back(worker::load(replica, id)),
                    Effect::LoadHistory(id) => queue.push_back(worker::load_history(replica, id)),
                    Effect::LoadPerson(id) => {
                        queue.extend(worker.load_person(replica, id, today()))
                    }
                    Effect::Write(write) => {
                        if let Some(report) = worker.send(write, replica) {
                            queue.push_back(Action::Saved(report));
                        }
                    }
                    Effect::Sync => sync.sync_now(),
                    Effect::Server(call) => queue.extend(server.send(call)),
                    Effect::Search(request) => queue.extend(
                        searcher
                            .search(replica, request)
                            .into_iter()
                            .map(Action::SearchResults),
                    ),
                    Effect::OpenEditor { label, text } => {
                        let edited = screen.outside(|| {
                            super::external_editor::edit_in_external_editor(&text, &label)
                                .map_err(|e| format!("{e:#}"))
                        });
                        queue.push_back(Action::EditorClosed(edited));
                    }
                    Effect::ListDir { dir } => files.list_dir(dir),
                    Effect::CheckFiles(ids) => {
                        queue.push_back(Action::FilesChecked(file_jobs::check_files(replica, &ids)))
                    }
                    Effect::FileJob(job) => queue.extend(files.send(job)),
                    Effect::RunOpener {
                        name,
                        command,
                        path,
                    } => {
                        let result =
                            screen.outside(|| super::opener::run_in_terminal(&command, &path));
                        queue.push_back(Action::OpenerClosed { name, result });
                    }
                }
            }
        }
        if dirty {
            screen.terminal.draw(|frame| app.draw(frame))?;
            dirty = false;
        }
        while let Ok(action) = answers.try_recv() {
            queue.push_back(action);
        }
        if event::poll(POLL)? {
            match event::read()? {
                Event::Key(key) => queue.push_back(Action::Key(key)),
                Event::Mouse(mouse) => queue.push_back(Action::Mouse(mouse)),
                Event::Resize(width, height) => queue.push_back(Action::Resize { width, height }),
                Event::Paste(text) => queue.push_back(Action::Paste(text)),
                _ => {}
            }
        }
        if today() != day {
            day = today();
            queue.push_back(Action::NewDay(day));
        }
    }
}

/// The terminal in raw mode on the alternate screen; restored on drop and on panic.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn enter() -> anyhow::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        // Bracketed paste: a paste arrives as one event, so its line breaks are not
        // taken for Enter presses that would move through the form.
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(Self { terminal })
    }

    fn leave(&mut self) {
        restore_terminal();
        let _ = self.terminal.show_cursor();
    }

    /// Hands the terminal to a program `run` starts (`$VISUAL`/`$EDITOR`,
    /// `$OPENER`) and takes it back.
    fn outside<T>(&mut self, run: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        self.leave();
        let outcome = run();
        // A fresh terminal has empty buffers, so the next draw paints every cell.
        // (`Terminal::clear` would do too, but it asks the terminal for the cursor
        // position and waits for an answer some terminals never give.) What the
        // program did (an edit above all) is returned even if the screen does not
        // come back cleanly; there is nowhere better to say so.
        let _ = enable_raw_mode()
            .and_then(|()| {
                execute!(
                    stdout(),
                    EnterAlternateScreen,
                    EnableMouseCapture,
                    EnableBracketedPaste,
                    Clear(ClearType::All)
                )
            })
            .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())))
            .map(|terminal| self.terminal = terminal);
        outcome
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Leaves raw mode and the alternate screen. Errors are ignored: this runs on the way
/// out, where there is nothing better to do.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen
    );
}

/// Restores the terminal before a panic message is printed, so it is readable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}
