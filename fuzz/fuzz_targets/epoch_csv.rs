//! Any text given to the Epoch import must give catalog entries or an error, never a panic.
#![no_main]

use fleetbench::catalog::parse_epoch;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_epoch(Path::new("fuzz.csv"), text);
    }
});
