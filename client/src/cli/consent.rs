//! Reading and accepting the server's privacy notice, shared by `cairn account
//! consent`, `cairn join`, and `login`/`sync` when the server asks for it first.
//!
//! Acceptance is explicit: at a terminal the notice is shown and the answer must be
//! `yes`; without a terminal only `--yes` accepts (after reading the notice with
//! `cairn account consent --show`).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use cairn_common::api::consent::{AcceptNotice, Notice};
use cairn_common::api::{Empty, endpoints};

use crate::sync::Client;

/// The server's notice.
///
/// # Errors
/// The server cannot be reached or refuses.
pub fn fetch(client: &Client) -> anyhow::Result<Notice> {
    Ok(client.call::<endpoints::PrivacyNotice>(&Empty)?)
}

/// Asks to accept `notice`: true with `assume_yes`; at a terminal, shows it and
/// takes `yes`; else fails saying how to read and accept it.
///
/// # Errors
/// No terminal and no `--yes`, an answer other than `yes`, or a terminal error.
pub fn ask(notice: &Notice, assume_yes: bool) -> anyhow::Result<()> {
    if assume_yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "the server's privacy notice (version {}) must be accepted first: read it with \
             `cairn account consent --show`, then accept it with `cairn account consent --yes`",
            notice.version
        );
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "\n{}\n", notice.text.trim_end())?;
    write!(
        err,
        "Do you accept this privacy notice (version {})? Type yes to accept: ",
        notice.version
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    if answer.trim().eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        bail!(
            "not accepted; nothing was changed. Without accepting the privacy notice this \
             server cannot be used; `cairn account consent` asks again"
        )
    }
}

/// Fetches the notice, asks, and accepts it on the server for the client's
/// session; the version accepted.
///
/// # Errors
/// As [`fetch`] and [`ask`], or the server refuses.
pub fn accept(client: &Client, assume_yes: bool) -> anyhow::Result<String> {
    let notice = fetch(client)?;
    ask(&notice, assume_yes)?;
    client.call::<endpoints::ConsentAccept>(&AcceptNotice {
        version: notice.version.clone(),
    })?;
    Ok(notice.version)
}
