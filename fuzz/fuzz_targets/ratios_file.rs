//! Any bytes given to the ratios-file loader must give a checked ratios file or an error, never
//! a panic.
#![no_main]

use fleetbench::equiv::RatiosFile;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = RatiosFile::parse(Path::new("fuzz.json"), data);
});
