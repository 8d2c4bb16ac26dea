//! `fleetbench run`: validate flags into a [`RunConfig`], open the adapter, run the plan, print
//! the summary. Everything a user can get wrong is caught here, before the GPU is touched.

use super::tuning::{self, TuneOptions, Tuned};
use crate::cli::RunArgs;
use anyhow::{bail, Context};
use fleetbench::bench::{self, Backend, CaseSpec, SuiteEnd, TimingConfig};
use fleetbench::gpu::{self, AdapterSelector};
use fleetbench::kernels::{ceiling_cases, default_matmul_configs, Kernel, KernelConfig};
use fleetbench::output::Format;
use fleetbench::results::{self, CaseStatus, ResultFile, RunInfo, TuningRecord, SCHEMA_VERSION};
use fleetbench::tune;
use fleetbench::workload::{Dtype, Op, Workload};
use fleetbench::{fake::FakeBackend, machine, progress::ProgressObserver, render};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Largest matrix side accepted on the command line; adapters refuse far smaller sizes, but a
/// side past this is a typo, not a benchmark.
const MAX_SIDE: u64 = 1 << 17;

/// Square sides of the quick suite, plus one non-square shape.
const QUICK_SIZES: &[&str] = &["128", "256", "512", "320x192x256"];
/// The shape sweep: squares up to the largest binding any adapter allows, and the projections of
/// a 7B-class transformer layer (hidden 4096, MLP 11008).
const SWEEP_SIZES: &[&str] = &[
    "256",
    "512",
    "1024",
    "2048",
    "4096",
    "8192",
    "16384",
    "4096x4096x4096",
    "4096x11008x4096",
    "4096x4096x11008",
];
/// The default suite.
const DEFAULT_SIZES: &[&str] = &["256", "512", "1024", "2048", "768x1536x512"];

/// A validated `run`.
struct RunConfig {
    selector: AdapterSelector,
    backend: Option<String>,
    plan_shapes: Vec<Workload>,
    kernels: Vec<KernelConfig>,
    /// Ceiling kernels to run; their sizes come from the adapter once it is open.
    ceilings: Vec<Kernel>,
    tune: bool,
    /// Measure the vendor-library references (`fleetbench::vendor`) after the WGSL cases.
    vendor: bool,
    tune_size: u64,
    retune: bool,
    timing: TimingConfig,
    seed: u64,
    output: Option<PathBuf>,
    output_dir: PathBuf,
    unique_name: bool,
    device_var: Option<String>,
    host: Option<String>,
    force: bool,
    quiet: bool,
    format: Format,
    fake: Option<(String, f64)>,
}

pub fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let command: Vec<String> = std::env::args().collect();
    let config = validate(args)?;
    let mut backend = open_backend(&config)?;
    // The output is checked before tuning, which can take a while: a bad path fails at once.
    let mut file = new_file(&config, backend.adapter().clone(), command);
    let path = output_path(&config, &file)?;
    let tuned = if config.tune {
        let opts = TuneOptions {
            size: config.tune_size,
            retune: config.retune,
            seed: config.seed,
            quiet: config.quiet,
        };
        tuning::tune_all(backend.as_mut(), &config.timing, &opts)?
    } else {
        Vec::new()
    };
    let ceilings = ceiling_plan(&config, backend.as_mut());
    let plan = plan(&config, &tuned, &ceilings);
    let interrupted = install_interrupt_handler()?;
    let mut progress = ProgressObserver::new(config.quiet);
    let end = bench::run_suite(
        backend.as_mut(),
        &plan,
        &config.timing,
        &mut file,
        &path,
        &mut progress,
        &interrupted,
    )
    .with_context(|| format!("writing {}", path.display()))?;
    progress.finish();
    if config.vendor && end == SuiteEnd::Complete {
        run_vendor_references(&config, backend.adapter(), &plan, &mut file, &path)?;
    }
    if !tuned.is_empty() || ceilings.iter().any(|c| c.2.is_some()) {
        tuning::attach_records(&mut file, &tuned);
        attach_bandwidth_records(&mut file, &ceilings);
        results::save_atomic(&path, &file)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print!(
        "{}",
        render::run_summary(&file).render(config.format, fleetbench::output::terminal_width())
    );
    for dtype in [Dtype::F32, Dtype::F16] {
        if let Some(s) = fleetbench::roofline::sweep_summary(&file, "matmul_tuned/", dtype) {
            eprintln!(
                "tuned {dtype} matmul over {} shapes: best {:.2} GFLOP/s ({}), geometric mean {:.2}",
                s.count, s.best, s.best_case, s.geomean
            );
        }
    }
    eprintln!("wrote {} ({} cases)", path.display(), file.cases.len());
    finish(end, &file)
}

