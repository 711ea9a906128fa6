//! `cairn spaces consents SPACE [--json]`: the evidence of consent of a space's
//! members (owners only): who accepted or withdrew from which version of the
//! server's privacy notice, when, from which network.

use cairn_common::api::consent::{ConsentAction, ConsentList};
use cairn_common::api::{SpaceRef, endpoints};
use serde_json::json;

use super::spaces::{find_space, when};
use super::{json_line, table};
use crate::sync::Client;

/// The records as a table, or JSON for scripts and archives.
///
/// # Errors
/// The space is not found, the caller is no owner, or the server cannot be reached.
pub fn show(client: &Client, space: &str, as_json: bool) -> anyhow::Result<String> {
    let space = find_space(client, space)?;
    let list: ConsentList = client.call::<endpoints::Consents>(&SpaceRef {
        space: space.space.id,
    })?;
    let action = |a: ConsentAction| match a {
        ConsentAction::Accepted => "accepted",
        ConsentAction::Withdrawn => "withdrawn",
    };
    if as_json {
        return json_line(&json!(
            list.entries
                .iter()
                .map(|e| json!({
                    "user": e.user.to_string(),
                    "email": e.email,
                    "version": e.version,
                    "action": action(e.action),
                    "at_ms": e.at_ms,
                    "address": e.address,
                }))
                .collect::<Vec<_>>()
        ));
    }
    if list.entries.is_empty() {
        return Ok(format!(
            "No consent records for the members of \"{}\".\n",
            space.space.name
        ));
    }
    let header = ["when", "e-mail", "action", "version", "network"]
        .map(String::from)
        .to_vec();
    let rows: Vec<Vec<String>> = list
        .entries
        .iter()
        .map(|e| {
            vec![
                when(e.at_ms),
                e.email.clone(),
                action(e.action).to_owned(),
                e.version.clone(),
                e.address.clone(),
            ]
        })
        .collect();
    Ok(table::render(&header, &rows))
}
