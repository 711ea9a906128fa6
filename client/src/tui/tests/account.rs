//! The app's side of the privacy notice and the notifications: what a refused round
//! leads to, what the keys ask the server for, and what its answers show. The
//! server's answers are handed in as the call thread would.

use cairn_common::api::consent::Notice;
use cairn_common::api::notifications::{NotificationSettings, SetNotifications};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::Fixture;
use crate::tui::action::{
    Action, Effect, ServerAnswer, ServerCall, SyncProblem, SyncReport, Synced,
};
use crate::tui::app::SyncStatus;
use crate::tui::notice::Acceptance;
use crate::tui::notifications::Exchange;
use crate::tui::popups::Popup;

fn round(result: Result<Synced, SyncProblem>) -> Action {
    Action::Synced(SyncReport {
        result,
        pending: 1,
        set_aside: crate::replica::SetAsideCounts::default(),
    })
}

fn notice(version: &str) -> Notice {
    Notice {
        version: version.into(),
        text: format!("# Privacy notice {version}\n\nWhat this server keeps."),
    }
}

fn answer(answer: ServerAnswer) -> Action {
    Action::Server(answer)
}

fn screen(f: &mut Fixture) -> String {
    f.drive(Action::Resize {
        width: 120,
        height: 30,
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
    terminal.draw(|frame| f.app.draw(frame)).expect("draw");
    terminal.backend().to_string()
}

fn asked(effects: &[Effect], call: &ServerCall) -> bool {
    effects.contains(&Effect::Server(call.clone()))
}

fn notice_acceptance(f: &Fixture) -> Option<(String, Acceptance)> {
    match &f.app.popup {
        Some(Popup::Notice(view)) => Some((view.version().to_owned(), view.acceptance().clone())),
        _ => None,
    }
}

/// A round refused for the notice fetches it once (a second refusal meanwhile asks
/// nothing more) and shows it with its version; `n` closes it, the status bar keeps
/// saying sync is paused, and the next refused round shows it again; `y` sends the
/// acceptance of the version shown, and the server's yes closes it and syncs at once.
#[test]
fn a_refused_round_shows_the_notice_until_it_is_accepted() {
    let mut f = Fixture::new();
    let effects = f.drive(round(Err(SyncProblem::ConsentRequired)));
    assert!(asked(&effects, &ServerCall::FetchNotice), "{effects:?}");
    assert_eq!(f.app.sync_status(), &SyncStatus::ConsentRequired);
    let again = f.drive(round(Err(SyncProblem::ConsentRequired)));
    assert!(
        !asked(&again, &ServerCall::FetchNotice),
        "one fetch at a time"
    );

    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    let shown = screen(&mut f);
    assert!(shown.contains("Privacy notice — version 2"), "{shown}");
    assert!(
        shown.contains("nothing syncs until you accept it"),
        "{shown}"
    );
    f.press("n");
    assert!(f.app.popup.is_none());
    let closed = screen(&mut f);
    assert!(
        closed.contains("sync paused: accept the privacy notice"),
        "{closed}"
    );
    assert!(f.app.message().is_some_and(|m| m.error));

    let effects = f.drive(round(Err(SyncProblem::ConsentRequired)));
    assert!(asked(&effects, &ServerCall::FetchNotice), "asked again");
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    let effects = f.press("y");
    let accept = ServerCall::AcceptNotice {
        version: "2".into(),
    };
    assert!(asked(&effects, &accept), "{effects:?}");
    assert_eq!(
        notice_acceptance(&f),
        Some(("2".to_owned(), Acceptance::Sending))
    );
    assert!(!asked(&f.press("y"), &accept), "one acceptance at a time");
    let effects = f.drive(answer(ServerAnswer::NoticeAccepted(Ok("2".into()))));
    assert!(
        effects.contains(&Effect::Sync),
        "syncs at once: {effects:?}"
    );
    assert!(f.app.popup.is_none());
    assert_eq!(f.app.sync_status(), &SyncStatus::Syncing);
    f.drive(round(Ok(Synced::default())));
    assert!(screen(&mut f).contains("pending 1"));

    // Accepted elsewhere (`cairn account consent` in a shell): the next round goes
    // through and the notice it had asked for leaves the screen by itself.
    f.drive(round(Err(SyncProblem::ConsentRequired)));
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    assert!(notice_acceptance(&f).is_some());
    f.drive(round(Ok(Synced::default())));
    assert!(f.app.popup.is_none());
}

/// A notice that arrives while something is being typed waits: the keys go on to
/// what was being typed (a `y` stays a letter of the text), and the notice shows
/// once that is done. The draft in the form is kept whole.
#[test]
fn the_notice_waits_while_someone_types() {
    let mut f = Fixture::new();
    f.press("/");
    f.drive(round(Err(SyncProblem::ConsentRequired)));
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    f.type_text("y");
    assert!(f.app.popup.is_none(), "not while filtering");
    assert_eq!(f.app.filter(), "y");
    f.press("esc");
    assert!(
        notice_acceptance(&f).is_some(),
        "shown once the filter closed"
    );
    f.press("esc");

    f.press("n");
    f.type_text("Draft goal");
    f.drive(round(Err(SyncProblem::ConsentRequired)));
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    f.type_text(" by year end");
    assert!(
        matches!(f.app.popup, Some(Popup::Form(_))),
        "the form stays"
    );
    let effects = f.press("ctrl-s");
    let title = effects.iter().find_map(|e| match e {
        Effect::Write(crate::tui::action::Write::Create { fields, .. }) => fields
            .iter()
            .find(|(field, _)| field == "title")
            .map(|(_, value)| value.clone()),
        _ => None,
    });
    assert_eq!(
        title,
        Some(cairn_common::model::Value::Text(
            "Draft goal by year end".into()
        ))
    );
    assert!(notice_acceptance(&f).is_some(), "shown after the save");
}

/// From the palette: "privacy notice" fetches it, and a fetch that fails says why in
/// the status bar. An acceptance the server refuses (the notice changed again)
/// stays in the popup with the reason, and the popup gets the newer version to
/// accept; an acceptance that cannot reach the server says so and fetches nothing.
#[test]
fn failures_are_shown_where_they_happened() {
    let mut f = Fixture::new();
    f.press(":");
    f.type_text("privacy notice");
    let effects = f.press("enter");
    assert!(asked(&effects, &ServerCall::FetchNotice), "{effects:?}");
    f.drive(answer(ServerAnswer::Notice(Err(SyncProblem::Offline))));
    let message = f.app.message().expect("a message").clone();
    assert!(
        message.error && message.text.contains("cannot be reached"),
        "{message:?}"
    );

    f.press(":");
    f.type_text("privacy notice");
    f.press("enter");
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    f.press("y");
    let refusal = "the privacy notice is now version 3; read it again and accept that one";
    let effects = f.drive(answer(ServerAnswer::NoticeAccepted(Err(
        SyncProblem::Failed(refusal.into()),
    ))));
    assert!(asked(&effects, &ServerCall::FetchNotice), "{effects:?}");
    assert_eq!(
        notice_acceptance(&f),
        Some(("2".to_owned(), Acceptance::Failed(refusal.into())))
    );
    f.drive(answer(ServerAnswer::Notice(Ok(notice("3")))));
    assert!(screen(&mut f).contains("Privacy notice — version 3"));
    let effects = f.press("y");
    assert!(asked(
        &effects,
        &ServerCall::AcceptNotice {
            version: "3".into()
        }
    ));
    let effects = f.drive(answer(ServerAnswer::NoticeAccepted(Err(
        SyncProblem::Offline,
    ))));
    assert!(effects.is_empty(), "{effects:?}");
    let shown = screen(&mut f);
    assert!(
        shown.contains("Not accepted: the server cannot be reached"),
        "{shown}"
    );
}

/// "notifications" opens the popup and asks the server; its answer is shown; space
/// asks to turn the selected kind (only it) the other way, and the row changes when
/// the server answers, to what it answered.
#[test]
fn notifications_show_and_change_what_the_server_says() {
    let mut f = Fixture::new();
    f.press(":");
    f.type_text("notifications");
    let effects = f.press("enter");
    assert!(
        asked(&effects, &ServerCall::LoadNotifications),
        "{effects:?}"
    );
    assert!(screen(&mut f).contains("Asking the server"));
    f.drive(answer(ServerAnswer::Notifications(Ok(
        NotificationSettings::default(),
    ))));
    f.press("j");
    let effects = f.press("space");
    let change = SetNotifications {
        follow_ups: Some(true),
        ..SetNotifications::default()
    };
    assert!(
        asked(&effects, &ServerCall::SetNotifications(change)),
        "{effects:?}"
    );
    assert!(
        screen(&mut f).contains("[off] follow-ups"),
        "not before the answer"
    );
    f.drive(answer(ServerAnswer::Notifications(Ok(
        NotificationSettings {
            follow_ups: true,
            ..NotificationSettings::default()
        },
    ))));
    let shown = screen(&mut f);
    assert!(shown.contains("[on]  follow-ups"), "{shown}");
    assert!(shown.contains("[off] due"), "{shown}");
    f.press("esc");
    assert!(f.app.popup.is_none());
}

/// Not logged in or offline, the popup says that notifications are kept on the
/// server and what to do; a server that first wants the notice accepted gets the
/// notice shown in the popup's place.
#[test]
fn notifications_without_the_server_say_why() {
    let mut f = Fixture::new();
    f.drive(Action::Run(crate::tui::action::Command::Notifications));
    f.drive(answer(ServerAnswer::Notifications(Err(
        SyncProblem::NotLoggedIn,
    ))));
    let shown = screen(&mut f);
    assert!(
        shown.contains("Notifications are kept on the server: log in first"),
        "{shown}"
    );
    let failed = match &f.app.popup {
        Some(Popup::Notifications(view)) => view.exchange().clone(),
        _ => panic!("the popup stays open"),
    };
    assert!(matches!(failed, Exchange::Failed(_)));
    assert!(f.press("space").is_empty(), "nothing to toggle");

    f.drive(Action::Run(crate::tui::action::Command::Notifications));
    let effects = f.drive(answer(ServerAnswer::Notifications(Err(
        SyncProblem::ConsentRequired,
    ))));
    assert!(asked(&effects, &ServerCall::FetchNotice), "{effects:?}");
    assert!(f.app.popup.is_none());
    assert_eq!(f.app.sync_status(), &SyncStatus::ConsentRequired);
    f.drive(answer(ServerAnswer::Notice(Ok(notice("2")))));
    assert!(notice_acceptance(&f).is_some());
}
