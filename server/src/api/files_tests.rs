//! The file content API through the routes: the framed upload with resume,
//! checks, limits, roles, and the download.

use cairn_common::api::endpoints::{self, Endpoint, FILE_DOWNLOAD, FILE_UPLOAD};
use cairn_common::api::files::{FileRef, FileStatus, Framer};
use cairn_common::api::{PROTOCOL_HEADER, PROTOCOL_VERSION, SetMember, codes};
use cairn_common::codec;
use cairn_common::model::{Role, SpaceId};
use sha2::{Digest, Sha256};
use warp::http::StatusCode;

use super::testing::{TestApi, error_body};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `content[from..]` as an upload body of frames of `frame` bytes.
fn framed(content: &[u8], from: usize, frame: usize) -> Vec<u8> {
    let mut framer = Framer::after(Sha256::new().chain_update(&content[..from]));
    let mut body = Vec::new();
    for piece in content[from..].chunks(frame) {
        body.extend_from_slice(&framer.header(piece).expect("small").encode());
        body.extend_from_slice(piece);
    }
    body
}

/// An upload of `body` (frames) for `file` from `offset`.
fn upload_body(
    file: &FileRef,
    offset: u64,
    body: &[u8],
    token: &str,
) -> warp::test::RequestBuilder {
    warp::test::request()
        .method("POST")
        .path(&format!("{FILE_UPLOAD}?{}&offset={offset}", file.query()))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-length", body.len().to_string())
        .body(body)
}

/// An upload of `content[from..]` (the file's bytes from there) in frames of
/// 256 KiB.
fn upload(file: &FileRef, content: &[u8], from: usize, token: &str) -> warp::test::RequestBuilder {
    upload_body(file, from as u64, &framed(content, from, 256 << 10), token)
}

fn download(file: &FileRef, token: &str, from: Option<u64>) -> warp::test::RequestBuilder {
    let mut request = warp::test::request()
        .method("GET")
        .path(&format!(
            "{FILE_DOWNLOAD}?space={}&sha256={}",
            file.space, file.sha256
        ))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("authorization", format!("Bearer {token}"));
    if let Some(from) = from {
        request = request.header("range", format!("bytes={from}-"));
    }
    request
}

/// An upload that stopped after its first frames goes on from where the server's
/// copy ends; the download gives the same bytes, whole or from an offset.
#[tokio::test]
async fn an_upload_resumes_and_downloads_whole() {
    let api = TestApi::new();
    api.user("ann");
    let token = api.login("ann").await.token;
    let space = api.create_space(&token, "Team").await;
    let content: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    let file = FileRef {
        space,
        sha256: sha(&content),
        size: content.len() as u64,
    };
    let first = &content[..1 << 20];
    let (status, body) = api.send(upload(&file, first, 0, &token)).await;
    assert_eq!(status, StatusCode::OK, "{:?}", error_body(&body));
    // The client lost the answer and asks where to go on.
    let held: FileStatus = api
        .call(endpoints::FilesStatus::PATH, Some(&token), &file)
        .await
        .expect("status");
    assert_eq!(
        held,
        FileStatus {
            received: 1 << 20,
            complete: false
        }
    );
    // Sending from the start again is refused with where to go on.
    let (status, body) = api.send(upload(&file, first, 0, &token)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_body(&body).code, codes::UPLOAD_OFFSET);
    let (status, body) = api.send(upload(&file, &content, 1 << 20, &token)).await;
    assert_eq!(status, StatusCode::OK, "{:?}", error_body(&body));
    let done: FileStatus = codec::decode(&body).expect("status");
    assert!(done.complete);

    let (status, body) = api.send(download(&file, &token, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_ref(), content.as_slice());
    let (status, body) = api.send(download(&file, &token, Some(2_000_000))).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body.as_ref(), &content[2_000_000..]);
}

