//! The command line, as clap types. No logic lives here: `app` validates these raw flags into a
//! config before anything runs.

use clap::{Args, Parser, Subcommand};
use fleetbench::table::Format;
use std::path::PathBuf;

/// Measured GPU equivalence: benchmark adapters with WGSL kernels, compare machines, calibrate
/// equivalence tables and project fleets.
#[derive(Debug, Parser)]
#[command(name = "fleetbench", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every adapter wgpu can see, with the features and limits that matter here.
    Devices(DevicesArgs),
    /// Run the benchmark suite on one adapter and write a result file.
    Run(Box<RunArgs>),
}

/// Flags of `fleetbench devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
    /// Only this backend: vulkan, metal, dx12 or gl.
    #[arg(long)]
    pub backend: Option<String>,
}

/// Flags of `fleetbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Adapter by index (from `fleetbench devices`) or by a substring of its name.
    #[arg(long)]
    pub device: Option<String>,
    /// Take the adapter index from this environment variable (e.g. SLURM_LOCALID).
    #[arg(long, value_name = "VAR", conflicts_with = "device")]
    pub device_from_env: Option<String>,
    /// Only adapters of this backend: vulkan, metal, dx12 or gl.
    #[arg(long)]
    pub backend: Option<String>,
    /// Matrix sizes: N for N×N×N or MxNxK, comma-separated (e.g. 512,1024,768x1536x512).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<String>,
    /// A small suite that finishes well under a minute on a software GPU.
    #[arg(long)]
    pub quick: bool,
    /// Kernels to run, by id (default: all matmul kernels).
    #[arg(long, value_delimiter = ',')]
    pub kernels: Vec<String>,
    /// Timed samples per case (at least 2; 10 or more for a meaningful interval).
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    /// Warm-up time per case in seconds.
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Seed of the input generator (default: derived from the clock, and recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output file (default: results/<date>_<device>_<backend>.json).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Directory for the default-named output file (default: results).
    #[arg(long, conflicts_with = "output")]
    pub output_dir: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Compile kernels without naga's runtime bounds checks (recorded in the file).
    #[arg(long)]
    pub no_bounds_checks: bool,
    /// Refuse cases that would allocate more than this (e.g. 512M, 4G).
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<String>,
    /// Seconds to wait for the GPU before a case is declared hung.
    #[arg(long, default_value_t = 120.0)]
    pub gpu_timeout: f64,
    /// Shape sweep: square sizes up to 16384 and transformer shapes (4096x4096x11008, …), with
    /// the autotuned kernels only; sizes beyond the adapter's limits are recorded as skipped.
    /// Prints the best and the geometric mean.
    #[arg(long, conflicts_with_all = ["sizes", "quick"])]
    pub sweep: bool,
    /// Square side of the autotuning workload (default 512 with --quick, else 1024).
    #[arg(long, hide = true, value_name = "N")]
    pub tune_size: Option<u64>,
    /// Search the matmul kernel configurations again instead of reusing the tuning cache.
    #[arg(long)]
    pub retune: bool,
    /// Summary table format.
    #[arg(long, default_value = "text")]
    pub format: Format,
    /// Use a deterministic fake adapter NAME:GFLOPS instead of a GPU (for tests and demos).
    #[arg(long, hide = true, value_name = "NAME:GFLOPS")]
    pub fake: Option<String>,
}
