//! The command line, as clap types. No logic lives here: `app` validates these raw flags into a
//! config before anything runs.

use clap::{Args, Parser, Subcommand};
use fleetbench::output::Format;
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
    /// Merge result files from many units: spread per device group, and GPUs that fall behind.
    Merge(MergeArgs),
    /// Draw SVG charts and one self-contained HTML page from result files.
    Report(ReportArgs),
    /// Print a shell completion script generated from this command line's definition.
    Completions(CompletionsArgs),

    /// Re-check result files: re-derive every statistic from the raw samples and report
    /// inconsistencies (exit 0 clean, 1 inconsistent, 2 unreadable).
    Validate(ValidateArgs),
    /// Project fleets into reference-equivalents: published vs calibrated, workload-aware,
    /// with claim checks and growth.
    Project(ProjectArgs),
    /// Compare result files case by case: ratios of medians with intervals and p-values.
    Compare(CompareArgs),
    /// Build the equivalence table (ratios to a reference device) from result files.
    Calibrate(CalibrateArgs),
    /// Print the published datasheet catalog, or import Epoch AI's ml_hardware.csv.
    Catalog(CatalogArgs),
}

/// Flags of `fleetbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Drop cases that fail `validate`'s consistency checks (with a warning) instead of refusing
    /// the whole file.
    #[arg(long)]
    pub skip_inconsistent: bool,
    /// Result files; join runs of one device with '+' to pool them (a.json+b.json).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<String>,
    /// The file every other is compared with (default: the first).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Exit 1 when a case is significantly slower than the baseline by more than PCT percent.
    #[arg(long, value_name = "PCT")]
    pub threshold: Option<f64>,
    /// Match cases by kernel and how they were measured (tracking one machine or driver over
    /// time) instead of comparing each file's best verified kernel per shape.
    #[arg(long)]
    pub same_code: bool,
    /// With --same-code: also compare cases measured differently (timing method, bounds
    /// checks, kernel source).
    #[arg(long)]
    pub allow_mixed: bool,
    /// Also write the comparison as JSON (the same model `--format json` prints).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_SEED)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_RESAMPLES)]
    pub resamples: usize,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Drop cases that fail `validate`'s consistency checks (with a warning) instead of refusing
    /// the whole file.
    #[arg(long)]
    pub skip_inconsistent: bool,
    /// Result files (several files of one device are pooled).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The reference device: a catalog id (h100-sxm) or a device name/slug from a file.
    #[arg(long)]
    pub reference: String,
    /// What to compare: matmul-f32, matmul-f16, matmul-int8, peak-f32, peak-f16, bandwidth.
    #[arg(long, default_value = "matmul-f32")]
    pub metric: String,
    /// Output file: .json (the ratios file), .csv or .md; default: a table on stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_SEED)]
    pub seed: u64,
    /// Table format on stdout.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench catalog`.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Optional action; without one the embedded catalog is printed.
    #[command(subcommand)]
    pub action: Option<CatalogAction>,
    /// Output format.
    #[arg(long, default_value = "text", global = true)]
    pub format: Format,
}

/// Subcommands of `fleetbench catalog`.
#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Read Epoch AI's ml_hardware.csv into the catalog schema and print it.
    ImportEpoch {
        /// The CSV file.
        file: PathBuf,
    },
}

/// Flags of `fleetbench validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Result files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format of the findings table.
    #[arg(long, default_value = "text")]
    pub format: Format,
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
    /// Exactly this many timed samples per case (at least 2), instead of sampling headline
    /// cases until their interval is tight.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Seconds the whole run may take, tuning included (default 120; 25 with --quick). The plan
    /// is fitted to it up front and what it cuts is listed.
    #[arg(long, value_name = "SECONDS")]
    pub budget: Option<f64>,
    /// Headline cases sample until the median's 95% interval is within ±PCT percent (or their
    /// share of the budget is spent; then they are marked noisy).
    #[arg(long, value_name = "PCT", default_value_t = 2.0)]
    pub target_half_width: f64,
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
    /// Name the output `<host>_gpu<index>_<run id>.json` inside --output-dir, so that every
    /// task of a cluster job can write into one shared directory without collisions.
    #[arg(long, conflicts_with = "output")]
    pub unique_name: bool,
    /// Record (and name the output with) the host name held by this environment variable, e.g.
    /// the node name in a Kubernetes pod, whose own host name is the pod's.
    #[arg(long, value_name = "VAR")]
    pub host_from_env: Option<String>,
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
    /// Run on a simulated device instead of a GPU: h100-sxm, h200-sxm, mi300x or iris-xe
    /// (a test instrument: speed model, real outputs and verification; the file says so).
    #[arg(long, value_name = "PROFILE", conflicts_with = "fake")]
    pub simulate: Option<String>,
}

/// Flags of `fleetbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result files; the first is the reference the others are compared with.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Ratios file from `fleetbench calibrate`: adds an equivalence chart (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ratios: Vec<PathBuf>,
    /// Fleet file: adds fleet totals (published, and calibrated with --ratios) and, for dated
    /// entries, the stock over time.
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,
    /// Directory to write the charts and index.html into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Overwrite report files already in the directory.
    #[arg(long)]
    pub force: bool,
    /// Format of the list of files written.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `fleetbench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Result files, or directories searched recursively for `*.json` result files.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,
    /// Write the merged report (groups, pooled samples, units, outliers, skipped files) as JSON.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Name a unit as an outlier when it is this many percent below its group median.
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub threshold: f64,
    /// Exit with status 1 when any outlier is found (for health checks).
    #[arg(long)]
    pub fail_on_outliers: bool,
    /// Refuse to merge when any file has to be skipped, instead of listing it.
    #[arg(long)]
    pub strict: bool,
    /// Table format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench project`.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Fleet file (TOML; see data/scenarios/ and docs/fleet-files.md).
    pub fleet: PathBuf,
    /// Ratios file written by `fleetbench calibrate` (measured ratios with intervals); repeat
    /// for several metrics (e.g. matmul-f16 and bandwidth for a calibrated roofline).
    #[arg(long)]
    pub ratios: Vec<PathBuf>,
    /// Reference device id (default: the fleet file's, else h100-sxm).
    #[arg(long)]
    pub reference: Option<String>,
    /// Metric for totals, as `calibrate --metric` names it: matmul-f16, matmul-f32, peak-f16,
    /// peak-f32 or bandwidth; bf16 and fp32 name the matmul metric (default: the fleet file's,
    /// else matmul-f16, compared with the dense BF16/FP16 tensor peak).
    #[arg(long)]
    pub metric: Option<String>,
    /// Workload for roofline-aware ratios: training, inference or intensity=N (FLOP/byte).
    #[arg(long)]
    pub workload: Option<String>,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}
