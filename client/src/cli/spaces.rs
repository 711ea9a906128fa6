//! `cairn spaces list|create|add-member|remove-member|role|invite|invitations|
//! revoke-invitation`: the spaces on the server, who is in them, and who is invited. SPACE is a space's name or the start of its id.

use cairn_common::api::invitations::{
    CreateInvitation, InvitationId, InvitationInfo, InvitationList, RevokeInvitation,
};
use cairn_common::api::{
    CreateSpace, Empty, MemberList, SetMember, SpaceInfo, SpaceList, SpaceRef, endpoints,
};
use cairn_common::model::Role;
use serde_json::json;

use super::{consent_records, json_line, table};
use crate::paths::Paths;
use crate::sync::{Client, Session, SyncError};

/// Manage spaces and their members on the server.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cairn spaces list
  cairn spaces create \"Team Nord\"
  cairn spaces add-member \"Team Nord\" ben@example.com --role viewer
  cairn spaces role \"Team Nord\" ben@example.com editor
  cairn spaces remove-member 0193f2 ben@example.com")]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// The spaces you are a member of, with your role
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Create a shared space (you become its owner)
    Create {
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Add someone with an account to a space (owners only)
    AddMember {
        /// The space's name or the start of its id
        space: String,
        email: String,
        /// owner, editor or viewer
        #[arg(long, default_value = "editor", value_parser = parse_role)]
        role: Role,
        /// Print the members as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove someone from a space (owners only)
    RemoveMember {
        space: String,
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Invite an e-mail address to a space (owners only): the server mails a
    /// one-time link; the invitee joins with `cairn join LINK`
    Invite {
        space: String,
        email: String,
        /// editor or viewer
        #[arg(long, default_value = "editor", value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        json: bool,
    },
    /// A space's invitations: open, used, revoked and expired (owners only)
    Invitations {
        space: String,
        #[arg(long)]
        json: bool,
    },
    /// The members' consent to the privacy notice, as evidence: who accepted or
    /// withdrew from which version, when, from which network (owners only)
    Consents {
        space: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an open invitation by its id (or the start of it) (owners only)
    RevokeInvitation { space: String, id: String },
    /// Change someone's role in a space (owners only)
    Role {
        space: String,
        email: String,
        /// owner, editor or viewer
        #[arg(value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "use owner, editor or viewer".to_owned())
}

pub fn run(paths: &Paths, args: &Args) -> anyhow::Result<String> {
    let session = Session::load(&paths.data_dir)?.ok_or(SyncError::NotLoggedIn)?;
    let client = session.client()?;
    match &args.action {
        Action::List { json } => {
            let list: SpaceList = client.call::<endpoints::Spaces>(&Empty)?;
            if *json {
                return json_line(&json!(
                    list.spaces.iter().map(space_json).collect::<Vec<_>>()
                ));
            }
            let header = ["id", "name", "role", "kind"].map(String::from).to_vec();
            let rows: Vec<Vec<String>> = list
                .spaces
                .iter()
                .map(|s| {
                    vec![
                        s.space.id.short(),
                        s.space.name.clone(),
                        s.role.to_string(),
                        if s.space.personal {
                            "personal"
                        } else {
                            "shared"
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            Ok(table::render(&header, &rows))
        }
        Action::Create { name, json } => {
            let info: SpaceInfo =
                client.call::<endpoints::SpacesCreate>(&CreateSpace { name: name.clone() })?;
            if *json {
                return json_line(&space_json(&info));
            }
            Ok(format!(
                "Created the space \"{}\" ({}); you are its owner. `cairn sync` brings it here.\n",
                info.space.name,
                info.space.id.short()
            ))
        }
        Action::AddMember {
            space,
            email,
            role,
            json,
        } => set_member(&client, space, email, Some(*role), *json),
        Action::Invite {
            space,
            email,
            role,
            json,
        } => {
            let space = find_space(&client, space)?;
            let info: InvitationInfo =
                client.call::<endpoints::InvitationsCreate>(&CreateInvitation {
                    space: space.space.id,
                    email: email.clone(),
                    role: *role,
                })?;
            if *json {
                return json_line(&invitation_json(&info));
            }
            Ok(format!(
                "Invited {} to \"{}\" as {}; the link goes by mail and works once, until {} \
                 (invitation {}).\n",
                info.email,
                space.space.name,
                info.role,
                when(info.expires_at_ms),
                short(info.id)
            ))
        }
        Action::Invitations { space, json } => {
            let space = find_space(&client, space)?;
            let list: InvitationList = client.call::<endpoints::Invitations>(&SpaceRef {
                space: space.space.id,
            })?;
            if *json {
                return json_line(&json!(
                    list.invitations
                        .iter()
                        .map(invitation_json)
                        .collect::<Vec<_>>()
                ));
            }
            let header = ["id", "e-mail", "role", "state", "invited by", "expires"]
                .map(String::from)
                .to_vec();
            let rows: Vec<Vec<String>> = list
                .invitations
                .iter()
                .map(|i| {
                    vec![
                        short(i.id),
                        i.email.clone(),
                        i.role.to_string(),
                        i.state.name().to_owned(),
                        i.invited_by.clone(),
                        when(i.expires_at_ms),
                    ]
                })
                .collect();
            Ok(table::render(&header, &rows))
        }
        Action::Consents { space, json } => consent_records::show(&client, space, *json),
        Action::RevokeInvitation { space, id } => {
            let space = find_space(&client, space)?;
            let list: InvitationList = client.call::<endpoints::Invitations>(&SpaceRef {
                space: space.space.id,
            })?;
            let wanted: String = id.to_lowercase().chars().filter(|c| *c != '-').collect();
            let found: Vec<_> = list
                .invitations
                .iter()
                .filter(|i| !wanted.is_empty() && i.id.0.simple().to_string().starts_with(&wanted))
                .collect();
            let invitation = match found.as_slice() {
                [one] => *one,
                [] => anyhow::bail!(
                    "no invitation of \"{}\" has an id starting with {id}; see `cairn spaces \
                     invitations`",
                    space.space.name
                ),
                _ => anyhow::bail!("{id} fits more than one invitation; give more of its id"),
            };
            client.call::<endpoints::InvitationsRevoke>(&RevokeInvitation {
                space: space.space.id,
                id: invitation.id,
            })?;
            Ok(format!(
                "Revoked the invitation of {}: its link no longer works.\n",
                invitation.email
            ))
        }
        Action::RemoveMember { space, email, json } => {
            set_member(&client, space, email, None, *json)
        }
        Action::Role {
            space,
            email,
            role,
            json,
        } => set_member(&client, space, email, Some(*role), *json),
    }
}

fn set_member(
    client: &Client,
    space: &str,
    email: &str,
    role: Option<Role>,
    json: bool,
) -> anyhow::Result<String> {
    let info = find_space(client, space)?;
    let members: MemberList = client.call::<endpoints::SpacesMember>(&SetMember {
        space: info.space.id,
        email: email.to_owned(),
        role,
    })?;
    if json {
        return json_line(&json!({
            "space": space_json(&info),
            "members": members.members.iter().map(|m| json!({
                "email": m.user.email,
                "first_name": m.user.first_name,
                "last_name": m.user.last_name,
                "role": m.role.to_string(),
            })).collect::<Vec<_>>(),
        }));
    }
    let done = match role {
        Some(role) => format!("{email} is now {role} in \"{}\".\n", info.space.name),
        None => format!("{email} was removed from \"{}\".\n", info.space.name),
    };
    let header = ["member", "role"].map(String::from).to_vec();
    let rows: Vec<Vec<String>> = members
        .members
        .iter()
        .map(|m| vec![m.user.email.clone(), m.role.to_string()])
        .collect();
    Ok(done + &table::render(&header, &rows))
}

/// The space named by `text`: its exact name (any case), or the start or end of its id.
pub(super) fn find_space(client: &Client, text: &str) -> anyhow::Result<SpaceInfo> {
    let list: SpaceList = client.call::<endpoints::Spaces>(&Empty)?;
    let wanted = text.trim().to_lowercase();
    let by_name: Vec<&SpaceInfo> = list
        .spaces
        .iter()
        .filter(|s| s.space.name.to_lowercase() == wanted)
        .collect();
    let hex: String = wanted.chars().filter(|c| *c != '-').collect();
    let found: Vec<&SpaceInfo> = if by_name.is_empty() && hex.len() >= 4 {
        list.spaces
            .iter()
            .filter(|s| {
                let id = s.space.id.0.simple().to_string();
                id.starts_with(&hex) || id.ends_with(&hex)
            })
            .collect()
    } else {
        by_name
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!(
            "you are in no space named or with an id starting {text:?}; `cairn spaces list` shows them"
        ),
        more => anyhow::bail!(
            "{text:?} matches {} spaces; give more of the id (`cairn spaces list` shows them)",
            more.len()
        ),
    }
}

fn space_json(info: &SpaceInfo) -> serde_json::Value {
    json!({
        "id": info.space.id.to_string(),
        "name": info.space.name,
        "role": info.role.to_string(),
        "personal": info.space.personal,
    })
}

fn invitation_json(i: &InvitationInfo) -> serde_json::Value {
    json!({
        "id": i.id.to_string(),
        "space": i.space.map(|s| s.to_string()),
        "email": i.email,
        "role": i.role.to_string(),
        "state": i.state.name(),
        "invited_by": i.invited_by,
        "created_at_ms": i.created_at_ms,
        "expires_at_ms": i.expires_at_ms,
    })
}

/// An invitation's short id: the first 8 hex digits.
fn short(id: InvitationId) -> String {
    id.0.simple().to_string().chars().take(8).collect()
}

/// A time as the local date and minute.
pub(super) fn when(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}
