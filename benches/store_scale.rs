//! Fleet scale of `store ingest` and `merge`: N generated result files of a default run's
//! size (one fake-backend run of the default suite, about 100 KB, given a unit of its own per
//! file), ingested into a fresh SQLite store and merged, each by the real binary in a process
//! of its own so its peak resident memory can be read (`wait4`'s `ru_maxrss`).
//!
//! `cargo bench --bench store_scale` prints files/s (per wall-clock second, and per CPU second
//! of the process, which a shared machine does not distort) and peak memory against N, and the
//! seconds
//! `store regressions` over the whole store and `store history` of one unit take. N defaults to
//! 1,000 and 10,000; set `FLEETBENCH_BENCH_N=1000,10000,100000` for more (100,000 files take
//! about 10 GB of disk). Nothing is asserted: the figures are printed side by side.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_fleetbench");

fn main() {
    let sizes: Vec<usize> = std::env::var("FLEETBENCH_BENCH_N")
        .unwrap_or_else(|_| "1000,10000".to_string())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let template = template(dir.path());
    println!(
        "template: {} bytes; {} cores",
        template.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>8} {:>14} {:>18} {:>16} {:>13} {:>17} {:>15} {:>10} {:>14} {:>10}",
        "files",
        "ingest file/s",
        "ingest file/CPU-s",
        "ingest peak MiB",
        "merge file/s",
        "merge file/CPU-s",
        "merge peak MiB",
        "store MiB",
        "regressions s",
        "history s"
    );
    for n in sizes {
        let files = dir.path().join(format!("fleet-{n}"));
        generate(&template, &files, n);
        let db = dir.path().join(format!("store-{n}.sqlite"));
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
        let merge = measure(Command::new(BIN).arg("merge").arg(&files));
        let store_mib = file_mib(&db) + file_mib(&db.with_extension("sqlite-wal"));
        println!(
            "{n:>8} {:>14.0} {:>18.0} {:>16.1} {:>13.0} {:>17.0} {:>15.1} {:>10.1} {:>14.2} {:>10.2}",
            n as f64 / ingest.wall_s,
            n as f64 / ingest.cpu_s,
            ingest.peak_mib,
            n as f64 / merge.wall_s,
            n as f64 / merge.cpu_s,
            merge.peak_mib,
            store_mib,
            regressions.wall_s,
            history.wall_s
        );
        let _ = std::fs::remove_dir_all(&files);
        let _ = std::fs::remove_file(&db);
    }
}

/// One default-suite run of the fake backend, as pretty JSON.
fn template(dir: &Path) -> String {
    let path = dir.join("template.json");
    let status = Command::new(BIN)
        .args(["run", "--fake", "fleet-gpu:100", "--seed", "7", "-q", "-o"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("fleetbench runs");
    assert!(status.success(), "the fake run failed");
    std::fs::read_to_string(&path).expect("the template was written")
}

/// `n` files, each the template with a host and run id of its own.
fn generate(template: &str, dir: &Path, n: usize) {
    let value: serde_json::Value = serde_json::from_str(template).expect("template JSON");
    let host = value["machine"]["hostname"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let run_id = value["run"]["run_id"].as_str().unwrap_or("").to_string();
    std::fs::create_dir_all(dir).expect("fleet directory");
    for i in 0..n {
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
struct Usage {
    /// Wall-clock seconds.
    wall_s: f64,
    /// CPU seconds (user and system): on a shared machine, what the work itself cost.
    cpu_s: f64,
    /// Peak resident memory, MiB.
    peak_mib: f64,
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
