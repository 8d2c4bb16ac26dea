//! Fleet scale of `store ingest` and `merge`: N generated result files of a default run's
//! size (one fake-backend run of the default suite, about 100 KB; one host name per eight
//! files, so each unit has eight runs), ingested into a fresh SQLite store and merged, each by
//! the real binary in a process of its own so its peak resident memory can be read (`wait4`'s
//! `ru_maxrss`).
//!
//! `cargo bench --bench store_scale` prints files/s (per wall-clock second, and per CPU second
//! of the process, which a shared machine does not distort) and peak memory against N, and the
//! seconds
//! `store regressions` over the whole store and `store history` of one unit take (for
//! regressions also its CPU seconds, which a loaded host distorts less). N defaults to
//! 1,000 and 10,000; set `FLEETBENCH_BENCH_N=1000,10000,100000` for more (100,000 files take
//! about 10 GB of disk), or `FLEETBENCH_BENCH_N=` for none.
//!
//! `FLEETBENCH_BENCH_SMALL=350000` adds the seed's fleet: that many small files (a `--quick`
//! fake run of two matmul cases at one size, about 9 KB, again eight runs per unit) ingested in
//! one go, and merged, in the same table. `FLEETBENCH_BENCH_BASELINE=PATH` names another build of
//! the binary (say, the main branch's) that ingests the same files into a store of its own just
//! before this build does, printed on the line above the row: a before/after measured side by
//! side in the same minute. `FLEETBENCH_BENCH_MERGE=0` leaves `merge` out (its columns print
//! NaN), and `FLEETBENCH_BENCH_INGEST=0` leaves out the store (ingest, regressions, history)
//! to measure merge alone. `FLEETBENCH_BENCH_TEMPLATES=K` makes the default files from K fake
//! runs of different seeds and rates (95 to 105 GFLOP/s) instead of one, file i a copy of run
//! i mod K, so the units' medians differ as a fleet's do (with one template every unit has the
//! same medians, which a merge summarises without reading its statistics back). Nothing is
//! asserted: the figures are printed side by side.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_fleetbench");

fn main() {
    let sizes = counts("FLEETBENCH_BENCH_N", "1000,10000");
    let small = counts("FLEETBENCH_BENCH_SMALL", "");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let templates = counts("FLEETBENCH_BENCH_TEMPLATES", "1").first().copied();
    let default_runs: Vec<String> = (0..templates.unwrap_or(1).max(1))
        .map(|k| template(dir.path(), &format!("default-{k}"), k, &[]))
        .collect();
    let small_run = vec![template(dir.path(), "small", 0, SMALL_RUN)];
    println!(
        "templates: {} default run(s) {} bytes, small run {} bytes; {} cores",
        default_runs.len(),
        default_runs[0].len(),
        small_run[0].len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>6} {:>8} {:>14} {:>18} {:>16} {:>13} {:>17} {:>15} {:>10} {:>14} {:>18} {:>10}",
        "kind",
        "files",
        "ingest file/s",
        "ingest file/CPU-s",
        "ingest peak MiB",
        "merge file/s",
        "merge file/CPU-s",
        "merge peak MiB",
        "store MiB",
        "regressions s",
        "regressions CPU-s",
        "history s"
    );
    for n in sizes {
        scale_row(dir.path(), "default", &default_runs, n);
    }
    for n in small {
        scale_row(dir.path(), "small", &small_run, n);
    }
}

/// The arguments of `run` that make a small file: two matmul cases at one size.
const SMALL_RUN: &[&str] = &[
    "--quick",
    "--sizes",
    "256",
    "--kernels",
    "matmul_tiled,matmul_blocked",
    "--samples",
    "5",
];

