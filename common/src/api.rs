//! Wire types shared by client and server. The sync endpoints arrive with the sync
//! server; what is here is what both sides already agree on.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change of the wire types; the server answers an older
/// client with 426 and "please upgrade".
pub const PROTOCOL_VERSION: u16 = 1;

/// The one error body of every endpoint. `message` tells the person what to do next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// A stable machine-readable code, e.g. `password_change_required`.
    pub code: String,
    pub message: String,
}
