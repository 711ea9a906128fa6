//! Files in spaces end to end, with the real binaries: a member adds a photo and
//! syncs; another member gets it and opens it again offline; a non-member cannot
//! tell it exists; an upload broken off mid-stream goes on where it stopped; a
//! damaged frame keeps only what came before it; a download goes on from what the
//! device holds, and one that fails leaves `--out` as it was; fetched files open
//! offline; a file over the limit is refused with a clear message.

use anyhow::Context;
use cairn_common::api::endpoints::{self, Endpoint};
use cairn_common::api::files::{FileRef, FileStatus};
use cairn_common::api::{ErrorResponse, LoginResponse};
use cairn_common::codec;
use cairn_tests::client::Device;
use cairn_tests::files_containing;

use cairn_tests::server::{HandUpload, ServerProcess, framed, set_config_section};
use sha2::{Digest, Sha256};

const ANA: &str = "ana@example.com";
const BEN: &str = "ben@example.com";
const EVE: &str = "eve@example.com";
const PW: &str = "a long enough password";

/// A JPEG-looking file of `size` bytes with `marker` inside.
fn photo(
    dir: &std::path::Path,
    name: &str,
    size: usize,
    marker: &[u8],
) -> anyhow::Result<std::path::PathBuf> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    let mut n: u32 = 7;
    while bytes.len() < size {
        n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        bytes.push((n >> 16) as u8);
    }
    let middle = size / 2;
    bytes[middle..middle + marker.len()].copy_from_slice(marker);
    let path = dir.join(name);
    std::fs::write(&path, &bytes)?;
    Ok(path)
}

/// Successful requests to `path` the server counted.
async fn requests_ok(server: &ServerProcess, path: &str) -> anyhow::Result<u64> {
    let (_, text) = server.api().await?.get(endpoints::METRICS).await?;
    let tail = format!("endpoint=\"{path}\",class=\"2xx\"}}");
    Ok(text
        .lines()
        .filter(|l| l.starts_with("cairn_http_requests_total{") && l.contains(&tail))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum())
}

