//! End-to-end: the real `cairn-server` binary on 127.0.0.1 port 0, spoken to over
//! TLS with the protocol's own types.

use std::io::{Read, Write};
use std::time::Duration;

use cairn_common::api::{
    self, Cursor, Empty, Endpoint, PasswordChange, PullRequest, PullResponse, PushRequest,
    PushResponse, RefusalReason, SessionList, SetMember, SpaceInfo, endpoints,
};
use cairn_common::codec;
use cairn_common::model::{Role, SpaceId};
use cairn_common::op::OpId;
use cairn_tests::forge::{decode_error, goal_ops};
use cairn_tests::server::{Api, ServerProcess};

async fn pull_all(api: &mut Api, token: &str) -> anyhow::Result<PullResponse> {
    api.pull_all(token).await
}

/// A pull of everything with `token`, answered however it is: status and body.
async fn pull_from_start(
    api: &mut Api,
    token: &str,
) -> anyhow::Result<(hyper::StatusCode, bytes::Bytes)> {
    let request = PullRequest {
        epoch: None,
        cursors: vec![],
        max_ops: 0,
    };
    api.call(endpoints::Pull::PATH, Some(token), &request).await
}

/// Plain HTTP to the port gets no HTTP answer and no data.
#[test]
fn plain_http_gets_no_http_answer() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let mut stream = std::net::TcpStream::connect(server.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(
        !text.contains("HTTP/"),
        "plain HTTP got an HTTP answer: {text:?}"
    );
    assert!(!text.contains("ok"), "plain HTTP got data: {text:?}");
    Ok(())
}

/// Ops the server acknowledged are there after it is killed with SIGKILL and
/// restarted; a retried push is stored once.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_push_survives_sigkill_and_retries_are_stored_once() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server
        .user("ana@example.com", "correct horse battery")
        .await?;
    let mut api = server.api().await?;
    let login = api
        .login("ana@example.com", "correct horse battery")
        .await?;
    let ops = goal_ops(login.user.id, login.personal_space, "Survive the crash");
    let (status, body) = api
        .call(
            endpoints::Push::PATH,
            Some(&login.token),
            &PushRequest { ops: ops.clone() },
        )
        .await?;
    assert!(status.is_success(), "{status} {:?}", decode_error(&body));
    let ack: PushResponse = codec::decode(&body)?;
    assert_eq!((ack.stored, ack.duplicates), (2, 0));

    server.kill9()?;
    server.serve()?;

    let mut api = server.api().await?;
    let login = api
        .login("ana@example.com", "correct horse battery")
        .await?;
    let pulled = pull_all(&mut api, &login.token).await?;
    let got: Vec<OpId> = pulled
        .batches
        .iter()
        .flat_map(|b| b.ops.iter().map(|o| o.id))
        .collect();
    assert_eq!(
        got,
        ops.iter().map(|o| o.id).collect::<Vec<_>>(),
        "acknowledged ops lost in the crash"
    );

    // The client retries the same push (it never saw the ack): stored once.
    let (status, body) = api
        .call(
            endpoints::Push::PATH,
            Some(&login.token),
            &PushRequest { ops: ops.clone() },
        )
        .await?;
    assert!(status.is_success());
    let ack: PushResponse = codec::decode(&body)?;
    assert_eq!((ack.stored, ack.duplicates), (0, 2));
    let pulled = pull_all(&mut api, &login.token).await?;
    assert_eq!(pulled.batches.iter().map(|b| b.ops.len()).sum::<usize>(), 2);
    Ok(())
}

