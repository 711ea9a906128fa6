//! The session file: which server, how its certificate is trusted, the session token,
//! the account and its personal space. `session.toml` in the data directory, readable
//! by its owner only (the token is a secret), written atomically: a crash leaves the
//! old file or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_common::model::{SpaceId, UserProfile};
use serde::{Deserialize, Serialize};

use super::SyncError;
use super::client::Client;
use super::trust::Trust;

const FILE: &str = "session.toml";

/// A login to a server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `https://host[:port]`.
    pub server: String,
    pub trust: Trust,
    pub token: String,
    pub user: UserProfile,
    pub personal_space: SpaceId,
    /// Unix milliseconds.
    pub expires_at_ms: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never in logs or panics.
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("trust", &self.trust)
            .field("user", &self.user.email)
            .finish_non_exhaustive()
    }
}

/// Where the session of a data directory lives.
#[must_use]
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

impl Session {
    /// Reads the session of `data_dir`; `None` if nobody logged in.
    ///
    /// # Errors
    /// An unreadable or damaged file, with what to do.
    pub fn load(data_dir: &Path) -> Result<Option<Self>, SyncError> {
        let file = path(data_dir);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SyncError::Config(format!(
                    "cannot read the session file {file:?}: {e}; check its permissions"
                )));
            }
        };
        toml::from_str(&text).map(Some).map_err(|e| {
            SyncError::Config(format!(
                "the session file {file:?} is damaged ({}); run `cairn login` again",
                e.message()
            ))
        })
    }

    /// Writes the session atomically with owner-only permissions.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn save(&self, data_dir: &Path) -> Result<(), SyncError> {
        let file = path(data_dir);
        let fail = |e: std::io::Error| {
            SyncError::Config(format!(
                "cannot write the session file {file:?}: {e}; check that the data directory is writable"
            ))
        };
        let text = toml::to_string(self)
            .map_err(|e| SyncError::Config(format!("cannot encode the session: {e}")))?;
        std::fs::create_dir_all(data_dir).map_err(fail)?;
        let mut temp = tempfile::NamedTempFile::new_in(data_dir).map_err(fail)?;
        restrict(temp.path()).map_err(fail)?;
        temp.write_all(text.as_bytes()).map_err(fail)?;
        temp.as_file().sync_all().map_err(fail)?;
        temp.persist(&file).map_err(|e| fail(e.error))?;
        sync_dir(data_dir).map_err(fail)?;
        Ok(())
    }

    /// Removes the session of `data_dir`; `false` if there was none.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn delete(data_dir: &Path) -> Result<bool, SyncError> {
        let file = path(data_dir);
        match std::fs::remove_file(&file) {
            Ok(()) => {
                sync_dir(data_dir).map_err(|e| {
                    SyncError::Config(format!("cannot sync {data_dir:?} after logout: {e}"))
                })?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(SyncError::Config(format!(
                "cannot remove the session file {file:?}: {e}; delete it by hand"
            ))),
        }
    }

    /// A client for this session's server, with its token.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn client(&self) -> Result<Client, SyncError> {
        Ok(Client::new(&self.server, &self.trust)?.with_token(&self.token))
    }
}

#[cfg(unix)]
fn restrict(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Makes a rename or removal in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use cairn_common::model::UserId;

    use super::*;

    fn session() -> Session {
        Session {
            server: "https://127.0.0.1:8443".into(),
            trust: Trust::Fingerprint {
                sha256: "ab".repeat(32),
            },
            token: "secret-token".into(),
            user: UserProfile {
                id: UserId::new(),
                email: "ana@example.com".into(),
                first_name: "Ana".into(),
                last_name: "Lima".into(),
            },
            personal_space: SpaceId::new(),
            expires_at_ms: 1_800_000_000_000,
        }
    }

    /// A saved session reads back equal, only its owner may read it, and its Debug
    /// hides the token; delete removes it once.
    #[test]
    fn save_load_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Session::load(dir.path()).expect("none"), None);
        let s = session();
        s.save(dir.path()).expect("save");
        s.save(dir.path()).expect("overwrite");
        assert_eq!(Session::load(dir.path()).expect("load"), Some(s.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{s:?}").contains("secret-token"));
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temp file left"
        );
        assert!(Session::delete(dir.path()).expect("delete"));
        assert!(!Session::delete(dir.path()).expect("again"));
    }

    /// A damaged session file is an error that says to log in again.
    #[test]
    fn damaged_file_says_login() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(path(dir.path()), "server = 3").expect("write");
        let err = Session::load(dir.path()).expect_err("damaged");
        assert!(err.to_string().contains("cairn login"), "{err}");
    }
}