/// How much of `file` the server holds once no upload of it is under way (an
/// upload broken off ends on the server a moment after the client left): asked
/// after an upload from the file's end is refused for its offset, not as busy.
async fn held_after_upload(
    api: &mut cairn_tests::server::Api,
    token: &str,
    file: &FileRef,
) -> anyhow::Result<u64> {
    let started = std::time::Instant::now();
    loop {
        let (status, body) = api.upload(token, file, file.size, Vec::new()).await?;
        let refused: ErrorResponse = codec::decode(&body)?;
        if refused.code == "upload_offset" {
            break;
        }
        anyhow::ensure!(
            status.as_u16() == 409 && refused.code == "upload_busy",
            "{status}: {refused:?}"
        );
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the upload did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = api
        .call(endpoints::FilesStatus::PATH, Some(token), file)
        .await?;
    anyhow::ensure!(status.is_success(), "status: {status}");
    Ok(codec::decode::<FileStatus>(&body)?.received)
}

fn file_id(device: &Device, name: &str) -> anyhow::Result<(String, serde_json::Value)> {
    let list = device.json(&["files", "list", "--json"])?;
    let file = list
        .as_array()
        .and_then(|l| l.iter().find(|f| f["name"] == name))
        .with_context(|| format!("{name} not listed: {list}"))?
        .clone();
    Ok((file["id"].as_str().context("id")?.to_owned(), file))
}

/// `device` saves the file `id` to `out` (`cairn files get --out`); what it printed.
fn save(device: &Device, id: &str, out: &std::path::Path) -> anyhow::Result<String> {
    device.ok(&["files", "get", id, "--out", out.to_str().context("path")?])
}

/// Ana's `plan.jpg` (3 MiB, with `marker` inside) added to Team, and what
/// sending it by hand takes.
struct ByHand {
    content: Vec<u8>,
    file: FileRef,
    /// A protocol client logged in as Ana, with her token.
    api: cairn_tests::server::Api,
    token: String,
    /// The whole file as frames of 1 MiB.
    body: Vec<u8>,
}

async fn plan_by_hand(
    server: &ServerProcess,
    ana: &Device,
    dir: &std::path::Path,
    marker: &[u8],
) -> anyhow::Result<ByHand> {
    let path = photo(dir, "plan.jpg", 3 << 20, marker)?;
    add_to_team(ana, &path)?;
    let (_, listed) = file_id(ana, "plan.jpg")?;
    let content = std::fs::read(&path)?;
    let file = file_ref(&listed, &content)?;
    let mut api = server.api().await?;
    let token = api.login(ANA, PW).await?.token;
    let body = framed(&content, 1 << 20)?;
    Ok(ByHand {
        content,
        file,
        api,
        token,
        body,
    })
}

/// Ana's next sync sends the rest of `plan.jpg` (`content`), and Ben then gets
/// the same bytes.
fn the_rest_arrives(
    ana: &Device,
    ben: &Device,
    dir: &std::path::Path,
    content: &[u8],
) -> anyhow::Result<()> {
    let synced = ana.ok(&["sync"])?;
    assert!(synced.contains("uploaded 1 file"), "{synced}");
    ben.ok(&["sync"])?;
    let (id, _) = file_id(ben, "plan.jpg")?;
    let got = dir.join("ben.jpg");
    save(ben, &id, &got)?;
    assert_eq!(std::fs::read(&got)?, content);
    Ok(())
}

/// `device` adds the file at `path` to the space Team; what it printed.
fn add_to_team(device: &Device, path: &std::path::Path) -> anyhow::Result<String> {
    device.ok(&[
        "files",
        "add",
        path.to_str().context("path")?,
        "--space",
        "Team",
    ])
}

/// The file a `files list --json` entry stands for, with its `content`.
fn file_ref(listed: &serde_json::Value, content: &[u8]) -> anyhow::Result<FileRef> {
    Ok(FileRef {
        space: cairn_common::model::SpaceId(listed["space"].as_str().context("space")?.parse()?),
        sha256: hex::encode(Sha256::digest(content)),
        size: content.len() as u64,
    })
}

/// Ana's and Ben's devices, logged in, with the space Team that Ana owns and Ben
/// is a member of with `bens_role`.
async fn team(server: &ServerProcess, bens_role: &str) -> anyhow::Result<(Device, Device)> {
    server.user(ANA, PW).await?;
    server.user(BEN, PW).await?;
    let (ana, ben) = (Device::new()?, Device::new()?);
    ana.login(server, ANA, PW)?;
    ben.login(server, BEN, PW)?;
    ana.ok_with(&["spaces", "create", "Team"], "")?;
    ana.ok(&["spaces", "add-member", "Team", BEN, "--role", bens_role])?;
    ana.ok(&["sync"])?;
    Ok((ana, ben))
}

#[tokio::test(flavor = "multi_thread")]
async fn files_are_shared_within_a_space_only() -> anyhow::Result<()> {
    let mut server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "files", "max_file_mib = 12\nmax_space_mib = 64")
    })?;
    server.user(EVE, PW).await?;
    let (ana, ben) = team(&server, "editor").await?;
    let files = tempfile::tempdir()?;

    // Ana adds a photo. An upload of it broke off mid-stream, in its fifth frame
    // (sent here by hand, as her device did when its network went).
    let path = photo(
        files.path(),
        "site.jpg",
        10 << 20,
        b"MARKER-SITE-PHOTO-7f3a",
    )?;
    let out = add_to_team(&ana, &path)?;
    assert!(out.contains("Added site.jpg"), "{out}");
    let (_, listed) = file_id(&ana, "site.jpg")?;
    assert_eq!(listed["type"], "image/jpeg");
    let content = std::fs::read(&path)?;
    let file = file_ref(&listed, &content)?;
    let mut api = server.api().await?;
    let login = api.login(ANA, PW).await?;
    let body = framed(&content, 1 << 20)?;
    let cut = 4 * ((1 << 20) + 36) + 36 + 1000;
    server
        .upload_broken_off(&HandUpload::cut(&login.token, &file, &body, cut))
        .await?;
    // The server keeps the four whole frames, nothing of the fifth.
    let held = held_after_upload(&mut api, &login.token, &file).await?;
    assert_eq!(held, 4 << 20);
    let before = requests_ok(&server, endpoints::FILE_UPLOAD).await?;
    let synced = ana.ok(&["sync"])?;
    assert!(synced.contains("uploaded 1 file"), "{synced}");
    assert_eq!(
        requests_ok(&server, endpoints::FILE_UPLOAD).await? - before,
        1,
        "the 6 MiB from the server's status on went up in one request, with no refusal first"
    );

    // Ben gets it, the same bytes; then, with the server down, again from his device.
    ben.ok(&["sync"])?;
    let (id, listed) = file_id(&ben, "site.jpg")?;
    assert_eq!(listed["on_this_device"], false);
    let got = files.path().join("ben.jpg");
    save(&ben, &id, &got)?;
    assert_eq!(std::fs::read(&got)?, content);
    // What comes from the content is not typed in; an existing file is not overwritten.
    let refused = ben.fail(&["set", &id, "size=1"], "")?;
    assert!(refused.contains("cannot be set"), "{refused}");
    let exists = ben.fail(
        &["files", "get", &id, "--out", got.to_str().context("path")?],
        "",
    )?;
    assert!(exists.contains("--force"), "{exists}");
    server.kill9()?;
    let offline = files.path().join("ben-offline.jpg");
    save(&ben, &id, &offline)?;
    assert_eq!(std::fs::read(&offline)?, content);
    server.serve_again()?;

    // Eve is no member: she gets the same answer for the photo as for content
    // nobody uploaded, so she cannot tell it exists.
    let mut api = server.api().await?;
    let eve: LoginResponse = api.login(EVE, PW).await?;
    let (status, body) = api
        .call(endpoints::FilesStatus::PATH, Some(&eve.token), &file)
        .await?;
    let missing = FileRef {
        sha256: hex::encode(Sha256::digest(b"nothing")),
        ..file.clone()
    };
    let (status_missing, body_missing) = api
        .call(endpoints::FilesStatus::PATH, Some(&eve.token), &missing)
        .await?;
    assert_eq!((status.as_u16(), status_missing.as_u16()), (404, 404));
    let (a, b): (ErrorResponse, ErrorResponse) =
        (codec::decode(&body)?, codec::decode(&body_missing)?);
    assert_eq!(a, b);

    // Over the limit: refused with the limit and what to do; the rest syncs.
    let big = photo(files.path(), "huge.jpg", 13 << 20, b"MARKER-HUGE")?;
    add_to_team(&ana, &big)?;
    let synced = ana.ok(&["sync"])?;
    assert!(synced.contains("at most 12 MiB"), "{synced}");

    // Ben moves the photo to the trash: his device keeps no copy of it.
    assert!(!files_containing(ben.home.path(), "MARKER-SITE-PHOTO-7f3a").is_empty());
    ben.ok(&["files", "rm", &id])?;
    ben.ok(&["sync"])?;
    let left = files_containing(ben.home.path(), "MARKER-SITE-PHOTO-7f3a");
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

