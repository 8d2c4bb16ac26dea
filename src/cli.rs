//! The command line, as clap types. No logic lives here: `app` validates these raw flags into a
//! config before anything runs.

use clap::{Args, Parser, Subcommand};
use fleetbench::measure::plan;
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
    /// The results database of a fleet over months: ingest result files, list runs, show a
    /// unit's history, find regressions, export a stored run.
    Store(StoreArgs),
}

/// Flags of `fleetbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Drop cases that fail `validate`'s consistency checks (with a warning) instead of refusing
    /// the whole file.
    #[arg(long)]
    pub skip_inconsistent: bool,
    /// Accept simulated result files (`run --simulate`) beside real ones; the output is then
    /// labelled simulated. Without it such a mix is refused.
    #[arg(long)]
    pub allow_simulated: bool,
    /// Result files; join runs of one device with '+' to pool them (a.json+b.json). A side
    /// `store:KEY=VALUE,…` is every run of --store that it selects, pooled (keys: device, host,
    /// gpu, driver, backend, since, until, run, and the word latest).
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
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_SEED)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_RESAMPLES)]
    pub resamples: usize,
    /// `-o`, `--force`, `--format`.
    #[command(flatten)]
    pub out: OutputArgs,
    /// `--store` and the filters every `store:` side starts from (last: their help heading
    /// would otherwise carry over to the flags after them).
    #[command(flatten)]
    pub store: StoreSelectArgs,
}

/// A results store as an input of `compare`, `calibrate` and `report`: which store, and which
/// of its runs, with the filters of `store list`. Stored runs come back as the files
/// `store export` writes and go through the same checks as files.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Runs from a results store")]
pub struct StoreSelectArgs {
    /// Take runs from this results store (a SQLite file or a postgres:// URL): compare's
    /// `store:` sides, or for calibrate and report every run the filters select.
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
    /// Which runs (every stored run when none is given).
    #[command(flatten)]
    pub filter: StoreFilterArgs,
    /// Only the latest run of each unit (host, GPU index, device) among the selected runs
    /// (report: its history keeps every run, and those latest runs are charted as files are).
    #[arg(long)]
    pub latest: bool,
}

/// `-o`, `--force` and `--format`, shared by the commands that print a model and may also
/// write it (compare, calibrate, merge), so the flags mean the same everywhere and are checked
/// in one place before any work.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Also write the output to FILE, in the format its extension names: .json (the same model
    /// `--format json` prints), .csv or .md.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Format on stdout: text, json, csv or markdown.
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
    /// Accept simulated result files (`run --simulate`) beside real ones; the output is then
    /// labelled simulated. Without it such a mix is refused.
    #[arg(long)]
    pub allow_simulated: bool,
    /// Result files (several files of one device are pooled); with --store, the runs it selects
    /// are added.
    #[arg(required_unless_present = "store", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The reference device: a catalog id (h100-sxm) or a device name/slug from a file.
    #[arg(long)]
    pub reference: String,
    /// What to compare: matmul-f32, matmul-f16, matmul-int8, peak-f32, peak-f16 or bandwidth;
    /// bf16 and fp32 name the matmul metric, as for `project --metric`.
    #[arg(long, default_value = "matmul-f32")]
    pub metric: String,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = fleetbench::stats::DEFAULT_SEED)]
    pub seed: u64,
    /// `-o` (.json writes the ratios file), `--force`, `--format`.
    #[command(flatten)]
    pub out: OutputArgs,
    /// `--store` and the runs it adds (last, for its help heading).
    #[command(flatten)]
    pub store: StoreSelectArgs,
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
    /// Once the result file is written, also store it in this results store (a SQLite file
    /// or a postgres:// URL; see `fleetbench store`).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
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
    /// Seconds the whole run may take, tuning included. The plan is fitted to it up front and
    /// what it cuts is listed.
    #[arg(long, value_name = "SECONDS", help = help::budget())]
    pub budget: Option<f64>,
    /// Headline cases sample until the median's 95% interval is within ±PCT percent (or their
    /// share of the budget is spent; then they are marked noisy).
    #[arg(long, value_name = "PCT", help = help::target_half_width())]
    pub target_half_width: Option<f64>,
    /// Warm-up time per case in seconds.
    #[arg(long, value_name = "SECONDS", help = help::warmup())]
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
    #[arg(long, value_name = "SECONDS", default_value_t = plan::DEFAULT_GPU_TIMEOUT_S)]
    pub gpu_timeout: f64,
    /// Shape sweep: square sizes up to 16384 and transformer shapes (4096x4096x11008, …), with
    /// the autotuned kernels only; sizes beyond the adapter's limits are recorded as skipped.
    /// Prints the best and the geometric mean.
    #[arg(long, conflicts_with_all = ["sizes", "quick"])]
    pub sweep: bool,
    /// Square side of the autotuning workload.
    #[arg(long, hide = true, value_name = "N", help = help::tune_size())]
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
    /// With --simulate: sleep through the simulated device time, so the run takes the wall
    /// time it would take on the device (for timing the host's share of a device-sized run).
    #[arg(long, requires = "simulate")]
    pub simulate_realtime: bool,
}

