//! The suite's cases for consent records and invitations.

use cairn_common::api::consent::{ConsentAction, ConsentEntry};
use cairn_common::api::invitations::{InvitationId, InvitationState};
use cairn_common::model::{Role, UserId};

use super::cases::user;
use crate::store::invitations::InvitationRecord;
use crate::store::{PurgeTarget, Store, StoreError};

fn consent(user: UserId, version: &str, action: ConsentAction, at_ms: u64) -> ConsentEntry {
    ConsentEntry {
        user,
        email: "ann@example.com".into(),
        version: version.into(),
        action,
        at_ms,
        address: "10.0.0.0/24".into(),
    }
}

fn invitation(
    email: &str,
    space: Option<cairn_common::model::SpaceId>,
    by: UserId,
    code: u8,
) -> InvitationRecord {
    InvitationRecord {
        id: InvitationId::new(),
        space,
        email: email.into(),
        role: Role::Editor,
        invited_by: by,
        invited_by_name: "Ann".into(),
        created_at_ms: 100 + u64::from(code),
        expires_at_ms: 1_000,
        code_hash: [code; 32],
        used_at_ms: None,
        revoked_at_ms: None,
        purpose: crate::store::invitations::CodePurpose::Join,
    }
}

/// Acceptances and withdrawals are all kept, oldest first; the current consent
/// is the last acceptance, none after a withdrawal; a purge keeps the records
/// under the pseudonym with the e-mail and address blanked.
pub async fn consent_is_kept_as_evidence(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    let bob = user(store, "bob@example.com").await.expect("bob");
    assert_eq!(store.accepted_notice(ann).await.expect("none"), None);
    store
        .record_consent(&consent(ann, "1", ConsentAction::Accepted, 10))
        .await
        .expect("accept 1");
    store
        .record_consent(&consent(ann, "2", ConsentAction::Accepted, 20))
        .await
        .expect("accept 2");
    store
        .record_consent(&consent(bob, "2", ConsentAction::Accepted, 15))
        .await
        .expect("bob");
    assert_eq!(
        store.accepted_notice(ann).await.expect("2").as_deref(),
        Some("2")
    );
    store
        .record_consent(&consent(ann, "2", ConsentAction::Withdrawn, 30))
        .await
        .expect("withdraw");
    assert_eq!(store.accepted_notice(ann).await.expect("gone"), None);
    let anns = store.consents(Some(&[ann])).await.expect("ann's");
    assert_eq!(
        anns.iter().map(|e| (e.at_ms, e.action)).collect::<Vec<_>>(),
        [
            (10, ConsentAction::Accepted),
            (20, ConsentAction::Accepted),
            (30, ConsentAction::Withdrawn)
        ]
    );
    assert_eq!(store.consents(None).await.expect("all").len(), 4);

    let outcome = store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge");
    let pseudonym = outcome.pseudonym.expect("pseudonym");
    assert!(store.consents(Some(&[ann])).await.expect("none").is_empty());
    let kept = store.consents(Some(&[pseudonym])).await.expect("kept");
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .all(|e| e.email.is_empty() && e.address.is_empty())
    );
    assert_eq!(
        store.accepted_notice(bob).await.expect("bob").as_deref(),
        Some("2")
    );
}

