//! One run as one library call: a [`RunRequest`] (plain data, built from flags or by any other
//! front end), a [`Backend`] and an [`Observer`] go in; a result file comes out, written early
//! and after every case and round. The steps, in order: the file's header and output path
//! (checked before anything slow), tuning, the plan, the interleaved rounds, the host probe at
//! the end, and the summary model. The binary only builds the request, opens the backend and
//! prints; another program (a benchmark, a store ingesting results) calls this the same way.

use super::backend::{Backend, Observer, SuiteEnd};
use super::plan::{self, Planned, Preset, Rates, Request};
use super::summary::{short_label, RunSummary};
use super::tune::{self, TuneOptions, TuneReport};
use super::{host_refs, machine, rounds};
use crate::error::{Error, Result};
use crate::fsio::{self, Overwrite};
use crate::kernels::Kernel;
use crate::results::{self, AdapterRecord, HostStability, ResultFile};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Square side of the tuning workload on GPUs; see [`tune_size`].
pub const GPU_TUNE_SIZE: u64 = 2048;
/// Square side of the tuning workload with `--quick` or on CPU adapters, where a 2048³ trial
/// of every candidate would take most of the budget.
pub const SMALL_TUNE_SIZE: u64 = 512;

/// Where the result file goes.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputTarget {
    /// This file (`-o`).
    File(PathBuf),
    /// A default name inside this directory: `<date>_<device>_<backend>.json`, or with
    /// `unique`, `<host>_gpu<index>_<run id>.json` (one file per cluster task).
    Directory {
        /// The directory.
        dir: PathBuf,
        /// Name the file by host, adapter index and run id.
        unique: bool,
    },
}

/// How to tune.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneRequest {
    /// Square side of the tuning workload; `None` for [`tune_size`]'s default.
    pub size: Option<u64>,
    /// Search even when the cache has an entry.
    pub retune: bool,
    /// The tuning cache; `None` tunes without one (fake adapters never touch the user's).
    pub cache: Option<PathBuf>,
}

/// Everything a run needs besides the backend: what to measure and where to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// Preset, sizes, kernels, timing, budget, target and seed.
    pub plan: Request,
    /// Tuning settings.
    pub tune: TuneRequest,
    /// The result file's place.
    pub output: OutputTarget,
    /// Whether an existing file may be replaced (`--force`); it is replaced only by a complete run.
    pub overwrite: Overwrite,
    /// The command line, recorded in the file.
    pub command: Vec<String>,
    /// The host name to record instead of the system's (`--host-from-env`).
    pub host: Option<String>,
    /// The adapter index to record instead of the backend's (fake adapters stand at any index).
    pub adapter_index: Option<usize>,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The file as saved.
    pub file: ResultFile,
    /// Where it is: the requested path, or the partial file beside it when an interrupted run
    /// must not replace an existing result.
    pub path: PathBuf,
    /// Whether every planned case ran.
    pub end: SuiteEnd,
    /// The summary model the binary prints.
    pub summary: RunSummary,
}

/// Square side of the tuning workload: [`SMALL_TUNE_SIZE`] with `--quick` or on a CPU adapter,
/// else [`GPU_TUNE_SIZE`].
pub fn tune_size(preset: Preset, adapter: &AdapterRecord) -> u64 {
    if preset == Preset::Quick || adapter.device_type.is_cpu() {
        SMALL_TUNE_SIZE
    } else {
        GPU_TUNE_SIZE
    }
}

