//! Accounts, sessions and memberships on a real PostgreSQL, including what two
//! servers on one database could get wrong at the same moment.

use cairn_common::model::{Role, UserId};

use super::super::tests::fresh;
use super::{NewAccount, PgStore};
use crate::store::StoreError;

fn account(email: &str) -> NewAccount {
    NewAccount {
        email: email.into(),
        first_name: "Ann".into(),
        last_name: "Lee".into(),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into(),
        must_change_password: false,
        server_admin: false,
        created_at_ms: 1_000,
    }
}

async fn user(store: &PgStore, name: &str) -> UserId {
    store
        .create_user(account(&format!("{name}@example.com")))
        .await
        .expect("create")
        .id
}

/// An account comes with its personal space; e-mails are unique whichever server
/// creates them, even at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accounts_are_unique_across_servers() {
    let (_pg, url, first) = fresh().await;
    let second = PgStore::connect(&url, 4).await.expect("second server");
    let ann = user(&first, "ann").await;
    let found = second
        .user_by_email("ANN@example.com")
        .await
        .expect("lookup")
        .expect("there");
    assert_eq!(found.profile.id, ann);
    let spaces = second.spaces_of(ann).await.expect("spaces");
    assert_eq!(spaces.len(), 1);
    assert!(spaces[0].space.personal && spaces[0].role == Role::Owner);
    assert!(matches!(
        second.create_user(account("ann@example.com")).await,
        Err(StoreError::DuplicateEmail(_))
    ));
    for n in 0..10 {
        let email = format!("race{n}@example.com");
        let (a, b) = tokio::join!(
            first.create_user(account(&email)),
            second.create_user(account(&email))
        );
        assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    }
    assert_eq!(first.list_users().await.expect("list").len(), 11);
}

/// Sessions are found by hash and listed per user; disabling ends them all, a reset
/// sets the must-change gate and ends them, one's own new password keeps one.
#[tokio::test]
async fn sessions_end_with_disable_reset_and_password_change() {
    let (_pg, _url, store) = fresh().await;
    let ann = user(&store, "ann").await;
    for (n, device) in [(1u8, "laptop"), (2, "phone"), (3, "tablet")] {
        store
            .create_session(&[n; 32], ann, device, u64::from(n), 100)
            .await
            .expect("session");
    }
    let listed = store.sessions_of(ann).await.expect("list");
    let devices: Vec<_> = listed.iter().map(|(_, s)| s.device.as_str()).collect();
    assert_eq!(devices, ["laptop", "phone", "tablet"]);
    store.revoke_session(ann, &[2; 32]).await.expect("revoke");
    assert!(store.session(&[2; 32]).await.expect("get").is_none());
    store
        .set_own_password(ann, "new hash".into(), Some(&[1; 32]))
        .await
        .expect("own password");
    let left: Vec<_> = store
        .sessions_of(ann)
        .await
        .expect("list")
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(left, [[1; 32]]);
    store
        .reset_password("ann@example.com", "reset hash".into())
        .await
        .expect("reset");
    let record = store.user(ann).await.expect("get").expect("there");
    assert!(record.must_change_password);
    assert_eq!(record.password_hash, "reset hash");
    assert!(store.sessions_of(ann).await.expect("list").is_empty());
    store
        .create_session(&[4; 32], ann, "laptop", 4, 100)
        .await
        .expect("session");
    store
        .set_disabled("ann@example.com", true)
        .await
        .expect("disable");
    assert!(store.session(&[4; 32]).await.expect("get").is_none());
    assert!(matches!(
        store.set_disabled("nobody@example.com", true).await,
        Err(StoreError::NoSuchUser(_))
    ));
}

/// Owners manage members; others get "not found" or "forbidden"; the last owner
/// stays; a personal space is not shared.
#[tokio::test]
async fn membership_rules() {
    let (_pg, _url, store) = fresh().await;
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let eve = user(&store, "eve").await;
    let team = store
        .create_space(ann, "Team".into())
        .await
        .expect("create");
    let id = team.space.id;
    let (list, before) = store
        .set_member(ann, id, "BOB@example.com", Some(Role::Viewer))
        .await
        .expect("add bob");
    assert_eq!((list.members.len(), before), (2, None));
    assert_eq!(
        store.role_of(id, bob).await.expect("role"),
        Some(Role::Viewer)
    );
    assert!(matches!(
        store
            .set_member(bob, id, "eve@example.com", Some(Role::Editor))
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.members(eve, id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.rename_space(eve, id, "Mine".into()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_member(ann, id, "ann@example.com", None).await,
        Err(StoreError::Conflict(_))
    ));
    let personal = store.spaces_of(ann).await.expect("spaces")[0].space.id;
    assert!(matches!(
        store
            .set_member(ann, personal, "bob@example.com", Some(Role::Editor))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let renamed = store
        .rename_space(ann, id, "Platform".into())
        .await
        .expect("rename");
    assert_eq!(renamed.space.name, "Platform");
    let (list, before) = store
        .set_member(ann, id, "bob@example.com", None)
        .await
        .expect("remove bob");
    assert_eq!((list.members.len(), before), (1, Some(Role::Viewer)));
    assert!(store.role_of(id, bob).await.expect("role").is_none());
}

/// Two owners demote each other at the same moment on two servers: one change
/// goes through, the other is refused, and the space keeps an owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_demotions_leave_an_owner() {
    let (_pg, url, first) = fresh().await;
    let second = PgStore::connect(&url, 4).await.expect("second server");
    let ann = user(&first, "ann").await;
    let bob = user(&first, "bob").await;
    for round in 0..10 {
        let team = first
            .create_space(ann, format!("Team {round}"))
            .await
            .expect("space");
        let id = team.space.id;
        first
            .set_member(ann, id, "bob@example.com", Some(Role::Owner))
            .await
            .expect("bob owns too");
        let (a, b) = tokio::join!(
            first.set_member(ann, id, "bob@example.com", Some(Role::Editor)),
            second.set_member(bob, id, "ann@example.com", Some(Role::Editor))
        );
        assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
        let owners = first
            .members(ann, id)
            .await
            .expect("members")
            .members
            .iter()
            .filter(|m| m.role == Role::Owner)
            .count();
        assert_eq!(owners, 1);
    }
}