/// Flags of `fleetbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result files; the first is the reference the others are compared with.
    #[arg(required_unless_present = "store", value_name = "FILE")]
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
    /// `--store` and the runs whose history is charted (with --latest, each unit's latest run
    /// is also charted as a result file is); last, for its help heading.
    #[command(flatten)]
    pub store: StoreSelectArgs,
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
    #[arg(required_unless_present = "store", value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,
    /// Also merge the runs stored in this results store (a SQLite file or a postgres:// URL;
    /// see `fleetbench store`) that --device, --host, --gpu, --driver, --backend, --since and
    /// --until select (all of them when none is given).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
    /// Which stored runs `--store` takes.
    #[command(flatten)]
    pub filter: StoreFilterArgs,
    /// Accept simulated result files (`run --simulate`) beside real ones; the output is then
    /// labelled simulated. Without it such a mix is refused.
    #[arg(long)]
    pub allow_simulated: bool,
    /// Name a unit as an outlier when it is this many percent below its group's centre (the
    /// median of its units' medians).
    #[arg(long, value_name = "PCT", default_value_t = fleetbench::merge::DEFAULT_THRESHOLD * 100.0)]
    pub threshold: f64,
    /// Exit with status 1 when any outlier is found (for health checks).
    #[arg(long)]
    pub fail_on_outliers: bool,
    /// Refuse to merge when any file has to be skipped, instead of listing it.
    #[arg(long)]
    pub strict: bool,
    /// Put every case's pooled per-sample throughputs (`pooled_samples`) into the JSON report
    /// (`--format json`, `-o`); without it only their statistics are kept, so a large fleet
    /// merges in less memory.
    #[arg(long)]
    pub samples: bool,
    /// `-o` (.json: groups, spread over units, units, outliers, skipped files), `--force`,
    /// `--format`.
    #[command(flatten)]
    pub out: OutputArgs,
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

/// Help texts that state a default: built from the library's constants, so the help cannot
/// drift from what the code does (a test compares them with README too).
pub mod help {
    use fleetbench::measure::{self, plan};

    /// `run --budget`.
    pub fn budget() -> String {
        format!(
            "Seconds the whole run may take, tuning included (default {}; {} with --quick). The plan is fitted to it up front and what it cuts is listed; a default budget too small for this host gives way to the smallest plan (said in its cuts), a given one is kept strictly",
            plan::DEFAULT_BUDGET_S,
            plan::QUICK_BUDGET_S
        )
    }

    /// `run --target-half-width`.
    pub fn target_half_width() -> String {
        format!(
            "Headline cases sample until the median's 95% interval is within ±PCT percent (default {}), or their share of the budget is spent (then they are marked noisy). Not with --samples",
            plan::DEFAULT_TARGET_HALF_WIDTH * 100.0
        )
    }

    /// `run --warmup`.
    pub fn warmup() -> String {
        format!(
            "Warm-up time per case in seconds (default {}; {} with --quick)",
            plan::DEFAULT_WARMUP_S,
            plan::QUICK_WARMUP_S
        )
    }

