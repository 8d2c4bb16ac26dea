//! Any bytes given to the result-file loader, and any file it accepts given to the validator,
//! must give a value or an error, never a panic or a hang.
#![no_main]

use fleetbench::results::store::parse;
use fleetbench::validate::{check_file, NoPeaks};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = parse(Path::new("fuzz.json"), data) {
        let _ = check_file(&file, &NoPeaks);
    }
});
