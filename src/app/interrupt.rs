//! Ctrl-C for the commands that work long enough to be stopped (`run`, `merge`): the first
//! Ctrl-C sets a flag the command polls between steps, so it stops where its files are
//! consistent; the second exits at once. SIGTERM and SIGHUP count as Ctrl-C: they are what a
//! batch scheduler sends when a job is cancelled or reaches its time limit, before it kills.

use anyhow::Context;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Installs the handler: `first` is printed on the first Ctrl-C (the flag is set), `again` on
/// the second (the process exits with status 130).
pub fn install(first: &'static str, again: &'static str) -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\n{again}");
            std::process::exit(130);
        }
        eprintln!("\n{first}");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(flag)
}