    /// `run --tune-size`.
    pub fn tune_size() -> String {
        format!(
            "Square side of the autotuning workload (default {}; {} with --quick or on a CPU adapter)",
            measure::GPU_TUNE_SIZE,
            measure::SMALL_TUNE_SIZE
        )
    }
}

/// Flags of `fleetbench store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: a SQLite file, or a postgres:// URL (default: $FLEETBENCH_DB, else
    /// results.sqlite under the user's data directory).
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: StoreAction,
}

/// `fleetbench store` actions.
#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Store result files (files, or directories searched for *.json); files already stored
    /// are counted, not added again; refused files are listed with the reason.
    Ingest(StoreIngestArgs),
    /// List stored runs.
    List(StoreListArgs),
    /// Each metric's capability figure over time for one unit (--host, --gpu) or one device
    /// model (--device), with intervals; driver changes and steps marked.
    History(StoreQueryArgs),
    /// Each unit's latest run against its own history and its model's population.
    Regressions(StoreRegressionArgs),
    /// Write a stored run back as a result file.
    Export(StoreExportArgs),
}

/// Flags of `fleetbench store ingest`.
#[derive(Debug, Args)]
pub struct StoreIngestArgs {
    /// Result files, or directories searched recursively for `*.json` files.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,
    /// Runs stored per transaction.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Exit 1 when any file is refused.
    #[arg(long)]
    pub strict: bool,
    /// Output format of the refused-file table.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Which runs a store query takes.
#[derive(Debug, Args, Clone)]
pub struct StoreFilterArgs {
    /// Device model: the adapter name as `store list` shows it.
    #[arg(long)]
    pub device: Option<String>,
    /// Host name.
    #[arg(long)]
    pub host: Option<String>,
    /// GPU index on the host.
    #[arg(long)]
    pub gpu: Option<i64>,
    /// Driver name and version, as `store list` shows it.
    #[arg(long)]
    pub driver: Option<String>,
    /// Backend (vulkan, metal, dx12, gl).
    #[arg(long)]
    pub backend: Option<String>,
    /// Runs started on or after this date (2026-03-01) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Runs started on or before this date (the whole day) or time.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

/// Flags of `fleetbench store list`.
#[derive(Debug, Args)]
pub struct StoreListArgs {
    /// Which runs.
    #[command(flatten)]
    pub filter: StoreFilterArgs,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench store history`.
#[derive(Debug, Args)]
pub struct StoreQueryArgs {
    /// Which runs.
    #[command(flatten)]
    pub filter: StoreFilterArgs,
    /// The smallest step, in percent, that counts as a change point.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub min_change: f64,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench store regressions`.
#[derive(Debug, Args)]
pub struct StoreRegressionArgs {
    /// Which runs.
    #[command(flatten)]
    pub filter: StoreFilterArgs,
    /// The smallest slowdown, in percent, that counts (the practical minimum).
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub min_change: f64,
    /// Significance level of the tests.
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Earlier runs a unit needs before its own history is tested.
    #[arg(long, default_value_t = 3)]
    pub min_history: usize,
    /// Show every unit and metric, not only the regressions.
    #[arg(long)]
    pub all: bool,
    /// Exit 1 when any unit regressed (for health checks).
    #[arg(long)]
    pub fail_on_regressions: bool,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: Format,
}

/// Flags of `fleetbench store export`.
#[derive(Debug, Args)]
pub struct StoreExportArgs {
    /// The run id to export (add --host and --gpu when several units share it).
    #[arg(required_unless_present = "key")]
    pub run_id: Option<String>,
    /// The store's key of the run, as `store list` shows it.
    #[arg(long, conflicts_with = "run_id")]
    pub key: Option<i64>,
    /// Host of the run.
    #[arg(long)]
    pub host: Option<String>,
    /// GPU index of the run.
    #[arg(long)]
    pub gpu: Option<i64>,
    /// The result file to write.
    #[arg(short, long, required = true)]
    pub output: PathBuf,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}