/// An invitation is found by its code's hash, listed per space, used once, and
/// refused when expired, used or revoked; revoking needs the right space; a
/// purge of the invited address or of the space removes invitations.
pub async fn invitations_are_used_once(store: &Store) {
    let ann = user(store, "ann@example.com").await.expect("ann");
    let team = store
        .create_space(ann, "Team")
        .await
        .expect("team")
        .space
        .id;
    let other = store
        .create_space(ann, "Other")
        .await
        .expect("other")
        .space
        .id;
    let to_bob = invitation("bob@example.com", Some(team), ann, 1);
    let to_cem = invitation("cem@example.com", Some(team), ann, 2);
    let to_dan = invitation("dan@example.com", Some(other), ann, 3);
    for record in [&to_bob, &to_cem, &to_dan] {
        store.create_invitation(record).await.expect("create");
    }
    let listed = store.invitations(Some(team)).await.expect("list");
    assert_eq!(
        listed.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(),
        ["cem@example.com", "bob@example.com"],
        "newest first"
    );
    assert_eq!(
        store.invitation_by_code(&[1; 32]).await.expect("by code"),
        Some(to_bob.clone())
    );
    assert_eq!(
        store.invitation_by_code(&[9; 32]).await.expect("none"),
        None
    );

    let used = store.use_invitation(&[1; 32], 500).await.expect("use");
    assert_eq!((used.id, used.used_at_ms), (to_bob.id, Some(500)));
    assert!(matches!(
        store.use_invitation(&[1; 32], 501).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            store.use_invitation(&[2; 32], 1_000).await,
            Err(StoreError::NotFound(_))
        ),
        "expired"
    );
    assert!(
        matches!(
            store.revoke_invitation(other, to_cem.id, 600).await,
            Err(StoreError::NotFound(_))
        ),
        "another space's"
    );
    store
        .revoke_invitation(team, to_cem.id, 600)
        .await
        .expect("revoke");
    assert!(matches!(
        store.revoke_invitation(team, to_cem.id, 601).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        matches!(
            store.use_invitation(&[2; 32], 602).await,
            Err(StoreError::NotFound(_))
        ),
        "revoked"
    );
    let states: Vec<_> = store
        .invitations(Some(team))
        .await
        .expect("list")
        .iter()
        .map(|i| i.state(700))
        .collect();
    assert_eq!(states, [InvitationState::Revoked, InvitationState::Used]);

    store
        .purge(&PurgeTarget::Space(other))
        .await
        .expect("purge the space");
    assert_eq!(
        store.invitation_by_code(&[3; 32]).await.expect("gone"),
        None
    );
    let to_eve = invitation("eve@example.com", Some(team), ann, 4);
    store.create_invitation(&to_eve).await.expect("eve");
    user(store, "eve@example.com").await.expect("eve's account");
    store
        .purge(&PurgeTarget::User("eve@example.com".into()))
        .await
        .expect("purge eve");
    assert_eq!(
        store.invitation_by_code(&[4; 32]).await.expect("gone"),
        None
    );
    assert_eq!(store.invitations(Some(team)).await.expect("list").len(), 2);
}

/// A choice of mails is kept per user, listed for the digest, replaced by the
/// next choice, and goes with a purge of its user (not another's).
pub async fn notification_choices_are_kept(store: &Store) {
    use cairn_common::api::notifications::NotificationSettings;

    use crate::store::notifications::NotificationRecord;

    let ann = user(store, "ann@example.com").await.expect("ann");
    let bob = user(store, "bob@example.com").await.expect("bob");
    assert_eq!(store.notifications(ann).await.expect("none"), None);
    let first = NotificationRecord::new(NotificationSettings::ALL, 10);
    assert_eq!(first.stop_token.len(), 32);
    store.set_notifications(ann, &first).await.expect("set");
    let only_due = NotificationRecord {
        settings: NotificationSettings {
            due: true,
            ..NotificationSettings::default()
        },
        ..NotificationRecord::new(NotificationSettings::default(), 20)
    };
    store.set_notifications(bob, &only_due).await.expect("bob");
    let changed = NotificationRecord {
        settings: NotificationSettings::default(),
        changed_ms: 30,
        ..first.clone()
    };
    store
        .set_notifications(ann, &changed)
        .await
        .expect("change");
    assert_eq!(
        store.notifications(ann).await.expect("read"),
        Some(changed.clone())
    );
    let mut all = store.all_notifications().await.expect("all");
    all.sort_by_key(|(u, _)| *u);
    let mut expected = vec![(ann, changed), (bob, only_due.clone())];
    expected.sort_by_key(|(u, _)| *u);
    assert_eq!(all, expected);
    store
        .purge(&PurgeTarget::User("ann@example.com".into()))
        .await
        .expect("purge ann");
    assert_eq!(
        store.all_notifications().await.expect("after purge"),
        vec![(bob, only_due)]
    );
}
