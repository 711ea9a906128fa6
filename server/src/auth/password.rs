//! Passwords: argon2id with the crate's default parameters (19 MiB, 2 passes), a
//! random salt per hash, PHC strings in the store.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::store::StoreError;

/// Shortest password accepted.
pub const MIN_CHARS: usize = 8;
/// Longest password accepted (bytes): enough for any passphrase, bounded work.
pub const MAX_BYTES: usize = 1024;

/// Checks that `password` may be set.
///
/// # Errors
/// A sentence saying what is wrong with it.
pub fn check_policy(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!("use at least {MIN_CHARS} characters"));
    }
    if password.len() > MAX_BYTES {
        return Err(format!("use at most {MAX_BYTES} bytes"));
    }
    Ok(())
}

/// The password hash of an imported account: no PHC string, so no password
/// verifies against it and nobody can log in until an admin resets the password.
pub const IMPORTED_PASSWORD_HASH: &str = "!imported: no password until an admin resets it";

/// Why a new password cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is too weak: {0}")]
    Weak(String),
    #[error("could not hash the password: {0}; try again")]
    Hash(String),
}

/// Checks a new password against the policy and hashes it: what a password an
/// admin sets goes through before the store sees its hash. Slow (see [`hash`]).
///
/// # Errors
/// [`PasswordError::Weak`] saying what is wrong with it, or [`PasswordError::Hash`].
pub fn hash_new(password: &str) -> Result<String, PasswordError> {
    check_policy(password).map_err(PasswordError::Weak)?;
    hash(password).map_err(PasswordError::Hash)
}

/// Hashes a password with a fresh random salt (slow on purpose: run it off the
/// async threads).
///
/// # Errors
/// argon2's error text (only for inputs it cannot take, e.g. absurd lengths).
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    // ThreadRng is a CSPRNG (ChaCha) seeded and reseeded from the OS.
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string. A damaged hash never matches.
#[must_use]
pub fn verify(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Where the argon2 work of a request runs (see `AppState::with_hashing`).
#[derive(Clone, Debug)]
pub enum Hashing {
    /// On this thread: the caller is on a blocking thread already, holding a permit.
    Here,
    /// On a blocking thread, while holding a permit of this semaphore, which bounds
    /// how many hashes run at once.
    Bounded(Arc<Semaphore>),
}

impl Hashing {
    /// Runs `work` (argon2: slow, CPU-bound) where this says.
    ///
    /// # Errors
    /// [`StoreError::Internal`] if the work panicked or no permit can be had.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match self {
            Self::Here => Ok(work()),
            Self::Bounded(permits) => {
                let permit = permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| StoreError::Internal(format!("password hashing: {e}")))?;
                // The permit goes with the work: a blocking thread runs on when its
                // request is dropped, and its hash still counts.
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    work()
                })
                .await
                .map_err(|e| StoreError::Internal(format!("password hashing: {e}")))
            }
        }
    }
}

/// A hash of a random password, to verify against when the account does not exist
/// or is disabled, so such a login takes as long as a real one.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        // Hashing a valid input cannot fail; should it, an empty string never verifies
        // and the login still fails, only faster.
        hash(&hex::encode(secret)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash verifies its own password only, and each hash has its own salt.
    #[test]
    fn hash_and_verify() {
        let a = hash("correct horse").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(&a, "correct horse"));
        assert!(!verify(&a, "correct horsE"));
        assert_ne!(a, hash("correct horse").expect("hash"));
        assert!(!verify("not a phc string", "correct horse"));
    }

    /// Short and huge passwords are refused with a reason.
    #[test]
    fn policy() {
        assert!(check_policy("1234567").is_err());
        assert!(check_policy("12345678").is_ok());
        assert!(check_policy(&"x".repeat(MAX_BYTES + 1)).is_err());
    }

    /// A new password is checked before it is hashed; the imported marker never
    /// verifies.
    #[test]
    fn new_passwords() {
        let err = hash_new("short").expect_err("weak");
        assert!(matches!(err, PasswordError::Weak(_)), "{err}");
        assert!(
            err.to_string().starts_with("the password is too weak"),
            "{err}"
        );
        let hashed = hash_new("long enough").expect("hash");
        assert!(verify(&hashed, "long enough"));
        assert!(!verify(IMPORTED_PASSWORD_HASH, ""));
    }
}
