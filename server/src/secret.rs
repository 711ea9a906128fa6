//! [`Secret`]: a setting or request field that must never show in logs. Its own
//! module so that the settings of every part of the server (and the admin
//! protocol) can use it without importing each other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret setting (e.g. an SMTP password): `Debug` prints `Secret(***)`, so
/// logging the settings never leaks it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
