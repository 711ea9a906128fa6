//! What the scale benches share: each runs its sizes in child processes of its own
//! binary (`--fill DIR COUNT` writes a replica, `--measure DIR` measures it, so the
//! peak memory of one size is not the other's), on a fixed day.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

/// The day the benches' data is dated around.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the child's part when the arguments ask for one: `Some(result)` then, and
/// `None` for the parent, which goes on to start the children.
pub fn as_child(
    fill: impl FnOnce(&Path, usize) -> anyhow::Result<()>,
    measure: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> Option<anyhow::Result<()>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--fill") {
        let (Some(dir), Some(count)) = (args.get(pos + 1), args.get(pos + 2)) else {
            return Some(Err(anyhow::anyhow!("--fill needs a directory and a count")));
        };
        return Some(
            count
                .parse()
                .map_err(anyhow::Error::from)
                .and_then(|count| fill(&PathBuf::from(dir), count)),
        );
    }
    if let Some(pos) = args.iter().position(|a| a == "--measure") {
        return Some(match args.get(pos + 1) {
            Some(dir) => measure(Path::new(dir)),
            None => Err(anyhow::anyhow!("--measure needs a directory")),
        });
    }
    None
}
