//! `fleetbench run`: check flags into a [`RunRequest`], open the adapter (wgpu or the fake),
//! hand both to the library's one entry point ([`measure::run`]) and print the summary.
//! Everything a user can get wrong is caught here, before the GPU is touched; tuning, the plan,
//! the rounds and the file are the library's.

use super::bounds;
use super::progress::ProgressObserver;
use crate::cli::RunArgs;
use anyhow::bail;
use fleetbench::fsio::Overwrite;
use fleetbench::gpu::{self, AdapterSelector};
use fleetbench::measure::backend::{Backend, SuiteEnd, TimingConfig};
use fleetbench::measure::fake::FakeBackend;
use fleetbench::measure::plan::{self, Preset, Request, MAX_SIDE};
use fleetbench::measure::simulate::{Pacing, SimulatedBackend};
use fleetbench::measure::{self, tune, OutputTarget, RunOutcome, RunRequest, TuneRequest};
use fleetbench::output::{self, Emitted, Format};
use fleetbench::results::{CaseStatus, ResultFile};
use fleetbench::workload::{Dtype, Workload};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// A checked `run`: the library's request, and what only the binary decides (which adapter,
/// how to print).
struct RunConfig {
    selector: AdapterSelector,
    backend: Option<String>,
    request: RunRequest,
    device_var: Option<String>,
    quiet: bool,
    format: Format,
    fake: Option<(String, f64)>,
    simulate: Option<(String, Pacing)>,
}

pub fn execute(args: RunArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.clone();
    let config = validate(args)?;
    let mut backend = open_backend(&config)?;
    // First Ctrl-C: stop after the step in flight (a preparation or a batch of samples), save
    // every sample taken, exit 130. Second: exit at once (the file on disk is already valid, as
    // it is saved atomically after every case and round).
    let interrupted = super::interrupt::install(
        "interrupted: stopping after the step in flight (Ctrl-C again to stop now)",
        "interrupted again: stopping now; finished cases are saved",
    )?;
    let mut progress = ProgressObserver::new(config.quiet);
    let started = Instant::now();
    let outcome = measure::run(
        &config.request,
        backend.as_mut(),
        &mut progress,
        &interrupted,
    );
    progress.finish();
    let outcome = outcome?;
    if let Some(db) = &store {
        super::store::after_run(db, &outcome.path)?; // `run --store`: the file is already written
    }
    let text = output::render(&outcome.summary, config.format, output::terminal_width())?;
    if output::emit(&text)? == Emitted::PipeClosed {
        return Ok(ExitCode::SUCCESS);
    }
    print_totals(
        &outcome.file,
        started.elapsed(),
        config.request.plan.budget_s,
    );
    eprintln!(
        "wrote {} ({} cases)",
        outcome.path.display(),
        outcome.file.cases.len()
    );
    finish(&outcome)
}