/// Malformed, truncated and oversized bodies get 400/413 with an error body, and
/// the server keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_are_refused_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let mut api = server.api().await?;

    let (status, body) = api
        .raw(endpoints::Login::PATH, None, b"\x00\x01garbage".to_vec())
        .await?;
    assert_eq!(status, 400);
    assert_eq!(decode_error(&body).code, api::codes::BAD_REQUEST);

    let mut truncated = codec::encode(&api::LoginRequest {
        email: "a".into(),
        password: "b".into(),
        device: "c".into(),
    })?;
    truncated.truncate(truncated.len() - 3);
    let (status, body) = api.raw(endpoints::Login::PATH, None, truncated).await?;
    assert_eq!(status, 400);
    assert_eq!(decode_error(&body).code, api::codes::BAD_REQUEST);

    // A hostile length prefix: header, then "1 TiB of string follows".
    let mut hostile = codec::MAGIC.to_vec();
    hostile.extend_from_slice(&codec::FORMAT_VERSION.to_be_bytes());
    hostile.push(0xFD);
    hostile.extend_from_slice(&(1u64 << 40).to_le_bytes());
    let (status, _) = api.raw(endpoints::Login::PATH, None, hostile).await?;
    assert_eq!(status, 400);

    // Oversized: the server answers 413 from the Content-Length alone, without reading
    // the body; over h2 the answer arrives while the upload is refused.
    let oversized = vec![0u8; usize::try_from(api::MAX_BODY_BYTES)? + 1];
    let mut fresh = server.api_h2().await?;
    let (status, body) = fresh.raw(endpoints::Login::PATH, None, oversized).await?;
    assert_eq!(status, 413);
    assert_eq!(decode_error(&body).code, api::codes::TOO_LARGE);

    let mut again = server.api().await?;
    assert_eq!(again.health().await?, 200);
    let login = again.login("admin", &server.admin_password).await?;
    assert!(login.must_change_password);
    Ok(())
}

/// The standard account is refused everything but the password change until it
/// changes its password, with a message that says how.
#[tokio::test(flavor = "multi_thread")]
async fn standard_account_is_gated_until_its_password_changes() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let mut api = server.api().await?;
    let login = api.login("admin", &server.admin_password).await?;
    let (status, body) = pull_from_start(&mut api, &login.token).await?;
    assert_eq!(status, 403);
    let error = decode_error(&body);
    assert_eq!(error.code, api::codes::PASSWORD_CHANGE_REQUIRED);
    assert!(error.message.contains("cairn passwd"), "{}", error.message);

    let change = PasswordChange {
        current: server.admin_password.clone(),
        new: "a much better secret".into(),
    };
    let (status, _) = api
        .call(endpoints::Password::PATH, Some(&login.token), &change)
        .await?;
    assert!(status.is_success());
    // Then the privacy notice gates, until accepted.
    let (status, body) = pull_from_start(&mut api, &login.token).await?;
    assert_eq!(status.as_u16(), 403);
    assert_eq!(
        codec::decode::<cairn_common::api::ErrorResponse>(&body)?.code,
        cairn_common::api::codes::CONSENT_REQUIRED
    );
    api.accept_notice(&login.token).await?;
    let (status, _) = pull_from_start(&mut api, &login.token).await?;
    assert!(
        status.is_success(),
        "still gated after the change: {status}"
    );
    Ok(())
}