fn finish(end: SuiteEnd, file: &ResultFile) -> anyhow::Result<ExitCode> {
    if end == SuiteEnd::Interrupted {
        eprintln!(
            "interrupted: {} finished case(s) are saved; the run is marked incomplete",
            file.cases.len()
        );
        return Ok(ExitCode::from(130));
    }
    let failed = file
        .cases
        .iter()
        .filter(|c| c.status == CaseStatus::Failed)
        .count();
    if failed > 0 {
        eprintln!("{failed} case(s) failed; their times are not reported as throughput");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: RunArgs) -> anyhow::Result<RunConfig> {
    if args.samples < 2 {
        bail!("--samples {}: at least 2 samples are needed", args.samples);
    }
    let warmup = args.warmup.unwrap_or(if args.quick { 0.2 } else { 0.5 });
    if !(warmup.is_finite() && (0.0..=3600.0).contains(&warmup)) {
        bail!("--warmup {warmup}: expected seconds between 0 and 3600");
    }
    if !(args.gpu_timeout.is_finite() && args.gpu_timeout > 0.0) {
        bail!(
            "--gpu-timeout {}: expected a positive number of seconds",
            args.gpu_timeout
        );
    }
    let max_memory = args.max_memory.as_deref().map(parse_bytes).transpose()?;
    let sizes: Vec<String> = if args.sweep {
        SWEEP_SIZES.iter().map(|s| s.to_string()).collect()
    } else if !args.sizes.is_empty() {
        args.sizes.clone()
    } else if args.quick {
        QUICK_SIZES.iter().map(|s| s.to_string()).collect()
    } else {
        DEFAULT_SIZES.iter().map(|s| s.to_string()).collect()
    };
    let plan_shapes = sizes
        .iter()
        .map(|s| parse_shape(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RunConfig {
        selector: selector(&args)?,
        backend: args.backend.clone(),
        plan_shapes,
        kernels: if args.sweep {
            Vec::new()
        } else {
            select_kernels(&args.kernels)?
        },
        ceilings: select_ceilings(&args.kernels),
        tune: args.kernels.is_empty() || args.kernels.iter().any(|k| k.trim() == "tuned"),
        vendor: args.kernels.is_empty() || args.kernels.iter().any(|k| k.trim() == "vendor"),
        tune_size: match args.tune_size {
            Some(n) if (16..=MAX_SIDE).contains(&n) && n.is_multiple_of(16) => n,
            Some(n) => {
                bail!("--tune-size {n}: expected a multiple of 16 between 16 and {MAX_SIDE}")
            }
            None if args.quick => 512,
            None => 1024,
        },
        retune: args.retune,
        timing: TimingConfig {
            warmup: Duration::from_secs_f64(warmup),
            samples: args.samples,
            bounds_checks: !args.no_bounds_checks,
            max_memory,
            gpu_timeout: Duration::from_secs_f64(args.gpu_timeout),
            ..TimingConfig::default()
        },
        seed: args.seed.unwrap_or_else(clock_seed),
        output: args.output.clone(),
        output_dir: args
            .output_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("results")),
        unique_name: args.unique_name,
        device_var: args.device_from_env.clone(),
        host: args
            .host_from_env
            .as_deref()
            .map(host_from_env)
            .transpose()?,
        force: args.force,
        quiet: args.quiet,
        format: args.format,
        fake: args.fake.as_deref().map(parse_fake).transpose()?,
    })
}

fn selector(args: &RunArgs) -> anyhow::Result<AdapterSelector> {
    let raw = match (&args.device, &args.device_from_env) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(var)) => return rank_from_env(var).map(AdapterSelector::Index),
        (None, None) => None,
    };
    Ok(match raw {
        None => AdapterSelector::Best,
        Some(text) if text.trim().is_empty() => bail!("--device: empty adapter name"),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(i) => AdapterSelector::Index(i),
            Err(_) => AdapterSelector::Name(text),
        },
    })
}