/// The wall time against the budget, the host's steadiness, the noisy cases, and the sweep
/// summaries.
fn print_totals(file: &ResultFile, wall: Duration, budget_s: f64) {
    // A default budget that gave way to the smallest plan is the plan's, not the flag's.
    let budget_s = file.run.plan.as_ref().map_or(budget_s, |p| p.budget_s);
    eprintln!(
        "ran {:.0} s of a {budget_s:.0} s budget",
        wall.as_secs_f64()
    );
    if let Some(host) = file.run.host.as_ref().filter(|h| !h.quiet) {
        eprintln!(
            "disturbed host: a host probe changed by {:+.0}% between the first and last case; compare this run with care",
            host.change * 100.0
        );
    }
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

fn finish(outcome: &RunOutcome) -> anyhow::Result<ExitCode> {
    let file = &outcome.file;
    if outcome.end == SuiteEnd::Interrupted {
        eprintln!(
            "interrupted: {} finished case(s) are saved in {}; the run is marked incomplete",
            file.cases.len(),
            outcome.path.display()
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
    let plan = request(&args)?;
    let selector = selector(&args)?;
    let fake = args.fake.as_deref().map(parse_fake).transpose()?;
    // A fake adapter stands at whatever index was asked for, so cluster naming can be
    // exercised without GPUs.
    let adapter_index = match (&fake, &selector) {
        (Some(_), AdapterSelector::Index(i)) => Some(*i),
        _ => None,
    };
    let output = match &args.output {
        Some(p) => OutputTarget::File(p.clone()),
        None => OutputTarget::Directory {
            dir: args
                .output_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("results")),
            unique: args.unique_name,
        },
    };
    let request = RunRequest {
        plan,
        tune: TuneRequest {
            size: tune_size(args.tune_size)?,
            retune: args.retune,
            // Fake and simulated adapters never touch the user's tuning cache.
            cache: (fake.is_none() && args.simulate.is_none())
                .then(tune::default_cache_path)
                .flatten(),
        },
        output,
        overwrite: Overwrite::from_force(args.force),
        command: fleetbench::store::redact_args(&std::env::args().collect::<Vec<_>>()),
        host: args
            .host_from_env
            .as_deref()
            .map(host_from_env)
            .transpose()?,
        adapter_index,
    };
    Ok(RunConfig {
        selector,
        backend: args.backend.clone(),
        request,
        device_var: args.device_from_env.clone(),
        quiet: args.quiet,
        format: args.format,
        fake,
        simulate: args.simulate.clone().map(|id| {
            let pacing = match args.simulate_realtime {
                true => Pacing::RealTime,
                false => Pacing::Instant,
            };
            (id, pacing)
        }),
    })
}

/// `--tune-size`: a multiple of 16 from 16 to [`MAX_SIDE`].
fn tune_size(flag: Option<u64>) -> anyhow::Result<Option<u64>> {
    match flag {
        Some(n) if (16..=MAX_SIDE).contains(&n) && n.is_multiple_of(16) => Ok(Some(n)),
        Some(n) => bail!("--tune-size {n}: expected a multiple of 16 between 16 and {MAX_SIDE}"),
        None => Ok(None),
    }
}

/// The plan's request from the flags: timing, preset, sizes, kernels, budget and target.
fn request(args: &RunArgs) -> anyhow::Result<Request> {
    if let Some(n) = args.samples {
        bounds::check("--samples", n, &bounds::SAMPLES, "a count")?;
    }
    let warmup = args.warmup.unwrap_or(if args.quick {
        plan::QUICK_WARMUP_S
    } else {
        plan::DEFAULT_WARMUP_S
    });
    bounds::check("--warmup", warmup, &bounds::WARMUP_S, "seconds")?;
    bounds::check(
        "--gpu-timeout",
        args.gpu_timeout,
        &bounds::GPU_TIMEOUT_S,
        "seconds",
    )?;
    let target = args
        .target_half_width
        .unwrap_or(plan::DEFAULT_TARGET_HALF_WIDTH * 100.0);
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
    let kernels = plan::select_kernels(&args.kernels, preset)?;
    refuse_idle_flags(args, kernels.tune)?;
    let request = Request {
        preset,
        sizes,
        kernels,
        timing,
        fixed_samples: args.samples,
        budget_s: args.budget.unwrap_or(default_budget),
        budget_chosen: args.budget.is_some(),
        target_half_width: target / 100.0,
        seed: args.seed.unwrap_or_else(clock_seed),
    };
    check_budget(&request)?;
    Ok(request)
}

/// Flags that would change nothing in this run are refused, not silently accepted: the user
/// believes they did something.
fn refuse_idle_flags(args: &RunArgs, tuning: bool) -> anyhow::Result<()> {
    if let (Some(pct), Some(n)) = (args.target_half_width, args.samples) {
        bail!("--target-half-width {pct}: has no effect with --samples {n} (every case takes exactly {n} samples); give one of them");
    }
    if !tuning {
        let idle = [
            ("--retune", args.retune),
            ("--tune-size", args.tune_size.is_some()),
        ];
        if let Some((flag, _)) = idle.iter().find(|(_, given)| *given) {
            bail!("{flag}: has no effect: --kernels selects no tuned kernel (add 'tuned' to tune)");
        }
    }
    Ok(())
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
    if let Some((id, pacing)) = &config.simulate {
        return Ok(Box::new(SimulatedBackend::new(
            id,
            config.request.plan.seed,
            *pacing,
        )?));
    }
    if let Some((name, rate)) = &config.fake {
        return Ok(Box::new(FakeBackend::new(
            name,
            *rate,
            0.02,
            config.request.plan.seed,
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