/// A viewer cannot push; a non-member can neither see nor tell a space exists; the
/// server admin cannot pull a space he is not a member of; a revoked token is refused.
#[tokio::test(flavor = "multi_thread")]
async fn access_follows_membership_and_roles() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    for user in [
        "owner@example.com",
        "viewer@example.com",
        "outsider@example.com",
    ] {
        server.user(user, "long enough secret").await?;
    }
    let mut api = server.api().await?;
    let owner = api.login("owner@example.com", "long enough secret").await?;
    let viewer = api
        .login("viewer@example.com", "long enough secret")
        .await?;
    let outsider = api
        .login("outsider@example.com", "long enough secret")
        .await?;

    let (status, body) = api
        .call(
            endpoints::SpacesCreate::PATH,
            Some(&owner.token),
            &api::CreateSpace {
                name: "Team Nord".into(),
            },
        )
        .await?;
    assert!(status.is_success(), "{:?}", decode_error(&body));
    let team: SpaceInfo = codec::decode(&body)?;
    let add = SetMember {
        space: team.space.id,
        email: "viewer@example.com".into(),
        role: Some(Role::Viewer),
    };
    let (status, _) = api
        .call(endpoints::SpacesMember::PATH, Some(&owner.token), &add)
        .await?;
    assert!(status.is_success());
    let (status, _) = api
        .call(
            endpoints::Push::PATH,
            Some(&owner.token),
            &PushRequest {
                ops: goal_ops(owner.user.id, team.space.id, "Team goal"),
            },
        )
        .await?;
    assert!(status.is_success());

    // The viewer sees the space and its goal but cannot push to it.
    let seen = pull_all(&mut api, &viewer.token).await?;
    assert!(
        seen.spaces
            .iter()
            .any(|s| s.space.id == team.space.id && s.role == Role::Viewer)
    );
    let (status, body) = api
        .call(
            endpoints::Push::PATH,
            Some(&viewer.token),
            &PushRequest {
                ops: goal_ops(viewer.user.id, team.space.id, "sneaky"),
            },
        )
        .await?;
    assert_eq!(status, 200, "{:?}", decode_error(&body));
    let answer: PushResponse = codec::decode(&body)?;
    assert_eq!(answer.stored, 0);
    assert_eq!(answer.refused[0].reason, RefusalReason::ReadOnly);

    // The outsider: not listed, and a push there looks exactly like one to no space.
    let seen = pull_all(&mut api, &outsider.token).await?;
    assert!(seen.spaces.iter().all(|s| s.space.id != team.space.id));
    assert!(seen.batches.iter().all(|b| b.space != team.space.id));
    let cursors = PullRequest {
        epoch: None,
        cursors: vec![Cursor {
            space: team.space.id,
            seq: 0,
        }],
        max_ops: 0,
    };
    let (_, body) = api
        .call(endpoints::Pull::PATH, Some(&outsider.token), &cursors)
        .await?;
    let named: PullResponse = codec::decode(&body)?;
    assert!(
        named.batches.iter().all(|b| b.space != team.space.id),
        "a cursor revealed the space"
    );
    let (real_status, real_body) = api
        .call(
            endpoints::Push::PATH,
            Some(&outsider.token),
            &PushRequest {
                ops: goal_ops(outsider.user.id, team.space.id, "x"),
            },
        )
        .await?;
    let (fake_status, fake_body) = api
        .call(
            endpoints::Push::PATH,
            Some(&outsider.token),
            &PushRequest {
                ops: goal_ops(outsider.user.id, SpaceId::new(), "x"),
            },
        )
        .await?;
    assert!(real_status == 200 && fake_status == 200);
    let (real, fake): (PushResponse, PushResponse) =
        (codec::decode(&real_body)?, codec::decode(&fake_body)?);
    assert_eq!(real.stored + fake.stored, 0);
    let reason = |r: &PushResponse| (r.refused[0].reason, r.refused[0].message.clone());
    assert_eq!(reason(&real).0, RefusalReason::NotMember);
    assert_eq!(reason(&real), reason(&fake));

    // The server admin, once past the gate, sees only his own spaces.
    let admin = api.login("admin", &server.admin_password).await?;
    let change = PasswordChange {
        current: server.admin_password.clone(),
        new: "admin's new secret".into(),
    };
    api.call(endpoints::Password::PATH, Some(&admin.token), &change)
        .await?;
    api.accept_notice(&admin.token).await?;
    let seen = pull_all(&mut api, &admin.token).await?;
    assert!(
        seen.spaces.iter().all(|s| s.space.id != team.space.id),
        "the admin sees a space he is not in"
    );

    // Revoking a session refuses its token from then on.
    let second = api.login("owner@example.com", "long enough secret").await?;
    let (_, body) = api
        .call(endpoints::Sessions::PATH, Some(&owner.token), &Empty)
        .await?;
    let sessions: SessionList = codec::decode(&body)?;
    let others: Vec<_> = sessions.sessions.iter().filter(|s| !s.current).collect();
    assert!(
        others.len() >= 2,
        "expected the set-up session and the second login: {others:?}"
    );
    for other in others {
        let revoke = api::RevokeSession {
            id: other.id.clone(),
        };
        let (status, _) = api
            .call(endpoints::SessionsRevoke::PATH, Some(&owner.token), &revoke)
            .await?;
        assert!(status.is_success());
    }
    let (status, body) = pull_from_start(&mut api, &second.token).await?;
    assert_eq!(status, 401, "{:?}", decode_error(&body));
    Ok(())
}