/// A frame whose bytes differ from its digest is refused; the frames before it
/// are kept, nothing of it or after it.
#[tokio::test]
async fn a_damaged_frame_is_refused() {
    let api = TestApi::new();
    api.user("ann");
    let token = api.login("ann").await.token;
    let space = api.create_space(&token, "Team").await;
    let content = b"the real bytes, three frames".to_vec();
    let file = FileRef {
        space,
        sha256: sha(&content),
        size: content.len() as u64,
    };
    let mut body = framed(&content, 0, 10);
    // The second frame's first byte, after the first frame and its own header.
    body[46 + 36] ^= 1;
    let (status, body) = api.send(upload_body(&file, 0, &body, &token)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(&body).code, codes::DAMAGED);
    let held: FileStatus = api
        .call(endpoints::FilesStatus::PATH, Some(&token), &file)
        .await
        .expect("status");
    assert_eq!(held.received, 10);
    let (status, body) = api.send(upload(&file, &content, 10, &token)).await;
    assert_eq!(status, StatusCode::OK, "{:?}", error_body(&body));
    assert!(codec::decode::<FileStatus>(&body).expect("status").complete);
}

/// A body that ends inside a frame is refused; the whole frames before it stay.
#[tokio::test]
async fn a_body_cut_inside_a_frame_keeps_the_whole_frames() {
    let api = TestApi::new();
    api.user("ann");
    let token = api.login("ann").await.token;
    let space = api.create_space(&token, "Team").await;
    let content = vec![3u8; 100];
    let file = FileRef {
        space,
        sha256: sha(&content),
        size: 100,
    };
    let body = framed(&content, 0, 40);
    let (status, _) = api
        .send(upload_body(&file, 0, &body[..36 + 40 + 36 + 5], &token))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let held: FileStatus = api
        .call(endpoints::FilesStatus::PATH, Some(&token), &file)
        .await
        .expect("status");
    assert_eq!(held.received, 40);
}

