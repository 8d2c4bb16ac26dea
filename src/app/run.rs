//! `fleetbench run`: check flags into a [`plan::Request`], open the adapter, tune, plan,
//! run the suite and print the summary. Everything a user can get wrong is caught here, before
//! the GPU is touched; the plan itself (presets, sizes, seeds, budget, header) is the library's.

use super::bounds;
use super::progress::ProgressObserver;
use crate::cli::RunArgs;
use anyhow::{bail, Context};
use fleetbench::fsio::{self, Overwrite};
use fleetbench::gpu::{self, AdapterSelector};
use fleetbench::kernels::Kernel;
use fleetbench::measure::backend::{Backend, SuiteEnd, TimingConfig};
use fleetbench::measure::plan::{self, Planned, Preset, Rates, Request, MAX_SIDE};
use fleetbench::measure::tune::{self, TuneOptions, TuneReport};
use fleetbench::measure::{fake::FakeBackend, machine, rounds, simulate::SimulatedBackend};
use fleetbench::output::{self, Emitted, Format};
use fleetbench::render::{short_id, RunSummary};
use fleetbench::results::{self, CaseStatus, ResultFile};
use fleetbench::workload::{Dtype, Workload};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A checked `run`.
struct RunConfig {
    selector: AdapterSelector,
    backend: Option<String>,
    request: Request,
    tune_size: Option<u64>,
    retune: bool,
    output: Option<PathBuf>,
    output_dir: PathBuf,
    unique_name: bool,
    device_var: Option<String>,
    host: Option<String>,
    force: bool,
    quiet: bool,
    format: Format,
    fake: Option<(String, f64)>,
    simulate: Option<String>,
}

pub fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let command: Vec<String> = std::env::args().collect();
    let config = validate(args)?;
    // The budget counts from here: opening the adapter and tuning are part of the run.
    let started = Instant::now();
    let mut backend = open_backend(&config)?;
    // The output is checked before tuning, which can take a while: a bad path fails at once.
    let mut file = new_file(&config, backend.adapter().clone(), command);
    let path = output_path(&config, &file)?;
    let tuning = tune(&config, backend.as_mut())?;
    let tuning_s = started.elapsed().as_secs_f64();
    let rates = Rates::from_tuning(&tuning.tuned, plan::measure_host_rate())
        .with_check_rate(fleetbench::measure::verify::measure_check_rate());
    let adapter = backend.adapter().clone();
    let planned = plan::plan(
        &config.request,
        &adapter,
        &tuning.tuned,
        &tuning.bandwidth,
        &rates,
        tuning_s,
    )?;
    file.run.plan = Some(planned.record.clone());
    if !config.quiet {
        print_plan(&planned);
    }
    // The name is taken exclusively (unless --force) before the first case: of two runs given
    // the same output, one stops here instead of both reporting success.
    results::store::save(&path, &file, Overwrite::from_force(config.force))
        .with_context(|| format!("writing {}", path.display()))?;
    let interrupted = install_interrupt_handler()?;
    let mut progress = ProgressObserver::new(config.quiet);
    let end = rounds::run(
        backend.as_mut(),
        &planned.suite,
        &mut file,
        &path,
        &mut progress,
        &interrupted,
    )
    .with_context(|| format!("writing {}", path.display()))?;
    progress.finish();
    let summary = RunSummary::of(&file);
    let text = output::render(&summary, config.format, output::terminal_width())?;
    if output::emit(&text)? == Emitted::PipeClosed {
        return Ok(ExitCode::SUCCESS);
    }
    print_totals(&file, started.elapsed(), config.request.budget_s);
    eprintln!("wrote {} ({} cases)", path.display(), file.cases.len());
    finish(end, &file)
}

