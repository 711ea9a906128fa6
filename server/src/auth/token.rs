//! Session tokens: 256 random bits, hex to the client; the server keeps only their
//! SHA-256, so a copy of the database does not hold usable tokens.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token (hex, for the client) and its hash (for the store).
#[must_use]
pub fn new_token() -> (String, [u8; 32]) {
    let mut raw = [0u8; 32];
    // ThreadRng is a CSPRNG (ChaCha) seeded and reseeded from the OS.
    rand::rng().fill_bytes(&mut raw);
    (hex::encode(raw), hash_raw(&raw))
}

/// The hash of a token the client sent; `None` if it is not 64 hex digits.
#[must_use]
pub fn hash_token(token: &str) -> Option<[u8; 32]> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(token.trim(), &mut raw).ok()?;
    Some(hash_raw(&raw))
}

fn hash_raw(raw: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(raw).into()
}

/// The token of an `Authorization: Bearer <token>` header value.
#[must_use]
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token hashes back to the hash it was issued with; junk does not parse.
    #[test]
    fn tokens_round_trip() {
        let (token, hash) = new_token();
        assert_eq!(token.len(), 64);
        assert_eq!(hash_token(&token), Some(hash));
        assert_ne!(new_token().0, token);
        assert_eq!(hash_token("abc"), None);
        assert_eq!(hash_token(&"zz".repeat(32)), None);
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
    }
}