/// A frame whose bytes differ from its SHA-256 is refused with the damage
/// named; the server keeps the frames before it and nothing from it on; the next
/// sync sends the rest and another member gets the same bytes.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_frame_keeps_only_what_came_before() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    let (ana, ben) = team(&server, "viewer").await?;
    let files = tempfile::tempdir()?;
    let mut plan = plan_by_hand(&server, &ana, files.path(), b"MARKER-PLAN").await?;
    let mut body = plan.body.clone();
    // A byte of the second frame's content, after the first frame and its header.
    body[2 * 36 + (1 << 20) + 7] ^= 0x40;
    let (status, answer) = plan.api.upload(&plan.token, &plan.file, 0, body).await?;
    assert_eq!(status.as_u16(), 422);
    let refused: ErrorResponse = codec::decode(&answer)?;
    assert_eq!(refused.code, "damaged", "{refused:?}");
    assert_eq!(
        held_after_upload(&mut plan.api, &plan.token, &plan.file).await?,
        1 << 20
    );

    the_rest_arrives(&ana, &ben, files.path(), &plan.content)?;
    Ok(())
}

/// A download goes on from the part of it the device already holds, and the copy
/// asked for (`--out`) gets those bytes too. A download that fails its check
/// leaves the file at `--out` as it was, even with `--force`, and no half copy
/// beside it.
#[tokio::test(flavor = "multi_thread")]
async fn a_download_goes_on_from_its_partial_and_a_failed_one_changes_nothing() -> anyhow::Result<()>
{
    let mut server = ServerProcess::start()?;
    let (ana, ben) = team(&server, "viewer").await?;
    let files = tempfile::tempdir()?;
    let path = photo(files.path(), "site.jpg", 3 << 20, b"MARKER-SITE")?;
    add_to_team(&ana, &path)?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    let (id, listed) = file_id(&ben, "site.jpg")?;
    let content = std::fs::read(&path)?;
    let file = file_ref(&listed, &content)?;
    let partial = ben
        .home
        .path()
        .join("data/files")
        .join(file.space.to_string())
        .join(".partial")
        .join(&file.sha256);
    std::fs::create_dir_all(partial.parent().context("partial dir")?)?;
    let saved = files.path().join("saved");
    std::fs::create_dir(&saved)?;
    let out = saved.join("site.jpg");
    let out_arg = out.to_str().context("path")?;

    // A place that cannot be written is named, before anything downloads.
    let not_a_dir = saved.join("site.jpg").join("inside.jpg");
    std::fs::write(saved.join("site.jpg"), b"a file, not a folder")?;
    let refused = ben.fail(
        &[
            "files",
            "get",
            &id,
            "--out",
            not_a_dir.to_str().context("path")?,
        ],
        "",
    )?;
    assert!(refused.contains("cannot write"), "{refused}");
    assert!(refused.contains("inside.jpg"), "{refused}");
    assert!(!partial.exists(), "nothing downloaded");

    // Held bytes that are not the file's: the whole fails its check.
    let mut wrong = content[..3 << 19].to_vec();
    wrong[100] ^= 1;
    std::fs::write(&partial, &wrong)?;
    std::fs::write(&out, b"what was there before")?;
    let failed = ben.fail(&["files", "get", &id, "--out", out_arg, "--force"], "")?;
    assert!(failed.contains("arrived damaged"), "{failed}");
    assert_eq!(std::fs::read(&out)?, b"what was there before");
    assert_eq!(std::fs::read_dir(&saved)?.count(), 1, "no half copy left");
    assert!(!partial.exists(), "the damaged partial is thrown away");

    // Held bytes that are the file's first half: the rest comes, the copy is whole.
    std::fs::write(&partial, &content[..3 << 19])?;
    ben.ok(&["files", "get", &id, "--out", out_arg, "--force"])?;
    assert_eq!(std::fs::read(&out)?, content);
    assert_eq!(std::fs::read_dir(&saved)?.count(), 1);
    server.kill9()?;
    let offline = files.path().join("offline.jpg");
    save(&ben, &id, &offline)?;
    assert_eq!(std::fs::read(&offline)?, content, "kept in the cache");
    Ok(())
}

