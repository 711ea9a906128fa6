//! Convergence through the real server: three people with their own replicas work
//! on a shared space and their personal ones through a real in-process
//! `cairn-server` (`TestServer`), with random edits, deletes, restores, offline
//! periods (rounds they skip), removal from the space and re-adding, and a backup
//! of the server restored later. After everyone is back in the space and has synced,
//! the replicas hold identical shared records, and no op any replica holds from its
//! own author is missing from the server.

use std::collections::{BTreeMap, HashSet};

use cairn_client::replica::Replica;
use cairn_client::sync::{Client, Trust, normalize_fingerprint, sync_round};
use cairn_common::api::{LoginRequest, LoginResponse, endpoints};
use cairn_common::model::{RecordKind, Role, SpaceId, UserId, Value};
use cairn_common::{OpId, RecordId, RecordState};
use cairn_server::backup;
use cairn_server::datadir::DataDir;
use cairn_server::store::{NewUser, wait};
use cairn_server::testing::TestServer;
use proptest::prelude::*;

const PEOPLE: usize = 3;

#[derive(Clone, Debug)]
enum Step {
    Create {
        who: usize,
        shared: bool,
    },
    Edit {
        who: usize,
        pick: usize,
        text: u8,
    },
    Delete {
        who: usize,
        pick: usize,
    },
    Restore {
        who: usize,
        pick: usize,
    },
    Sync {
        who: usize,
    },
    /// The owner (person 0) removes person 1 or 2 from the shared space.
    Remove {
        who: usize,
    },
    /// The owner adds person 1 or 2 back as an editor.
    Readd {
        who: usize,
    },
    Backup,
    RestoreServer,
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..PEOPLE;
    let other = 1..PEOPLE;
    prop_oneof![
        3 => (who.clone(), any::<bool>()).prop_map(|(who, shared)| Step::Create { who, shared }),
        4 => (who.clone(), any::<usize>(), any::<u8>())
            .prop_map(|(who, pick, text)| Step::Edit { who, pick, text }),
        1 => (who.clone(), any::<usize>()).prop_map(|(who, pick)| Step::Delete { who, pick }),
        1 => (who.clone(), any::<usize>()).prop_map(|(who, pick)| Step::Restore { who, pick }),
        4 => who.prop_map(|who| Step::Sync { who }),
        1 => other.clone().prop_map(|who| Step::Remove { who }),
        1 => other.prop_map(|who| Step::Readd { who }),
        1 => Just(Step::Backup),
        1 => Just(Step::RestoreServer),
    ]
}

struct Person {
    email: String,
    user: UserId,
    _dir: tempfile::TempDir,
    replica: Replica,
    token: String,
}

struct World {
    server: Option<TestServer>,
    data_dir: std::path::PathBuf,
    people: Vec<Person>,
    team: SpaceId,
    members: [bool; PEOPLE],
    backup: Option<(String, [bool; PEOPLE])>,
}

const PASSWORD: &str = "correct horse battery staple";

fn server(world: &World) -> &TestServer {
    world
        .server
        .as_ref()
        .expect("the server runs between steps")
}

fn client(server: &TestServer) -> Client {
    let trust = Trust::Fingerprint {
        sha256: normalize_fingerprint(&server.fingerprint).expect("fingerprint"),
    };
    Client::new(&server.url(), &trust).expect("client")
}

fn login(server: &TestServer, email: &str) -> LoginResponse {
    client(server)
        .call::<endpoints::Login>(&LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
            device: "proptest".into(),
        })
        .expect("login")
}

impl World {
    fn new() -> Self {
        let server = TestServer::start().expect("server");
        let store = server.store();
        let mut people = Vec::new();
        for i in 0..PEOPLE {
            let email = format!("p{i}@example.com");
            wait(store.create_user(NewUser {
                email: email.clone(),
                first_name: format!("P{i}"),
                last_name: String::new(),
                password_hash: cairn_server::auth::password::hash(PASSWORD).expect("hash"),
                must_change_password: false,
                server_admin: false,
            }))
            .expect("user");
            let session = login(&server, &email);
            client(&server)
                .with_token(&session.token)
                .call::<endpoints::ConsentAccept>(&cairn_common::api::consent::AcceptNotice {
                    version: cairn_server::privacy::notice::BUILT_IN_VERSION.into(),
                })
                .expect("accept the privacy notice");
            let dir = tempfile::tempdir().expect("dir");
            let replica = Replica::open(dir.path()).expect("replica");
            replica
                .adopt_identity(session.user.id, session.personal_space)
                .expect("adopt");
            people.push(Person {
                email,
                user: session.user.id,
                _dir: dir,
                replica,
                token: session.token,
            });
        }
        let team = wait(store.create_space(people[0].user, "Team"))
            .expect("space")
            .space
            .id;
        for person in &people[1..] {
            wait(store.set_member(people[0].user, team, &person.email, Some(Role::Editor)))
                .expect("member");
        }
        let data_dir = server.data_dir().to_owned();
        Self {
            server: Some(server),
            data_dir,
            people,
            team,
            members: [true; PEOPLE],
            backup: None,
        }
    }

    fn sync(&self, who: usize) {
        let person = &self.people[who];
        let client = client(server(self)).with_token(&person.token);
        sync_round(&person.replica, &client, false).expect("sync");
    }

    /// The complete records a person's replica holds, in id order.
    fn records(&self, who: usize) -> Vec<RecordState> {
        self.people[who]
            .replica
            .records()
            .map(|r| r.expect("record"))
            .filter(RecordState::is_complete)
            .collect()
    }

