//! `cairn-server`. (Being built: the server-shell branch makes the commands real.)
#![forbid(unsafe_code)]

fn main() {
    eprintln!("cairn-server {}: being built", env!("CARGO_PKG_VERSION"));
    std::process::exit(2);
}
