//! Authentication and authorization: argon2id passwords, session tokens, login
//! throttling, the must-change-password gate.

pub mod password;
