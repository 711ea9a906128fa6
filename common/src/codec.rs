//! The only place that knows Cairn's byte format, on disk and on the wire.
//!
//! Every encoded value starts with a header: the magic bytes `CAIRN` and a big-endian
//! `u16` format version, so data of another program or a future format is detected
//! and refused, never misread. The body is bincode 2 (serde API) with one fixed
//! configuration and a decode limit: measured here, bincode's `standard()` without a
//! limit aborts the process on a 12-byte payload whose length prefix says 1 TiB.
//!
//! bincode is unmaintained (RUSTSEC-2025-0141); keeping it behind these four functions
//! means swapping it touches this file only (and bumps [`FORMAT_VERSION`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// First bytes of every encoded value.
pub const MAGIC: &[u8; 5] = b"CAIRN";
/// The body format after the header. Bump on any incompatible change.
pub const FORMAT_VERSION: u16 = 1;
/// Header length: magic plus version.
pub const HEADER_LEN: usize = MAGIC.len() + 2;
/// Largest body a decode will allocate for. Wire bodies are bounded well below this
/// by the server; this is the last line of defence against hostile length prefixes.
pub const DECODE_LIMIT: usize = 64 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Why bytes could not be decoded. Each message says what it means for the user.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("this is not Cairn data (wrong magic bytes); check the file or the server address")]
    NotCairn,
    #[error(
        "this data uses Cairn format {found}, this program reads format {FORMAT_VERSION}; \
         upgrade Cairn to read it"
    )]
    UnsupportedVersion { found: u16 },
    #[error("the data is damaged or truncated: {0}")]
    Malformed(String),
    #[error("could not encode: {0}")]
    Encode(String),
}

/// Encodes a value with the header.
///
/// # Errors
/// [`CodecError::Encode`] if serde refuses the value (e.g. a map with non-string
/// keys is fine, but a custom serializer may fail).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decodes a value written by [`encode`]: checks the header, refuses trailing bytes,
/// and never allocates more than [`DECODE_LIMIT`] whatever a length prefix claims.
///
/// # Errors
/// [`CodecError`] saying whether the bytes are foreign, newer, or damaged.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let body = check_header(bytes)?;
    let (value, read) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if read != body.len() {
        return Err(CodecError::Malformed(format!(
            "{} unexpected bytes at the end",
            body.len() - read
        )));
    }
    Ok(value)
}

/// Checks the header and returns the body.
///
/// # Errors
/// [`CodecError::NotCairn`] or [`CodecError::UnsupportedVersion`].
pub fn check_header(bytes: &[u8]) -> Result<&[u8], CodecError> {
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(CodecError::NotCairn);
    }
    let found = u16::from_be_bytes([bytes[MAGIC.len()], bytes[MAGIC.len() + 1]]);
    if found != FORMAT_VERSION {
        return Err(CodecError::UnsupportedVersion { found });
    }
    Ok(&bytes[HEADER_LEN..])
}