    fn picked(&self, who: usize, pick: usize, deleted: bool) -> Option<RecordState> {
        let candidates: Vec<RecordState> = self
            .records(who)
            .into_iter()
            .filter(|r| r.is_deleted() == deleted)
            .collect();
        (!candidates.is_empty()).then(|| candidates[pick % candidates.len()].clone())
    }

    fn run(&mut self, step: &Step) {
        match *step {
            Step::Create { who, shared } => {
                let replica = &self.people[who].replica;
                let knows_team = replica
                    .spaces()
                    .expect("spaces")
                    .iter()
                    .any(|s| s.id == self.team);
                let space = if shared && knows_team {
                    self.team
                } else {
                    replica.identity().personal_space
                };
                let (_, ops) = replica
                    .create_ops(
                        RecordKind::Goal,
                        space,
                        vec![("title".into(), Value::Text(format!("goal by {who}")))],
                        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
                    )
                    .expect("ops");
                replica.commit(&ops).expect("commit");
            }
            Step::Edit { who, pick, text } => {
                if let Some(state) = self.picked(who, pick, false) {
                    let replica = &self.people[who].replica;
                    let op = replica
                        .set_op(
                            &state,
                            "title",
                            Value::Text(format!("title {text} by {who}")),
                        )
                        .expect("op");
                    replica.commit(&[op]).expect("commit");
                }
            }
            Step::Delete { who, pick } => {
                if let Some(state) = self.picked(who, pick, false) {
                    let replica = &self.people[who].replica;
                    replica
                        .commit(&[replica.delete_op(&state)])
                        .expect("commit");
                }
            }
            Step::Restore { who, pick } => {
                if let Some(state) = self.picked(who, pick, true) {
                    let replica = &self.people[who].replica;
                    replica
                        .commit(&[replica.restore_op(&state)])
                        .expect("commit");
                }
            }
            Step::Sync { who } => self.sync(who),
            Step::Remove { who } => self.set_member(who, false),
            Step::Readd { who } => self.set_member(who, true),
            Step::Backup => {
                let server = server(self);
                let created = backup::create::create(
                    server.store(),
                    server.backups(),
                    now_ms(),
                    &cairn_common::progress::Quiet,
                )
                .expect("backup");
                self.backup = Some((created.manifest.id, self.members));
            }
            Step::RestoreServer => {
                let Some((id, members)) = self.backup.clone() else {
                    return;
                };
                let server = self.server.take().expect("server");
                let dir = server.stop().expect("stop");
                backup::restore::restore(
                    &DataDir::new(&self.data_dir),
                    &self.data_dir.join("backups"),
                    &id,
                    &cairn_common::progress::Quiet,
                )
                .expect("restore");
                let server =
                    TestServer::start_existing(dir, self.data_dir.clone()).expect("serve again");
                // Sessions are not backed up: everyone logs in again.
                for person in &mut self.people {
                    person.token = login(&server, &person.email).token;
                }
                self.server = Some(server);
                self.members = members;
            }
        }
    }

    fn set_member(&mut self, who: usize, member: bool) {
        if self.members[who] == member {
            return;
        }
        let role = member.then_some(Role::Editor);
        wait(server(self).store().set_member(
            self.people[0].user,
            self.team,
            &self.people[who].email,
            role,
        ))
        .expect("membership");
        self.members[who] = member;
    }

    /// Every op id the server holds in the spaces of `who`.
    fn server_ops(&self, who: usize) -> HashSet<OpId> {
        let store = server(self).store();
        let mut ids = HashSet::new();
        for info in wait(store.spaces_of(self.people[who].user)).expect("spaces") {
            let page =
                wait(store.ops_after(info.space.id, 0, usize::MAX, usize::MAX, true)).expect("ops");
            ids.extend(page.ops.iter().map(|op| op.id));
        }
        ids
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

proptest! {
    // Each case starts a server; twelve cases of up to 30 steps take seconds. A
    // failure prints its minimal steps; this file has no regressions file to keep.
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the order of edits, offline rounds, membership changes and a server
    /// restored from a backup, everyone ends with the same shared records, and the
    /// server holds every op a replica holds from its own author.
    #[test]
    fn replicas_converge_through_the_real_server(steps in prop::collection::vec(step(), 1..30)) {
        let mut world = World::new();
        for step in &steps {
            world.run(step);
        }
        for who in 1..PEOPLE {
            world.set_member(who, true);
        }
        for _ in 0..2 {
            for who in 0..PEOPLE {
                world.sync(who);
            }
        }
        let shared = |who: usize| -> BTreeMap<RecordId, RecordState> {
            world
                .records(who)
                .into_iter()
                .filter(|r| r.space == world.team)
                .map(|r| (r.id, r))
                .collect()
        };
        let first = shared(0);
        for who in 1..PEOPLE {
            prop_assert_eq!(&shared(who), &first, "person {} differs", who);
        }
        for (who, person) in world.people.iter().enumerate() {
            let on_server = world.server_ops(who);
            for op in person.replica.ops() {
                let op = op.expect("op");
                if op.author == person.user {
                    prop_assert!(
                        on_server.contains(&op.id),
                        "person {}'s op {:?} is not on the server",
                        who,
                        op
                    );
                }
            }
            let aside = person.replica.set_aside_counts().expect("counts");
            prop_assert_eq!(aside.quarantined, 0);
        }
    }
}