/// Runs `request` on `backend`: tunes, plans, samples in rounds and writes the result file,
/// telling `observer` along the way. `interrupted` stops the run after the step in flight (the
/// file keeps every sample and is marked incomplete). The budget counts from this call.
pub fn run(
    request: &RunRequest,
    backend: &mut dyn Backend,
    observer: &mut dyn Observer,
    interrupted: &AtomicBool,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let mut file = new_file(request, backend);
    let target = output_path(request, &file)?;
    let tuning = tune(request, backend, observer)?;
    let tuning_s = started.elapsed().as_secs_f64();
    let host_start = host_probe();
    let adapter = backend.adapter().clone();
    let mut rates = Rates::from_tuning(&tuning.tuned, host_start)
        .with_check_rates(super::verify::measure_check_rates());
    if request.plan.kernels.vendor && host_refs::runs_host_references(&adapter) {
        rates =
            rates.with_host_sgemm_rate(host_refs::measure_sgemm_rate(host_refs::host_threads()));
    }
    let planned = plan::plan(
        &request.plan,
        &adapter,
        &tuning.tuned,
        &tuning.bandwidth,
        &rates,
        tuning_s,
    )?;
    file.run.plan = Some(planned.record.clone());
    observer.planned(&planned.record, &plan_labels(&planned));
    let place = Place::choose(&target, request.overwrite);
    results::store::save(&place.working, &file, place.first_save).map_err(|e| place.explain(e))?;
    let end = rounds::run(
        backend,
        &planned.suite,
        &mut file,
        &place.working,
        observer,
        interrupted,
    )
    .map_err(|e| place.explain(e))?;
    file.run.host = Some(HostStability::from_probes(host_start, host_probe()));
    results::save_atomic(&place.working, &file).map_err(|e| place.explain(e))?;
    let path = place.finish(end)?;
    let summary = RunSummary::of(&file);
    Ok(RunOutcome {
        file,
        path,
        end,
        summary,
    })
}

/// Times of the host probe taken and the median kept: one probe takes a few milliseconds, and
/// a single one moves by more than a quiet host does.
const HOST_PROBES: usize = 7;

/// The host's f64 reference speed (multiply-adds per second), the median of [`HOST_PROBES`]
/// probes: the plan's estimate of verification time, and the start and end of the run's
/// steadiness record.
fn host_probe() -> f64 {
    let mut rates: Vec<f64> = (0..HOST_PROBES)
        .map(|_| plan::measure_host_rate())
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[HOST_PROBES / 2]
}

/// The short label of every planned case, in the plan record's order (WGSL cases, then the
/// host references).
fn plan_labels(planned: &Planned) -> Vec<String> {
    let suite = &planned.suite;
    let wgsl = suite.cases.iter().map(|c| {
        let k = &c.spec.kernel;
        short_label(k.id(), k.tuned, &c.spec.workload)
    });
    let host = suite.vendor.iter().map(|v| {
        short_label(
            host_refs::host_reference_kernel_id(&v.workload),
            false,
            &v.workload,
        )
    });
    wgsl.chain(host).collect()
}

/// The file before the first case: machine, run id, seed, timing and command line.
fn new_file(request: &RunRequest, backend: &dyn Backend) -> ResultFile {
    let adapter = backend.adapter().clone();
    let mut machine = machine::describe(adapter, backend.runtime_version());
    machine.simulated = backend.is_simulated();
    if let Some(host) = &request.host {
        machine.hostname = host.clone();
    }
    if let Some(index) = request.adapter_index {
        machine.adapter.index = index;
    }
    let p = &request.plan;
    plan::header(machine, p.seed, &p.timing, request.command.clone())
}

/// The output path, checked before tuning (which can take a while) so a bad path fails at
/// once: its directory is created and must take a file.
fn output_path(request: &RunRequest, file: &ResultFile) -> Result<PathBuf> {
    let adapter = &file.machine.adapter;
    let path = match &request.output {
        OutputTarget::File(p) => p.clone(),
        OutputTarget::Directory { dir, unique: true } => dir.join(results::unit_file_name(
            &file.machine.hostname,
            adapter.index,
            &file.run.run_id,
        )),
        OutputTarget::Directory { dir, unique: false } => {
            let name = results::default_path(&machine::today(), &adapter.name, &adapter.backend);
            dir.join(name.file_name().unwrap_or_default())
        }
    };
    fsio::check_target(&path, request.overwrite)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::invalid(parent, format!("cannot create the output directory: {e}"))
        })?;
        check_writable(parent)?;
    }
    Ok(path)
}