/// A scheduler's rank variable must hold a device index; anything else is a job-script mistake
/// that must stop the task, not quietly select some other adapter.
fn rank_from_env(var: &str) -> anyhow::Result<usize> {
    let value = std::env::var(var).map_err(|_| {
        anyhow::anyhow!("--device-from-env {var}: the variable is not set (is this running under the scheduler?)")
    })?;
    value.trim().parse::<usize>().map_err(|_| {
        anyhow::anyhow!(
            "--device-from-env {var}: value '{value}' is not a device index (a whole number from 0)"
        )
    })
}

/// The host name to record, from `var`; empty or unset is an error, not "unknown".
fn host_from_env(var: &str) -> anyhow::Result<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => bail!("--host-from-env {var}: the variable is not set or empty"),
    }
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// `N` → N×N×N, `MxNxK` → that shape; every side from 1 to [`MAX_SIDE`].
fn parse_shape(text: &str) -> anyhow::Result<Workload> {
    let parts: Vec<&str> = text.trim().split(['x', 'X']).collect();
    let sides: Vec<u64> = parts
        .iter()
        .map(|p| p.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--sizes '{text}': expected N or MxNxK with whole numbers"))?;
    let (m, n, k) = match sides.as_slice() {
        [s] => (*s, *s, *s),
        [m, n, k] => (*m, *n, *k),
        _ => bail!("--sizes '{text}': expected N or MxNxK"),
    };
    if [m, n, k].iter().any(|s| *s == 0 || *s > MAX_SIDE) {
        bail!("--sizes '{text}': every side must be between 1 and {MAX_SIDE}");
    }
    Ok(Workload::matmul(Dtype::F32, m, n, k))
}

/// `512M`, `4G`, `1048576` → bytes.
fn parse_bytes(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let (digits, scale) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let scale: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => bail!("--max-memory '{text}': unknown unit (use K, M, G or T)"),
            };
            (&t[..i], scale)
        }
        _ => (t, 1),
    };
    let value: u64 = digits.parse().map_err(|_| {
        anyhow::anyhow!("--max-memory '{text}': expected a size such as 512M or 4G")
    })?;
    value
        .checked_mul(scale)
        .filter(|v| *v > 0)
        .ok_or_else(|| anyhow::anyhow!("--max-memory '{text}': must be positive and below 16 EiB"))
}

/// Matmul kernels runnable by id: the defaults plus every other matmul kernel's default
/// configuration.
fn known_matmul_configs() -> Vec<KernelConfig> {
    let mut all = default_matmul_configs();
    all.push(KernelConfig::new(
        Kernel::MatmulTex,
        &[("WG_X", 8), ("WG_Y", 8), ("RA", 4), ("CB", 4)],
    ));
    all.push(KernelConfig::new(Kernel::MatmulTiled, &[]));
    all.push(KernelConfig::new(
        Kernel::MatmulF16,
        &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)],
    ));
    all.push(KernelConfig::new(Kernel::MatmulTiledF16, &[]));
    all.push(KernelConfig::new(Kernel::MatmulCoopF16, &[]));
    all.push(KernelConfig::new(
        Kernel::MatmulInt8,
        &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)],
    ));
    all
}

/// Ids `--kernels` accepts besides the matmul kernels: the ceilings and `tuned`.
fn is_special_kernel(id: &str) -> bool {
    id == "tuned" || id == "vendor" || ceiling_kernels().any(|k| k.id() == id)
}

fn select_kernels(ids: &[String]) -> anyhow::Result<Vec<KernelConfig>> {
    let all = known_matmul_configs();
    if ids.is_empty() {
        let mut defaults = default_matmul_configs();
        defaults.push(KernelConfig::new(Kernel::MatmulCoopF16, &[]));
        return Ok(defaults);
    }
    let mut chosen = Vec::new();
    for id in ids {
        let id = id.trim();
        if is_special_kernel(id) {
            continue;
        }
        let found = all.iter().find(|k| k.id() == id).cloned().ok_or_else(|| {
            let mut known: Vec<&str> = all.iter().map(|k| k.id()).collect();
            known.extend(ceiling_kernels().map(Kernel::id));
            known.push("tuned");
            known.push("vendor");
            anyhow::anyhow!(
                "--kernels: unknown kernel '{id}' (known: {})",
                known.join(", ")
            )
        })?;
        chosen.push(found);
    }
    Ok(chosen)
}

