//! Serving: [`serve`] is the accept loop over a listener the caller binds (tests use
//! port 0); [`run`] is what `main` calls: it binds the configured address, takes
//! the data dir, opens the store, and wires signals to shutdown and reload.

mod accept;

pub use accept::{Limits, serve};

#[cfg(test)]
mod tests;
