//! The integration tests: one test binary with a module per area, sharing `common` (running
//! the binary, temporary directories, GPU availability) and `report_support` (result files
//! with ceilings for the report tests). One binary links once instead of twenty times.
//!
//! Three tests keep binaries of their own because they measure speed differences on lavapipe
//! and must not share the two cores with the other tests (cargo runs test binaries one after
//! another): the ground truth of `compare` (tests/compare_gpu.rs, a 2× difference in CPU
//! threads), the Slurm cluster test (tests/slurm.rs, one slowed unit among four) and the
//! planted regression of `store regressions` (tests/store_gpu.rs).

mod cli_merge;
mod cli_project;
mod cli_run;
mod common;
mod compare_cli;
mod device_check;
mod device_faults;
mod formats;
mod hostile;
mod hostile_epoch;
mod hostile_fleet;
mod hostile_io;
mod hostile_messages;
mod hostile_ratios;
mod interrupt;
mod kernels_gpu;
mod kubernetes;
mod loader_fuzz;
mod merge_store;
mod output_args;
mod pg_cluster;
mod reference_by_name;
mod report;
mod report_browser;
mod report_support;
mod run_files;
mod schemas;
mod shaders;
mod simulate;
mod store;
mod store_inputs;
mod suite;
mod vocabulary;