/// Fails before any case runs when the output directory cannot take a file, so a cluster task
/// on a read-only or full shared volume stops at once instead of after the whole suite.
fn check_writable(dir: &Path) -> Result<()> {
    tempfile::Builder::new()
        .prefix(".fleetbench-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| Error::invalid(dir, format!("the output directory is not writable: {e}")))
}

/// Tunes (or reads the cache) unless no tuned kernel is asked for, then searches the bandwidth
/// variants of the selected copy and triad ceilings (never cached: it is short, and the time
/// counts against the budget like tuning).
fn tune(
    request: &RunRequest,
    backend: &mut dyn Backend,
    observer: &mut dyn Observer,
) -> Result<TuneReport> {
    let p = &request.plan;
    if !p.kernels.tune {
        return Ok(TuneReport::default());
    }
    let opts = TuneOptions {
        size: request
            .tune
            .size
            .unwrap_or_else(|| tune_size(p.preset, backend.adapter())),
        retune: request.tune.retune,
        seed: p.seed,
        cache: request.tune.cache.clone(),
    };
    let mut report = tune::tune_all(backend, &p.timing, &opts)?;
    let searched = p.kernels.ceilings.iter();
    for k in searched.filter(|k| matches!(k, Kernel::Copy | Kernel::Triad)) {
        observer.note(&format!("searching {} bandwidth kernels", k.id()));
    }
    let quick = p.preset == Preset::Quick;
    report.bandwidth = tune::tune_bandwidth(backend, &p.kernels.ceilings, &p.timing, p.seed, quick);
    for line in &report.searched {
        observer.note(&format!("tuned {line}"));
    }
    if let Some(warning) = &report.cache_warning {
        observer.warning(&format!("tuning cache not saved: {warning}"));
    }
    Ok(report)
}

/// Where the run writes while it runs. A new file takes its name at once (exclusively, so of
/// two runs given one output only one goes on). An existing file that may be replaced stays
/// untouched until the run is complete: the run writes `<name>.partial` beside it and renames
/// it over the old file at the end.
struct Place {
    target: PathBuf,
    working: PathBuf,
    first_save: Overwrite,
}

impl Place {
    fn choose(target: &Path, overwrite: Overwrite) -> Place {
        let exists = std::fs::symlink_metadata(target).is_ok();
        if overwrite == Overwrite::Replace && exists {
            return Place {
                target: target.to_path_buf(),
                working: partial_path(target),
                first_save: Overwrite::Replace,
            };
        }
        Place {
            target: target.to_path_buf(),
            working: target.to_path_buf(),
            first_save: Overwrite::Refuse,
        }
    }

    fn replacing(&self) -> bool {
        self.working != self.target
    }

    /// A failure while an old file waits to be replaced: says that it is intact and where the
    /// new samples are.
    fn explain(&self, cause: Error) -> Error {
        if !self.replacing() {
            return cause;
        }
        // "any existing file is unchanged" would be vague here: say which file.
        let cause = match cause {
            Error::Unwritten { path, cause } => format!("{}: not written: {cause}", path.display()),
            other => other.to_string(),
        };
        let written = std::fs::symlink_metadata(&self.working).is_ok();
        Error::Kept {
            cause,
            kept: self.target.clone(),
            partial: written.then(|| self.working.clone()),
        }
    }

    /// Gives a complete run its name; an interrupted one that would replace an old file stays
    /// in the partial file. Returns where the file is.
    fn finish(&self, end: SuiteEnd) -> Result<PathBuf> {
        if !self.replacing() || end == SuiteEnd::Interrupted {
            return Ok(self.working.clone());
        }
        fsio::check_target(&self.target, Overwrite::Replace)?;
        std::fs::rename(&self.working, &self.target)
            .map_err(|e| self.explain(Error::io(&self.target, e)))?;
        Ok(self.target.clone())
    }
}

/// `<name>.partial` beside `path`: not `*.json`, so `merge` never reads a run in progress.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::backend::{Silent, TimingConfig};
    use crate::measure::fake::FakeBackend;

    fn small_request(dir: &Path, name: &str, overwrite: Overwrite) -> RunRequest {
        let kernels = vec!["matmul_naive".to_string()];
        let samples = 3;
        RunRequest {
            plan: Request {
                preset: Preset::Default,
                sizes: Some(vec![crate::workload::Workload::matmul(
                    crate::workload::Dtype::F32,
                    64,
                    64,
                    64,
                )]),
                kernels: plan::select_kernels(&kernels, Preset::Default).unwrap(),
                timing: TimingConfig {
                    samples,
                    ..TimingConfig::default()
                },
                fixed_samples: Some(samples),
                budget_s: plan::DEFAULT_BUDGET_S,
                budget_chosen: true,
                target_half_width: plan::DEFAULT_TARGET_HALF_WIDTH,
                seed: 1,
            },
            tune: TuneRequest {
                size: None,
                retune: false,
                cache: None,
            },
            output: OutputTarget::File(dir.join(name)),
            overwrite,
            command: vec!["test".into()],
            host: Some("node-7".into()),
            adapter_index: Some(3),
        }
    }

    fn run_fake(request: &RunRequest, interrupted: bool) -> Result<RunOutcome> {
        let mut backend = FakeBackend::new("fake", 50.0, 0.02, 1);
        run(
            request,
            &mut backend,
            &mut Silent,
            &AtomicBool::new(interrupted),
        )
    }

    #[test]
    fn the_plan_labels_each_host_reference_by_what_it_computes() {
        use crate::measure::rounds::{Suite, VendorCase};
        use crate::workload::{Dtype, Op, Workload};
        let workloads = [
            Workload::matmul(Dtype::F32, 64, 64, 64),
            Workload::stream(Op::Copy, 1 << 20),
            Workload::stream(Op::Triad, 1 << 20),
        ];
        let mut suite = Suite::new(Vec::new(), TimingConfig::default());
        suite.vendor = workloads
            .iter()
            .map(|&workload| VendorCase {
                workload,
                seed: 1,
                samples: 10,
                estimate_s: 1.0,
            })
            .collect();
        let record = results::PlanRecord {
            budget_s: 120.0,
            estimated_s: 3.0,
            tuning_s: 0.0,
            target_half_width: 2.0,
            cases: Vec::new(),
            cuts: Vec::new(),
        };
        let labels = plan_labels(&Planned { suite, record });
        assert_eq!(
            labels,
            [
                "vendor/gemm-sgemm f32 64³",
                "vendor/host-copy",
                "vendor/host-triad"
            ]
        );
    }

    #[test]
    fn a_run_is_one_call_from_request_to_saved_file() {
        let dir = tempfile::tempdir().unwrap();
        let request = small_request(dir.path(), "a.json", Overwrite::Refuse);
        let outcome = run_fake(&request, false).unwrap();
        assert_eq!(outcome.end, SuiteEnd::Complete);
        assert_eq!(outcome.path, dir.path().join("a.json"));
        let saved = results::load(&outcome.path).unwrap();
        assert_eq!(saved, outcome.file);
        assert!(saved.run.complete && saved.run.host.is_some());
        assert_eq!(saved.machine.hostname, "node-7");
        assert_eq!(saved.machine.adapter.index, 3);
        assert_eq!(saved.machine.wgpu_version, "fake");
        assert_eq!(outcome.summary.cases.len(), saved.cases.len());
        let again = run_fake(&request, false).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
    }

    #[test]
    fn an_old_file_is_replaced_only_by_a_complete_run() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        std::fs::write(&old, b"old bytes").unwrap();
        let request = small_request(dir.path(), "old.json", Overwrite::Replace);
        let stopped = run_fake(&request, true).unwrap();
        assert_eq!(stopped.end, SuiteEnd::Interrupted);
        assert_eq!(stopped.path, partial_path(&old));
        assert_eq!(std::fs::read(&old).unwrap(), b"old bytes");
        let done = run_fake(&request, false).unwrap();
        assert_eq!(done.path, old);
        assert!(results::load(&old).unwrap().run.complete);
        assert!(!partial_path(&old).exists(), "the partial file is renamed");
    }
}