/// Viewers read but do not write; a non-member gets the 404 of a file that does
/// not exist, for the status, the upload and the download alike.
#[tokio::test]
async fn members_only_and_by_role() {
    let api = TestApi::new();
    api.user("ann");
    api.user("vic");
    api.user("eve");
    let ann = api.login("ann").await.token;
    let vic = api.login("vic").await.token;
    let eve = api.login("eve").await.token;
    let space = api.create_space(&ann, "Team").await;
    let _: cairn_common::api::MemberList = api
        .call(
            endpoints::SpacesMember::PATH,
            Some(&ann),
            &SetMember {
                space,
                email: "vic@example.com".into(),
                role: Some(Role::Viewer),
            },
        )
        .await
        .expect("add vic");
    let content = b"photo bytes".to_vec();
    let file = FileRef {
        space,
        sha256: sha(&content),
        size: content.len() as u64,
    };
    let (status, _) = api.send(upload(&file, &content, 0, &vic)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api.send(upload(&file, &content, 0, &ann)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api.send(download(&file, &vic, None)).await;
    assert_eq!(
        (status, body.as_ref()),
        (StatusCode::OK, content.as_slice())
    );

    // Eve, no member: the same answer as for bytes nobody uploaded.
    let (status, there) = api.send(download(&file, &eve, None)).await;
    let missing = FileRef {
        sha256: sha(b"never uploaded"),
        ..file.clone()
    };
    let (status_missing, not_there) = api.send(download(&missing, &ann, None)).await;
    assert_eq!(
        (status, status_missing),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(error_body(&there), error_body(&not_there));
    let (status, _) = api.send(upload(&file, &content, 0, &eve)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let refused = api
        .call::<_, FileStatus>(endpoints::FilesStatus::PATH, Some(&eve), &file)
        .await
        .expect_err("eve");
    assert_eq!(refused.0, StatusCode::NOT_FOUND);
    let elsewhere = FileRef {
        space: SpaceId::new(),
        ..file.clone()
    };
    let (status, _) = api.send(download(&elsewhere, &ann, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "content is per space");
}

/// A file over the limit is refused before any byte is kept, with what to do.
#[tokio::test]
async fn limits_are_told() {
    let api = TestApi::new();
    api.user("ann");
    let token = api.login("ann").await.token;
    let space = api.create_space(&token, "Team").await;
    let file = FileRef {
        space,
        sha256: sha(b"x"),
        size: 5 << 20,
    };
    let (status, body) = api.send(upload(&file, b"x", 0, &token)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let message = error_body(&body).message;
    assert!(message.contains("at most 3 MiB"), "{message}");
}

/// The sweep deletes content no file record names once its grace has passed, from
/// the store and from the kept backups (which still verify), and keeps what a
/// record names.
#[tokio::test]
async fn the_sweep_keeps_only_named_content() {
    use cairn_common::api::{PushRequest, PushResponse};
    use cairn_common::{Change, RecordId, RecordKind, Value};

    use super::testing::{op, set};
    use crate::files::gc;

    let api = TestApi::new();
    let ann = api.user("ann");
    let token = api.login("ann").await.token;
    let space = api.create_space(&token, "Team").await;
    let files = api.state.files.clone().expect("files");
    let mut refs = Vec::new();
    for content in [b"named".as_slice(), b"unnamed".as_slice()] {
        let file = FileRef {
            space,
            sha256: sha(content),
            size: content.len() as u64,
        };
        let (status, _) = api.send(upload(&file, content, 0, &token)).await;
        assert_eq!(status, StatusCode::OK);
        refs.push(file);
    }
    let record = RecordId::new();
    let ops = vec![
        op(
            space,
            record,
            ann.id,
            Change::Create {
                kind: RecordKind::File,
            },
        ),
        op(
            space,
            record,
            ann.id,
            set("name", Value::Text("named.txt".into())),
        ),
        op(space, record, ann.id, set("size", Value::Int(5))),
        op(
            space,
            record,
            ann.id,
            set("sha256", Value::Text(refs[0].sha256.clone())),
        ),
    ];
    let pushed: PushResponse = api
        .call(endpoints::Push::PATH, Some(&token), &PushRequest { ops })
        .await
        .expect("push");
    assert!(pushed.refused.is_empty(), "{pushed:?}");
    let backup_dir = tempfile::tempdir().expect("dir");
    let backups = crate::backup::Backups::with_files(
        backup_dir.path().to_owned(),
        Default::default(),
        files.blobs.root().to_owned(),
    );
    let backup = crate::backup::create::create(
        &api.state.store,
        &backups,
        1,
        &cairn_common::progress::Quiet,
    )
    .expect("backup");
    let in_backup = |sha: &str| {
        backup
            .path
            .join(crate::backup::create::content_name(space, sha))
            .exists()
    };
    assert!(in_backup(&refs[0].sha256) && in_backup(&refs[1].sha256));
    let now = std::time::SystemTime::now();
    // Within the grace both stay: the record naming the second may be on its way.
    let swept = gc::sweep(&api.state.store, &files.blobs, &backups, now, gc::GRACE)
        .await
        .expect("sweep");
    assert_eq!(swept, gc::Swept::default());
    let later = now + gc::GRACE + std::time::Duration::from_secs(1);
    let swept = gc::sweep(&api.state.store, &files.blobs, &backups, later, gc::GRACE)
        .await
        .expect("sweep");
    assert_eq!(swept.files, 1);
    assert_eq!(
        files.blobs.list(space).expect("list"),
        vec![refs[0].sha256.clone()]
    );
    assert!(in_backup(&refs[0].sha256) && !in_backup(&refs[1].sha256));
    let id = backup.manifest.id.clone();
    crate::backup::verify::verify_dir(&backup.path, &id, &cairn_common::progress::Quiet)
        .expect("the backup still verifies");
}