/// The ceiling cases to run: all of them by default, else those named in `--kernels`.
fn select_ceilings(ids: &[String]) -> Vec<Kernel> {
    ceiling_kernels()
        .filter(|k| ids.is_empty() || ids.iter().any(|id| id.trim() == k.id()))
        .collect()
}

/// The ceiling kernels shipped.
fn ceiling_kernels() -> impl Iterator<Item = Kernel> {
    Kernel::ALL
        .into_iter()
        .filter(|k| k.info().family == fleetbench::kernels::Family::Ceiling)
}

fn parse_fake(text: &str) -> anyhow::Result<(String, f64)> {
    let (name, rate) = text
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("--fake '{text}': expected NAME:GFLOPS"))?;
    let rate: f64 = rate
        .parse()
        .ok()
        .filter(|r: &f64| r.is_finite() && *r > 0.0)
        .ok_or_else(|| anyhow::anyhow!("--fake '{text}': GFLOPS must be a positive number"))?;
    Ok((name.to_string(), rate))
}

fn open_backend(config: &RunConfig) -> anyhow::Result<Box<dyn Backend>> {
    if let Some((name, rate)) = &config.fake {
        return Ok(Box::new(FakeBackend::new(name, *rate, 0.02, config.seed)));
    }
    let ctx =
        gpu::open_device(&config.selector, config.backend.as_deref()).map_err(|e| {
            match (&config.device_var, &config.selector) {
                (Some(var), AdapterSelector::Index(i)) => {
                    anyhow::anyhow!("--device-from-env {var}={i}: {e}")
                }
                _ => e.into(),
            }
        })?;
    Ok(Box::new(gpu::WgpuBackend::new(ctx)))
}

/// A ceiling case to run, with the bandwidth search that chose its kernel when there was one.
type Ceiling = (Workload, KernelConfig, Option<TuningRecord>);

/// The selected ceiling cases, sized for the adapter; with tuning on, copy and triad run the
/// best verified of their bandwidth variants (the search is kept for the result file).
fn ceiling_plan(config: &RunConfig, backend: &mut dyn Backend) -> Vec<Ceiling> {
    let cases: Vec<(Workload, KernelConfig)> = ceiling_cases(backend.adapter())
        .into_iter()
        .filter(|(_, k)| config.ceilings.contains(&k.kernel))
        .collect();
    let mut out = Vec::with_capacity(cases.len());
    for (workload, kernel) in cases {
        let searchable = matches!(workload.op, Op::Copy | Op::Triad) && config.tune;
        let found = searchable
            .then(|| {
                if !config.quiet {
                    eprintln!("searching {} bandwidth kernels", kernel.id());
                }
                tune::search_bandwidth(
                    backend,
                    workload,
                    kernel.kernel,
                    &config.timing,
                    config.seed,
                )
            })
            .flatten();
        match found {
            Some((best, record)) => out.push((workload, best, Some(record))),
            None => out.push((workload, kernel, None)),
        }
    }
    out
}

