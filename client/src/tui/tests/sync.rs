//! The app's side of sync: rounds update the rows (conflicts included), the status
//! bar shows where sync stands, and the space for new records can be switched.

use cairn_common::model::{RecordKind, Role, Space, SpaceId, Value};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{Fixture, today};
use crate::replica::{KnownSpace, Replica};
use crate::tui::action::{Action, Command, Effect, SyncProblem, SyncReport, Synced};
use crate::tui::app::SyncStatus;

fn report(result: Result<Synced, SyncProblem>, pending: usize) -> Action {
    Action::Synced(SyncReport {
        result,
        pending,
        set_aside: crate::replica::SetAsideCounts::default(),
    })
}

/// The bottom line of the screen.
fn status_line(f: &mut Fixture) -> String {
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    let buffer = terminal.backend().buffer();
    (0..120)
        .map(|x| buffer[(x, 29)].symbol().to_owned())
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// A goal written on another replica and a concurrent local edit of its title,
/// applied here as a sync round would: the row appears, in conflict, and the count
/// grows; a later round that removes it takes the row away.
#[test]
fn synced_records_update_rows_and_conflicts() {
    let mut f = Fixture::new();
    let conflicts_before = f.app.index.conflicts();
    let other_dir = tempfile::tempdir().expect("tempdir");
    let other = Replica::open(other_dir.path()).expect("other");
    let space = f.replica.identity().personal_space;
    let title = |t: &str| vec![("title".to_owned(), Value::Text(t.into()))];
    let (id, ops) = other
        .create_ops(RecordKind::Goal, space, title("Remote goal"), today())
        .expect("ops");
    other.commit(&ops).expect("commit");
    f.replica.apply_remote(&ops, &[]).expect("first round");
    let base = f.replica.record(&id).expect("read").expect("present");
    let theirs = other
        .set_op(&base, "title", Value::Text("Their title".into()))
        .expect("op");
    f.replica
        .commit(&[f
            .replica
            .set_op(&base, "title", Value::Text("Our title".into()))
            .expect("op")])
        .expect("local edit");
    f.replica
        .apply_remote(&[theirs], &[])
        .expect("second round");
    let state = f.replica.record(&id).expect("read").expect("present");
    assert_eq!(state.conflicts(), vec!["title"]);

    f.drive(report(
        Ok(Synced {
            states: vec![state],
            ..Synced::default()
        }),
        0,
    ));
    assert!(f.app.visible_ids().contains(&id));
    assert_eq!(f.app.index.conflicts(), conflicts_before + 1);
    assert_eq!(f.app.sync_status(), &SyncStatus::Synced);

    f.drive(report(
        Ok(Synced {
            removed: vec![id],
            spaces_dropped: vec!["Team".into()],
            ..Synced::default()
        }),
        0,
    ));
    assert!(!f.app.visible_ids().contains(&id));
    assert_eq!(f.app.index.conflicts(), conflicts_before);
    let message = f.app.message().expect("message").text.clone();
    assert!(message.contains("Team"), "{message}");
}

/// The status bar says nothing about sync without a server, then `syncing…`,
/// `synced`, `pending N`, `offline` and `sync error: <reason>`.
#[test]
fn status_bar_sync_states() {
    let mut f = Fixture::new();
    let mut lines = vec![status_line(&mut f)];
    f.drive(Action::SyncStarted);
    lines.push(status_line(&mut f));
    f.drive(report(Ok(Synced::default()), 0));
    lines.push(status_line(&mut f));
    f.drive(Action::Pending(3));
    lines.push(status_line(&mut f));
    f.drive(report(Err(SyncProblem::Offline), 3));
    lines.push(status_line(&mut f));
    f.drive(report(
        Err(SyncProblem::Failed("please upgrade cairn".into())),
        3,
    ));
    lines.push(status_line(&mut f));
    f.drive(report(Err(SyncProblem::NotLoggedIn), 3));
    lines.push(status_line(&mut f));
    assert!(!lines[0].contains("sync"), "{}", lines[0]);
    assert_eq!(lines[0], lines[6], "no session: no sync noise");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(true);
    settings.bind(|| insta::assert_snapshot!("sync_states", lines.join("\n")));
}

/// A round that set changes aside says so in red with the command that lists them,
/// and the status bar keeps counting them until they are dealt with.
#[test]
fn status_bar_shows_set_aside_changes() {
    let mut f = Fixture::new();
    f.drive(Action::Synced(SyncReport {
        result: Ok(Synced {
            newly_set_aside: 2,
            ..Synced::default()
        }),
        pending: 0,
        set_aside: crate::replica::SetAsideCounts {
            undelivered: 1,
            quarantined: 1,
        },
    }));
    let line = status_line(&mut f);
    assert!(line.contains("│ 2 set aside │"), "{line}");
    let message = f.app.message.clone().expect("a message");
    assert!(message.error && message.text.contains("cairn undelivered"));
    f.drive(report(Ok(Synced::default()), 0));
    assert!(!status_line(&mut f).contains("set aside"));
}

/// `s` asks for a sync (and says how to log in when there is no server); `o` sorts.
#[test]
fn s_syncs_and_o_sorts() {
    let mut f = Fixture::new();
    let effects = f.press("s");
    assert!(effects.contains(&Effect::Sync));
    let message = f.app.message().expect("message").text.clone();
    assert!(message.contains("cairn login"), "{message}");
    f.drive(report(Ok(Synced::default()), 0));
    f.press("o");
    assert!(
        f.app
            .message()
            .expect("message")
            .text
            .starts_with("Sorted by"),
        "o sorts"
    );
    let effects = f.press("s");
    assert!(effects.contains(&Effect::Sync));
    assert!(
        f.app
            .message()
            .expect("message")
            .text
            .starts_with("Sorted by"),
        "with a server, s says nothing about logging in"
    );
}

/// `w` cycles the writable spaces (a viewer's space is skipped and refused by name
/// from the palette); the status bar names the current space; new records go there.
#[test]
fn spaces_switch() {
    let mut f = Fixture::new();
    let personal = f.app.space();
    let space = |name: &str, personal: bool| Space {
        id: SpaceId::new(),
        name: name.into(),
        personal,
    };
    let (team, read) = (space("Team Nord", false), space("Board", false));
    let mine = Space {
        id: personal,
        name: "Personal".into(),
        personal: true,
    };
    let known = |space: &Space, role| KnownSpace {
        space: space.clone(),
        role,
    };
    f.drive(report(
        Ok(Synced {
            spaces: vec![
                known(&mine, Role::Owner),
                known(&read, Role::Viewer),
                known(&team, Role::Editor),
            ],
            spaces_added: vec!["Team Nord".into(), "Board".into()],
            ..Synced::default()
        }),
        0,
    ));
    f.press("w");
    assert_eq!(f.app.space(), team.id);
    assert!(status_line(&mut f).contains("space: Team Nord"));
    f.press("w");
    assert_eq!(f.app.space(), personal, "the viewer's space is skipped");
    f.drive(Action::Run(Command::Space(read.id)));
    assert_eq!(f.app.space(), personal);
    assert!(f.app.message().expect("message").error);
    f.press(":");
    f.type_text("space nord");
    f.press("enter");
    assert_eq!(f.app.space(), team.id);
    f.press("n");
    f.type_text("Shared goal");
    let effects = f.press("ctrl-s");
    let created = effects.iter().find_map(|e| match e {
        Effect::Write(crate::tui::action::Write::Create { space, .. }) => Some(*space),
        _ => None,
    });
    assert_eq!(created, Some(team.id));
}

/// Many synced states at once (one sort per kind) give the same rows, order and
/// counts as taking them in one by one.
#[test]
fn bulk_update_matches_one_by_one() {
    use crate::tui::index::Index;
    use crate::tui::test_support::Builder;
    let mut states = Vec::new();
    for i in 0..300u32 {
        let mut b = Builder::new(RecordKind::Goal);
        b.set(
            1,
            1,
            "title",
            Value::Text(format!("Goal {:03}", (i * 7) % 300)),
            &[],
        );
        if i % 50 == 0 {
            b.set(2, 2, "title", Value::Text("rival".into()), &[]);
        }
        let mut state = b.state();
        state.id = cairn_common::RecordId::new();
        states.push(state);
    }
    let (first, rest) = states.split_at(10);
    let mut bulk = Index::build(first.to_vec());
    let mut single = Index::build(first.to_vec());
    bulk.update_many(rest);
    rest.iter().for_each(|s| single.update(s));
    let order = |index: &Index| {
        let kind = index.kind(RecordKind::Goal);
        kind.order()
            .iter()
            .map(|&i| kind.row(i).expect("row").id)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&bulk), order(&single));
    assert_eq!(bulk.conflicts(), single.conflicts());
    assert_eq!(bulk.conflicts(), 6);
    assert_eq!(bulk.kind(RecordKind::Goal).live(), 300);
}