/// Tunes (or reads the cache) unless no tuned kernel is asked for, then searches the bandwidth
/// variants of the selected copy and triad ceilings (never cached: it is short, and the time
/// counts against the budget like tuning); fake and simulated adapters never touch the user's cache.
fn tune(config: &RunConfig, backend: &mut dyn Backend) -> anyhow::Result<TuneReport> {
    if !config.request.kernels.tune {
        return Ok(TuneReport::default());
    }
    let cpu = backend.adapter().device_type.is_cpu();
    let quick = config.request.preset == Preset::Quick;
    let opts = TuneOptions {
        size: config
            .tune_size
            .unwrap_or(if quick || cpu { 512 } else { 2048 }),
        retune: config.retune,
        seed: config.request.seed,
        cache: if config.fake.is_some() || config.simulate.is_some() {
            None
        } else {
            tune::default_cache_path()
        },
    };
    let mut report = tune::tune_all(backend, &config.request.timing, &opts)
        .context("reading the tuning cache (--retune rebuilds it)")?;
    if !config.quiet {
        let searched = config.request.kernels.ceilings.iter();
        for k in searched.filter(|k| matches!(k, Kernel::Copy | Kernel::Triad)) {
            eprintln!("searching {} bandwidth kernels", k.id());
        }
    }
    report.bandwidth = tune::tune_bandwidth(
        backend,
        &config.request.kernels.ceilings,
        &config.request.timing,
        config.request.seed,
        quick,
    );
    if !config.quiet {
        for line in &report.searched {
            eprintln!("tuned {line}");
        }
    }
    if let Some(warning) = &report.cache_warning {
        eprintln!("warning: tuning cache not saved: {warning}");
    }
    Ok(report)
}

/// The plan before the first case: its estimate against the budget, each case's estimate and
/// every cut.
fn print_plan(planned: &Planned) {
    let r = &planned.record;
    eprintln!(
        "plan: {} cases, about {:.0} s of a {:.0} s budget (tuning {:.0} s)",
        r.cases.len(),
        r.estimated_s,
        r.budget_s,
        r.tuning_s
    );
    for case in &r.cases {
        eprintln!("  {:<28} ~{:>5.1} s", short_id(&case.id), case.estimated_s);
    }
    for cut in &r.cuts {
        eprintln!("cut: {cut}");
    }
}

/// The wall time against the budget, the noisy cases, and the sweep summaries.
fn print_totals(file: &ResultFile, wall: Duration, budget_s: f64) {
    eprintln!(
        "ran {:.0} s of a {budget_s:.0} s budget",
        wall.as_secs_f64()
    );
    for case in &file.cases {
        if let Some(s) = case.sampling.as_ref().filter(|s| s.noisy) {
            eprintln!(
                "noisy: {} stopped at ±{:.1}% (target ±{:.1}%): {:?}",
                case.id,
                s.half_width * 100.0,
                s.target_half_width.unwrap_or(0.0) * 100.0,
                s.stopped
            );
        }
    }
    for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
        if let Some(s) = fleetbench::roofline::sweep_summary(file, "matmul_tuned/", dtype) {
            eprintln!(
                "tuned {dtype} matmul over {} shapes: best {:.2} GFLOP/s ({}), geometric mean {:.2}",
                s.count, s.best, s.best_case, s.geomean
            );
        }
    }
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
    let request = request(&args)?;
    Ok(RunConfig {
        selector: selector(&args)?,
        backend: args.backend.clone(),
        request,
        tune_size: match args.tune_size {
            Some(n) if (16..=MAX_SIDE).contains(&n) && n.is_multiple_of(16) => Some(n),
            Some(n) => {
                bail!("--tune-size {n}: expected a multiple of 16 between 16 and {MAX_SIDE}")
            }
            None => None,
        },
        retune: args.retune,
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
        simulate: args.simulate.clone(),
    })
}