/// SIGHUP reloads the certificate (audited) without stopping the server; SIGTERM
/// shuts it down cleanly (exit 0, control socket removed) and the data is there
/// after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn signals_reload_and_stop_the_real_server() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server
        .user("ana@example.com", "correct horse battery")
        .await?;
    let mut open = server.api().await?;

    server.signal("HUP")?;
    cairn_tests::server::eventually(Duration::from_secs(10), || {
        server
            .admin(&["audit", "list", "--json"], "")
            .is_ok_and(|list| list.contains("certificate-reload"))
    })?;
    assert_eq!(
        open.health().await?,
        200,
        "an open connection survives the reload"
    );
    assert_eq!(server.api().await?.health().await?, 200);

    server.signal("TERM")?;
    assert!(
        server.wait_exit(Duration::from_secs(30))?,
        "SIGTERM did not exit cleanly"
    );
    assert!(
        !server.data_dir().join("control.sock").exists(),
        "control socket left behind"
    );

    server.serve()?;
    let mut api = server.api().await?;
    api.login("ana@example.com", "correct horse battery")
        .await?;
    Ok(())
}

/// The backup commands of the real binary: `backup now|list|verify` through the
/// control socket of a running server, `restore` refused while it runs, and after a
/// stop, a restore brings back exactly the state of the backup.
#[tokio::test(flavor = "multi_thread")]
async fn backup_commands_of_the_real_binary() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    server
        .user("ana@example.com", "correct horse battery")
        .await?;
    let mut api = server.api().await?;
    let login = api
        .login("ana@example.com", "correct horse battery")
        .await?;
    let kept = goal_ops(login.user.id, login.personal_space, "In the backup");
    api.call(
        endpoints::Push::PATH,
        Some(&login.token),
        &PushRequest { ops: kept.clone() },
    )
    .await?;

    server.admin(&["backup", "now"], "")?;
    let list: serde_json::Value =
        serde_json::from_str(&server.admin(&["backup", "list", "--json"], "")?)?;
    let id = list[0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no backup listed: {list}"))?
        .to_owned();
    assert_eq!(list[0]["ops"], 2);
    assert!(
        server
            .admin(&["backup", "verify", &id], "")?
            .contains("intact")
    );
    assert!(
        server.admin(&["backup", "restore", &id], "").is_err(),
        "restore ran on a live server"
    );

    let later = goal_ops(login.user.id, login.personal_space, "After the backup");
    api.call(
        endpoints::Push::PATH,
        Some(&login.token),
        &PushRequest { ops: later },
    )
    .await?;
    server.signal("TERM")?;
    assert!(server.wait_exit(Duration::from_secs(30))?);
    server.admin(&["backup", "restore", &id], "")?;
    server.serve()?;

    let mut api = server.api().await?;
    let login = api
        .login("ana@example.com", "correct horse battery")
        .await?;
    let pulled = pull_all(&mut api, &login.token).await?;
    let ids: Vec<OpId> = pulled
        .batches
        .iter()
        .flat_map(|b| b.ops.iter().map(|o| o.id))
        .collect();
    assert_eq!(
        ids,
        kept.iter().map(|o| o.id).collect::<Vec<_>>(),
        "the restore is not the backup's state"
    );
    Ok(())
}
