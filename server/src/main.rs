//! `cairn-server`: the sync server. Only a placeholder binary until the sync-server
//! issue makes it real; it exists so the workspace layout is final from the start.
#![forbid(unsafe_code)]

fn main() {
    eprintln!(
        "cairn-server {}: the sync server is not built yet; the `cairn` client works \
         fully offline in the meantime.",
        env!("CARGO_PKG_VERSION")
    );
    eprintln!("protocol version {}", cairn_common::api::PROTOCOL_VERSION);
    std::process::exit(2);
}
