//! The one way fleetbench touches the file system. Every file the tool writes goes through
//! [`write_file`], every file it reads through [`read_bounded`], every versioned JSON file
//! (result files, ratios files) through [`versioned::VersionedFormat`], and `merge` and
//! `store ingest` walk directories with [`walk_json_each`], so the rules below hold everywhere instead of loader by
//! loader:
//!
//! - only regular files are read or written: a device node, a FIFO or a directory is refused by
//!   its type before it is opened, so `/dev/zero` cannot grow memory and a FIFO cannot block;
//! - reads are bounded: a file larger than its kind's limit is refused with a message that asks
//!   whether it is the right kind of file;
//! - writes are complete before they are visible: the bytes go to a temporary file in the same
//!   directory, are synced, and only then take the target's name, so a full disk or a crash
//!   leaves the old file as it was; without `--force` the name is taken exclusively, so two
//!   runs given the same output cannot both succeed;
//! - walks never follow a symbolic link to a directory and never leave the tree they were given.

pub mod json;
mod read;
mod sorted_dir;
pub mod versioned;
mod walk;
mod write;

pub use read::{file_type_name, read_bounded, read_text, FileKind};
pub use read::{EPOCH_CSV, FLEET_FILE, RATIOS_FILE, RESULT_FILE, TUNING_CACHE};
pub use walk::{walk_json, walk_json_each, Found, Walked};
pub use write::{check_not_input, check_target, write_file, write_file_with, write_set, Overwrite};
