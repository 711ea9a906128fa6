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