/// `cairn files fetch` downloads files into the device's cache and saves nothing
/// elsewhere; they open offline afterwards. An id that names no file fails
/// before anything downloads; a cache too small to keep them says which went.
#[tokio::test(flavor = "multi_thread")]
async fn fetched_files_open_offline() -> anyhow::Result<()> {
    let mut server = ServerProcess::start()?;
    let (ana, ben) = team(&server, "viewer").await?;
    let files = tempfile::tempdir()?;
    let small = photo(files.path(), "small.jpg", 40_000, b"MARKER-SMALL")?;
    let large = photo(files.path(), "large.jpg", 3 << 20, b"MARKER-LARGE")?;
    add_to_team(&ana, &small)?;
    add_to_team(&ana, &large)?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    let (small_id, _) = file_id(&ben, "small.jpg")?;
    let (large_id, _) = file_id(&ben, "large.jpg")?;

    let unknown = ben.fail(&["files", "fetch", &small_id, "ffffffff"], "")?;
    assert!(unknown.contains("ffffffff"), "{unknown}");
    let (_, listed) = file_id(&ben, "small.jpg")?;
    assert_eq!(listed["on_this_device"], false, "nothing fetched: {listed}");

    // A cache of 1 MiB keeps the small file, not the large one (the least
    // recently used go first).
    std::fs::write(
        ben.home.path().join("config.toml"),
        "[files]\ncache_mib = 1\n",
    )?;
    let fetched = ben.ok(&["files", "fetch", &large_id, &small_id])?;
    assert!(fetched.contains("Fetched small.jpg"), "{fetched}");
    assert!(fetched.contains("Fetched large.jpg"), "{fetched}");
    assert!(fetched.contains("did not stay: large.jpg"), "{fetched}");
    std::fs::remove_file(ben.home.path().join("config.toml"))?;
    let fetched = ben.ok(&["files", "fetch", &small_id, &large_id])?;
    assert!(
        fetched.contains("small.jpg is on this device already"),
        "{fetched}"
    );
    assert!(fetched.contains("Fetched large.jpg"), "{fetched}");
    assert_eq!(
        std::fs::read_dir(files.path())?.count(),
        2,
        "nothing saved outside the cache"
    );

    server.kill9()?;
    for (id, path) in [(&small_id, &small), (&large_id, &large)] {
        let out = files.path().join(format!("offline-{id}"));
        save(&ben, id, &out)?;
        assert_eq!(std::fs::read(&out)?, std::fs::read(path)?);
    }
    Ok(())
}

