//! `cairn`: the TUI with no arguments, a headless command otherwise.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit with 2 inside `parse` (clap prints what was wrong).
    let cli = cairn_client::cli::Cli::parse();
    match cairn_client::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A command the running TUI ran for us: its messages are printed already.
            if let Some(exit) = e.downcast_ref::<cairn_client::cli::Exit>() {
                return ExitCode::from(exit.0);
            }
            // If stderr is gone too there is no one left to tell.
            let _ = writeln!(
                std::io::stderr(),
                "cairn: error: {}",
                cairn_client::cli::error_text(&e)
            );
            ExitCode::FAILURE
        }
    }
}