/// The plan's request from the flags: timing, preset, sizes, kernels, budget and target.
fn request(args: &RunArgs) -> anyhow::Result<Request> {
    if let Some(n) = args.samples {
        bounds::check("--samples", n, &bounds::SAMPLES, "a count")?;
    }
    let warmup = args.warmup.unwrap_or(if args.quick { 0.2 } else { 0.5 });
    bounds::check("--warmup", warmup, &bounds::WARMUP_S, "seconds")?;
    bounds::check(
        "--gpu-timeout",
        args.gpu_timeout,
        &bounds::GPU_TIMEOUT_S,
        "seconds",
    )?;
    let target = args.target_half_width;
    if !(target.is_finite() && target > 0.0 && target <= 50.0) {
        bail!("--target-half-width {target}: expected a percentage above 0 and at most 50");
    }
    let preset = match (args.sweep, args.quick) {
        (true, _) => Preset::Sweep,
        (false, true) => Preset::Quick,
        (false, false) => Preset::Default,
    };
    let sizes = (!args.sizes.is_empty())
        .then(|| args.sizes.iter().map(|s| parse_shape(s)).collect())
        .transpose()?;
    let timing = TimingConfig {
        warmup: Duration::from_secs_f64(warmup),
        samples: args.samples.unwrap_or(plan::MIN_ADAPTIVE_SAMPLES),
        bounds_checks: !args.no_bounds_checks,
        max_memory: args.max_memory.as_deref().map(parse_bytes).transpose()?,
        gpu_timeout: Duration::from_secs_f64(args.gpu_timeout),
        ..TimingConfig::default()
    };
    let default_budget = if args.quick {
        plan::QUICK_BUDGET_S
    } else {
        plan::DEFAULT_BUDGET_S
    };
    let request = Request {
        preset,
        sizes,
        kernels: plan::select_kernels(&args.kernels, preset)?,
        timing,
        fixed_samples: args.samples,
        budget_s: args.budget.unwrap_or(default_budget),
        target_half_width: target / 100.0,
        seed: args.seed.unwrap_or_else(clock_seed),
    };
    check_budget(&request)?;
    Ok(request)
}

/// A budget must be a positive number of seconds no smaller than the ceilings need.
fn check_budget(request: &Request) -> anyhow::Result<()> {
    let budget = request.budget_s;
    let least = plan::minimum_budget_s(request);
    if !(budget.is_finite() && budget >= least) {
        bail!("--budget {budget}: expected seconds, at least {least:.0} (the ceilings' warm-up and minimum samples need that much)");
    }
    Ok(())
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
    let range = &bounds::MAX_MEMORY_BYTES;
    value
        .checked_mul(scale)
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            anyhow::anyhow!("--max-memory '{text}': expected from 1 byte to 1024T (1 PiB)")
        })
}

fn parse_fake(text: &str) -> anyhow::Result<(String, f64)> {
    let (name, rate) = text
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("--fake '{text}': expected NAME:GFLOPS"))?;
    let rate: f64 = rate
        .parse()
        .ok()
        .filter(|r: &f64| bounds::FAKE_GFLOPS.contains(r))
        .ok_or_else(|| {
            let (lo, hi) = (bounds::FAKE_GFLOPS.start(), bounds::FAKE_GFLOPS.end());
            anyhow::anyhow!("--fake '{text}': GFLOPS must be a number from {lo} to {hi}")
        })?;
    Ok((name.to_string(), rate))
}

fn open_backend(config: &RunConfig) -> anyhow::Result<Box<dyn Backend>> {
    if let Some(id) = &config.simulate {
        return Ok(Box::new(SimulatedBackend::new(id, config.request.seed)?));
    }
    if let Some((name, rate)) = &config.fake {
        return Ok(Box::new(FakeBackend::new(
            name,
            *rate,
            0.02,
            config.request.seed,
        )));
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
    fsio::check_target(&path, Overwrite::from_force(config.force))?;
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
    let mut machine = machine::describe(adapter, gpu::WGPU_VERSION);
    if let Some(host) = &config.host {
        machine.hostname = host.clone();
    }
    machine.simulated = config.simulate.is_some();
    // A fake adapter stands at whatever index was asked for, so cluster naming can be
    // exercised without GPUs.
    if let (Some(_), AdapterSelector::Index(i)) = (&config.fake, &config.selector) {
        machine.adapter.index = *i;
    }
    plan::header(
        machine,
        config.request.seed,
        &config.request.timing,
        command,
    )
}

/// First Ctrl-C: stop after the step in flight (a preparation or a batch of samples), save
/// every sample taken, exit 130. Second: exit at once (the file on disk is already valid, as it
/// is saved atomically after every case and round).
fn install_interrupt_handler() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: stopping now; finished cases are saved");
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping after the step in flight (Ctrl-C again to stop now)");
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