/// One host that starts an upload and then holds its connection open without
/// sending does not hold the file: the server ends that upload at its body
/// timeout while the connection is still open, keeping the whole frame that came,
/// and the next sync sends the rest.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_upload_does_not_hold_the_file() -> anyhow::Result<()> {
    let server = ServerProcess::start_configured(&[], |dir| {
        set_config_section(dir, "server", "body_timeout_secs = 2")
    })?;
    let (ana, ben) = team(&server, "viewer").await?;
    let files = tempfile::tempdir()?;
    let mut plan = plan_by_hand(&server, &ana, files.path(), b"MARKER-STALL").await?;
    // The first frame whole and a little of the second; then silence.
    let cut = (1 << 20) + 2 * 36 + 500;
    let held_open = server
        .upload_started(&HandUpload::cut(&plan.token, &plan.file, &plan.body, cut))
        .await?;
    // Waits while the upload is busy (at most 20 s): it ends though the
    // connection stays open.
    assert_eq!(
        held_after_upload(&mut plan.api, &plan.token, &plan.file).await?,
        1 << 20
    );
    the_rest_arrives(&ana, &ben, files.path(), &plan.content)?;
    drop(held_open);
    Ok(())
}

/// Backups hold the files with the records that name them, and a restore brings
/// both back; `purge --space` then leaves no byte of a file in the data dir, its
/// backups, or the caches of the members' devices once they synced.
#[tokio::test(flavor = "multi_thread")]
async fn backups_hold_files_and_purge_leaves_no_byte() -> anyhow::Result<()> {
    const MARKER: &str = "MARKER-FILE-PURGE-5ca1ab1e";
    let mut server = ServerProcess::start()?;
    let (ana, ben) = team(&server, "viewer").await?;
    let files = tempfile::tempdir()?;
    let path = photo(files.path(), "plan.jpg", 300_000, MARKER.as_bytes())?;
    add_to_team(&ana, &path)?;
    ana.ok(&["sync"])?;
    ben.ok(&["sync"])?;
    let (id, listed) = file_id(&ben, "plan.jpg")?;
    let team = listed["space"].as_str().context("space")?.to_owned();
    ben.ok(&[
        "files",
        "get",
        &id,
        "--out",
        files.path().join("b.jpg").to_str().context("p")?,
    ])?;
    assert!(
        !files_containing(ben.home.path(), MARKER).is_empty(),
        "ben has it cached"
    );

    // A backup holds the file; restored, a new device gets record and content.
    server.admin(&["backup", "now"], "")?;
    let backups = server.data_dir().join("backups");
    assert!(!files_containing(&backups, MARKER).is_empty());
    let list: serde_json::Value =
        serde_json::from_str(&server.admin(&["backup", "list", "--json"], "")?)?;
    let backup = list[0]["id"].as_str().context("backup id")?.to_owned();
    server.signal("TERM")?;
    assert!(server.wait_exit(std::time::Duration::from_secs(30))?);
    std::fs::remove_dir_all(server.data_dir().join("files"))?;
    server.admin(&["backup", "restore", &backup], "")?;
    server.serve()?;
    let carl = Device::new()?;
    carl.login(&server, ANA, PW)?;
    let (id, _) = file_id(&carl, "plan.jpg")?;
    let restored = files.path().join("restored.jpg");
    carl.ok(&[
        "files",
        "get",
        &id,
        "--out",
        restored.to_str().context("p")?,
    ])?;
    assert_eq!(std::fs::read(&restored)?, std::fs::read(&path)?);

    // Purged: nothing anywhere once the devices synced.
    let out = server.admin(&["purge", "--space", &team, "--yes"], "")?;
    assert!(out.contains("purged"), "{out}");
    for device in [&ana, &ben, &carl] {
        // Sessions went with the restore: log in again where needed.
        if device.run(&["sync"], "")?.status.success() {
            continue;
        }
        let email = if std::ptr::eq(device, &ben) { BEN } else { ANA };
        device.login(&server, email, PW)?;
        device.ok(&["sync"])?;
    }
    for (what, dir) in [
        ("the data dir", server.data_dir()),
        ("Ana's device", ana.home.path()),
        ("Ben's device", ben.home.path()),
        ("the restoring device", carl.home.path()),
    ] {
        let found = files_containing(dir, MARKER);
        assert!(found.is_empty(), "{what} still holds the file: {found:?}");
    }
    Ok(())
}