/// Records a `cairn` command in another shell added or changed show at once: a new
/// goal gets its row, the selected goal's details show its new title, and the status
/// bar says where the change came from; no change says nothing.
#[test]
fn records_changed_by_a_shell_command_show_at_once() {
    let mut f = Fixture::new();
    let selected = f.app.visible_ids()[0];
    let space = f.replica.identity().personal_space;
    let title = |t: &str| vec![("title".to_owned(), Value::Text(t.into()))];
    let (id, ops) = f
        .replica
        .create_ops(
            RecordKind::Goal,
            space,
            title("Added from the shell"),
            today(),
        )
        .expect("ops");
    f.replica.commit(&ops).expect("commit");
    let before = f.replica.record(&selected).expect("read").expect("present");
    let retitle = f.replica.update_ops(&before, title("Renamed in the shell"));
    f.replica.commit(&retitle.expect("ops")).expect("commit");
    let states: Vec<_> = [id, selected]
        .iter()
        .map(|id| f.replica.record(id).expect("read").expect("present"))
        .collect();

    f.drive(Action::RecordsChanged(Vec::new()));
    assert!(f.app.message().is_none(), "nothing changed, nothing said");
    f.drive(Action::RecordsChanged(states));
    assert!(f.app.visible_ids().contains(&id));
    assert!(f.titles().contains(&"Added from the shell".to_owned()));
    let detail = f.app.detail.state.as_ref().expect("details");
    assert_eq!(detail.title(), "Renamed in the shell");
    let message = f.app.message().expect("message").text.clone();
    assert_eq!(message, "2 records changed by a `cairn` command");
}
