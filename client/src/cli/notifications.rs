//! `cairn account notifications [on|off] [--due] [--follow-ups] [--invitations]`:
//! which mails the server sends you. All are off until you turn them on.

use anyhow::bail;
use cairn_common::api::notifications::{NotificationKind, NotificationSettings, SetNotifications};
use cairn_common::api::{Empty, endpoints};
use serde_json::json;

use super::json_line;
use crate::sync::Client;

/// Turn kinds of mail on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// `notifications`' arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// on or off; without it, show what is on
    #[arg(value_enum)]
    switch: Option<Switch>,
    /// The daily digest's commitments and standard tasks due today or overdue
    #[arg(long)]
    due: bool,
    /// The daily digest's conversation follow-ups due today or overdue
    #[arg(long)]
    follow_ups: bool,
    /// A mail when an owner adds you to a space
    #[arg(long)]
    invitations: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

impl Args {
    /// The change asked for: the kinds named, or every kind when none is named.
    fn change(&self) -> anyhow::Result<Option<SetNotifications>> {
        let named = self.due || self.follow_ups || self.invitations;
        let Some(switch) = self.switch else {
            if named {
                bail!(
                    "say whether to turn them on or off: `cairn account notifications on \
                     --due` or `… off --due`"
                );
            }
            return Ok(None);
        };
        let on = switch == Switch::On;
        if !named {
            return Ok(Some(SetNotifications::all(on)));
        }
        let pick = |chosen: bool| chosen.then_some(on);
        Ok(Some(SetNotifications {
            due: pick(self.due),
            follow_ups: pick(self.follow_ups),
            invitations: pick(self.invitations),
        }))
    }
}

/// Shows or changes the caller's notifications.
///
/// # Errors
/// Bad arguments, or the server cannot be reached or refuses.
pub fn run(client: &Client, args: &Args) -> anyhow::Result<String> {
    let settings = match args.change()? {
        None => client.call::<endpoints::Notifications>(&Empty)?,
        Some(change) => client.call::<endpoints::NotificationsSet>(&change)?,
    };
    if args.json {
        return json_line(&json!({
            "due": settings.due,
            "follow_ups": settings.follow_ups,
            "invitations": settings.invitations,
        }));
    }
    Ok(describe(settings))
}

/// The settings in words, with how to change them.
#[must_use]
pub fn describe(settings: NotificationSettings) -> String {
    let mut out = String::new();
    for kind in NotificationKind::ALL {
        let state = if kind.is_on(settings) { "on" } else { "off" };
        out += &format!("{:<12} {state:<4} {}\n", kind.name(), kind.describe());
    }
    out += if settings.any() {
        "Every mail says how to stop it; `cairn account notifications off` stops them all.\n"
    } else {
        "No notification mail is sent to you; `cairn account notifications on` turns them on.\n"
    };
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn change(line: &[&str]) -> anyhow::Result<Option<SetNotifications>> {
        let cli = Cli::try_parse_from(std::iter::once("x").chain(line.iter().copied()))?;
        cli.args.change()
    }

    #[test]
    fn flags_name_the_kinds_and_none_means_all() {
        assert_eq!(change(&[]).expect("show"), None);
        assert_eq!(
            change(&["on"]).expect("on"),
            Some(SetNotifications::all(true))
        );
        assert_eq!(
            change(&["off"]).expect("off"),
            Some(SetNotifications::all(false))
        );
        assert_eq!(
            change(&["on", "--due", "--follow-ups"]).expect("two"),
            Some(SetNotifications {
                due: Some(true),
                follow_ups: Some(true),
                invitations: None
            })
        );
        let error = change(&["--due"]).expect_err("no switch").to_string();
        assert!(error.contains("on or off"), "{error}");
    }
}