/// Runs the host-library references of the plan's matmul shapes (CPU adapters only), saving
/// the file after each like every other case.
fn run_vendor_references(
    config: &RunConfig,
    adapter: &fleetbench::results::AdapterRecord,
    plan: &[CaseSpec],
    file: &mut ResultFile,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let planned: Vec<Workload> = plan.iter().map(|s| s.workload).collect();
    for w in fleetbench::vendor::host_reference_workloads(adapter, &planned) {
        if !config.quiet {
            eprintln!("vendor reference: host SGEMM {}", w.key());
        }
        let seed = config.seed ^ 0x5645_4e44; // "VEND": distinct from the WGSL cases' seeds
        file.cases
            .push(fleetbench::vendor::run_host_sgemm(&w, &config.timing, seed));
        results::save_atomic(path, file).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Puts each bandwidth search on the case it chose.
fn attach_bandwidth_records(file: &mut ResultFile, ceilings: &[Ceiling]) {
    for (workload, kernel, record) in ceilings {
        let Some(record) = record else { continue };
        let id = CaseSpec {
            workload: *workload,
            kernel: kernel.clone(),
            seed: 0,
        }
        .id();
        if let Some(case) = file.cases.iter_mut().find(|c| c.id == id) {
            case.tuning = Some(record.clone());
        }
    }
}

fn plan(config: &RunConfig, tuned: &[Tuned], ceilings: &[Ceiling]) -> Vec<CaseSpec> {
    let mut pairs: Vec<(Workload, KernelConfig)> =
        ceilings.iter().map(|(w, k, _)| (*w, k.clone())).collect();
    for shape in &config.plan_shapes {
        for kernel in &config.kernels {
            let workload = Workload {
                dtype: kernel.dtype(),
                ..*shape
            };
            pairs.push((workload, kernel.clone()));
        }
        for t in tuned {
            let workload = Workload {
                dtype: t.dtype,
                ..*shape
            };
            if let Some(kernel) = tuning::config_for(t, &workload) {
                pairs.push((workload, kernel));
            }
        }
    }
    pairs
        .into_iter()
        .enumerate()
        .map(|(index, (workload, kernel))| CaseSpec {
            workload,
            kernel,
            seed: config
                .seed
                .wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        })
        .collect()
}

fn output_path(config: &RunConfig, file: &ResultFile) -> anyhow::Result<PathBuf> {
    let adapter = &file.machine.adapter;
    let path = match &config.output {
        Some(p) => p.clone(),
        None if config.unique_name => config.output_dir.join(results::unit_file_name(
            &file.machine.hostname,
            adapter.index,
            &file.run.run_id,
        )),
        None => {
            let name = results::default_path(&machine::today(), &adapter.name, &adapter.backend);
            config.output_dir.join(name.file_name().unwrap_or_default())
        }
    };
    if path.is_dir() {
        bail!(
            "{}: is a directory; give a file name with -o",
            path.display()
        );
    }
    if path.exists() && !config.force {
        bail!(
            "{}: already exists (use --force to overwrite)",
            path.display()
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the output directory", parent.display()))?;
        check_writable(parent)?;
    }
    Ok(path)
}

/// Fails before any case runs when the output directory cannot take a file, so a cluster task
/// on a read-only or full shared volume stops at once instead of after the whole suite.
fn check_writable(dir: &std::path::Path) -> anyhow::Result<()> {
    tempfile::Builder::new()
        .prefix(".fleetbench-probe-")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("{}: the output directory is not writable", dir.display()))
}

fn new_file(
    config: &RunConfig,
    adapter: fleetbench::results::AdapterRecord,
    command: Vec<String>,
) -> ResultFile {
    let started_at = machine::now_rfc3339();
    let run_id = format!(
        "{}-{:08x}",
        started_at.replace([':', '-'], ""),
        config.seed as u32
    );
    let mut machine = machine::describe(adapter, gpu::WGPU_VERSION);
    if let Some(host) = &config.host {
        machine.hostname = host.clone();
    }
    // A fake adapter stands at whatever index was asked for, so cluster naming can be
    // exercised without GPUs.
    if let (Some(_), AdapterSelector::Index(i)) = (&config.fake, &config.selector) {
        machine.adapter.index = *i;
    }
    ResultFile {
        schema_version: SCHEMA_VERSION,
        machine,
        run: RunInfo {
            run_id,
            command,
            started_at,
            finished_at: None,
            seed: config.seed,
            warmup_s: config.timing.warmup.as_secs_f64(),
            samples: config.timing.samples,
            complete: false,
        },
        cases: Vec::new(),
    }
}

/// First Ctrl-C: finish the case in flight, save, exit 130. Second: exit at once (the file on
/// disk is already valid, as it is saved atomically after every case).
fn install_interrupt_handler() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: stopping now; finished cases are saved");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the case in flight (Ctrl-C again to stop now)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_shape("512").unwrap(),
            Workload::matmul(Dtype::F32, 512, 512, 512)
        );
        assert_eq!(
            parse_shape("2x3X4").unwrap(),
            Workload::matmul(Dtype::F32, 2, 3, 4)
        );
        for bad in ["0", "abc", "1x2", "-5", "999999999", "1x2x3x4", ""] {
            assert!(parse_shape(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn byte_sizes_parse() {
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("4g").unwrap(), 4 << 30);
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        for bad in ["0", "12Q", "x", "99999999999T"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fake_spec_parses() {
        assert_eq!(
            parse_fake("gpu:a:12.5").unwrap(),
            ("gpu:a".to_string(), 12.5)
        );
        assert!(parse_fake("gpu").is_err());
        assert!(parse_fake("gpu:-1").is_err());
    }
}
