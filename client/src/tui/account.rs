//! The app's side of what lives only on the server: the privacy notice, shown when a
//! sync round is refused until the user accepts its new version (or when asked for
//! from the palette), and the notification settings. The calls themselves run on
//! another thread (`server_calls.rs`); this file asks for them and takes in the
//! answers, without I/O, like the rest of [`App::update`](super::App::update).

use crossterm::event::KeyEvent;

use super::action::{Effect, ServerAnswer, ServerCall, SyncProblem};
use super::app::{App, SyncStatus};
use super::notice::{Acceptance, NoticeOutcome, NoticeView};
use super::notifications::{NotificationsOutcome, NotificationsView};
use super::popups::Popup;
use super::text;
use cairn_common::api::consent::Notice;
use cairn_common::api::notifications::NotificationSettings;

/// What the app keeps of the privacy notice between the calls.
#[derive(Debug, Default)]
pub struct AccountState {
    /// A notice is being fetched: one fetch at a time, however many rounds fail.
    fetching_notice: bool,
    /// A fetched notice that waits until nothing is being typed (see
    /// [`App::show_waiting_notice`]).
    waiting: Option<NoticeView>,
}

impl App {
    /// Fetches the privacy notice to show it, unless it is on screen, waiting to be
    /// shown or on its way already. `asked`: the user asked for it by name.
    pub(super) fn fetch_notice(&mut self, asked: bool) -> Vec<Effect> {
        let shown = matches!(self.popup, Some(Popup::Notice(_)));
        if shown || self.account.fetching_notice || self.account.waiting.is_some() {
            return Vec::new();
        }
        if asked {
            self.info(text::NOTICE_FETCHING.to_owned());
        }
        self.account.fetching_notice = true;
        vec![Effect::Server(ServerCall::FetchNotice)]
    }

    /// Shows a fetched notice once no popup is open and the filter is not being
    /// typed: a popup that came up under someone's fingers would take their next
    /// keys, and `y` accepts.
    pub(super) fn show_waiting_notice(&mut self) {
        if self.popup.is_some() || self.view().editing || self.quitting {
            return;
        }
        if let Some(view) = self.account.waiting.take() {
            self.popup = Some(Popup::Notice(view));
        }
    }

    /// A round went through, so the notice was accepted (from another shell, say):
    /// one shown or waiting because sync needed it has nothing left to ask.
    pub(super) fn notice_no_longer_needed(&mut self) {
        self.account.waiting = None;
        if let Some(Popup::Notice(view)) = &self.popup
            && view.is_blocking()
            && view.acceptance() != &Acceptance::Sending
        {
            self.popup = None;
        }
    }

    /// Takes in what the server said to a call made outside sync.
    pub(super) fn on_server_answer(&mut self, answer: ServerAnswer) -> Vec<Effect> {
        match answer {
            ServerAnswer::Notice(result) => {
                self.on_notice(result);
                Vec::new()
            }
            ServerAnswer::NoticeAccepted(result) => self.on_notice_accepted(result),
            ServerAnswer::Notifications(result) => self.on_notifications(result),
        }
    }

    fn on_notice(&mut self, result: Result<Notice, SyncProblem>) {
        self.account.fetching_notice = false;
        match (result, &mut self.popup) {
            // A newer version after an acceptance was refused: read it, then accept.
            (Ok(notice), Some(Popup::Notice(view))) => view.replace(notice),
            (Ok(notice), _) => {
                let blocking = self.sync == SyncStatus::ConsentRequired;
                self.account.waiting = Some(NoticeView::new(notice, blocking));
            }
            // The popup already says why its acceptance failed.
            (Err(_), Some(Popup::Notice(_))) => {}
            (Err(problem), _) => self.error(text::server_problem(&problem, text::NOTICE_WHERE)),
        }
    }

    fn on_notice_accepted(&mut self, result: Result<String, SyncProblem>) -> Vec<Effect> {
        match result {
            Ok(version) => {
                if matches!(self.popup, Some(Popup::Notice(_))) {
                    self.popup = None;
                }
                self.account.waiting = None;
                self.info(text::notice_accepted(&version));
                // A round is asked for at once: the status bar says so until it starts.
                self.sync = SyncStatus::Syncing;
                vec![Effect::Sync]
            }
            Err(problem) => {
                let reason = text::problem_reason(&problem);
                match &mut self.popup {
                    Some(Popup::Notice(view)) => view.set_acceptance(Acceptance::Failed(reason)),
                    _ => self.error(text::notice_failed(&reason)),
                }
                // A refusal may mean that the notice changed again meanwhile: the
                // popup gets the server's current one, to read and accept.
                let refused = matches!(problem, SyncProblem::Failed(_));
                if refused && !self.account.fetching_notice {
                    self.account.fetching_notice = true;
                    return vec![Effect::Server(ServerCall::FetchNotice)];
                }
                Vec::new()
            }
        }
    }

    /// A key for the notice popup.
    pub(super) fn on_notice_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(Popup::Notice(view)) = &mut self.popup else {
            return Vec::new();
        };
        match view.handle_key(key, &self.config.keys) {
            NoticeOutcome::Consumed => Vec::new(),
            NoticeOutcome::Accept(version) => {
                view.set_acceptance(Acceptance::Sending);
                vec![Effect::Server(ServerCall::AcceptNotice { version })]
            }
            NoticeOutcome::Close => {
                let sending = view.acceptance() == &Acceptance::Sending;
                self.popup = None;
                if self.sync == SyncStatus::ConsentRequired && !sending {
                    self.error(text::NOTICE_NOT_ACCEPTED.to_owned());
                }
                Vec::new()
            }
        }
    }

    /// The palette's "notifications": the popup, and the settings asked for.
    pub(super) fn open_notifications(&mut self) -> Vec<Effect> {
        self.popup = Some(Popup::Notifications(NotificationsView::default()));
        vec![Effect::Server(ServerCall::LoadNotifications)]
    }

    fn on_notifications(
        &mut self,
        result: Result<NotificationSettings, SyncProblem>,
    ) -> Vec<Effect> {
        if result == Err(SyncProblem::ConsentRequired) {
            // Nothing can be read or changed before the notice is accepted: it takes
            // the popup's place.
            if matches!(self.popup, Some(Popup::Notifications(_))) {
                self.popup = None;
            }
            self.sync = SyncStatus::ConsentRequired;
            self.error(text::server_problem(
                &SyncProblem::ConsentRequired,
                text::NOTIFICATIONS_WHERE,
            ));
            return self.fetch_notice(false);
        }
        // An answer for a popup closed meanwhile has nobody to show it to.
        if let Some(Popup::Notifications(view)) = &mut self.popup {
            view.answered(
                result.map_err(|problem| text::server_problem(&problem, text::NOTIFICATIONS_WHERE)),
            );
        }
        Vec::new()
    }

    /// A key for the notifications popup.
    pub(super) fn on_notifications_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(Popup::Notifications(view)) = &mut self.popup else {
            return Vec::new();
        };
        match view.handle_key(key, &self.config.keys) {
            NotificationsOutcome::Consumed => Vec::new(),
            NotificationsOutcome::Close => {
                self.popup = None;
                Vec::new()
            }
            NotificationsOutcome::Set(change) => {
                vec![Effect::Server(ServerCall::SetNotifications(change))]
            }
        }
    }
}