/// The counts listed in the environment variable `name`, or `default`.
fn counts(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// Generates `n` files from `template`, ingests them into a fresh store and merges them, and
/// prints one row of the table; the files and the store are deleted after.
fn scale_row(dir: &Path, kind: &str, templates: &[String], n: usize) {
    let files = dir.join(format!("fleet-{kind}-{n}"));
    generate(templates, &files, n);
    let db = dir.join(format!("store-{kind}-{n}.sqlite"));
    if let Ok(baseline) = std::env::var("FLEETBENCH_BENCH_BASELINE") {
        let before = dir.join(format!("baseline-{kind}-{n}.sqlite"));
        let usage = measure(
            Command::new(&baseline)
                .args(["store", "--db"])
                .arg(&before)
                .arg("ingest")
                .arg(&files),
        );
        println!(
            "{:>6} {n:>8} {:>14.0} {:>18.0} {:>16.1}   (baseline: {baseline})",
            "before",
            n as f64 / usage.wall_s,
            n as f64 / usage.cpu_s,
            usage.peak_mib
        );
        remove_store(&before);
    }
    if std::env::var("FLEETBENCH_BENCH_INGEST").as_deref() == Ok("0") {
        merge_row(kind, n, &files);
        let _ = std::fs::remove_dir_all(&files);
        return;
    }
    let ingest = measure(
        Command::new(BIN)
            .args(["store", "--db"])
            .arg(&db)
            .arg("ingest")
            .arg(&files),
    );
    let regressions = measure(
        Command::new(BIN)
            .args(["store", "--db"])
            .arg(&db)
            .arg("regressions"),
    );
    let history = measure(Command::new(BIN).args(["store", "--db"]).arg(&db).args([
        "history",
        "--host",
        "node000001",
        "--gpu",
        "0",
    ]));
    let merge = if std::env::var("FLEETBENCH_BENCH_MERGE").as_deref() == Ok("0") {
        Usage::NOT_RUN
    } else {
        measure(Command::new(BIN).arg("merge").arg(&files))
    };
    let store_mib = file_mib(&db) + file_mib(&db.with_extension("sqlite-wal"));
    println!(
            "{kind:>6} {n:>8} {:>14.0} {:>18.0} {:>16.1} {:>13.0} {:>17.0} {:>15.1} {:>10.1} {:>14.2} {:>18.2} {:>10.2}",
            n as f64 / ingest.wall_s,
            n as f64 / ingest.cpu_s,
            ingest.peak_mib,
            n as f64 / merge.wall_s,
            n as f64 / merge.cpu_s,
            merge.peak_mib,
            store_mib,
            regressions.wall_s,
            regressions.cpu_s,
            history.wall_s
        );
    let _ = std::fs::remove_dir_all(&files);
    remove_store(&db);
}

/// A row of the merge alone (the store's columns print NaN).
fn merge_row(kind: &str, n: usize, files: &Path) {
    let merge = measure(Command::new(BIN).arg("merge").arg(files));
    let none = f64::NAN;
    println!(
        "{kind:>6} {n:>8} {none:>14} {none:>18} {none:>16} {:>13.0} {:>17.0} {:>15.1} {none:>10} {none:>14} {none:>18} {none:>10}",
        n as f64 / merge.wall_s,
        n as f64 / merge.cpu_s,
        merge.peak_mib,
    );
}

/// Deletes a SQLite store and its WAL files.
fn remove_store(db: &Path) {
    let _ = std::fs::remove_file(db);
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let _ = std::fs::remove_file(db.with_extension("sqlite-shm"));
}

/// One run of the fake backend with `extra` arguments (none: the default suite), as pretty
/// JSON; run `k` has a seed and a rate of its own (k = 0: seed 7, 100 GFLOP/s).
fn template(dir: &Path, name: &str, k: usize, extra: &[&str]) -> String {
    let path = dir.join(format!("template-{name}.json"));
    let fake = format!(
        "fleet-gpu:{}",
        100 + [0, 3, -4, 5, -2, 1, -5, 4, -1, 2, -3][k % 11]
    );
    let seed = (7 + k).to_string();
    let status = Command::new(BIN)
        .args(["run", "--fake", &fake, "--seed", &seed, "-q"])
        .args(extra)
        .arg("-o")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("fleetbench runs");
    assert!(status.success(), "the fake run failed");
    std::fs::read_to_string(&path).expect("the template was written")
}

/// `n` files, file i a copy of template i mod their number with a run id of its own and the
/// host name of its group of eight (the GPU index stays the template's, so a host's eight files
/// are one unit's runs).
fn generate(templates: &[String], dir: &Path, n: usize) {
    let names: Vec<(String, String)> = templates
        .iter()
        .map(|t| {
            let value: serde_json::Value = serde_json::from_str(t).expect("template JSON");
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (
                text(&value["machine"]["hostname"]),
                text(&value["run"]["run_id"]),
            )
        })
        .collect();
    std::fs::create_dir_all(dir).expect("fleet directory");
    for i in 0..n {
        let (template, (host, run_id)) = (&templates[i % templates.len()], &names[i % names.len()]);
        let text = template
            .replace(
                &format!("\"hostname\": \"{host}\""),
                &format!("\"hostname\": \"node{:06}\"", i / 8),
            )
            .replace(
                &format!("\"run_id\": \"{run_id}\""),
                &format!("\"run_id\": \"{run_id}-{i}\""),
            );
        let path: PathBuf = dir.join(format!("node{:06}_gpu{}.json", i / 8, i % 8));
        std::fs::write(path, text).expect("a generated file");
    }
}

/// What one command took.
#[derive(Debug, Clone, Copy)]
struct Usage {
    /// Wall-clock seconds.
    wall_s: f64,
    /// CPU seconds (user and system): on a shared machine, what the work itself cost.
    cpu_s: f64,
    /// Peak resident memory, MiB.
    peak_mib: f64,
}

impl Usage {
    /// A command not run (`FLEETBENCH_BENCH_MERGE=0`): its columns print as NaN.
    const NOT_RUN: Usage = Usage {
        wall_s: f64::NAN,
        cpu_s: f64::NAN,
        peak_mib: f64::NAN,
    };
}

/// What one command took, its output discarded. The child is reaped by `wait4`, which also
/// gives its own CPU time and peak memory (not those of earlier children).
#[allow(clippy::zombie_processes)]
fn measure(command: &mut Command) -> Usage {
    let start = Instant::now();
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("fleetbench starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Usage {
        wall_s: start.elapsed().as_secs_f64(),
        cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn file_mib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
}
