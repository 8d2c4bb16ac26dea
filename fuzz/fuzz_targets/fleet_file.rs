//! Any text given to the fleet-file loader must give a fleet file or an error, never a panic.
#![no_main]

use fleetbench::fleet::FleetFile;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FleetFile::parse(Path::new("fuzz.toml"), text);
    }
});
